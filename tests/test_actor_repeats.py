"""The offline client does not repeat an answer word for word (third play review).

A second question on a topic already answered ("How are you feeling about the markets?",
then "What did you do last time the market dropped?") used to get the same answer again,
word for word, in every seed: the actor counted an answer said once as unused. Now the
client says another line on the topic if the beat has one, else a filler, and only then the
same answer, said as a person repeating himself: in the card's own words for it (`again`),
or after a short "like I said before…" (prompts/texts.yaml, `repeat`).

The keywords that made two lines answer questions nobody asked are here too: a proposal
("I'll organise the visits… Does that work for you?") is not the question of how the
disorganized client organises himself, and an either/or choice is not a question about the
impossible-idea client's customers.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from test_actor_variety import DRILLS, PERSONAS, _play
from test_catalog import copy_catalog

from app.catalog import Catalog, CatalogError, Line, Persona, load_catalog
from app.engine.actors import OfflineActor, Reply, _pick
from app.engine.director import ClientState, observe, opening
from app.engine.script import Script

# ---------------------------------------------------------------- the review's session

MARKETS = {
    "en": [
        "Good morning Mr Valsecchi, thanks for coming. How are you feeling about the markets "
        "these days?",
        "That sounds worrying. What worries you the most?",
        "I understand: seeing the shares fall after selling the company must feel like losing "
        "what you built. Is that it?",
        "What did you do last time the market dropped like this?",
    ],
    "it": [
        "Buongiorno signor Valsecchi, grazie di essere venuto. Come vive i mercati in questi "
        "giorni?",
        "Sembra preoccupante. Cosa la preoccupa di più?",
        "Capisco: vedere le azioni scendere dopo aver venduto l'azienda dev'essere come perdere "
        "quello che ha costruito. È così?",
        "Cosa ha fatto l'ultima volta che il mercato è crollato così?",
    ],
}


def _said_twice(script: Script) -> list[str]:
    said = [r.content for r in script.replies]
    return [text for n, text in enumerate(said) if text in said[:n]]


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_second_question_on_the_market_does_not_get_the_same_words(
    catalog: Catalog, language: str
) -> None:
    """EN medium, 40 seeds out of 40: "I'll tell you how I work: when the market goes down…"
    on turn 1 and again, word for word, on turn 4."""
    persona = catalog.personas["yes-then-sells"]
    market = persona.lines["answer_question"][3]
    for seed in range(40):
        script = _play(catalog, "yes-then-sells", language, MARKETS[language], "medium", seed)
        assert not _said_twice(script), (seed, _said_twice(script))
        first, last = script.turns[0], script.turns[-1]
        assert first.beat == last.beat == "answer_question"
        assert first.replies[0].content == market.messages(language)[0]  # type: ignore[arg-type]


# ---------------------------------------------------------------- the order of preference


def _line(text: str, mood: str | None = None, **about: list[str]) -> Line:
    data: dict[str, object] = {"it": text, "en": text, "mood": mood}
    if about:
        data["about"] = about
    return Line.model_validate(data)


def _state(trust: float = 40) -> ClientState:
    meters = {"trust": trust, "patience": 80}
    return ClientState(difficulty="easy", meters=meters, phase="testing")  # type: ignore[arg-type]


def _asked(message: str):  # type: ignore[no-untyped-def]
    return lambda line: 0 if line.about is None else line.about.score(message, "en")


KIDS = {"it": ["figli"], "en": ["kid", "child"]}
MONEY = {"it": ["soldi"], "en": ["money"]}
ASKED = _asked("And your kids, what do you want for them?")


def test_another_line_on_the_topic_comes_before_the_answer_already_given() -> None:
    lines = [_line("kids", **KIDS), _line("filler"), _line("children", **KIDS)]
    for seed in range(20):
        assert _pick(lines, [0], _state(), random.Random(seed), asked=ASKED) == 2


def test_a_filler_comes_before_the_answer_already_given_and_the_answer_before_other_answers() -> (
    None
):
    lines = [_line("money", **MONEY), _line("kids", **KIDS), _line("filler")]
    for seed in range(20):
        rng = random.Random(seed)
        assert _pick(lines, [1], _state(), rng, asked=ASKED) == 2  # the filler, unsaid
        assert _pick(lines, [1, 2], _state(), rng, asked=ASKED) == 1  # then the answer again
        # with nothing said on the topic, the filler first, then the other answer
        assert _pick(lines, [], _state(), rng, asked=_asked("Nice weather.")) == 2


def test_a_cold_deflection_does_not_take_the_place_of_an_answer_to_a_warm_client() -> None:
    """ "Questions, questions…" fits a client in a neutral or cold mood asked the same thing
    again; a client who trusts the trainee (warm) answers again instead."""
    lines = [_line("kids", **KIDS), _line("questions, questions", "cold")]
    for seed in range(20):
        rng = random.Random(seed)
        assert _pick(lines, [0], _state(trust=80), rng, asked=ASKED) == 0
        assert _pick(lines, [0], _state(trust=40), rng, asked=ASKED) == 1
        assert _pick(lines, [0], _state(trust=10), rng, asked=ASKED) == 1


# ---------------------------------------------------------------- how the repeat is said

AGAIN_ASKED = {
    "en": "Once more on the market: when it drops, what do you do?",
    "it": "Torniamo al mercato: quando scende, lei cosa fa?",
}


def _answer_again(
    catalog: Catalog, persona: Persona, language: str, history: list[tuple[str, str]]
) -> tuple[list[Reply], ClientState]:
    """The investor asked about the market again, having said the market answer (line 3) and
    his filler (line 8): what he says, and his state after it."""
    state, _ = opening(persona, "medium")
    stored = state.model_dump(mode="json") | {
        "turn": 4,
        "phase": "testing",
        "used_lines": {"opening": [0], "answer_question": [3, 0, 8]},
    }
    new, directive = observe(
        catalog, persona, ClientState.model_validate(stored), {"open_question", "question"}
    )
    assert directive.beat == "answer_question"
    replies = [
        item
        for item in OfflineActor.for_catalog(catalog).reply(
            persona=persona,
            language=language,  # type: ignore[arg-type]
            state=new,
            directive=directive,
            history=[*history, ("trainee", AGAIN_ASKED[language])],
            seed=5,
        )
        if isinstance(item, Reply)
    ]
    return replies, new


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_answer_comes_back_in_the_card_s_words_for_a_repeat(
    catalog: Catalog, language: str
) -> None:
    persona = catalog.personas["yes-then-sells"]
    market = persona.lines["answer_question"][3]
    assert market.again is not None
    replies, state = _answer_again(catalog, persona, language, [("client", "Mh-mh.")])
    assert [r.content for r in replies] == market.again.messages(language)  # type: ignore[arg-type]
    assert all(r.meta["line"] == 3 and r.meta["again"] for r in replies)
    assert state.used_lines["answer_question"] == [3, 0, 8, 3]  # the format of used_lines


@pytest.mark.parametrize("language", ["en", "it"])
def test_without_its_own_words_the_repeat_starts_with_as_i_said(
    catalog: Catalog, language: str
) -> None:
    """A line with no `again`, or whose `again` has been said already: a "like I said before…"
    of prompts/texts.yaml, then the line."""
    persona = catalog.personas["yes-then-sells"]
    market = persona.lines["answer_question"][3]
    leads = {text(language) for text in catalog.texts["repeat"].values()}  # type: ignore[arg-type]
    assert market.again is not None
    said_before = market.again.messages(language)[0]  # type: ignore[arg-type]
    bare = persona.lines["answer_question"][:3] + [
        market.model_copy(update={"again": None}),
        *persona.lines["answer_question"][4:],
    ]
    without = persona.model_copy(update={"lines": persona.lines | {"answer_question": bare}})
    cases = [
        (without, [("client", "Mh-mh.")]),
        (persona, [("client", said_before), ("trainee", "Ok."), ("client", "Mh-mh.")]),
    ]
    for card, history in cases:
        replies, _ = _answer_again(catalog, card, language, history)
        lead, *line = [r.content for r in replies]
        assert lead in leads
        assert line == market.messages(language)  # type: ignore[arg-type]
        assert all(r.meta["line"] == 3 and r.meta["again"] for r in replies)


def test_the_as_i_said_texts_suit_every_card(catalog: Catalog) -> None:
    """Several, in both languages, and neutral: no "tu" or "lei" (cards use both), no "you"
    that a plural client could not say either way."""
    texts = catalog.texts["repeat"]
    assert len(texts) >= 3
    for text in texts.values():
        words = set(text.it.lower().replace("'", " ").split())
        assert not words & {"ti", "te", "tu", "le", "lei", "gliel", "ve", "vi"}, text.it
        assert text.it.strip() and text.en.strip()


def test_a_card_with_again_but_no_topic_is_refused(tmp_path: Path) -> None:
    personas, prompts = copy_catalog(tmp_path)
    path = personas / "yes-then-sells.yaml"
    card = yaml.safe_load(path.read_text(encoding="utf-8"))
    card["lines"]["answer_question"][8]["again"] = {"it": "Come dicevo.", "en": "As I said."}
    path.write_text(yaml.safe_dump(card, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(personas, prompts)
    message = str(info.value)
    assert "lines.answer_question.8" in message and "needs an 'about'" in message, message


# ---------------------------------------------------------------- every card, realistic turns


GOLD = [DRILLS.parent / "gold", DRILLS.parent / "gold-dev"]  # never gold-heldout


def _questions(persona: str, language: str) -> list[list[str]]:
    """The trainee turns of the persona's drills and gold transcripts, and all their questions
    in a row (a question-heavy session that comes back to the same topics)."""
    sessions = [
        yaml.safe_load(path.read_text(encoding="utf-8"))["turns"]
        for path in sorted(DRILLS.glob(f"{persona}-{language}-*.yaml"))
    ]
    for folder in GOLD:
        for path in sorted(folder.glob(f"{persona}-{language}-*.yaml")):
            messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
            sessions.append([m["content"] for m in messages if m["role"] == "trainee"])
    asked = list(dict.fromkeys(turn for turns in sessions for turn in turns if "?" in turn))
    return [asked, asked[::-1], asked[1::2] + asked[::2]]


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_no_answer_comes_back_word_for_word(catalog: Catalog, persona: str, language: str) -> None:
    """Every card, both languages, every difficulty: when an answer comes back, it comes back
    as a repeat (its `again`, or "like I said before…" first), never as the same words alone.
    The trainee's questions from the drills and gold transcripts, in three orders. (Over the
    whole sessions too, five seeds: 269 sessions of 2445 had an answer said again word for
    word before, 0 after.)"""
    lines = catalog.personas[persona].lines
    for turns in _questions(persona, language):
        for difficulty in ("easy", "medium", "hard"):
            for seed in (1, 2):
                script = _play(catalog, persona, language, turns, difficulty, seed)
                said: set[str] = set()
                for turn in script.turns:
                    for reply in turn.replies:
                        line = lines[reply.beat][reply.meta["line"]]  # type: ignore[index]
                        on_topic = line.about is not None and line.about.matches(
                            turn.text,
                            language,  # type: ignore[arg-type]
                        )
                        bare = reply.content in said and not reply.meta.get("again")
                        assert not (on_topic and bare), (difficulty, seed, reply.content)
                        said.add(reply.content)


# ---------------------------------------------------------------- task 2: loose keywords

ORGANISE = {
    "en": "How do I organise myself?",
    "it": "Come mi organizzo?",
}
PROPOSALS = {
    "en": [
        "Does that work for you?",
        "I'll organise the site visits for you and put them in a shared calendar. Does that "
        "work for you?",
        "From now on I'll remember the dates for you and send you notes after each visit. "
        "Does that work for you?",
    ],
    "it": [
        "Ti va bene?",
        "Ti organizzo io i sopralluoghi e te li metto in un calendario condiviso. Ti va bene?",
        "Ti mando l'appuntamento con un promemoria il giorno prima, ti va bene?",
    ],
}
HOW_DO_YOU_ORGANISE = {
    "en": ["How do you organise your week between sites and the office?", "Do you keep a diary?"],
    "it": ["Come ti organizzi la settimana tra cantieri e ufficio?", "Dove segni gli impegni?"],
}


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_proposal_is_not_the_question_of_how_he_organises_himself(
    catalog: Catalog, language: str
) -> None:
    """ "Does that work for you?" got "How do I organise myself?": `organis`, `calendar`,
    `remember`, `notes` (and `appunt`, which is also "appuntamento") are words of the
    trainee's own proposals, not only of the question that line answers."""
    persona = catalog.personas["disorganized"]
    [line] = [
        line
        for line in persona.lines["answer_question"]
        if line.messages(language)[0].startswith(ORGANISE[language])  # type: ignore[arg-type]
    ]
    assert line.about is not None
    for message in PROPOSALS[language]:
        assert line.about.score(message, language) == 0, message  # type: ignore[arg-type]
        for seed in range(10):
            script = _play(catalog, "disorganized", language, [message], "medium", seed)
            for reply in script.turns[0].replies:
                assert not reply.content.startswith(ORGANISE[language]), (message, seed)
    for message in HOW_DO_YOU_ORGANISE[language]:
        assert line.about.matches(message, language), message  # type: ignore[arg-type]
        script = _play(catalog, "disorganized", language, [message], "medium", 3)
        assert script.turns[0].replies[0].content.startswith(ORGANISE[language]), message


