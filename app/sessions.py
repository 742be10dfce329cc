"""The practice service: start, say, end, grade. All persistence goes through here.

Routers and the CLI call these keyword-only functions; they never touch SQL themselves.
The trainee's message is committed before the actor runs, so nothing the trainee wrote
is lost if the model fails: the same text sent again retries the turn.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app import auth
from app.catalog import SUCCESS_OUTCOMES, Catalog, Language, Persona
from app.engine.actors import Reply
from app.engine.detectors import detect, move_ids
from app.engine.director import ClientState, Directive, end_by_trainee, observe, opening
from app.engine.grader import TranscriptMessage
from app.engine.llm import CallRecord, LLMError
from app.engine.llm_grader import GradeFailed
from app.engines import ENGINE_NAMES, Engine, Engines
from app.errors import Conflict, Forbidden, Invalid, NotFound, TooMany, Unavailable, Upstream
from app.language import guess_language
from app.models import (
    CUT_SHORT,
    CriterionPublic,
    CriterionResult,
    Grade,
    GradePublic,
    GradeReport,
    GradeRequest,
    LLMCall,
    Message,
    MessagePublic,
    PracticeSession,
    SessionCreate,
    SessionPublic,
    StatePublic,
    User,
    utcnow,
    visible,
)
from app.quota import HourlyQuota


@dataclass(frozen=True)
class Limits:
    max_message_chars: int
    max_turns_per_session: int
    sessions_per_hour: int


@dataclass
class PendingTurn:
    """A stored trainee message the client has not answered yet, with the director's plan."""

    record: PracticeSession
    trainee: Message
    state: ClientState
    directive: Directive
    history: list[tuple[str, str]]  # (role, content) of the complete messages, the trainee's last


def persona_or_404(catalog: Catalog, persona_id: str) -> Persona:
    persona = catalog.personas.get(persona_id)
    if persona is None:
        known = ", ".join(sorted(catalog.personas))
        raise NotFound(
            f"unknown persona '{persona_id}'; known personas: {known}", code="no_persona"
        )
    return persona


LLM_SETUP = "set SPARRING_LLM_BASE_URL (and SPARRING_LLM_API_KEY if the server needs one)"


def _missing(name: str) -> str:
    """How to name an engine this server lacks, and what would bring it."""
    if name in ENGINE_NAMES:
        return f"the '{name}' engine, which is not configured on this server ({LLM_SETUP})"
    known = ", ".join(ENGINE_NAMES)
    return f"the '{name}' engine, which this server does not have (known: {known})"


def engine_or_422(engines: Engines, name: str | None) -> tuple[str, Engine]:
    """The engine a request body asks for (`engine`), or the default."""
    name = name or engines.default
    engine = engines.get(name)
    if engine is None:
        raise Invalid(
            f"the '{name}' engine is not configured here: {LLM_SETUP}, or use engine 'offline'",
            ("body", "engine"),
        )
    return name, engine


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
            f"session '{record.id}' was played with {_missing(record.engine)}; it already has "
            "a grade, which the offline grader would replace: configure the engine to grade "
            "it again",
            code="engine_unavailable",
            engine=record.engine,
        )
    return engines.offline


def _load(db: Session, session_id: str, user: User, *, play: bool = False) -> PracticeSession:
    """The session if `user` may see it (404 otherwise, so ids can't be probed); `play`
    also requires being its trainee."""
    record = db.get(PracticeSession, session_id)
    if record is None or not auth.can_see(db=db, user=user, record=record):
        raise NotFound(f"no session with id '{session_id}'", code="no_session")
    if play and record.user_id != user.id:
        raise Forbidden(
            "only the trainee who started this session can play or end it",
            code="not_your_session",
        )
    return record


def _messages(db: Session, session_id: str) -> list[Message]:
    query = select(Message).where(Message.session_id == session_id).order_by(col(Message.seq))
    return list(db.exec(query))


def _store_calls(db: Session, session_id: str | None, calls: list[CallRecord]) -> None:
    db.add_all(
        LLMCall(
            session_id=session_id,
            purpose=c.purpose,
            model=c.model,
            prompt_version=c.prompt_version,
            tokens_in=c.tokens_in,
            tokens_out=c.tokens_out,
            latency_ms=c.latency_ms,
            outcome=c.outcome,
            error=c.error,
        )
        for c in calls
    )


