"""The director: the client's hidden state, and what the client does next.

Pure functions over a `ClientState`, so the same state and message always give the same
result, whatever engine then voices the beat (scripted lines or an LLM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from app.catalog import Catalog, Difficulty, Mood, Outcome, Persona, Phase, Trigger

Status = Literal["active", "ended"]
OPENING_BEAT = "opening"
TESTING_FROM_TURN = 3  # first turn of the testing phase; agreement is possible from here
QUESTION_MOVES = frozenset({"question", "open_question"})
# A proposal closed by "does that work for you?": the question asks for a reaction to the
# proposal, not for an answer about the client (who would otherwise answer something else)
PROPOSAL_MOVES = frozenset(
    {"solution", "alternative", "commitment", "payment_plan", "organization", "remedy", "boundary"}
)
ASKING_ABOUT_THE_CLIENT = frozenset({"need_question", "check_founded", "paraphrase"})
CLOSING_MOVES = frozenset({"close_call"})  # the trainee says goodbye: the conversation ends here
ANSWER_BEAT = "answer_question"
GOODBYE_BEAT = "goodbye"  # the client takes the trainee's goodbye (optional: else `turn_limit`)


class ClientState(BaseModel):
    """Everything the director knows about the client between turns (stored as JSON)."""

    difficulty: Difficulty
    meters: dict[str, float]
    turn: int = 0  # trainee messages observed so far
    phase: Phase = "opening"
    status: Status = "active"
    outcome: Outcome | None = None
    beat: str = OPENING_BEAT  # the client's latest beat
    pending_beat: str | None = None  # scheduled by a trigger's next_beat
    trigger_counts: dict[str, int] = {}
    used_lines: dict[str, list[int]] = {}  # beat → indices of lines already said
    played: list[str] = []  # beats the llm engine's client has said (no lines to index)

    @property
    def mood(self) -> Mood:
        return mood_of(self.meters)


@dataclass(frozen=True)
class Directive:
    """What the director asks the actor to play this turn."""

    beat: str
    moves: frozenset[str]
    deltas: dict[str, float] = field(default_factory=dict)
    trigger: str | None = None
    end: Outcome | None = None
    # A beat said before `beat`, in the same turn: the answer to the question the trainee just
    # asked, when a scheduled beat (a rule with no move conditions, or a `next_beat`) takes the
    # turn; the scheduled beat follows it instead of swallowing the question.
    lead: str | None = None


def mood_of(meters: dict[str, float]) -> Mood:
    trust, patience = meters["trust"], meters["patience"]
    if trust < 25 or patience < 30:
        return "cold"
    return "warm" if trust >= 60 else "neutral"


def phase_of(turn: int, turn_limit: int) -> Phase:
    if turn == 0:
        return "opening"
    if turn >= turn_limit - 1:
        return "closing"
    return "exploring" if turn < TESTING_FROM_TURN else "testing"


def initial_state(persona: Persona, difficulty: Difficulty) -> ClientState:
    return ClientState(difficulty=difficulty, meters=dict(persona.difficulty[difficulty].meters))


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


def _matches(trigger: Trigger, moves: frozenset[str], state: ClientState, turn: int) -> bool:
    if trigger.any_moves and not moves.intersection(trigger.any_moves):
        return False
    if not moves.issuperset(trigger.all_moves) or moves.intersection(trigger.no_moves):
        return False
    if turn < trigger.min_turn:
        return False
    if (
        trigger.max_times is not None
        and state.trigger_counts.get(trigger.id, 0) >= trigger.max_times
    ):
        return False
    if trigger.after_beat is not None and state.beat != trigger.after_beat:
        return False
    return all(bound.holds(state.meters[m]) for m, bound in trigger.meters.items())


def scheduled(trigger: Trigger) -> bool:
    """A rule that does not answer the trainee's message: it names no moves (a timed beat such
    as a mishap at turn 2, or a reaction to the client's own previous beat)."""
    return not trigger.any_moves and not trigger.all_moves


def _reaction(net: float, found: frozenset[str]) -> str:
    """The client's plain reaction to a message, when no rule or schedule takes the turn."""
    if net < 0:
        return "react_hard"
    if found & QUESTION_MOVES and not _proposal_put_to_him(found):
        return ANSWER_BEAT
    if "advice" in found:
        return "react_advice"
    return "react_soft" if net > 0 else "neutral"


def _proposal_put_to_him(found: frozenset[str]) -> bool:
    return (
        "invite_discussion" in found
        and bool(found & PROPOSAL_MOVES)
        and not found & ASKING_ABOUT_THE_CLIENT
    )