FAMILIES = {"en": "My customers are families", "it": "I miei clienti sono famiglie"}
EITHER_OR = {
    "en": [
        "Do you want to choose the photos yourself, or shall I make a first selection?",
        "Gallery first or the quote form first? You choose.",
        "Are you familiar with Instagram, or shall I show you?",
    ],
    "it": [
        "Vuoi scegliere tu le foto, o preferisci che faccia io una prima selezione?",
        "Prima la galleria o prima il modulo dei preventivi? Scegli tu.",
    ],
}
ABOUT_CUSTOMERS = {
    "en": ["How do your customers choose a kitchen?", "Who are your customers?"],
    "it": ["Come scelgono la cucina i tuoi clienti?", "Chi sono i tuoi clienti?"],
}


@pytest.mark.parametrize("language", ["en", "it"])
def test_an_either_or_choice_is_not_a_question_about_his_customers(
    catalog: Catalog, language: str
) -> None:
    """The impossible-idea client said "My customers are families…" again to an either/or
    question: `choose` and `scegliere` (and `famil`, which is also "familiar") matched a
    choice put to him, not how his customers choose."""
    persona = catalog.personas["impossible-idea"]
    [line] = [
        line
        for line in persona.lines["answer_question"]
        if line.messages(language)[0].startswith(FAMILIES[language])  # type: ignore[arg-type]
    ]
    assert line.about is not None
    for message in EITHER_OR[language]:
        assert line.about.score(message, language) == 0, message  # type: ignore[arg-type]
        for seed in range(10):
            turns = [ABOUT_CUSTOMERS[language][1], message]  # asked about customers first
            script = _play(catalog, "impossible-idea", language, turns, "medium", seed)
            for reply in script.turns[1].replies:
                assert FAMILIES[language] not in reply.content, (message, seed)
    for message in ABOUT_CUSTOMERS[language]:
        assert line.about.matches(message, language), message  # type: ignore[arg-type]
        script = _play(catalog, "impossible-idea", language, [message], "medium", 3)
        assert script.turns[0].replies[0].content.startswith(FAMILIES[language]), message
