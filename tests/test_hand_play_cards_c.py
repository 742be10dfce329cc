"""Hand-played review C (loyal-debtor, after-hours-caller, disorganized): the card side.

1. Loyal-debtor had no `answer_question` line without `about`: "Did you catch the match?" got
   the number of his employees, and "shall I file the short-time applications?" (the subject
   of his own opening) got his evenings with his wife or "How am I?". He now has fillers and
   an answer about the paperwork.
2. "How are your guys taking it?" / "i suoi ragazzi come stanno…" matched "how are you" /
   "come sta" (prefix matches) and got "How am I? How do you think": it now gets his people,
   and a warm client asked twice how he is no longer turns curt.
8. "Come possiamo organizzarci per le parcelle vecchie, secondo lei?" was played as blunt
   money (embarrassed, hurt +10): an invitation to find a way together now opens him up,
   while a bare "when will you pay?" still embarrasses him.
9. "I was afraid you'd bring it up… What can we do?" came after the invoices had been raised
   and in reply to a concrete plan: he now answers the plan.
11. After-hours caller: "Ciao, dimmi pure" got "I've been talking for ten minutes" on turn 1,
    and "yes, this is the office, what's it about?" got "I can't come to your office".
12.1 Disorganized: the second question of the call (phone or WhatsApp?) got "Do we really
    need all these questions?", and a reminder offered with typos got his e-mail monologue.

Detector findings of the same review are in prompts/moves.yaml (tests/test_detectors.py).
"""

from __future__ import annotations

import pytest
from test_actor_variety import _play

from app.catalog import Catalog, Language, Line
from app.engine.script import Turn

SEEDS = range(1, 21)
LANGUAGES: list[Language] = ["it", "en"]


def _line(catalog: Catalog, persona: str, turn: Turn, beat: str) -> Line:
    """The card line the client said for `beat` on this turn."""
    reply = next(r for r in turn.replies if r.beat == beat)
    return catalog.personas[persona].lines[beat][reply.meta["line"]]  # type: ignore[index]


def _text(turn: Turn) -> str:
    return " ".join(r.content for r in turn.replies)


# ------------------------------------------------------------------ 1. loyal-debtor fillers