# ---------------------------------------------------------------- shaping for the API


def state_public(catalog: Catalog, record: PracticeSession) -> StatePublic:
    state = ClientState.model_validate(record.state)
    persona = catalog.personas[record.persona_id]
    return StatePublic(
        meters=state.meters,
        phase=state.phase,
        mood=state.mood,
        turn=state.turn,
        turn_limit=persona.difficulty[state.difficulty].turn_limit,
    )


def session_public(catalog: Catalog, record: PracticeSession) -> SessionPublic:
    return SessionPublic.model_validate(
        record,
        update={
            "state": state_public(catalog, record),
            "success": None
            if record.outcome in (None, CUT_SHORT)
            else record.outcome in SUCCESS_OUTCOMES,
        },
    )


def message_public(message: Message) -> MessagePublic:
    return MessagePublic.model_validate(message)


def grade_public(grade: Grade, criteria: list[CriterionResult]) -> GradePublic:
    return GradePublic.model_validate(
        grade, update={"criteria": [CriterionPublic.model_validate(c) for c in criteria]}
    )


# ---------------------------------------------------------------- the flow


def start(
    *,
    db: Session,
    catalog: Catalog,
    engines: Engines,
    user: User,
    request: SessionCreate,
    limits: Limits,
) -> tuple[PracticeSession, list[Message]]:
    """Create a session and store the client's opening message(s).

    If the model fails on the opening nothing is stored (the trainee has written nothing
    yet) and the error says to try again.
    """
    persona = persona_or_404(catalog, request.persona_id)
    engine_name, engine = engine_or_422(engines, request.engine)
    hour_ago = utcnow() - timedelta(hours=1)
    recent = db.exec(
        select(func.count())
        .select_from(PracticeSession)
        .where(PracticeSession.user_id == user.id, PracticeSession.created_at > hour_ago)
    ).one()
    if recent >= limits.sessions_per_hour:
        raise TooMany(
            f"you started {recent} sessions in the last hour; the limit is "
            f"{limits.sessions_per_hour}: try again later (finished sessions count too)",
            code="sessions_per_hour",
            recent=recent,
            limit=limits.sessions_per_hour,
        )
    db.commit()  # ends the read: the pooled connection is not held while the model answers
    seed = request.seed if request.seed is not None else random.randrange(2**31)
    state, directive = opening(persona, request.difficulty)
    record = PracticeSession(
        persona_id=persona.id,
        language=request.language,
        difficulty=request.difficulty,
        seed=seed,
        engine=engine_name,
        user_id=user.id,
        trainee=user.username,
        state=state.model_dump(mode="json"),
    )
    calls: list[CallRecord] = []
    try:
        replies = [
            item
            for item in engine.actor.reply(
                persona=persona,
                language=request.language,
                state=state,
                directive=directive,
                history=[],
                seed=seed,
                calls=calls,
            )
            if isinstance(item, Reply)
        ]
    except LLMError as exc:
        _store_calls(db, None, calls)
        db.commit()
        raise Upstream(
            f"{exc}; nothing was stored, start the session again", code="model_failed_start"
        ) from exc
    record.state = state.model_dump(mode="json")
    db.add(record)
    db.flush()
    stored = _store_replies(db, record, replies)
    _store_calls(db, record.id, calls)
    db.commit()
    return record, stored


