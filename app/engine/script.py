"""Play scripted trainee turns in memory: the director and an actor, no database.

One loop shared by the drill runner, the card authors' simulator and the persona tests, so
they all play a session the way the service does.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.catalog import Catalog, Difficulty, Language, Persona
from app.engine.actors import Actor, Reply
from app.engine.detectors import detect, move_ids
from app.engine.director import ClientState, Directive, end_by_trainee, observe, opening
from app.engine.grader import TranscriptMessage


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
    transcript: list[TranscriptMessage] = []

    def speak(state: ClientState, directive: Directive) -> list[Reply]:
        replies = [
            item
            for item in actor.reply(
                persona=persona,
                language=language,
                state=state,
                directive=directive,
                history=[(m.role, m.content) for m in transcript],
                seed=seed,
                calls=[],
            )
            if isinstance(item, Reply)
        ]
        for reply in replies:
            _add(transcript, "client", reply.content)
        return replies

    state, directive = opening(persona, difficulty)
    first = speak(state, directive)
    played: list[Turn] = []
    for raw in turns:
        if state.status != "active":
            break
        text = raw.strip()
        _add(transcript, "trainee", text)
        moves = move_ids(detect(text, language, catalog.moves))
        before = dict(state.meters)
        state, directive = observe(catalog, persona, state, moves)
        replies = speak(state, directive)  # the actor records the lines it used in `state`
        played.append(Turn(text, moves, directive, before, state.model_copy(deep=True), replies))
    return Script(first, played, transcript, end_by_trainee(state))


def _add(transcript: list[TranscriptMessage], role: str, content: str) -> None:
    transcript.append(
        TranscriptMessage(seq=len(transcript) + 1, role=role, content=content)  # type: ignore[arg-type]
    )