def _walks(persona: Persona, meters: dict[str, float]) -> bool:
    return any(not bound.holds(meters[m]) for m, bound in persona.walk_away.items())


def observe(
    catalog: Catalog, persona: Persona, state: ClientState, moves: set[str]
) -> tuple[ClientState, Directive]:
    """Apply one trainee message (its detected moves) and decide the client's next beat."""
    if state.status != "active":
        raise ValueError("the session has ended")
    level = persona.difficulty[state.difficulty]
    found = frozenset(moves)
    meters = dict(state.meters)
    deltas: dict[str, float] = {}
    for move in sorted(found):
        effects = persona.reactions.get(move, catalog.moves[move].effects)
        for meter, change in effects.items():
            if meter in meters:
                softening = (change > 0) != (meter in persona.worse_when_higher)
                scaled = change * (level.soften if softening else level.harden)
                deltas[meter] = deltas.get(meter, 0.0) + scaled
    net = sum(deltas.get(m, 0.0) for m in ("trust", "patience"))
    deltas["patience"] = deltas.get("patience", 0.0) - level.patience_decay
    for meter, change in deltas.items():
        meters[meter] = _clamp(meters[meter] + change)

    turn = state.turn + 1
    new = state.model_copy(update={"meters": meters, "turn": turn}, deep=True)
    closing = bool(found & CLOSING_MOVES)
    matching = [
        t
        for t in persona.triggers
        if _matches(t, found, new, turn) and not (closing and scheduled(t))
    ]
    walks = _walks(persona, meters)
    # Out of bounds already: he leaves, unless a rule ends the session its own way. Otherwise the
    # first match wins, in the card's order, whether it ends the session or not: a rule listed
    # first can shadow a later one (a first cold e-mail, `max_times: 1`, before the rule that
    # ends the relationship on the second). After the trainee's goodbye no scheduled rule plays
    # (the client would carry on as if nothing had been said): only rules answering the message.
    candidates = [t for t in matching if t.end] if walks else matching
    trigger = next(iter(candidates), None)
    reaction = _reaction(net, found)

    end: Outcome | None = None
    lead: str | None = None
    if walks and trigger is None:
        beat, end = "walk_away", "walked_away"
    elif trigger is not None:
        beat, end = trigger.beat, trigger.end
        new.trigger_counts[trigger.id] = new.trigger_counts.get(trigger.id, 0) + 1
        for meter, change in trigger.effects.items():
            meters[meter] = _clamp(meters[meter] + change)
        if end is None and _walks(persona, meters):
            # the rule's own effects take him past a limit (the quarrel escalates past his
            # anger limit): the walk-away sees this turn's meters, as the trainee does
            beat, end = "walk_away", "walked_away"
        elif scheduled(trigger) and trigger.answer_first and reaction == ANSWER_BEAT != beat:
            lead = ANSWER_BEAT  # the question just asked is answered before the scheduled beat
    elif state.pending_beat and not closing:
        beat = state.pending_beat
        if reaction == ANSWER_BEAT != beat:
            lead = ANSWER_BEAT
    elif (
        turn >= TESTING_FROM_TURN
        and persona.agreement
        and all(bound.holds(meters[m]) for m, bound in persona.agreement.items())
    ):
        beat, end = "agreement", "agreement"
    elif closing:
        # the trainee said goodbye and no rule of the card answers it (a push-back, a hang-up):
        # the client takes the goodbye, and the conversation ends there
        beat = GOODBYE_BEAT if persona.lines.get(GOODBYE_BEAT) else "turn_limit"
        end = "ended_by_trainee"
    elif turn >= level.turn_limit:
        beat, end = "turn_limit", "turn_limit"
    else:
        beat = reaction

    if end is None and turn >= level.turn_limit and beat != "turn_limit":
        end = "turn_limit"  # the client still says this turn's beat, then the session closes
    new.meters = meters
    new.beat = beat
    new.pending_beat = trigger.next_beat if trigger is not None and end is None else None
    new.phase = phase_of(turn, level.turn_limit)
    if end is not None:
        new.status, new.outcome = "ended", end
    return new, Directive(beat, found, deltas, trigger.id if trigger else None, end, lead)


def end_by_trainee(state: ClientState) -> ClientState:
    if state.status != "active":
        return state
    return state.model_copy(update={"status": "ended", "outcome": "ended_by_trainee"})


def opening(persona: Persona, difficulty: Difficulty) -> tuple[ClientState, Directive]:
    """The state and beat a session starts with: the client speaks first."""
    return initial_state(persona, difficulty), Directive(OPENING_BEAT, frozenset())
