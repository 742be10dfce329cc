"""Hand-played review A (yes-then-sells, needs-approval, free-advice-seeker): the card side.

1. The investor said "Questions, questions. I pay for answers" to the very first question,
   and to "what can I do differently?" (the self-examine question of article 000).
2. He answered a faithful restatement of his need with "For the capital to grow… Simple",
   "and how do your kids see it?" with his wife's card games, and a lecture with "when an
   advisor hedges".
3. The sisters never took the trainee's answer about the 8 December meeting: a declined date
   got "maybe we can go over it calmly on the 8th", and "why a public holiday?" got "these are
   rather personal questions".
4. "Who are you and how do you split the work?" got "the first time someone asks how we
   are"; "how did the company start?" got "we'd never thought about it".
5. A reproach after their own thing, read only as a question, got "Chiara says it's easy to
   think things through with you" (trust +6); a warm "let's put it in the diary" was followed
   by "so far we're a bit disappointed".
6. The free-advice seeker apologised for "writing at this hour" in a chat with no hour.
"""

from __future__ import annotations

import re

import pytest
from test_actor_variety import _play as play

from app.catalog import Catalog, Language
from app.engine.script import Script

SEEDS = range(1, 21)
LANGUAGES: list[Language] = ["it", "en"]
QUESTIONS = {"it": "Domande, domande", "en": "Questions, questions"}


def _play(
    catalog: Catalog,
    persona: str,
    language: Language,
    turns: list[str],
    seed: int,
    difficulty: str = "medium",
) -> Script:
    return play(catalog, persona, language, turns, difficulty, seed)


def _said(turn) -> str:  # type: ignore[no-untyped-def]
    return " ".join(r.content for r in turn.replies)


# ---------------------------------------------------------------- 1. yes-then-sells

