"""The llm actor's example lines follow what the offline client knows (prompts/actor.j2):

1. the card lines whose `about` matches the trainee's latest message come first, the most
   specific match first (`Topics.score`, as the offline actor ranks them), then the lines
   without `about`, then the answers to other questions; a long beat shows its best few;
2. an answer the client has already given (one of its messages is in the history) is shown
   in its `again` wording: how this client says it the second time;
3. on a turn with a `lead` (the answer before a scheduled beat) the first of several messages
   is labelled with the lead, as the offline actor labels it; a single message keeps the beat;
4. a line that would contradict a beat the client has played (its `not_after`) is not shown:
   the beats played are kept in the session's state (`played`), as the offline actor keeps
   the lines it said.

Played against the loopback OpenAI-compatible stub (tests/llm_stub.py): through the REST API,
reading the system prompt the stub received and the stored messages' metadata, and in
process with `LLMActor.reply`; the ranking itself is checked on the rendered prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from fastapi.testclient import TestClient
from llm_stub import DropMidStream, Reply, StubLLM
from sqlmodel import Session, col, select
from test_llm_actor_beats import TO_THE_YES, say, start, system_prompt
from test_llm_engine import llm_settings

from app.catalog import PROMPTS_DIR, Catalog, Language, Line, Persona
from app.config import Settings
from app.db import get_engine
from app.engine import actors
from app.engine.actors import EXAMPLES, LLMActor
from app.engine.director import ClientState, Directive, observe, opening
from app.engine.llm import LLMClient, LLMError
from app.models import Message, PracticeSession

CLIENT_LINE = "Well, let me think about it."
# yes-then-sells: the fear is the eighth of his answer lines, never shown before
FEAR_QUESTION = "What are you most afraid of, Roberto?"
FEAR_AGAIN = "Are you still worried about the risk?"
ANSWERS = "Lines this client might use to answer"
HERE = "Lines this client might say here"


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLLM]:
    with StubLLM(lambda body: CLIENT_LINE, words_per_chunk=1) as server:
        yield server


@pytest.fixture
def settings(stub: StubLLM, database_url: str) -> Settings:
    """The llm engine (the default when configured) on the stub: no retries."""
    return llm_settings(stub, database_url)


def actor(client: LLMClient | None = None) -> LLMActor:
    texts = {"start": lambda language: "(the call starts)"}
    return LLMActor(
        cast(LLMClient, client), model="m", temperature=0.0, prompts_dir=PROMPTS_DIR, texts=texts
    )


def wording(line: Line, language: Language = "en") -> str:
    return " / ".join(line.messages(language))


def again(line: Line, language: Language = "en") -> str:
    assert line.again is not None
    return " / ".join(line.again.messages(language))


def fear(persona: Persona) -> Line:
    return next(line for line in persona.lines["answer_question"] if "fear" in line.en[0])


def shown(prompt: str, heading: str = HERE) -> list[str]:
    """The example lines listed under `heading` (the beat's, or the lead's answers)."""
    block = prompt.split(heading, 1)[1].split(":\n", 1)[1]
    return [row[2:] for row in block.splitlines() if row.startswith("- ")][:EXAMPLES]


def answering(catalog: Catalog, persona: Persona) -> tuple[ClientState, Directive]:
    state, _ = opening(persona, "medium")
    state, directive = observe(catalog, persona, state, {"question"})
    assert directive.beat == "answer_question" and directive.lead is None
    return state, directive


def render(
    persona: Persona,
    state: ClientState,
    directive: Directive,
    history: list[tuple[str, str]],
    language: Language = "en",
) -> str:
    return actor().prompt(persona, language, state, directive, history).text


# ---------------------------------------------------------------- 1. the topic asked first


def test_the_answer_on_the_topic_asked_comes_first(catalog: Catalog) -> None:
    """Today's prompt showed his first four answers whatever was asked: the fear (his eighth)
    never reached the model; now it leads the examples."""
    persona = catalog.personas["yes-then-sells"]
    state, directive = answering(catalog, persona)
    assert persona.lines["answer_question"].index(fear(persona)) >= EXAMPLES
    history = [("client", "Good morning."), ("trainee", FEAR_QUESTION)]
    examples = shown(render(persona, state, directive, history))
    assert examples[0] == wording(fear(persona))
    assert len(examples) == EXAMPLES
    # nothing asked (a greeting): no answer is pushed, the filler first
    plain = shown(render(persona, state, directive, [("trainee", "Good morning, Roberto.")]))
    assert wording(fear(persona)) not in plain
    fillers = [wording(line) for line in persona.lines["answer_question"] if line.about is None]
    assert plain[0] in fillers


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_topic_is_matched_in_the_session_language(catalog: Catalog, language: Language) -> None:
    persona = catalog.personas["yes-then-sells"]
    state, directive = answering(catalog, persona)
    question = {"it": "Di cosa ha paura, Roberto?", "en": FEAR_QUESTION}[language]
    examples = shown(render(persona, state, directive, [("trainee", question)], language))
    assert examples[0] == wording(fear(persona), language)


def test_the_most_specific_match_first_then_fillers_then_other_topics(catalog: Catalog) -> None:
    """A phrase beats a word; an untagged line comes before the answer to another question;
    a long beat shows its best few, not its first few."""
    card = catalog.personas["yes-then-sells"]

    def line(text: str, about: list[str] | None = None) -> Line:
        topics = {"it": about, "en": about} if about else None
        return Line.model_validate({"it": text, "en": text, "about": topics})

    lines = [
        line("The market, again.", ["market"]),
        line("My shares.", ["shares"]),
        line("Hm."),
        line("A week is long.", ["week"]),
        line("Let me see.", ["maybe"]),
        line("Every week? Fine.", ["every week"]),
    ]
    persona = card.model_copy(update={"lines": {**card.lines, "answer_question": lines}})
    state, directive = answering(catalog, persona)
    history = [("trainee", "Could we talk every week?")]
    assert shown(render(persona, state, directive, history)) == [
        "Every week? Fine.",
        "A week is long.",
        "Hm.",
        "The market, again.",
    ]


def test_the_same_input_renders_the_same_prompt(catalog: Catalog) -> None:
    persona = catalog.personas["yes-then-sells"]
    state, directive = answering(catalog, persona)
    history = [("client", "Good morning."), ("trainee", FEAR_QUESTION)]
    first = actor().prompt(persona, "en", state, directive, history)
    assert actor().prompt(persona, "en", state, directive, list(history)) == first


def test_a_lead_s_answers_are_ranked_by_the_question(catalog: Catalog) -> None:
    """The answer before a scheduled beat: its lines on the question's topic first too."""
    persona = catalog.personas["yes-then-sells"]
    state, _ = opening(persona, "medium")
    directive = Directive("sold_anyway", frozenset({"question"}), lead="answer_question")
    prompt = render(persona, state, directive, [("trainee", FEAR_QUESTION)])
    assert shown(prompt, ANSWERS)[0] == wording(fear(persona))
    assert shown(prompt, "for the second part")[0] == wording(persona.lines["sold_anyway"][0])


