"""A trainee's progress: scores over time, overall and per technique, from their graded
sessions (the latest finished grade of each)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from app.engine.grader import POINTS
from app.models import CriterionResult, Grade, PracticeSession, User

MAX_POINTS = 200  # the most recent graded sessions shown


class HistoryPoint(SQLModel):
    session_id: str
    persona_id: str
    created_at: datetime
    score: int
    passed: bool | None
    techniques: dict[str, int | None]  # technique → 0..100 (applied 100, partial 50); None: n/a


def score_history(*, db: Session, user: User, limit: int = MAX_POINTS) -> list[HistoryPoint]:
    """The user's own graded sessions, oldest first, with each technique's points."""
    records = list(
        db.exec(
            select(PracticeSession)
            .where(PracticeSession.user_id == user.id, col(PracticeSession.score).is_not(None))
            .order_by(col(PracticeSession.created_at).desc(), col(PracticeSession.id))
            .limit(limit)
        )
    )
    records.reverse()
    if not records:
        return []
    latest = (
        select(func.max(col(Grade.id)))
        .where(
            col(Grade.session_id).in_([r.id for r in records]),
            Grade.status == "done",
        )
        .group_by(col(Grade.session_id))
    )
    rows = db.exec(
        select(Grade.session_id, CriterionResult.technique_id, CriterionResult.verdict)
        .join(CriterionResult, col(CriterionResult.grade_id) == col(Grade.id))
        .where(col(Grade.id).in_(latest))
    )
    points: dict[str, dict[str, int | None]] = {r.id: {} for r in records}
    for session_id, technique, verdict in rows:
        value = POINTS.get(verdict)  # type: ignore[call-overload]
        points[session_id][technique] = None if value is None else round(100 * value)
    return [
        HistoryPoint(
            session_id=r.id,
            persona_id=r.persona_id,
            created_at=r.created_at,
            score=r.score or 0,
            passed=r.passed,
            techniques=points[r.id],
        )
        for r in records
    ]
