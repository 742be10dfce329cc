"""Keeping transcripts no longer than needed: sessions last active before a date are deleted
with their messages, grades and coaches' reviews (a retention policy, or a request to be
forgotten). The model-call records stay, without their session, for the cost figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, delete, func, select, update

from app.models import CriterionResult, Grade, LLMCall, Message, PracticeSession, Review

CHUNK = 500  # ids per IN list: within every database's limit on bound parameters


class PurgeCounts(BaseModel):
    sessions: int = 0
    messages: int = 0
    grades: int = 0
    reviews: int = 0


def stale_sessions(db: Session, *, before: datetime, username: str | None = None) -> list[str]:
    """Ids of the sessions last active before `before` (of one trainee, if named)."""
    query = select(PracticeSession.id).where(col(PracticeSession.updated_at) < before)
    if username is not None:
        query = query.where(PracticeSession.trainee == username)
    return list(db.exec(query.order_by(col(PracticeSession.created_at))).all())


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def count(db: Session, ids: Sequence[str]) -> PurgeCounts:
    counts = PurgeCounts(sessions=len(ids))
    for part in _chunks(ids):
        for field, model in (("messages", Message), ("grades", Grade), ("reviews", Review)):
            query = select(func.count()).select_from(model).where(col(model.session_id).in_(part))
            setattr(counts, field, getattr(counts, field) + db.exec(query).one())
    return counts


def purge(db: Session, ids: Sequence[str]) -> PurgeCounts:
    """Delete the sessions and what hangs on them, in one transaction."""
    counts = count(db, ids)
    for part in _chunks(ids):
        grades = select(Grade.id).where(col(Grade.session_id).in_(part))
        db.exec(delete(Review).where(col(Review.session_id).in_(part)))
        db.exec(delete(CriterionResult).where(col(CriterionResult.grade_id).in_(grades)))
        db.exec(delete(Grade).where(col(Grade.session_id).in_(part)))
        db.exec(delete(Message).where(col(Message.session_id).in_(part)))
        db.exec(update(LLMCall).where(col(LLMCall.session_id).in_(part)).values(session_id=None))
        db.exec(delete(PracticeSession).where(col(PracticeSession.id).in_(part)))
    db.commit()
    return counts