FIRST_QUESTIONS = {
    "it": [
        "Buongiorno! Com'è andato il viaggio? Ha trovato traffico in tangenziale?",
        "Buongiorno Roberto. Cosa le farebbe dormire tranquillo la notte con questi soldi?",
        "Sinceramente, Roberto, perché è tornato da me dopo l'ultima volta?",
        "Buongiorno. Cosa si aspetta dall'incontro di oggi?",
    ],
    "en": [
        "Good morning Roberto. How was the drive in? Much traffic?",
        "Good morning Roberto. What would let you sleep at night with this money?",
        "Honestly Roberto, why did you come back to me after last time?",
        "Good morning. What are you hoping to get out of today?",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_the_investor_does_not_complain_about_the_first_question(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    for question in FIRST_QUESTIONS[language]:
        for seed in SEEDS:
            first = _play(catalog, "yes-then-sells", language, [question], seed, difficulty)
            turn = first.turns[0]
            assert turn.beat == "answer_question", (question, seed, turn.beats)
            assert QUESTIONS[language] not in _said(turn), (question, seed, _said(turn))


TOPICAL_FIRST = {
    "it": [
        ("Com'è andato il viaggio? Ha trovato traffico in tangenziale?", "traffico"),
        ("Cosa le farebbe dormire tranquillo la notte con questi soldi?", "figli"),
        ("Perché è tornato da me dopo l'ultima volta?", "sono tornato"),
    ],
    "en": [
        ("How was the drive in? Much traffic?", "traffic"),
        ("What would let you sleep at night with this money?", "kids"),
        ("Why did you come back to me after last time?", "come back"),
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_investor_answers_the_first_question_asked(
    catalog: Catalog, language: Language
) -> None:
    for question, word in TOPICAL_FIRST[language]:
        for seed in SEEDS:
            turn = _play(catalog, "yes-then-sells", language, [question], seed).turns[0]
            assert word in _said(turn), (question, seed, _said(turn))


SELF_EXAMINE = {
    "it": [
        "Buongiorno dottor Valsecchi. Prima dei titoli, mi dica: cosa vuole che faccia questo "
        "patrimonio per lei e per i suoi figli?",
        "Se ho capito bene, più del rendimento le interessa lasciare ai figli qualcosa di "
        "solido, senza liti. È così?",
        "Le ultime volte ci siamo dati ragione e poi le cose sono andate diversamente. Cosa "
        "posso fare io di diverso?",
    ],
    "en": [
        "Good morning Roberto. Before the shares, tell me: what do you want this wealth to do "
        "for you and for your children?",
        "So what matters to you, more than returns, is leaving your kids something solid, "
        "without them fighting. Is that right?",
        "The last few times we agreed and then things went differently. What can I do differently?",
    ],
}
CONFIRMS = {"it": "Esatto", "en": "Exactly"}
CAPITAL = {"it": "Che il capitale cresca", "en": "For the capital to grow"}
HOLD = {"it": "Tenere il punto", "en": "Hold your ground"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", ["medium", "hard"])
def test_the_investor_confirms_his_need_restated_and_answers_what_to_do_differently(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    for seed in SEEDS:
        script = _play(
            catalog, "yes-then-sells", language, SELF_EXAMINE[language], seed, difficulty
        )
        kids, restated, differently = script.turns
        assert ("figli" if language == "it" else "kids") in _said(kids), (seed, _said(kids))
        said = _said(restated)
        assert said.startswith(CONFIRMS[language]), (seed, said)
        assert CAPITAL[language] not in said, (seed, said)
        said = _said(differently)
        assert differently.beat == "answer_question"
        assert QUESTIONS[language] not in said, (seed, said)
        assert HOLD[language] in said, (seed, said)


KIDS_FOLLOW_UP = {
    "it": [
        "Buongiorno! Com'è andato il viaggio?",
        "Bene. Senta, cosa le farebbe dormire tranquillo la notte con questi soldi?",
        "Capisco. E i suoi figli come vedono la cosa?",
    ],
    "en": [
        "Good morning! How was the drive in?",
        "Good. Tell me, what would let you sleep at night with this money?",
        "I see. And how do your kids see it?",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_investor_says_how_his_children_see_it(catalog: Catalog, language: Language) -> None:
    wife = {"it": "moglie", "en": "wife"}[language]
    for seed in SEEDS:
        last = _play(catalog, "yes-then-sells", language, KIDS_FOLLOW_UP[language], seed).turns[-1]
        said = _said(last)
        assert wife not in said, (seed, said)
        assert ("figli" if language == "it" else "kids") in said, (seed, said)


LECTURE = {
    "it": "Guardi, i mercati alla lunga recuperano sempre, lo sanno tutti. Vendere in preda al "
    "panico è la cosa peggiore che un investitore possa fare, i dati sono chiari.",
    "en": "Look, the markets always recover in the long run, everyone knows that. Panic selling "
    "is the worst thing an investor can do, the data are clear.",
}
HEDGING = re.compile(r"tentenn|dubbi|scus|hedges|not sure|apologis", re.I)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_lecture_is_not_answered_as_hesitation(catalog: Catalog, language: Language) -> None:
    opener = {"it": "Buongiorno Roberto.", "en": "Good morning Roberto."}[language]
    for seed in SEEDS:
        script = _play(catalog, "yes-then-sells", language, [opener, LECTURE[language]], seed)
        last = script.turns[-1]
        if "lecture" not in last.moves or "advice" in last.moves:
            continue  # the detector's business (moves.yaml): this checks the card's answer
        assert last.beat == "lectured", (seed, last.beats)
        assert not HEDGING.search(_said(last)), (seed, _said(last))


# ---------------------------------------------------------------- 2. needs-approval

DECLINES = {
    "it": [
        "Ciao Laura! L'8 purtroppo sono via con la famiglia. Che ne dite di sabato 9 alle 9, "
        "sempre da voi?",
        "Mi dispiace, l'8 non posso. Facciamo lunedì 10 alle 18?",
    ],
    "en": [
        "Hi Laura! I'm away with my family on the 8th, unfortunately. How about Saturday the "
        "9th at 9, at your place?",
        "Sorry, I don't work on public holidays. Monday at 6pm is the earliest I can do.",
        "I can't make the 8th, sorry. Could we do Monday the 10th at 6pm instead?",
    ],
}
THE_8TH = re.compile(r"l'8\b|\bon the 8th\b", re.I)
TAKES_IT = re.compile(r"giorno che dici tu|come dici tu|the day you (?:suggest|say)|your way", re.I)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_the_sisters_take_a_declined_holiday_meeting(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    for decline in DECLINES[language]:
        for seed in SEEDS:
            turn = _play(catalog, "needs-approval", language, [decline], seed, difficulty).turns[0]
            said = _said(turn)
            assert TAKES_IT.search(said), (decline, seed, turn.beats, said)
            assert not THE_8TH.search(said), (decline, seed, said)


AFTER_DECLINE = {
    "it": [
        DECLINES["it"][0],
        "Perché proprio un giorno di festa, se posso chiedere?",
        "Capito. E da voi che tempo fa in questi giorni?",
        "E il sito attuale chi ve l'ha fatto?",
    ],
    "en": [
        DECLINES["en"][0],
        "Why a public holiday, if you don't mind me asking?",
        "haha ok. how's the weather up there btw?",
        "And who made your current website?",
    ],
}
PERSONAL = {"it": "domande un po' personali", "en": "rather personal questions"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_a_declined_date_nobody_schedules_the_8th(
    catalog: Catalog, language: Language
) -> None:
    why = {"it": "Per questo ti abbiamo chiesto l'8", "en": "That's why we asked you for the 8th"}
    for seed in SEEDS:
        script = _play(catalog, "needs-approval", language, AFTER_DECLINE[language], seed)
        reasons = script.turns[1]
        assert why[language] in _said(reasons), (seed, _said(reasons))
        assert PERSONAL[language] not in _said(reasons)
        for turn in script.turns[2:]:
            for reply in turn.replies:
                if reply.beat == "answer_question":
                    assert not THE_8TH.search(reply.content), (seed, turn.text, reply.content)
        weather = script.turns[2]
        assert weather.replies[0].beat == "answer_question"
        assert re.search(r"nebbia|fog", weather.replies[0].content, re.I), weather.replies[
            0
        ].content


ACCEPTS = {
    "it": "Perfetto, ci sarò l'8 alle 8.",
    "en": "Sure, the 8th at 8 works for me, I'll be there.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sisters_thank_a_trainee_who_accepts_the_8th(
    catalog: Catalog, language: Language
) -> None:
    thanks = {"it": "sollievo", "en": "relief"}[language]
    for seed in SEEDS:
        turn = _play(catalog, "needs-approval", language, [ACCEPTS[language]], seed).turns[0]
        if turn.moves & {"question", "advice", "lecture", "alternative", "boundary"}:
            continue  # read as something else by the detectors (moves.yaml)
        assert thanks in _said(turn), (seed, turn.beats, _said(turn))


ROLES = {
    "it": "Buongiorno! Per l'8 nessun problema, ci sarò alle 8. Mi raccontate chi siete e come "
    "vi dividete il lavoro?",
    "en": "Good morning! The 8th is no problem, I'll be there at 8. Could you tell me who you "
    "are and how you divide the work?",
}
FOUNDED = {
    "it": "Certo, l'8 alle 8 va benissimo, ci sarò. Intanto mi raccontate com'è nata l'azienda?",
    "en": "Hi Laura, hi Chiara! The 8th at 8 is fine, I'll be there. Before we get to the "
    "website, how did you two end up running the company?",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_the_sisters_answer_who_they_are_and_how_the_company_started(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    roles = {"it": "conti e fornitori", "en": "accounts and suppliers"}[language]
    father = {"it": "nostro padre", "en": "our father"}[language]
    how_we_are = {"it": "come stiamo noi", "en": "asked how we are"}[language]
    never = {"it": "Non ci avevamo mai pensato", "en": "We'd never thought about it"}[language]
    for seed in SEEDS:
        turn = _play(catalog, "needs-approval", language, [ROLES[language]], seed, difficulty)
        said = _said(turn.turns[0])
        assert roles in said and how_we_are not in said, (seed, said)
        turn = _play(catalog, "needs-approval", language, [FOUNDED[language]], seed, difficulty)
        said = _said(turn.turns[0])
        assert father in said.lower() and never not in said, (seed, said)


REPROACH = {
    "it": [
        ROLES["it"],
        "Capisco, non dev'essere facile sentire che gli operai aspettano ancora vostro padre.",
        "Cosa vi preoccupa di più, in questo momento?",
        "Ah, volete farlo fare a vostro cugino? Guardate che così rischiate di rovinare "
        "l'immagine dell'azienda, dovevate chiedermelo prima.",
    ],
    "en": [
        ROLES["en"],
        "I understand, it can't be easy to feel the workers are still waiting for your father.",
        "What worries you most, right now?",
        "Oh, so your cousin is doing it? You'll ruin the company's image like that, you "
        "should have asked me first.",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reproach_after_their_own_thing_is_not_thanked_as_guidance(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        script = _play(catalog, "needs-approval", language, REPROACH[language], seed, "easy")
        for before, turn in zip(script.turns, script.turns[1:], strict=False):
            if before.beat != "own_thing":
                continue
            assert turn.beat != "feel_guided", (seed, sorted(turn.moves), _said(turn))
            assert turn.meters["trust"] <= turn.before["trust"] + 2, (seed, turn.meters)


WARM_THEN_OK = {
    "it": [
        "Certo, l'8 alle 8 va benissimo, ci sarò. Intanto mi raccontate com'è nata l'azienda?",
        "Quindi da due anni vi siete trovate voi due al timone, da un giorno all'altro.",
        "E voi due come state, in tutto questo?",
        "Capisco. Non dovete dimostrare niente a nessuno: il sito lo facciamo insieme.",
        "Che ne dite se ci sentiamo ogni due settimane per fare il punto?",
        "Perfetto.",
        "Bene.",
    ],
    "en": [
        "Sure, the 8th at 8 is fine, I'll be there. Meanwhile, how did the company start?",
        "So for two years now the two of you have been at the helm, from one day to the next.",
        "And how are you two doing, in all this?",
        "I see. You don't have to prove anything to anyone: we'll do the site together.",
        "How about we talk every two weeks to take stock?",
        "Perfect.",
        "Good.",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_warm_yes_is_not_followed_by_a_complaint(catalog: Catalog, language: Language) -> None:
    for seed in SEEDS:
        script = _play(catalog, "needs-approval", language, WARM_THEN_OK[language], seed)
        for before, turn in zip(script.turns, script.turns[1:], strict=False):
            if "complaint" in turn.beats:
                assert before.beat not in ("answer_question", "feel_guided", "react_soft"), (
                    seed,
                    _said(before),
                    _said(turn),
                )
                assert turn.moves & {"advice", "lecture", "problem_dwelling", "boundary"}


# ---------------------------------------------------------------- 3. free-advice-seeker

BOUNDARY = {
    "it": [
        "Ciao Fabrizio, grazie! Certo, volentieri.",
        "La foto mettila professionale, sfondo neutro.",
        "Pubblica tre volte a settimana, la mattina presto.",
        "Certo, mandami pure tutto, ci do un'occhiata.",
        "Fabrizio, non posso continuare a rispondere gratis, è il mio lavoro.",
        "Le domande sul profilo le vediamo nella sessione di consulenza, non qui in chat.",
    ],
    "en": [
        "Hi Fabrizio, thanks! Sure, happy to help.",
        "Your photo should be a professional headshot, plain background.",
        "Post 3 times a week, around 8am.",
        "Sure, send it over, I'll take a quick look for free.",
        "Look, I can't keep answering questions for free, this is my job, you know.",
        "Let's keep the profile questions for a consulting session, not here in the chat.",
    ],
}
AN_HOUR = re.compile(r"a quest'ora|at this hour|so late|così tardi", re.I)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_free_advice_seeker_never_apologises_for_an_hour_nobody_named(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        script = _play(catalog, "free-advice-seeker", language, BOUNDARY[language], seed)
        for reply in script.replies:
            assert not AN_HOUR.search(reply.content), (seed, reply.beat, reply.content)