def accept(
    *, db: Session, catalog: Catalog, user: User, session_id: str, content: str, limits: Limits
) -> PendingTurn:
    """Validate and commit the trainee's message, and let the director plan the reply.

    A message the client never answered (the model failed) is retried when the same text
    comes again; any other text is refused until then, so turns never interleave.
    """
    record = _load(db, session_id, user, play=True)
    if record.status != "active":
        raise Conflict(
            f"session '{session_id}' has ended ({record.outcome}); start a new one "
            "or ask for its grade",
            code="session_ended",
        )
    text = content.strip()
    if not visible(text):
        raise Invalid("the message is empty", ("body", "content"), code="message_empty")
    if len(text) > limits.max_message_chars:
        raise Invalid(
            f"the message is {len(text)} characters long; the limit is {limits.max_message_chars}",
            ("body", "content"),
            code="message_too_long",
            length=len(text),
            limit=limits.max_message_chars,
        )
    state = ClientState.model_validate(record.state)
    if state.status != "active":
        raise Conflict(
            f"session '{session_id}' has ended ({state.outcome}); start a new one",
            code="session_ended",
        )
    if state.turn >= limits.max_turns_per_session:
        raise Conflict(
            f"session '{session_id}' reached {limits.max_turns_per_session} turns",
            code="turn_limit",
            limit=limits.max_turns_per_session,
        )
    persona = catalog.personas[record.persona_id]
    language: Language = record.language  # type: ignore[assignment]
    moves = move_ids(detect(text, language, catalog.moves))
    said = db.exec(
        select(Message.seq, Message.role, Message.content, Message.status)
        .where(Message.session_id == record.id)
        .order_by(col(Message.seq))
    ).all()
    history = [(m.role, m.content) for m in said if m.status == "complete"]
    unanswered = _unanswered(said)
    if unanswered is not None:
        if unanswered.content != text:
            raise Conflict(
                f"message {unanswered.seq} is still waiting for the client's reply (it is being "
                "answered now, or the answer failed): wait for the reply, or send the same text "
                "again to retry it",
                code="reply_pending",
                seq=unanswered.seq,
            )
        trainee = db.exec(
            select(Message).where(Message.session_id == record.id, Message.seq == unanswered.seq)
        ).one()
        db.commit()  # ends the read: the pooled connection is not held while the model answers
    else:
        trainee = Message(
            session_id=record.id,
            seq=record.message_count + 1,
            role="trainee",
            content=text,
            moves=sorted(moves),
        )
        record.message_count += 1
        record.updated_at = utcnow()
        db.add(trainee)
        db.add(record)
        _commit_turn(db, f"another message to session '{session_id}' arrived at the same time")
        history.append(("trainee", text))
    new_state, directive = observe(catalog, persona, state, moves)
    return PendingTurn(record, trainee, new_state, directive, history)


def _commit_turn(db: Session, clash: str) -> None:
    """Commit a turn's rows. Two requests writing the same session at once pick the same
    message numbers; the database's unique (session, seq) refuses the second, which gets a
    409 instead of a 500 and leaves the transcript as the first one wrote it."""
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict(
            f"{clash}: wait for the client's reply, then reload the session", code="turn_clash"
        ) from exc


def _unanswered(said: Sequence[Row[tuple[int, str, str, str]]]) -> Row[Any] | None:
    """The last trainee message, if only cut-off client messages came after it."""
    for message in reversed(said):
        if message.role == "trainee":
            return message
        if message.status != "incomplete":
            return None
    return None


class _ReplyWriter:
    """Stores the client's reply as it is produced, so a crash or a failure mid-reply leaves
    what was said in the database, marked `incomplete` until the turn is over. A reply
    that finishes within FLUSH_EVERY seconds (the offline engine's) costs one commit."""

    FLUSH_EVERY = 0.5

    def __init__(self, db: Session, record: PracticeSession, trainee_seq: int) -> None:
        self.db, self.record, self.trainee_seq = db, record, trainee_seq
        self.rows: list[Message] = []
        self.current: Message | None = None
        self.text = ""
        self.last_flush = time.monotonic()

    def _row(self) -> Message:
        if self.current is None:
            self.record.message_count += 1
            self.current = Message(
                session_id=self.record.id,
                seq=self.record.message_count,
                role="client",
                content="",
                status="incomplete",
            )
            self.rows.append(self.current)
        return self.current

    def delta(self, text: str) -> None:
        self.text += text
        if time.monotonic() - self.last_flush >= self.FLUSH_EVERY:
            self._row().content = self.text
            self.commit()

    def message(self, reply: Reply) -> None:
        row = self._row()
        row.content, row.meta = reply.content, dict(reply.meta)
        self.current, self.text = None, ""

    def cut(self, partial: str) -> None:
        """The actor failed: keep the unfinished message too; nothing of this turn is complete."""
        if partial.strip():
            self._row().content = partial.strip()
        self.current = None
        self.rows = [row for row in self.rows if row.content]

    def complete(self) -> list[Message]:
        for row in self.rows:
            row.status = "complete"
        return self.rows

    def commit(self) -> None:
        self.record.updated_at = utcnow()
        self.db.add_all([self.record, *self.rows])
        _commit_turn(self.db, f"message {self.trainee_seq} is being answered by another request")
        self.last_flush = time.monotonic()


