"""The llm actor plays the director's context beats as the offline actor does (prompts/actor.j2):

1. `Directive.lead`: a scheduled beat (a rule with no move conditions, or a `next_beat`) takes
   the turn right after a question: the model is told to answer the question first, as its own
   message, then to play the scheduled beat, with example lines for both;
2. the trainee's goodbye: the beat `goodbye` tells the model to take the goodbye and let the
   trainee go (also for a card without goodbye lines, whose beat is then `turn_limit`), and a
   card rule that pushes back at a goodbye tells it to react to the goodbye and carry on.

Played through the REST API against the loopback OpenAI-compatible stub (tests/llm_stub.py),
reading the system prompt the stub received; the odd cases are rendered directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from llm_stub import Reply, StubLLM
from test_llm_engine import llm_settings

from app.catalog import PROMPTS_DIR, Catalog, Language, Persona
from app.config import Settings
from app.engine.actors import LLMActor
from app.engine.director import ClientState, Directive, observe, opening
from app.engine.llm import LLMClient

ANSWER_FIRST = "First answer that question."
SECOND_PART = "Then, right after the answer:"
TAKE_GOODBYE = "The trainee has just said goodbye: take it in character"
HOLD_ON = "The trainee has just said goodbye, but you do not let them go yet"
LAST = "This is your last message in the conversation."
GOES_ON = "The conversation goes on after your message."
# beat ids the prompt must not name ("goodbye" is also a plain word the prompt uses)
BEAT_IDS = ("answer_question", "sold_anyway", "close_protest", "turn_limit")

# yes-then-sells (tests/test_actor_context.py): questions, then hesitant advice earns his "yes"
# (says_yes, next_beat sold_anyway); the question asked the turn after meets the sale.
TO_THE_YES = [
    "Good morning Roberto. Tell me: how do you usually make your decisions?",
    "What do you really want to achieve with this wealth, for you and your children?",
    "I understand. Honestly, maybe you should keep the shares for now, I'm not sure.",
]
QUESTION = "Good. What are you most afraid of, Roberto?"
FIRST = "Good evening. Who am I speaking to, please?"
CLIENT_LINE = "Well, let me think about it."


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLLM]:
    with StubLLM(lambda body: CLIENT_LINE) as server:
        yield server


@pytest.fixture
def settings(stub: StubLLM, database_url: str) -> Settings:
    """The llm engine (the default when configured) on the stub: no retries."""
    return llm_settings(stub, database_url)


def start(client: TestClient, persona: str, seed: int = 1) -> str:
    body = {"persona_id": persona, "language": "en", "difficulty": "medium", "seed": seed}
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["session"]["engine"] == "llm"
    return str(response.json()["session"]["id"])


def say(client: TestClient, sid: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/sessions/{sid}/messages", json={"content": text})
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


def system_prompt(stub: StubLLM) -> str:
    body = stub.requests[-1]
    assert body["model"] == "actor-model"
    return str(body["messages"][0]["content"])


def examples(persona: Persona, beat: str, language: Language = "en") -> list[str]:
    return [" / ".join(line.messages(language)) for line in persona.lines[beat]]


def render(
    persona: Persona, state: ClientState, directive: Directive, language: Language = "en"
) -> str:
    actor = LLMActor(
        cast(LLMClient, None), model="m", temperature=0.0, prompts_dir=PROMPTS_DIR, texts={}
    )
    return actor.prompt(persona, language, state, directive).text


# ---------------------------------------------------------------- 1. the question first


def test_a_question_before_a_scheduled_beat_is_answered_first(
    client: TestClient, stub: StubLLM, catalog: Catalog
) -> None:
    """The sale his "yes" scheduled takes the turn of a question: the model is told to answer
    it first, as its own message, then to report the sale; both messages are stored."""
    persona = catalog.personas["yes-then-sells"]
    sid = start(client, "yes-then-sells")
    for text in TO_THE_YES:
        say(client, sid, text)
    plain = system_prompt(stub)
    assert ANSWER_FIRST not in plain and "Send one message." in plain  # no lead, one beat

    stub.script(Reply("What scares me? Losing what my father built.\n---\nAbout the shares…"))
    replies = say(client, sid, QUESTION)["replies"]
    system = system_prompt(stub)
    assert stub.requests[-1]["messages"][-1]["content"] == QUESTION
    what = system.split("# What you do in this message", 1)[1]
    # the answer first, then the scheduled beat, each with its own example lines
    assert what.index(ANSWER_FIRST) < what.index(SECOND_PART)
    answers, sale = what.split("Lines this client might say here, for the second part", 1)
    # the answer lines on the question's topic first (the fear: "What are you most afraid of")
    fear = next(e for e in examples(persona, "answer_question") if e.startswith("My fear?"))
    assert answers.split("\n- ", 1)[1].startswith(fear)
    assert examples(persona, "sold_anyway")[0] in sale
    assert not any(line in answers for line in examples(persona, "sold_anyway"))
    assert "Write the answer as its own message, then a line with only --- on it" in what
    assert "Send one message." not in what
    assert not any(beat in system for beat in BEAT_IDS)  # beats are explained, not named
    assert [r["content"] for r in replies] == [
        "What scares me? Losing what my father built.",
        "About the shares…",
    ]


def test_a_lead_with_a_burst_asks_for_the_burst_after_the_answer(catalog: Catalog) -> None:
    """The anxious client's missed calls come after the answer, in several messages."""
    persona = catalog.personas["endless-whatsapp"]
    state, _ = opening(persona, "hard")
    state, directive = observe(catalog, persona, state.model_copy(update={"turn": 2}), {"question"})
    assert (directive.beat, directive.lead) == ("missed_call", "answer_question")
    assert persona.burst and state.meters[persona.burst.meter] >= persona.burst.min
    what = render(persona, state, directive).split("# What you do in this message", 1)[1]
    assert what.index(ANSWER_FIRST) < what.index(SECOND_PART)
    assert "then the\nsecond part: your anxiety is high, so two or three short" in what


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_answer_lines_are_in_the_session_language(catalog: Catalog, language: Language) -> None:
    persona = catalog.personas["needs-approval"]
    state, _ = opening(persona, "medium")
    state, directive = observe(
        catalog, persona, state.model_copy(update={"turn": 2}), {"question", "paraphrase"}
    )
    assert directive.lead == "answer_question"
    text = render(persona, state, directive, language)
    other: Language = "en" if language == "it" else "it"
    assert any(line in text for line in examples(persona, "answer_question", language))
    assert not any(line in text for line in examples(persona, "answer_question", other))
    assert examples(persona, directive.beat, language)[0] in text
    assert ("Italian" if language == "it" else "English") in text


