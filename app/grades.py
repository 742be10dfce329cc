"""Grades: stored `pending` before the grader runs, so one cut short by a crash is finished
later; a grader failure is stored with its reason and can be retried; a conversation held
elsewhere is graded without being stored."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.catalog import Catalog
from app.engine.grader import TranscriptMessage, for_outcome
from app.engine.llm import CallRecord
from app.engine.llm_grader import GradeFailed
from app.engines import Engine, Engines
from app.errors import Conflict, Invalid, TooMany, Unavailable, Upstream
from app.language import guess_language
from app.models import (
    CriterionPublic,
    CriterionResult,
    Grade,
    GradePublic,
    GradeReport,
    GradeRequest,
    PracticeSession,
    User,
    utcnow,
)
from app.quota import HourlyQuota
from app.records import (
    engine_or_422,
    load_session,
    messages_of,
    missing_engine,
    persona_or_404,
    store_calls,
)


def grading_engine(*, db: Session, engines: Engines, record: PracticeSession) -> Engine:
    """The engine that grades `record`: its own; or, when this server lacks it (a session
    played with the model and imported into a server without one), the offline engine. Its
    grade is named `offline-heuristic`, and the report says what that grade is worth, so an
    ended session always gets a grade and is never stuck waiting for a model. A session
    that already has a finished grade keeps it: grading it again here would put the
    heuristic's grade, without the coaches' verdicts on the first one, in its place."""
    engine = engines.get(record.engine)
    if engine is not None:
        return engine
    graded = select(Grade.id).where(Grade.session_id == record.id, Grade.status == "done")
    if db.exec(graded.limit(1)).first() is not None:
        raise Unavailable(
            f"session '{record.id}' was played with {missing_engine(record.engine)}; it already "
            "has a grade, which the offline grader would replace: configure the engine to "
            "grade it again",
            code="engine_unavailable",
            engine=record.engine,
        )
    return engines.offline


def grade_public(grade: Grade, criteria: list[CriterionResult]) -> GradePublic:
    return GradePublic.model_validate(
        grade, update={"criteria": [CriterionPublic.model_validate(c) for c in criteria]}
    )


def regrade(
    *, db: Session, catalog: Catalog, engines: Engines, user: User, session_id: str
) -> tuple[Grade, list[CriterionResult]]:
    """Grade an ended session again: after a failed grade, or (coaches and admins) with a
    newer grader. A trainee may not grade a graded session again: with a model grader that
    would be re-rolling the mark until it passes."""
    record = load_session(db, session_id, user)
    if record.status == "active":
        raise Conflict(f"session '{session_id}' is still active; end it first")
    latest = latest_grade(db=db, session_id=session_id)
    if latest is not None and latest[0].status == "pending":
        return latest  # being graded right now
    if latest is not None and latest[0].status == "done" and user.role == "trainee":
        raise Conflict(
            f"session '{session_id}' is already graded; only a coach or an admin can grade "
            "it again",
            code="already_graded",
        )
    return grade_session(db=db, catalog=catalog, engines=engines, record=record)


def grade_session(
    *,
    db: Session,
    catalog: Catalog,
    engines: Engines,
    record: PracticeSession,
    seen: int | None = None,
) -> tuple[Grade, list[CriterionResult]]:
    """Grade and store. The grade row is committed as `pending` first, so a grade cut short
    by a crash is found and finished later (resume_pending_grades); a grader failure is
    stored as `failed` with its reason and raised as Upstream. A session has at most one
    pending grade: a request that finds one being made returns it instead of grading twice.

    `seen` (ending a session): the newest grade id the caller saw. A grade another request
    finished after that look wins, and this pending row goes: the index cannot see a grade
    that is no longer pending."""
    engine = grading_engine(db=db, engines=engines, record=record)
    grade = Grade(
        session_id=record.id, grader=engine.grader.name, prompt_version="", claimed_at=utcnow()
    )
    db.add(grade)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        pending = latest_grade(db=db, session_id=record.id)
        if pending is None:
            raise
        return pending
    if seen is not None:
        finished = db.exec(
            select(Grade).where(
                Grade.session_id == record.id,
                Grade.status == "done",
                col(Grade.id) > seen,
                col(Grade.id) < grade.id,
            )
        ).first()
        if finished is not None:
            db.delete(grade)
            db.commit()
            return finished, _criteria(db, finished)
    return _run_grade(db=db, catalog=catalog, engine=engine, record=record, grade=grade)


def _run_grade(
    *, db: Session, catalog: Catalog, engine: Engine, record: PracticeSession, grade: Grade
) -> tuple[Grade, list[CriterionResult]]:
    persona = catalog.personas[record.persona_id]
    transcript = [
        TranscriptMessage(seq=m.seq, role=m.role, content=m.content)  # type: ignore[arg-type]
        for m in messages_of(db, record.id)
    ]
    db.commit()  # ends the read: the pooled connection is not held while the model answers
    calls: list[CallRecord] = []
    try:
        result = engine.grader.grade(
            catalog=catalog,
            persona=persona,
            language=record.language,  # type: ignore[arg-type]
            messages=transcript,
            calls=calls,
        )
        result = for_outcome(catalog, record.language, result, record.outcome)  # type: ignore[arg-type]
    except GradeFailed as exc:
        grade.status, grade.error = "failed", str(exc)
        grade.prompt_version = calls[-1].prompt_version if calls else ""
        db.add(grade)
        store_calls(db, record.id, calls)
        db.commit()
        raise Upstream(
            f"grading failed: {exc}; the transcript is stored, grade it again with "
            f"POST /api/sessions/{record.id}/grade"
        ) from exc
    store_calls(db, record.id, calls)
    grade.status, grade.score, grade.passed = "done", result.score, result.passed
    grade.summary, grade.grader = result.summary, result.grader
    grade.prompt_version = result.prompt_version
    db.add(grade)
    criteria = [
        CriterionResult(
            grade_id=grade.id,  # type: ignore[arg-type]
            technique_id=c.technique_id,
            name=c.name,
            verdict=c.verdict,
            evidence=[e.model_dump() for e in c.evidence],
            rationale=c.rationale,
            better_phrasing=c.better_phrasing.model_dump() if c.better_phrasing else None,
            flagged=c.flagged,
        )
        for c in result.criteria
    ]
    db.add_all(criteria)
    record.score, record.passed = result.score, result.passed
    db.add(record)
    db.commit()
    return grade, criteria


def resume_pending_grades(
    *, db: Session, catalog: Catalog, engines: Engines, stale_after: timedelta
) -> int:
    """Finish grades left `pending` by a process that died while grading; returns how many.

    Each is claimed with a conditional update first, so two replicas never grade the same
    one; a claim older than `stale_after` (longer than any grading takes) is taken over.
    """
    cutoff = utcnow() - stale_after
    query = select(Grade).where(
        Grade.status == "pending",
        or_(col(Grade.claimed_at).is_(None), col(Grade.claimed_at) < cutoff),
    )
    finished = 0
    for grade in list(db.exec(query)):
        claim = (
            update(Grade)
            .where(
                col(Grade.id) == grade.id,
                col(Grade.status) == "pending",
                or_(col(Grade.claimed_at).is_(None), col(Grade.claimed_at) < cutoff),
            )
            .values(claimed_at=utcnow())
        )
        if db.exec(claim).rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            continue
        db.commit()
        db.refresh(grade)
        record = db.get(PracticeSession, grade.session_id)
        if record is None:
            continue
        try:
            engine = grading_engine(db=db, engines=engines, record=record)
        except Unavailable as exc:  # failed, with why: pending for ever would block it
            grade.status, grade.error = "failed", str(exc)
            db.add(grade)
            db.commit()
            finished += 1
            continue
        with contextlib.suppress(Upstream):  # a failure is stored on the grade, with its reason
            _run_grade(db=db, catalog=catalog, engine=engine, record=record, grade=grade)
        finished += 1
    return finished


def latest_grade(*, db: Session, session_id: str) -> tuple[Grade, list[CriterionResult]] | None:
    query = select(Grade).where(Grade.session_id == session_id).order_by(col(Grade.id).desc())
    grade = db.exec(query.limit(1)).first()
    return None if grade is None else (grade, _criteria(db, grade))


def _criteria(db: Session, grade: Grade) -> list[CriterionResult]:
    query = select(CriterionResult).where(CriterionResult.grade_id == grade.id)
    return list(db.exec(query.order_by(col(CriterionResult.id))))


def grade_transcript(
    *,
    db: Session,
    catalog: Catalog,
    engines: Engines,
    request: GradeRequest,
    user: User,
    quota: HourlyQuota,
) -> GradeReport:
    """Grade a conversation recorded elsewhere; only the model calls are recorded. A grade
    by the model counts against the user's hourly quota: each is a paid call."""
    persona = persona_or_404(catalog, request.persona_id)
    engine_name, engine = engine_or_422(engines, request.engine)
    transcript = [
        TranscriptMessage(seq=i, role=m.role, content=m.content)
        for i, m in enumerate(request.messages, start=1)
    ]
    if not any(m.role == "trainee" for m in transcript):
        raise Invalid("the transcript has no trainee message to grade", ("body", "messages"))
    language = request.language or guess_language(m.content for m in transcript)
    used = quota.take(db, user.id) if engine_name == "llm" else None  # type: ignore[arg-type]
    if used is not None:
        raise TooMany(
            f"you had {used} conversations graded by the model in the last hour; the limit is "
            f"{quota.limit}: try again later, or grade with the offline engine",
            code="model_grades_per_hour",
            recent=used,
            limit=quota.limit,
        )
    calls: list[CallRecord] = []
    try:
        result = engine.grader.grade(
            catalog=catalog, persona=persona, language=language, messages=transcript, calls=calls
        )
        return GradeReport.model_validate(result.model_dump() | {"language": language})
    except GradeFailed as exc:
        raise Upstream(f"grading failed: {exc}; try again", code="model_failed_chat") from exc
    finally:
        if calls:
            store_calls(db, None, calls)
            db.commit()