def play(
    *, db: Session, catalog: Catalog, engines: Engines, turn: PendingTurn
) -> Iterator[tuple[str, Any]]:
    """Let the actor answer a pending turn, as events: ('delta', text)…, ('message', Message)…,
    ('done', PracticeSession). On a model failure what was said is stored as `incomplete`,
    the director's state is left as it was (the same text retries), and Upstream is raised."""
    record = turn.record
    persona = catalog.personas[record.persona_id]
    engine = engines.get(record.engine)
    if engine is None:
        raise Unavailable(
            f"session '{record.id}' is played with {_missing(record.engine)}: your message "
            f"{turn.trainee.seq} is stored; send the same text again once the engine is "
            "configured, or end the session to have it graded by the offline grader",
            code="engine_unavailable",
            engine=record.engine,
        )
    calls: list[CallRecord] = []
    writer = _ReplyWriter(db, record, turn.trainee.seq)
    try:
        for item in engine.actor.reply(
            persona=persona,
            language=record.language,  # type: ignore[arg-type]
            state=turn.state,
            directive=turn.directive,
            history=turn.history,
            seed=record.seed,
            calls=calls,
        ):
            if isinstance(item, Reply):
                writer.message(item)
            else:
                yield "delta", item  # to the trainee first: a periodic flush may follow
                writer.delta(item)
    except LLMError as exc:
        writer.cut(exc.partial)
        _store_calls(db, record.id, calls)
        writer.commit()
        raise Upstream(
            f"{exc}; your message {turn.trainee.seq} is stored: send the same text again to retry",
            code="model_failed_turn",
        ) from exc
    stored = writer.complete()
    _store_calls(db, record.id, calls)
    _set_state(record, turn.state)
    writer.commit()
    for message in stored:
        yield "message", message
    yield "done", record


def say(
    *,
    db: Session,
    catalog: Catalog,
    engines: Engines,
    user: User,
    session_id: str,
    content: str,
    limits: Limits,
) -> tuple[Message, list[Message], PracticeSession]:
    """Store the trainee's message, let the director and actor answer, store the answer."""
    turn = accept(
        db=db, catalog=catalog, user=user, session_id=session_id, content=content, limits=limits
    )
    events = list(play(db=db, catalog=catalog, engines=engines, turn=turn))
    replies = [value for kind, value in events if kind == "message"]
    return turn.trainee, replies, turn.record


def _store_replies(db: Session, record: PracticeSession, replies: list[Reply]) -> list[Message]:
    stored = []
    for reply in replies:
        record.message_count += 1
        message = Message(
            session_id=record.id,
            seq=record.message_count,
            role="client",
            content=reply.content,
            meta=reply.meta,
        )
        db.add(message)
        stored.append(message)
    record.updated_at = utcnow()
    return stored


def _set_state(record: PracticeSession, state: ClientState) -> None:
    record.state = state.model_dump(mode="json")
    record.updated_at = utcnow()
    if state.status == "ended" and record.status != "ended":
        record.status, record.outcome, record.ended_at = "ended", state.outcome, utcnow()


# ---------------------------------------------------------------- grading


def end(
    *, db: Session, catalog: Catalog, engines: Engines, user: User, session_id: str
) -> tuple[Grade, list[CriterionResult]]:
    """End the session (if the client has not already) and grade it; idempotent. A session
    the trainee has not written in has nothing to grade: it can be discarded instead."""
    record = _load(db, session_id, user, play=True)
    if record.status == "active":
        if not _trainee_messages(db, session_id):
            raise Conflict(
                f"you have not written anything in session '{session_id}' yet: there is "
                "nothing to grade; write to the client, or discard the session "
                f"(DELETE /api/sessions/{session_id})",
                code="nothing_to_grade",
            )
        grading_engine(db=db, engines=engines, record=record)  # refused before it ends, if so
        _set_state(record, end_by_trainee(ClientState.model_validate(record.state)))
        db.add(record)
        db.commit()
    latest = latest_grade(db=db, session_id=session_id)
    if latest is not None and latest[0].status in ("done", "pending"):
        return latest  # graded, or being graded right now
    seen = latest[0].id if latest is not None else 0
    return grade_session(db=db, catalog=catalog, engines=engines, record=record, seen=seen)