# ---------------------------------------------------------------- 2. the goodbye


def test_a_goodbye_is_taken_and_ends_the_session(
    client: TestClient, stub: StubLLM, catalog: Catalog
) -> None:
    persona = catalog.personas["loyal-debtor"]
    sid = start(client, "loyal-debtor", seed=4)
    say(client, sid, FIRST)
    assert TAKE_GOODBYE not in system_prompt(stub)
    body = say(client, sid, "Goodbye.")
    assert body["session"]["status"] == "ended"
    assert body["session"]["outcome"] == "ended_by_trainee"
    system = system_prompt(stub)
    assert TAKE_GOODBYE in system and LAST in system
    assert "ask nothing new" in system and HOLD_ON not in system
    assert examples(persona, "goodbye")[0] in system  # the card's goodbye lines as examples
    assert not any(beat in system for beat in BEAT_IDS)


def test_a_card_that_pushes_back_at_a_goodbye_holds_on_once(
    client: TestClient, stub: StubLLM, catalog: Catalog
) -> None:
    """The after-hours caller protests at the first "Good night" (a card rule on close_call):
    the model reacts to the goodbye and the call goes on; the second one is taken."""
    persona = catalog.personas["after-hours-caller"]
    sid = start(client, "after-hours-caller", seed=3)
    say(client, sid, FIRST)
    body = say(client, sid, "Good night.")
    assert body["session"]["status"] == "active"
    system = system_prompt(stub)
    assert HOLD_ON in system and GOES_ON in system
    assert LAST not in system and TAKE_GOODBYE not in system
    assert examples(persona, "close_protest")[0] in system

    body = say(client, sid, "Good night.")
    assert body["session"]["outcome"] == "ended_by_trainee"
    system = system_prompt(stub)
    assert TAKE_GOODBYE in system and LAST in system and HOLD_ON not in system


def test_a_card_without_goodbye_lines_still_takes_the_goodbye(catalog: Catalog) -> None:
    """With no `goodbye` lines the director says `turn_limit` lines: the model is still told
    the trainee said goodbye, not that the client has to go."""
    card = catalog.personas["loyal-debtor"]
    persona = card.model_copy(
        update={"lines": {b: lines for b, lines in card.lines.items() if b != "goodbye"}}
    )
    state, _ = opening(persona, "medium")
    state, directive = observe(catalog, persona, state, {"close_call"})
    assert (directive.beat, directive.end) == ("turn_limit", "ended_by_trainee")
    text = render(persona, state, directive)
    assert TAKE_GOODBYE in text and "You have to go now" not in text
    assert examples(persona, "turn_limit")[0] in text


def test_a_card_rule_ending_at_a_goodbye_answers_it(catalog: Catalog) -> None:
    """The caller hangs up at a goodbye after his insult (a rule with its own end)."""
    persona = catalog.personas["after-hours-caller"]
    state, _ = opening(persona, "medium")
    state = state.model_copy(update={"beat": "insults", "turn": 1})
    state, directive = observe(catalog, persona, state, {"close_call"})
    assert (directive.beat, directive.end) == ("hangs_up", "dismissed")
    text = render(persona, state, directive)
    assert "The trainee has just said goodbye, and your message ends the conversation" in text
    assert LAST in text and HOLD_ON not in text and TAKE_GOODBYE not in text
