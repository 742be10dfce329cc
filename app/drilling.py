"""A drill on the server: scripted turns played, ended and graded in one call. A drill is
refused whole before its session starts, and never left half-played: a failure once it has
started ends its session as `cut_short`, ungraded."""

from __future__ import annotations

import logging

from sqlmodel import Session

from app import grades
from app import sessions as service
from app.catalog import Catalog
from app.drills import turn_problem
from app.engines import Engines
from app.errors import Invalid, Upstream
from app.models import DrillRequest, DrillResult, SessionCreate, User

log = logging.getLogger("sparring")


def play_drill(
    *,
    db: Session,
    catalog: Catalog,
    engines: Engines,
    user: User,
    body: DrillRequest,
    limits: service.Limits,
) -> DrillResult:
    """Every turn is checked first, by the rules the session service would apply (a 422
    naming the turn). A failure once the session has started ends it with what was played,
    as `cut_short`: a drill cannot be resumed, and an active session would count against the
    hourly limit."""
    check_turns(body.turns, limits)
    request = SessionCreate.model_validate(body.model_dump(exclude={"turns"}))
    record, _ = service.start(
        db=db, catalog=catalog, engines=engines, user=user, request=request, limits=limits
    )
    played = 0
    try:
        for turn in body.turns:
            if record.status != "active":
                break
            service.say(
                db=db,
                catalog=catalog,
                engines=engines,
                user=user,
                session_id=record.id,
                content=turn,
                limits=limits,
            )
            played += 1
    except Exception as exc:
        kept = _close(db=db, user=user, session_id=record.id)
        if isinstance(exc, Upstream):
            reason = exc.__cause__ or exc
            raise Upstream(
                f"{reason}; the drill stopped at turn {played + 1} of {len(body.turns)}: "
                f"{kept}. A drill cannot be resumed: play it again",
                code="drill_cut_short",
                session_id=record.id,
                turn=played + 1,
            ) from exc
        raise
    grade, criteria = service.end(
        db=db, catalog=catalog, engines=engines, user=user, session_id=record.id
    )
    record, messages, _ = service.get(db=db, user=user, session_id=record.id)
    return DrillResult(
        turns_played=played,
        session=service.session_public(catalog, record),
        messages=[service.message_public(m) for m in messages],
        grade=grades.grade_public(grade, criteria),
    )


def check_turns(turns: list[str], limits: service.Limits) -> None:
    if len(turns) > limits.max_turns_per_session:
        raise Invalid(
            f"the drill has {len(turns)} turns; a session takes at most "
            f"{limits.max_turns_per_session}",
            ("body", "turns"),
        )
    for index, turn in enumerate(turns):
        if (problem := turn_problem(turn, limits.max_message_chars)) is not None:
            raise Invalid(
                f"turn {index + 1} (turns[{index}]) {problem}: the drill was not started",
                ("body", "turns", index),
            )


def _close(*, db: Session, user: User, session_id: str) -> str:
    """End a drill's session cut short, with what was played (or discard it if nothing of
    the trainee's was stored); say what became of it. It is not graded now: the failure is
    most likely the model's, which grading would call again at once (and a grade of part of
    the drill is seldom what was wanted); it is graded on request, as any ended session
    without a grade."""
    try:
        db.rollback()  # whatever the failure left half-written is not to be committed
        _, messages, _ = service.get(db=db, user=user, session_id=session_id)
        if not any(m.role == "trainee" for m in messages):
            service.discard(db=db, user=user, session_id=session_id)
            return f"session '{session_id}' had nothing of yours and was discarded"
        service.cut_short(db=db, user=user, session_id=session_id)
        return (
            f"session '{session_id}' keeps the transcript so far and is ended, cut short, "
            f"without a grade (POST /api/sessions/{session_id}/end grades what was played)"
        )
    except Exception:
        log.exception("the drill's session %s could not be ended", session_id)
        return (
            f"session '{session_id}' could not be ended: end it with "
            f"POST /api/sessions/{session_id}/end"
        )
