"""Coach reviews: verdicts and comments stored beside the grader's (never over them), the
coaches' desk of sessions, and how often coaches agree with the grader.

A coach's verdict on a criterion is the latest `Review` row with a verdict for that
(grade, reviewer, technique); comments on a message or a criterion are rows of their own.
Routers and pages call these keyword-only functions; they never touch SQL themselves.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, get_args

from pydantic import ConfigDict
from sqlalchemy import func
from sqlmodel import Field, Session, SQLModel, col, select

from app import auth
from app.engine.grader import Verdict
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.grades import latest_grade
from app.models import (
    INT_MAX,
    CriterionResult,
    Grade,
    Message,
    PracticeSession,
    Review,
    User,
)

VERDICTS: tuple[str, ...] = get_args(Verdict)
REVIEWER_ROLES = ("coach", "admin")
MAX_COMMENT_CHARS = 4000


# ---------------------------------------------------------------- schemas (API and pages)


class ReviewCreate(SQLModel):
    """What a coach sends: verdicts per technique, comments per technique and per message.

    Every verdict is stored as given (equal to the grader's means the coach agrees); blank
    comments are ignored."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    verdicts: dict[str, Verdict] = {}
    criterion_comments: dict[str, str] = {}
    message_comments: dict[Annotated[int, Field(ge=1, le=INT_MAX)], str] = {}


class ReviewPublic(SQLModel):
    id: int
    reviewer: str
    technique_id: str | None
    message_seq: int | None
    verdict: Verdict | None
    comment: str
    created_at: datetime


class CoachVerdict(SQLModel):
    """One reviewer's current verdict on one criterion, beside the grader's."""

    technique_id: str
    reviewer: str
    reviewer_id: int
    grader_verdict: Verdict
    coach_verdict: Verdict
    created_at: datetime


class SessionReviews(SQLModel):
    session_id: str
    grade_id: int | None  # the graded version the reviews refer to (the latest finished grade)
    verdicts: list[CoachVerdict]  # current verdicts, every reviewer
    comments: list[ReviewPublic]  # oldest first
    history: list[ReviewPublic]  # every row, verdict changes included, oldest first


class DeskRow(SQLModel):
    id: str
    trainee: str
    persona_id: str
    language: str
    difficulty: str
    engine: str
    status: str
    outcome: str | None
    score: int | None
    passed: bool | None
    created_at: datetime
    updated_at: datetime  # the last message: how long an unfinished session has been left
    ended_at: datetime | None
    reviews: int  # review rows (verdicts and comments) on the session
    last_review_at: datetime | None


class DeskPage(SQLModel):
    items: list[DeskRow]
    total: int
    page: int
    page_size: int


class AgreementRow(SQLModel):
    technique_id: str | None  # None for every technique together
    reviewed: int  # criteria with a coach's verdict
    agreed: int  # of which the coach's verdict equals the grader's
    rate: float | None  # agreed / reviewed, None with nothing reviewed
    kappa: float | None  # Cohen's kappa over the verdict categories; None when undefined


class AgreementReport(SQLModel):
    techniques: list[AgreementRow]
    overall: AgreementRow


@dataclass(frozen=True)
class DeskFilters:
    trainee: str | None = None
    persona_id: str | None = None
    status: str | None = None
    reviewed: bool | None = None
    score_min: int | None = None
    score_max: int | None = None
    date_from: date | None = None  # UTC days, both ends included
    date_to: date | None = None


# ---------------------------------------------------------------- the math


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa for two raters over categories: (p_o - p_e) / (1 - p_e).

    None when undefined: no pairs, or chance agreement is already certain (both raters
    always used one and the same category)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def agreement_row(technique_id: str | None, pairs: Sequence[tuple[str, str]]) -> AgreementRow:
    """Agreement rate and kappa for (grader verdict, coach verdict) pairs."""
    agreed = sum(a == b for a, b in pairs)
    return AgreementRow(
        technique_id=technique_id,
        reviewed=len(pairs),
        agreed=agreed,
        rate=agreed / len(pairs) if pairs else None,
        kappa=cohen_kappa(pairs),
    )


# ---------------------------------------------------------------- access


def _visible_session(db: Session, user: User, session_id: str) -> PracticeSession:
    record = db.get(PracticeSession, session_id)
    if record is None or not auth.can_see(db=db, user=user, record=record):
        raise NotFound(f"no session with id '{session_id}'", code="no_session")
    return record


def _require_reviewer(user: User) -> None:
    if user.role not in REVIEWER_ROLES:
        raise Forbidden("reviewing needs the coach or admin role")


def _visible_filter(db: Session, user: User) -> list[Any]:
    visible = auth.visible_user_ids(db=db, user=user)
    return [] if visible is None else [col(PracticeSession.user_id).in_(visible)]


# ---------------------------------------------------------------- one session


def _public(row: Review, reviewer: str) -> ReviewPublic:
    return ReviewPublic.model_validate(row, update={"reviewer": reviewer})


def session_reviews(*, db: Session, user: User, session_id: str) -> SessionReviews:
    """Every coach's verdicts and comments on the session's latest finished grade."""
    _visible_session(db, user, session_id)
    graded = latest_grade(db=db, session_id=session_id)
    if graded is None or graded[0].status != "done":
        return SessionReviews(
            session_id=session_id, grade_id=None, verdicts=[], comments=[], history=[]
        )
    grade, criteria = graded
    rows = db.exec(
        select(Review, User.username)
        .join(User, col(User.id) == col(Review.reviewer_id))
        .where(Review.grade_id == grade.id)
        .order_by(col(Review.id))
    ).all()
    grader = {c.technique_id: c.verdict for c in criteria}
    current: dict[tuple[int, str], CoachVerdict] = {}
    comments: list[ReviewPublic] = []
    for row, username in rows:
        if row.verdict and row.technique_id in grader:
            current[(row.reviewer_id, row.technique_id)] = CoachVerdict(
                technique_id=row.technique_id,
                reviewer=username,
                reviewer_id=row.reviewer_id,
                grader_verdict=grader[row.technique_id],  # type: ignore[arg-type]
                coach_verdict=row.verdict,  # type: ignore[arg-type]
                created_at=row.created_at,
            )
        if row.comment:
            comments.append(_public(row, username))
    return SessionReviews(
        session_id=session_id,
        grade_id=grade.id,
        verdicts=list(current.values()),
        comments=comments,
        history=[_public(row, username) for row, username in rows],
    )


def reviewed(*, db: Session, session_ids: Sequence[str]) -> set[str]:
    """Which of these sessions a coach has reviewed (a verdict or a note), so the trainee's
    list can point to the feedback: one query for a page of sessions."""
    if not session_ids:
        return set()
    found = db.exec(
        select(Review.session_id).where(col(Review.session_id).in_(session_ids)).distinct()
    )
    return set(found.all())


def save_review(
    *, db: Session, user: User, session_id: str, request: ReviewCreate
) -> SessionReviews:
    """Store a coach's verdicts and comments beside the latest grade; the grader's stay as
    they are. A verdict equal to the coach's current one adds no row."""
    _require_reviewer(user)
    record = _visible_session(db, user, session_id)
    if record.user_id == user.id:
        raise Forbidden("you cannot review your own session", code="own_session")
    graded = latest_grade(db=db, session_id=session_id)
    if graded is None or graded[0].status != "done":
        raise Conflict(
            f"session '{session_id}' has no finished grade to review yet", code="no_grade_yet"
        )
    grade, criteria = graded
    techniques = {c.technique_id for c in criteria}
    named = set(request.verdicts) | set(request.criterion_comments)
    if unknown := sorted(named - techniques):
        raise Invalid(f"unknown techniques for this grade: {unknown}; known: {sorted(techniques)}")
    if request.message_comments:
        seqs = set(
            db.exec(
                select(Message.seq).where(
                    Message.session_id == session_id,
                    col(Message.seq).in_(list(request.message_comments)),
                )
            )
        )
        if missing := sorted(set(request.message_comments) - seqs):
            raise Invalid(f"no messages with seq {missing} in session '{session_id}'")
    comments = {
        **{("t", k): v.strip() for k, v in request.criterion_comments.items()},
        **{("m", k): v.strip() for k, v in request.message_comments.items()},
    }
    if too_long := [k for k, v in comments.items() if len(v) > MAX_COMMENT_CHARS]:
        raise Invalid(
            f"{len(too_long)} comment(s) are over the limit of {MAX_COMMENT_CHARS} characters"
        )
    mine = _current_verdicts(db, grade.id, user.id)  # type: ignore[arg-type]
    base = {"session_id": session_id, "grade_id": grade.id, "reviewer_id": user.id}
    rows = [
        Review(**base, technique_id=technique, verdict=verdict)
        for technique, verdict in sorted(request.verdicts.items())
        if mine.get(technique) != verdict
    ]
    for (kind, key), text in sorted(comments.items(), key=lambda item: str(item[0])):
        if not text:
            continue
        if kind == "t":
            rows.append(Review(**base, technique_id=str(key), comment=text))
        else:
            rows.append(Review(**base, message_seq=int(key), comment=text))
    if rows:
        db.add_all(rows)
        db.commit()
    return session_reviews(db=db, user=user, session_id=session_id)


def _current_verdicts(db: Session, grade_id: int, reviewer_id: int) -> dict[str, str]:
    rows = db.exec(
        select(Review.technique_id, Review.verdict)
        .where(
            Review.grade_id == grade_id,
            Review.reviewer_id == reviewer_id,
            col(Review.verdict).is_not(None),
        )
        .order_by(col(Review.id))
    )
    return {technique: verdict for technique, verdict in rows if technique and verdict}


# ---------------------------------------------------------------- the desk


def desk(
    *, db: Session, user: User, filters: DeskFilters, page: int = 1, page_size: int = 20
) -> DeskPage:
    """Sessions the user may see, newest first, with how much they were reviewed."""
    _require_reviewer(user)
    counts = (
        select(
            col(Review.session_id).label("session_id"),
            func.count(col(Review.id)).label("reviews"),
            func.max(col(Review.created_at)).label("last_review_at"),
        )
        .group_by(col(Review.session_id))
        .subquery()
    )
    where = _visible_filter(db, user)
    if filters.trainee:
        where.append(PracticeSession.trainee == filters.trainee)
    if filters.persona_id:
        where.append(PracticeSession.persona_id == filters.persona_id)
    if filters.status:
        where.append(PracticeSession.status == filters.status)
    if filters.reviewed is True:
        where.append(counts.c.reviews.is_not(None))
    elif filters.reviewed is False:
        where.append(counts.c.reviews.is_(None))
    if filters.score_min is not None:
        where.append(col(PracticeSession.score) >= filters.score_min)
    if filters.score_max is not None:
        where.append(col(PracticeSession.score) <= filters.score_max)
    if filters.date_from is not None:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        where.append(col(PracticeSession.created_at) >= start)
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        where.append(col(PracticeSession.created_at) < end)
    joined = select(PracticeSession, counts.c.reviews, counts.c.last_review_at).outerjoin(
        counts, counts.c.session_id == col(PracticeSession.id)
    )
    total = db.exec(
        select(func.count())
        .select_from(PracticeSession)
        .outerjoin(counts, counts.c.session_id == col(PracticeSession.id))
        .where(*where)
    ).one()
    query = (
        joined.where(*where)
        .order_by(col(PracticeSession.created_at).desc(), col(PracticeSession.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    items = [
        DeskRow.model_validate(
            record, update={"reviews": reviews or 0, "last_review_at": last_review_at}
        )
        for record, reviews, last_review_at in db.exec(query)
    ]
    return DeskPage(items=items, total=total, page=page, page_size=page_size)


def desk_trainees(*, db: Session, user: User) -> list[str]:
    """The trainees whose sessions the user may see, for the desk's filter."""
    query = (
        select(PracticeSession.trainee)
        .where(*_visible_filter(db, user))
        .distinct()
        .order_by(col(PracticeSession.trainee))
    )
    return list(db.exec(query))


# ---------------------------------------------------------------- agreement


def agreement(*, db: Session, user: User, reviewer_id: int | None = None) -> AgreementReport:
    """How often coaches' current verdicts equal the grader's, per technique and overall,
    over every reviewed criterion of the sessions the user may see (optionally one
    reviewer's only): agreement rate and Cohen's kappa."""
    _require_reviewer(user)
    latest = select(func.max(col(Review.id))).where(col(Review.verdict).is_not(None))
    if reviewer_id is not None:
        latest = latest.where(Review.reviewer_id == reviewer_id)
    latest = latest.group_by(
        col(Review.grade_id), col(Review.reviewer_id), col(Review.technique_id)
    )
    query = (
        select(Review.technique_id, CriterionResult.verdict, Review.verdict)
        .join(
            CriterionResult,
            (col(CriterionResult.grade_id) == col(Review.grade_id))
            & (col(CriterionResult.technique_id) == col(Review.technique_id)),
        )
        .join(Grade, col(Grade.id) == col(Review.grade_id))
        .join(PracticeSession, col(PracticeSession.id) == col(Grade.session_id))
        .where(col(Review.id).in_(latest), *_visible_filter(db, user))
    )
    by_technique: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for technique, grader_verdict, coach_verdict in db.exec(query):
        by_technique[str(technique)].append((grader_verdict, str(coach_verdict)))
    rows = [agreement_row(t, pairs) for t, pairs in sorted(by_technique.items())]
    everything = [pair for pairs in by_technique.values() for pair in pairs]
    return AgreementReport(techniques=rows, overall=agreement_row(None, everything))
