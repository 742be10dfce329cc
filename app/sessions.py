"""The practice service: start, say, end. All persistence goes through here (grading in
app/grades.py, the lookups both share in app/records.py).

Routers and the CLI call these keyword-only functions; they never touch SQL themselves.
The trainee's message is committed before the actor runs, so nothing the trainee wrote
is lost if the model fails: the same text sent again retries the turn.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app import auth
from app.catalog import SUCCESS_OUTCOMES, Catalog, Language
from app.engine.actors import Reply
from app.engine.detectors import detect, move_ids
from app.engine.director import ClientState, Directive, end_by_trainee, observe, opening
from app.engine.llm import CallRecord, LLMError
from app.engines import Engines
from app.errors import Conflict, Invalid, TooMany, Unavailable, Upstream
from app.grades import grade_session, grading_engine, latest_grade
from app.models import (
    CUT_SHORT,
    CriterionResult,
    Grade,
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
from app.records import (
    engine_or_422,
    load_session,
    messages_of,
    missing_engine,
    persona_or_404,
    store_calls,
)


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
        store_calls(db, None, calls)
        db.commit()
        raise Upstream(
            f"{exc}; nothing was stored, start the session again", code="model_failed_start"
        ) from exc
    record.state = state.model_dump(mode="json")
    db.add(record)
    db.flush()
    stored = _store_replies(db, record, replies)
    store_calls(db, record.id, calls)
    db.commit()
    return record, stored


def accept(
    *, db: Session, catalog: Catalog, user: User, session_id: str, content: str, limits: Limits
) -> PendingTurn:
    """Validate and commit the trainee's message, and let the director plan the reply.

    A message the client never answered (the model failed) is retried when the same text
    comes again; any other text is refused until then, so turns never interleave.
    """
    record = load_session(db, session_id, user, play=True)
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
            f"session '{record.id}' is played with {missing_engine(record.engine)}: your message "
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
        store_calls(db, record.id, calls)
        writer.commit()
        raise Upstream(
            f"{exc}; your message {turn.trainee.seq} is stored: send the same text again to retry",
            code="model_failed_turn",
        ) from exc
    stored = writer.complete()
    store_calls(db, record.id, calls)
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
    record = load_session(db, session_id, user, play=True)
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
    record = load_session(db, session_id, user, play=True)
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
    record = load_session(db, session_id, user, play=True)
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


# ---------------------------------------------------------------- reading


def get(
    *, db: Session, user: User, session_id: str
) -> tuple[PracticeSession, list[Message], tuple[Grade, list[CriterionResult]] | None]:
    record = load_session(db, session_id, user)
    return record, messages_of(db, session_id), latest_grade(db=db, session_id=session_id)


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
    load_session(db, session_id, user)
    query = select(LLMCall).where(LLMCall.session_id == session_id).order_by(col(LLMCall.id))
    return list(db.exec(query))
