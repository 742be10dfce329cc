"""What the hand-played review B (endless-whatsapp, impossible-idea, doesnt-listen) found in the
cards themselves (the detectors are tested in test_detectors.py).

B2. A question on none of the client's topics always got the one cold deflection, whatever
    his mood: Gianni answered the textbook listen-first opener ("what made you get in touch
    now?") with "I've told you already, I think", before he had told anything; Davide
    answered "whats up?" with "Questions, questions…" and "Are you ok? You sound exhausted."
    with "I wrote it in the e-mail"; a warm Massimo, asked "shall we talk it over calmly?",
    wondered whether he had picked the right agency.
B3. Davide's call hours and reply times, set the turn after his change of mind, were taken
    as pinning his goals: the rules meter stayed at 0 and no agreement could follow.
B9. "Fiera"/"fair" was a topic keyword, and nearly every message to Massimo names the fair:
    "which layouts would you put first, after the fair?" got "The fair is everything". Nothing
    answered where his idea came from or which kitchens he sells most.
B10. After the apology Massimo pitched "my idea" as if new (once a second idea, augmented
    reality), even after the trainee had said yes to the configurator.
B12. Davide's scheduled missed calls and change of mind ran over a trainee who had just
    scolded him or threatened to quit, as if nothing had been said.
"""

from __future__ import annotations

import pytest
from test_actor_variety import _play

from app.catalog import Catalog, Language
from app.engine.script import Turn

SEEDS = range(1, 21)


def _said(turn: Turn, beat: str | None = None) -> str:
    """The client's messages after a trainee message (those of one beat, if given)."""
    return "\n".join(r.content for r in turn.replies if beat is None or r.beat == beat)


# ---------------------------------------------------------------- B2: doesnt-listen