MATCH = {
    "it": "Buongiorno Franco! Ha visto la partita ieri sera?",
    "en": "Morning Franco! Did you catch the match last night?",
}
PAPERWORK = {
    "it": "Senta, vuole che le presenti le domande di cassa integrazione entro venerdì?",
    "en": "Ha, fair enough. Listen, do you want me to file the short-time applications this week?",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_loyal_debtor_answers_small_talk_with_a_filler(
    catalog: Catalog, language: Language
) -> None:
    """Not the answer to another question ("There are fourteen of us…", "How am I?")."""
    for seed in SEEDS:
        turn = _play(catalog, "loyal-debtor", language, [MATCH[language]], "medium", seed).turns[0]
        assert turn.beats == ["answer_question"], (seed, turn.beats)
        line = _line(catalog, "loyal-debtor", turn, "answer_question")
        assert line.about is None, (seed, _text(turn))


@pytest.mark.parametrize("language", LANGUAGES)
def test_loyal_debtor_answers_the_question_on_the_paperwork(
    catalog: Catalog, language: Language
) -> None:
    """His opening asks where the paperwork stands: an offer to file it gets an answer on it."""
    words = {"it": ("document", "pratiche"), "en": ("papers", "paperwork")}[language]
    for seed in SEEDS:
        script = _play(
            catalog,
            "loyal-debtor",
            language,
            [MATCH[language], PAPERWORK[language]],
            "medium",
            seed,
        )
        turn = script.turns[1]
        assert turn.beats == ["answer_question"], (seed, turn.beats)
        said = _text(turn)
        assert any(word in said for word in words), (seed, said)
        assert "Come sto" not in said and "How am I" not in said, (seed, said)


# ------------------------------------------------- 2. his people, not "how am I?"

HOLDING_UP = {
    "it": "Buongiorno Franco, come va? Come se la cava con tutto questo?",
    "en": "Hi Franco, good to hear from you. How are you holding up with everything?",
}
HIS_PEOPLE = {
    "it": "Immagino. E i suoi ragazzi come stanno prendendo la situazione?",
    "en": "That sounds really tough. How are your guys taking it?",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_loyal_debtor_asked_about_his_people_talks_about_them(
    catalog: Catalog, language: Language
) -> None:
    for seed in SEEDS:
        script = _play(
            catalog,
            "loyal-debtor",
            language,
            [HOLDING_UP[language], HIS_PEOPLE[language]],
            "easy",
            seed,
        )
        said = _text(script.turns[1])
        assert "Marisa" in said, (seed, said)
        assert "Come sto" not in said and "How am I" not in said, (seed, said)


ASKED_AGAIN = {
    "it": "E lei, davvero, come sta?",
    "en": "And you, really, how are you doing?",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_warm_loyal_debtor_asked_twice_how_he_is_does_not_turn_curt(
    catalog: Catalog, language: Language
) -> None:
    """After "Thanks for asking, really", the cold "How am I? How do you think." contradicted
    him: a second answer on the topic suits his mood."""
    curt = catalog.personas["loyal-debtor"].lines["answer_question"]
    curt_text = next(line for line in curt if line.mood == "cold" and line.about).messages(
        language
    )[0]
    for seed in SEEDS:
        script = _play(
            catalog,
            "loyal-debtor",
            language,
            [HOLDING_UP[language], ASKED_AGAIN[language]],
            "easy",
            seed,
        )
        assert script.turns[1].beats == ["answer_question"]
        assert script.turns[1].state.mood == "warm"
        said = _text(script.turns[1])
        assert curt_text not in said, (seed, said)


# ------------------------------------------- 8. a caring money question opens him up

CARING = {
    "it": [
        "Buongiorno Franco, come va? Come se la cava con tutto questo?",
        "Immagino. E i suoi ragazzi come stanno prendendo la situazione?",
        "E la banca come si sta comportando?",
        "Capisco. Come possiamo organizzarci per le parcelle vecchie, secondo lei?",
    ],
    "en": [
        "Hi Franco, good to hear from you. How are you holding up with everything?",
        "That sounds really tough. How are your guys taking it?",
        "And how is the bank treating you?",
        "I understand. How could we organise the old invoices, what do you think?",
    ],
}
BLUNT = {
    "it": "Buongiorno Franco. Quando mi paga le tre parcelle dell'autunno?",
    "en": "Morning Franco. When are you going to pay the three invoices from the autumn?",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_loyal_debtor_opens_up_to_a_caring_money_question_not_to_a_blunt_one(
    catalog: Catalog, language: Language, difficulty: str
) -> None:
    """After three caring questions, "how can we sort out the invoices, what do you think?" is
    not blunt money; "when will you pay?" straight away still is (he stays difficult)."""
    for seed in (1, 5, 9):
        script = _play(catalog, "loyal-debtor", language, CARING[language], difficulty, seed)
        last = script.turns[-1]
        assert "payment_talk" in last.moves, last.moves
        assert last.beat == "opens_up", (seed, last.beats)
        assert last.directive.trigger != "blunt-money"
        blunt = _play(catalog, "loyal-debtor", language, [BLUNT[language]], difficulty, seed)
        assert blunt.turns[0].beat == "embarrassed", blunt.turns[0].beats


# ------------------------------------------------- 9. a plan on the table is answered

PLAN_SESSION = {
    "en": [
        "Franco, I have to be honest with you: three invoices unpaid since October is a lot, "
        "and I have to think about my own practice.",
        "You should really talk to your bank about a bridging loan, that's what they're there for.",
        "I'm sorry, Franco, I know I came across badly. I really value our fifteen years together.",
        "How about this: we pause the old invoices until September and then split them into "
        "three instalments. How does that sound?",
    ],
    "it": [
        "Franco, devo essere sincero: tre parcelle non pagate da ottobre sono tante, e devo "
        "pensare anche al mio studio.",
        "Dovrebbe parlare con la sua banca di un prestito ponte, è il loro mestiere.",
        "Mi scusi, Franco, mi sono espresso male. Ci tengo ai nostri quindici anni insieme.",
        "Facciamo così: rinviamo le parcelle vecchie a settembre e poi le paghiamo in tre rate. "
        "Come le sembra?",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_loyal_debtor_answers_the_plan_not_what_can_we_do(
    catalog: Catalog, language: Language
) -> None:
    asks = {"it": "Cosa possiamo fare?", "en": "What can we do?"}[language]
    for seed in SEEDS:
        script = _play(catalog, "loyal-debtor", language, PLAN_SESSION[language], "hard", seed)
        assert script.turns[0].beat == "embarrassed"
        last = script.turns[-1]
        assert last.beat == "opens_up", (seed, last.beats)
        said = _text(last)
        assert asks not in said, (seed, said)
        line = _line(catalog, "loyal-debtor", last, "opens_up")
        assert line.about is not None and line.about.matches(last.text, language), (seed, said)


# ------------------------------------------------- 11. after-hours caller, turn 1

INVITE = {"it": "Ciao, dimmi pure", "en": "Hi, how can I help?"}
THE_OFFICE = {
    "it": "Sì, è lo studio, mi dica. Cosa le serve?",
    "en": "Hi, yes, this is the office. What's it about?",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_hours_caller_states_his_problem_when_invited_to(
    catalog: Catalog, language: Language
) -> None:
    """Not "I've been talking for ten minutes", before he has said anything."""
    clause = {"it": "clausola", "en": "clause"}[language]
    for seed in SEEDS:
        turn = _play(catalog, "after-hours-caller", language, [INVITE[language]], "easy", seed)
        said = turn.turns[0].replies[0].content
        assert turn.turns[0].beats == ["answer_question"]
        assert clause in said and "10" not in said, (seed, said)
        assert "dieci minuti" not in said and "ten minutes" not in said, (seed, said)


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_hours_caller_told_this_is_the_office_does_not_refuse_to_come_in(
    catalog: Catalog, language: Language
) -> None:
    """His opening asks whether this is the office number: the yes is not an invitation."""
    clause = {"it": "clausola", "en": "clause"}[language]
    office = {"it": "In ufficio da lei", "en": "I can't come to your office"}[language]
    for seed in SEEDS:
        turn = _play(catalog, "after-hours-caller", language, [THE_OFFICE[language]], "easy", seed)
        said = turn.turns[0].replies[0].content
        assert office not in said, (seed, said)
        assert clause in said, (seed, said)


# ------------------------------------------------- 12.1 disorganized: question 2 and 3

SMALL_TALK = {
    "it": "Ciao Gianni! Tutto bene? Come va col lavoro in questo periodo?",
    "en": "Hey Gianni! All good? How's work these days?",
}
CHANNEL = {
    "it": "Ma tu preferisci che ci sentiamo per telefono o su whatsapp?",
    "en": "Do you prefer we talk by phone or on WhatsApp?",
}
REMINDER_WITH_TYPOS = {
    "it": "ok allora ti mnado io un promemria il giorno prma di ogni apuntamento, va bene?",
    "en": "ok so ill send you a reminder the day befor each apointment, sound good?",
}
OFF_TOPIC = {
    "it": "Hai visto la partita domenica?",
    "en": "Did you watch the game on Sunday?",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_disorganized_says_which_channel_he_prefers(catalog: Catalog, language: Language) -> None:
    too_many = {"it": "tutte queste domande", "en": "all these questions"}[language]
    for seed in SEEDS:
        script = _play(
            catalog,
            "disorganized",
            language,
            [SMALL_TALK[language], CHANNEL[language]],
            "easy",
            seed,
        )
        answer = next(r for r in script.turns[1].replies if r.beat == "answer_question")
        assert "WhatsApp" in answer.content, (seed, answer.content)
        assert too_many not in _text(script.turns[1]), seed


@pytest.mark.parametrize("language", LANGUAGES)
def test_disorganized_does_not_complain_about_questions_at_the_second_one(
    catalog: Catalog, language: Language
) -> None:
    too_many = {"it": "tutte queste domande", "en": "all these questions"}[language]
    for seed in SEEDS:
        script = _play(
            catalog,
            "disorganized",
            language,
            [SMALL_TALK[language], OFF_TOPIC[language]],
            "easy",
            seed,
        )
        assert too_many not in _text(script.turns[1]), (seed, _text(script.turns[1]))


@pytest.mark.parametrize("language", LANGUAGES)
def test_disorganized_offered_a_reminder_does_not_talk_about_his_inbox(
    catalog: Catalog, language: Language
) -> None:
    """A reminder offered with typos: if it is taken as a question, he answers the reminder
    (whether the detectors see the organisation is prompts/moves.yaml's business)."""
    inbox = {"it": "Le mail le leggo la sera", "en": "I read e-mails in the evening"}[language]
    reminder = {"it": "promemoria", "en": "reminder"}[language]
    turns = [SMALL_TALK[language], CHANNEL[language], REMINDER_WITH_TYPOS[language]]
    for seed in SEEDS:
        last = _play(catalog, "disorganized", language, turns, "easy", seed).turns[-1]
        said = _text(last)
        assert inbox not in said, (seed, said)
        if last.beats == ["answer_question"]:
            assert reminder in said.lower(), (seed, said)
