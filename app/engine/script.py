"""Play scripted trainee turns in memory: the director and an actor, no database.

One loop shared by the drill runner, the card authors' simulator and the persona tests, so
they all play a session the way the service does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.catalog import Catalog, Difficulty, Language, Persona
from app.engine.actors import Actor, Reply
from app.engine.detectors import detect, move_ids
from app.engine.director import ClientState, Directive, end_by_trainee, observe, opening
from app.engine.grader import TranscriptMessage
from app.engine.llm import CallRecord


@dataclass
class Turn:
    """One trainee message and what it caused."""

    text: str
    moves: set[str]
    directive: Directive
    before: dict[str, float]  # the meters before this message
    state: ClientState  # the director's state after it (a copy)
    replies: list[Reply]  # the client's messages that followed, in order

    @property
    def beat(self) -> str:
        return self.directive.beat

    @property
    def beats(self) -> list[str]:
        return [r.beat for r in self.replies]

    @property
    def meters(self) -> dict[str, float]:
        return self.state.meters


@dataclass
class Script:
    opening: list[Reply]
    turns: list[Turn]
    transcript: list[TranscriptMessage]
    final: ClientState  # closed by the trainee if the client had not ended it

    @property
    def replies(self) -> list[Reply]:
        return self.opening + [r for t in self.turns for r in t.replies]


class Rehearsal:
    """A session in memory, one trainee message at a time (the terminal's `practise`)."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        persona: Persona,
        language: Language,
        difficulty: Difficulty,
        seed: int,
        actor: Actor,
        on_event: Callable[[str | Reply], None] | None = None,
        calls: list[CallRecord] | None = None,
    ) -> None:
        self.catalog, self.persona, self.language = catalog, persona, language
        self.seed, self.actor, self.on_event = seed, actor, on_event
        self.calls: list[CallRecord] = [] if calls is None else calls  # the model's, if any
        self.transcript: list[TranscriptMessage] = []
        self.state, directive = opening(persona, difficulty)
        self.opening = self._speak(self.state, directive)
        self._add("client", self.opening)

    def _speak(self, state: ClientState, directive: Directive) -> list[Reply]:
        replies = []
        for item in self.actor.reply(
            persona=self.persona,
            language=self.language,
            state=state,
            directive=directive,
            history=[(m.role, m.content) for m in self.transcript],
            seed=self.seed,
            calls=self.calls,
        ):
            if isinstance(item, Reply):
                replies.append(item)
            if self.on_event is not None:
                self.on_event(item)
        return replies

    def say(self, raw: str) -> Turn:
        """One trainee message and the client's answer. An actor failure (LLMError) leaves
        the rehearsal as it was: the same text can be said again."""
        if self.state.status != "active":
            raise ValueError("the session has ended")
        text = raw.strip()
        moves = move_ids(detect(text, self.language, self.catalog.moves))
        before = dict(self.state.meters)
        state, directive = observe(self.catalog, self.persona, self.state, moves)
        said = TranscriptMessage(seq=len(self.transcript) + 1, role="trainee", content=text)
        self.transcript.append(said)
        try:
            replies = self._speak(state, directive)  # the actor records its lines in `state`
        except Exception:
            self.transcript.pop()
            raise
        self._add("client", replies)
        self.state = state
        return Turn(text, moves, directive, before, state.model_copy(deep=True), replies)

    def finish(self) -> ClientState:
        """The final state: closed by the trainee if the client had not ended it."""
        return end_by_trainee(self.state)

    def _add(self, role: str, replies: list[Reply]) -> None:
        for reply in replies:
            self.transcript.append(
                TranscriptMessage(seq=len(self.transcript) + 1, role=role, content=reply.content)  # type: ignore[arg-type]
            )


def play_script(
    *,
    catalog: Catalog,
    persona: Persona,
    language: Language,
    difficulty: Difficulty,
    seed: int,
    turns: list[str],
    actor: Actor,
) -> Script:
    """Turns after the client has ended the session are not played. Actor failures
    (LLMError) propagate to the caller."""
    session = Rehearsal(
        catalog=catalog,
        persona=persona,
        language=language,
        difficulty=difficulty,
        seed=seed,
        actor=actor,
    )
    played: list[Turn] = []
    for raw in turns:
        if session.state.status != "active":
            break
        played.append(session.say(raw))
    return Script(session.opening, played, session.transcript, session.finish())