LISTEN_FIRST = {
    "it": "Piacere, sono Laura, mi occupo di comunicazione per le aziende. Prima di rispondere: "
    "cosa l'ha spinta a contattarmi proprio adesso?",
    "en": "Nice to meet you, I'm Laura, I help companies with their communication. Before I "
    "answer, what made you get in touch now?",
}
OFF_TOPIC_FIRST = {
    "it": "Buongiorno signor Moretti. Prima di cominciare: le va bene se ci sentiamo in chat?",
    "en": "Good morning Mr Moretti. Before we start: is it alright for you if we do this by chat?",
}
TOLD_ALREADY = {"it": "Gliel'ho già detto", "en": "I've told you already"}


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("difficulty", ["easy", "medium"])
def test_the_listen_first_opener_gets_why_he_is_writing(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    for seed in SEEDS:
        [turn] = _play(
            catalog, "doesnt-listen", language, [LISTEN_FIRST[language]], difficulty, seed
        ).turns
        assert turn.beat == "answer_question"
        said = _said(turn, "answer_question")
        assert TOLD_ALREADY[language] not in said, (seed, said)
        assert ("Perché adesso?" if language == "it" else "Why now?") in said, (seed, said)


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_a_first_question_on_no_topic_is_not_told_already(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    for seed in SEEDS:
        [turn] = _play(
            catalog, "doesnt-listen", language, [OFF_TOPIC_FIRST[language]], difficulty, seed
        ).turns
        assert turn.beat == "answer_question"
        assert TOLD_ALREADY[language] not in _said(turn), (seed, _said(turn))


# ---------------------------------------------------------------- B2: endless-whatsapp

SMALL_TALK = {
    "it": [
        "ciao Davide, scusa, ho visto ora i messaggi, ero in palestra. Che succede?",
        "Stai bene? Mi sembri distrutto.",
    ],
    "en": [
        "hey davide, sorry just saw ur msgs, was at the gym lol. whats up?",
        "Are you ok? You sound exhausted.",
    ],
}
COLD_DEFLECTIONS = {
    "it": ["Te l'ho scritto nella mail", "Domande, domande"],
    "en": ["I wrote it in the e-mail", "Questions, questions"],
}


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("difficulty", ["easy", "medium"])
def test_davide_answers_small_talk_and_how_he_is(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    for seed in SEEDS:
        script = _play(
            catalog, "endless-whatsapp", language, SMALL_TALK[language], difficulty, seed
        )
        first, second = script.turns
        for turn in (first, second):
            said = _said(turn, "answer_question")
            assert said, (seed, turn.beats)
            assert turn.state.mood != "cold"
            for cold in COLD_DEFLECTIONS[language]:
                assert cold not in said, (seed, said)
        assert ("programmatore" if language == "it" else "developer") in _said(
            first, "answer_question"
        )
        assert _said(second, "answer_question").startswith(
            "Come sto?" if language == "it" else "How am I?"
        ), (seed, _said(second))


# ---------------------------------------------------------------- B2: impossible-idea

CALMLY = {
    # IT seed 3, medium: T3 at trust 66 (warm)
    "it": [
        "Capisco la frustrazione, con la fiera alle porte. Dammi un attimo per verificare bene. "
        "Cosa non funziona di preciso: il modulo dei preventivi, Google, o tutte e due?",
        "Sul modulo hai ragione, ho sbagliato io: dopo l'aggiornamento ha smesso di inviare. Mi "
        "scuso. Lo sistemo oggi e recupero le richieste perse.",
        "Su Google invece credo ci sia stato un malinteso: il sito è ottimizzato, ma essere primi "
        "richiede qualche mese di lavoro dedicato. Ne parliamo con calma?",
    ],
    "en": [
        "I understand the frustration, with the fair coming up. Give me a moment to check "
        "properly. What exactly isn't working: the quote form, Google, or both?",
        "You're right about the form, it's my mistake: after the update it stopped sending. I "
        "apologise. I'll fix it today and recover the lost requests.",
        "As for Google, I think there was a misunderstanding: the site is optimised, but being "
        "first takes a few months of dedicated work. Shall we talk it over calmly?",
    ],
}
WRONG_AGENCY = {"it": "se ho scelto l'agenzia giusta", "en": "picked the right agency"}


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_warm_massimo_does_not_doubt_the_agency_at_a_question(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        script = _play(catalog, "impossible-idea", language, CALMLY[language], "medium", seed)
        last = script.turns[-1]
        assert last.beat == "answer_question"
        assert last.state.mood == "warm", last.meters
        assert WRONG_AGENCY[language] not in _said(last), (seed, _said(last))


# ---------------------------------------------------------------- B3: rules after a change of mind

RULES_AFTER_CHANGE = {
    "it": [
        "Ciao Davide, ho letto tutti i tuoi messaggi. Capisco che con il programmatore in ritardo "
        "tu sia preoccupato, ci penso io. Dimmi, cosa ti preoccupa di più in questo momento?",
        "Ok, il programmatore lo sento io oggi: gli do tempo fino a mercoledì e intanto "
        "sistemiamo la pagina dei pacchetti. Ti va bene?",
        "Capisco. Mettiamo in fila gli obiettivi: prima le prenotazioni online, poi il resto. Te "
        "lo scrivo entro stasera così resta fermo.",
        "Per seguirti bene facciamo così: ci sentiamo al telefono dalle 9 alle 18, e ai WhatsApp "
        "rispondo entro 24 ore. Ogni venerdì alle 12 ti mando un riepilogo scritto.",
        "Perfetto, allora partiamo così: stasera ti mando tutto per iscritto.",
    ],
    "en": [
        "Hi Davide, I've read all your messages. I understand that with the developer running "
        "late you're worried, I'll take care of it. Tell me, what worries you most right now?",
        "Okay, I'll talk to the developer today myself: I'll give him until Wednesday and "
        "meanwhile we sort out the packages page. Does that work for you?",
        "I see. Let's line up the goals: online bookings first, then the rest. I'll write it "
        "down for you by tonight so it stays fixed.",
        "So I can look after you properly, here's how we'll work: phone calls between 9 and 6, "
        "and I reply to WhatsApps within 24 hours. I'll send you a written summary every "
        "Friday by 12.",
        "Perfect, then let's start like that: tonight I'll send you everything in writing.",
    ],
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_boundary_after_a_change_of_mind_sets_the_rules(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        script = _play(
            catalog, "endless-whatsapp", language, RULES_AFTER_CHANGE[language], "medium", seed
        )
        turns = script.turns
        assert turns[2].beat == "change_mind", turns[2].beats
        boundary = turns[3]
        assert "boundary" in boundary.moves
        assert boundary.beat == "boundary_relief", (seed, boundary.beats)
        assert boundary.meters["rules"] >= 50, boundary.meters
        # rules, calm and trust: the agreement follows
        assert script.final.outcome == "agreement", (seed, [t.beats for t in turns])


# ---------------------------------------------------------------- B12: scolded first

SCOLDED = {
    # IT seed 5, easy: the missed calls came right after the scolding
    "it": [
        "Scusami Davide, hai ragione, avrei dovuto rispondere subito. D'ora in poi rispondo "
        "sempre, anche di notte, chiamami quando vuoi.",
        "Forse riusciamo a recuperare, non so, magari se ci mettiamo d'impegno. Vediamo.",
        "Davide, però così non si può lavorare. Mi hai mandato quindici messaggi, devi capire "
        "che ho anche altri clienti e non posso stare dietro a tutto.",
        "Ok. Oggi sento il programmatore e ti aggiorno entro le 18.",
    ],
    "en": [
        "Sorry Davide, you're right, I should have answered straight away. From now on I'll "
        "always answer, even at night, call me whenever you like.",
        "Maybe we can catch up, I don't know, perhaps if we really put our minds to it. We'll see.",
        "Davide, honestly, I can't work like this. You sent me fifteen messages, you have to "
        "understand I have other clients too.",
        "Okay. I'll talk to the developer today and update you by 6 pm.",
    ],
}
SCOLDED_AT_THREE = {
    # nothing scheduled is due before turn 3: the change of mind waits for the scolding
    "it": [
        "Ciao Davide, ho letto tutto. Stai tranquillo: il progetto lo seguo io, passo per passo.",
        "Oggi sento il programmatore e ti aggiorno entro le 18.",
        "Davide, però così non si può lavorare: mi hai mandato quindici messaggi.",
        "Ok. Stasera ti mando il riepilogo di cosa manca.",
    ],
    "en": [
        "Hi Davide, I've read everything. Don't worry: I'm following the project myself, step "
        "by step.",
        "I'll talk to the developer today and update you by 6 pm.",
        "Davide, honestly, I can't work like this: you sent me fifteen messages.",
        "Okay. Tonight I'll send you a summary of what's left.",
    ],
}
HOSTILE = {"leave", "offence", "lecture", "rude"}
SCHEDULED = {"missed_call", "change_mind"}


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize(("turns", "difficulty"), [(SCOLDED, "easy"), (SCOLDED_AT_THREE, "medium")])
def test_a_scolding_gets_a_reaction_before_his_script(
    catalog: Catalog, language: Language, turns: dict[str, list[str]], difficulty: str
) -> None:
    for seed in SEEDS:
        played = _play(catalog, "endless-whatsapp", language, turns[language], difficulty, seed)
        scolding = played.turns[2]
        assert scolding.moves & HOSTILE, scolding.moves
        assert not SCHEDULED & set(scolding.beats), (seed, scolding.beats)
        assert scolding.beat == "react_hard", (seed, scolding.beats)
        # his script is not lost: a missed call or the change of mind comes the turn after
        assert SCHEDULED & set(played.turns[3].beats), (seed, played.turns[3].beats)


# ---------------------------------------------------------------- B9: what Massimo is asked

LAYOUTS = {
    # IT seed 3, medium: T5 names the fair ("dopo la fiera") and asks about the layouts
    "it": [
        *CALMLY["it"],
        "Il configuratore 3D potremmo farlo, ma con tre settimane e questo budget ti propongo "
        "una galleria di dodici composizioni pronte con il pulsante 'chiedi il preventivo'. Tu "
        "conosci i tuoi clienti meglio di me: che ne pensi?",
        "Il configuratore resta sul tavolo per dopo la fiera, con i numeri alla mano. Quali "
        "composizioni metteresti per prime?",
    ],
    "en": [
        *CALMLY["en"],
        "We could build the 3D configurator, but with three weeks and this budget I suggest a "
        "gallery of twelve ready-made layouts with a 'quote me this kitchen' button. You know "
        "your customers better than I do: what do you think?",
        "The configurator stays on the table for after the fair, numbers in hand. Which layouts "
        "would you put first?",
    ],
}
FAIR_IS_EVERYTHING = {"it": "La fiera è tutto", "en": "The fair is everything"}


@pytest.mark.parametrize("language", ["it", "en"])
def test_asked_which_layouts_after_the_fair_he_names_his_kitchens(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        script = _play(catalog, "impossible-idea", language, LAYOUTS[language], "medium", seed)
        last = script.turns[-1]
        assert last.beat == "answer_question", last.beats
        said = _said(last)
        assert FAIR_IS_EVERYTHING[language] not in said, (seed, said)
        assert ("isola" if language == "it" else "island") in said, (seed, said)


WHY_THE_IDEA = {
    "it": "Posso chiederti cosa ti ha fatto pensare al configuratore, all'inizio?",
    "en": "Hmm ok. Can I ask what made you think of the configurator in the first place?",
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_asked_where_the_idea_comes_from_he_tells(catalog: Catalog, language: Language) -> None:
    for seed in SEEDS:
        [turn] = _play(
            catalog, "impossible-idea", language, [WHY_THE_IDEA[language]], "easy", seed
        ).turns
        assert turn.beat == "answer_question"
        said = _said(turn)
        assert ("marchio tedesco" if language == "it" else "German brand") in said, (seed, said)


# ---------------------------------------------------------------- B10: the idea after the apology

CHECK_THEN_APOLOGY = {language: CALMLY[language][:2] for language in ("it", "en")}
YES_THEN_APOLOGY = {
    "it": [
        "Va bene, il configuratore te lo faccio gratis, senza costi in più.",
        CALMLY["it"][1],
    ],
    "en": [
        "Hi Massimo. Fine, we'll do the configurator for free, no extra cost.",
        CALMLY["en"][1],
    ],
}
MENTIONED = {"it": ("di cui ti dicevo", "di cui ti parlavo"), "en": ("I mentioned", "I told you")}
NEW_IDEA = {
    "it": ("senti l'idea", "realtà aumentata"),
    "en": ("listen to my idea", "augmented reality"),
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_after_the_apology_the_idea_is_the_one_he_mentioned(
    catalog: Catalog, language: Language
) -> None:
    """Every opening names an idea for the fair, and one describes it: the pitch that follows
    the apology refers back to it, and never brings in a second idea."""
    for seed in SEEDS:
        script = _play(
            catalog, "impossible-idea", language, CHECK_THEN_APOLOGY[language], "medium", seed
        )
        accepted = script.turns[1]
        assert accepted.beat == "accepts_apology", accepted.beats
        said = _said(accepted)
        for new in NEW_IDEA[language]:
            assert new not in said, (seed, said)
        if "configurat" in said:
            assert any(words in said for words in MENTIONED[language]), (seed, said)


@pytest.mark.parametrize("language", ["it", "en"])
def test_after_a_yes_the_apology_does_not_pitch_the_idea_again(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        script = _play(
            catalog, "impossible-idea", language, YES_THEN_APOLOGY[language], "medium", seed
        )
        yes, accepted = script.turns
        assert yes.beat == "piles_on", yes.beats
        assert accepted.beat == "accepts_apology", accepted.beats
        assert "configurat" not in _said(accepted).lower(), (seed, _said(accepted))