# ---------------------------------------------------------------- 2. said again


def test_an_answer_already_given_is_shown_in_its_again_wording(catalog: Catalog) -> None:
    persona = catalog.personas["yes-then-sells"]
    state, directive = answering(catalog, persona)
    line = fear(persona)
    history = [
        ("trainee", FEAR_QUESTION),
        ("client", line.en[0]),
        ("trainee", "I see. And the shares?"),
        ("client", CLIENT_LINE),
        ("trainee", FEAR_AGAIN),
    ]
    prompt = render(persona, state, directive, history)
    assert shown(prompt)[0] == again(line)
    assert wording(line) not in prompt
    # the topic not answered yet: the line itself
    assert shown(render(persona, state, directive, history[2:]))[0] == wording(line)


def test_through_the_api_the_topic_first_then_the_again_wording(
    client: TestClient, stub: StubLLM, catalog: Catalog
) -> None:
    """The model gets the fear first when asked about it; once it has answered with the
    card's words, the next question on the fear shows how he says it again."""
    persona = catalog.personas["yes-then-sells"]
    line = fear(persona)
    sid = start(client, "yes-then-sells")
    stub.script(Reply(line.en[0]))
    say(client, sid, FEAR_QUESTION)
    assert shown(system_prompt(stub))[0] == wording(line)
    say(client, sid, FEAR_AGAIN)
    prompt = system_prompt(stub)
    assert stub.requests[-1]["messages"][-1]["content"] == FEAR_AGAIN
    assert shown(prompt)[0] == again(line)
    assert wording(line) not in prompt