def cut_short(*, db: Session, user: User, session_id: str) -> PracticeSession:
    """End a session that a failure stopped before its end (a drill cannot go on once its
    model failed), as `cut_short`: neither the client nor the trainee ended it. It is not
    graded here, right after the failure: POST /api/sessions/{id}/end (or /grade) grades
    what was played, as for any ended session without a grade."""
    record = _load(db, session_id, user, play=True)
    if record.status == "active":
        state = ClientState.model_validate(record.state)
        # the director did not end it: its state ends with no outcome of the director's
        _set_state(record, state.model_copy(update={"status": "ended", "outcome": None}))
        record.status, record.outcome = "ended", CUT_SHORT
        db.add(record)
        db.commit()
    return record


def discard(*, db: Session, user: User, session_id: str) -> None:
    """Delete a session its trainee never wrote in (opened by mistake, or left before a
    word): nothing of the trainee's is lost, and it does not stay in the lists as a 0.
    Its model calls are kept, without the session, for the cost figures."""
    record = _load(db, session_id, user, play=True)
    if said := _trainee_messages(db, session_id):
        advice = "it is kept" if record.status == "ended" else "end it to have it graded"
        raise Conflict(
            f"session '{session_id}' has {said} message(s) of yours: {advice}; only a "
            "session you have not written in can be discarded",
            code="discard_has_messages",
        )
    if latest_grade(db=db, session_id=session_id) is not None:
        raise Conflict(f"session '{session_id}' has a grade: it is kept")
    db.exec(update(LLMCall).where(col(LLMCall.session_id) == session_id).values(session_id=None))
    db.exec(delete(Message).where(col(Message.session_id) == session_id))
    db.delete(record)
    db.commit()


def _trainee_messages(db: Session, session_id: str) -> int:
    query = select(func.count()).where(Message.session_id == session_id, Message.role == "trainee")
    return db.exec(query).one()


def regrade(
    *, db: Session, catalog: Catalog, engines: Engines, user: User, session_id: str
) -> tuple[Grade, list[CriterionResult]]:
    """Grade an ended session again: after a failed grade, or (coaches and admins) with a
    newer grader. A trainee may not grade a graded session again: with a model grader that
    would be re-rolling the mark until it passes."""
    record = _load(db, session_id, user)
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
        for m in _messages(db, record.id)
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
    except GradeFailed as exc:
        grade.status, grade.error = "failed", str(exc)
        grade.prompt_version = calls[-1].prompt_version if calls else ""
        db.add(grade)
        _store_calls(db, record.id, calls)
        db.commit()
        raise Upstream(
            f"grading failed: {exc}; the transcript is stored, grade it again with "
            f"POST /api/sessions/{record.id}/grade"
        ) from exc
    _store_calls(db, record.id, calls)
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
            _store_calls(db, None, calls)
            db.commit()


# ---------------------------------------------------------------- reading


def get(
    *, db: Session, user: User, session_id: str
) -> tuple[PracticeSession, list[Message], tuple[Grade, list[CriterionResult]] | None]:
    record = _load(db, session_id, user)
    return record, _messages(db, session_id), latest_grade(db=db, session_id=session_id)


def list_sessions(
    *,
    db: Session,
    user: User,
    persona_id: str | None = None,
    status: str | None = None,
    trainee: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[PracticeSession], int]:
    filters: list[Any] = []
    visible = auth.visible_user_ids(db=db, user=user)
    if visible is not None:
        filters.append(col(PracticeSession.user_id).in_(visible))
    if persona_id:
        filters.append(PracticeSession.persona_id == persona_id)
    if status:
        filters.append(PracticeSession.status == status)
    if trainee:
        filters.append(PracticeSession.trainee == trainee)
    total = db.exec(select(func.count()).select_from(PracticeSession).where(*filters)).one()
    newest_first = (col(PracticeSession.created_at).desc(), col(PracticeSession.id))
    # The page's ids first, from an index alone; then only those rows are read.
    page_ids = (
        select(PracticeSession.id)
        .where(*filters)
        .order_by(*newest_first)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    query = select(PracticeSession).where(col(PracticeSession.id).in_(page_ids))
    return list(db.exec(query.order_by(*newest_first))), total


def llm_calls(*, db: Session, user: User, session_id: str) -> list[LLMCall]:
    _load(db, session_id, user)
    query = select(LLMCall).where(LLMCall.session_id == session_id).order_by(col(LLMCall.id))
    return list(db.exec(query))