# ---------------------------------------------------------------- 3. the lead's label


def stored_beats(settings: Settings, sid: str) -> list[tuple[str, object]]:
    with Session(get_engine(settings.database_url)) as db:
        rows = db.exec(
            select(Message)
            .where(Message.session_id == sid, Message.role == "client")
            .order_by(col(Message.seq))
        ).all()
        return [(row.content, row.meta.get("beat")) for row in rows]


def test_the_stored_answer_is_labelled_with_the_lead(
    client: TestClient, stub: StubLLM, settings: Settings
) -> None:
    """The question asked the turn after his "yes" meets the sale: the answer is stored as
    `answer_question`, the sale as `sold_anyway`."""
    sid = start(client, "yes-then-sells")
    for text in TO_THE_YES:
        say(client, sid, text)
    stub.script(Reply("Losing it all.\n---\nAbout the shares… I sold them."))
    replies = say(client, sid, FEAR_QUESTION)["replies"]
    assert [r["content"] for r in replies] == ["Losing it all.", "About the shares… I sold them."]
    assert ANSWERS in system_prompt(stub)
    assert stored_beats(settings, sid)[-2:] == [
        ("Losing it all.", "answer_question"),
        ("About the shares… I sold them.", "sold_anyway"),
    ]


LEAD = Directive("sold_anyway", frozenset({"question"}), lead="answer_question")


def items(
    stub: StubLLM, catalog: Catalog, behaviour: Reply | DropMidStream, directive: Directive
) -> Iterator[str | actors.Reply]:
    """`LLMActor.reply` in process, the stub answering the fear question with `behaviour`."""
    persona = catalog.personas["yes-then-sells"]
    state, _ = opening(persona, "medium")
    client = LLMClient(base_url=stub.base_url, api_key=None, timeout=5.0, max_retries=0)
    stub.reset()
    stub.script(behaviour)
    yield from actor(client).reply(
        persona=persona,
        language="en",
        state=state,
        directive=directive,
        history=[("trainee", FEAR_QUESTION)],
        seed=1,
    )


def play(
    stub: StubLLM, catalog: Catalog, text: str, directive: Directive = LEAD
) -> tuple[list[actors.Reply], list[str]]:
    """The Replies, and the text streamed before each one (its deltas since the last one)."""
    replies: list[actors.Reply] = []
    streamed: list[str] = []
    pieces = ""
    for item in items(stub, catalog, Reply(text), directive):
        if isinstance(item, actors.Reply):
            replies.append(item)
            streamed.append(pieces)
            pieces = ""
        else:
            pieces += item
    return replies, streamed


@pytest.mark.parametrize(
    ("text", "beats"),
    [
        ("Losing it all.\n---\nI sold them.", ["answer_question", "sold_anyway"]),
        ("Losing it.\n---\nI sold.\n---\nAll of it.", ["answer_question", *["sold_anyway"] * 2]),
        ("I sold them this morning.", ["sold_anyway"]),
        ("I sold them.\n---\n  \n", ["sold_anyway"]),  # a separator with nothing after it
        ("\n---\nI sold them.", ["sold_anyway"]),  # nothing before it
    ],
)
def test_a_lead_labels_the_first_of_several_messages(
    stub: StubLLM, catalog: Catalog, text: str, beats: list[str]
) -> None:
    replies, streamed = play(stub, catalog, text)
    assert [r.beat for r in replies] == beats
    assert [r.meta["beat"] for r in replies] == beats
    assert [r.content for r in replies] == [m.strip() for m in text.split("\n---\n") if m.strip()]
    # each message's text streams before its Reply, none of the next one's with it
    assert [s.strip() for s in streamed] == [r.content for r in replies]
    assert all(r.meta["engine"] == "llm" and r.meta["model"] == "m" for r in replies)


def test_without_a_lead_every_message_keeps_the_beat(stub: StubLLM, catalog: Catalog) -> None:
    plain = Directive("sold_anyway", frozenset({"question"}))
    replies, _ = play(stub, catalog, "Losing it all.\n---\nI sold them.", plain)
    assert [r.beat for r in replies] == ["sold_anyway", "sold_anyway"]


def test_a_failure_after_the_answer_still_yields_it(stub: StubLLM, catalog: Catalog) -> None:
    """The first message is held until the next one starts: a stream cut then still hands
    it over (stored as said), labelled as the answer, and the unfinished one as partial."""
    drop = DropMidStream(after_chunks=6, text="Losing it all.\n---\nI sold them all.")
    replies: list[actors.Reply] = []
    with pytest.raises(LLMError) as failure:
        for item in items(stub, catalog, drop, LEAD):
            if isinstance(item, actors.Reply):
                replies.append(item)
    assert [(r.content, r.beat) for r in replies] == [("Losing it all.", "answer_question")]
    assert failure.value.partial and "I sold them all.".startswith(failure.value.partial)


# ---------------------------------------------------------------- 4. nothing said is contradicted

SHARES = "Good. So, the US shares: what do we do with them?"  # neutral, not_after the sale


def test_a_line_is_not_shown_after_a_beat_it_would_contradict(catalog: Catalog) -> None:
    persona = catalog.personas["yes-then-sells"]
    state, _ = opening(persona, "medium")
    neutral = Directive("neutral", frozenset())
    assert SHARES in shown(render(persona, state, neutral, [("trainee", "Right.")]))
    state.played = ["opening", "sold_anyway"]
    after = render(persona, state, neutral, [("trainee", "Right.")])
    assert SHARES not in after and shown(after)  # the beat's other lines are still there


def test_the_answer_said_first_counts_for_the_beat_after_it(catalog: Catalog) -> None:
    """On a lead turn the beat's lines follow the answer: one that must not follow it is not
    shown with the beat, though the answer itself is played in the same message."""
    persona = catalog.personas["yes-then-sells"]
    state, _ = opening(persona, "medium")
    card = persona.model_copy(deep=True)
    barred = Line.model_validate(
        {"it": "Ciao.", "en": "Hello there.", "not_after": ["answer_question"]}
    )
    card.lines["sold_anyway"] = [barred, *card.lines["sold_anyway"]]
    prompt = render(card, state, LEAD, [("trainee", FEAR_QUESTION)])
    assert "Hello there." not in prompt
    plain = Directive("sold_anyway", frozenset({"question"}))
    assert "Hello there." in render(card, state, plain, [("trainee", FEAR_QUESTION)])


def test_through_the_api_the_played_beats_are_kept_and_heeded(
    client: TestClient, stub: StubLLM, settings: Settings
) -> None:
    """After the sale (reported on the turn after his "yes") the model is no longer shown him
    asking what to do with the shares; the session's state lists what he played."""
    sid = start(client, "yes-then-sells")
    say(client, sid, "Right.")
    assert SHARES in system_prompt(stub)
    for text in TO_THE_YES:
        say(client, sid, text)
    stub.script(Reply("Losing it all.\n---\nAbout the shares… I sold them."))
    say(client, sid, FEAR_QUESTION)
    with Session(get_engine(settings.database_url)) as db:
        record = db.get(PracticeSession, sid)
        assert record is not None
        played = set(record.state["played"])
    assert {"opening", "says_yes", "answer_question", "sold_anyway"} <= played
    say(client, sid, "Right.")
    assert stored_beats(settings, sid)[-1][1] == "neutral"
    assert SHARES not in system_prompt(stub)
