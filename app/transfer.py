"""Export and import stored sessions: JSON that round-trips, Markdown, a CSV of verdicts.

The JSON bundle holds everything a session is (its director state, messages with their
moves and engine metadata, every grade with its criteria and the coaches' reviews of it,
the records of its model calls), so a bundle imported into another database gives the
same transcripts, grades and coaches' verdicts. Import is idempotent on session ids, and
a session goes to the user whose username matches its trainee when the importer may see
that user, else to the importer: an import can never plant sessions in the account of
someone the importer could not see. Reviews name their reviewer by username too and are
resolved the same way, but only to a coach or an admin (the only ones who may review);
otherwise the review becomes the importer's (counted in `reviews_reassigned`): an import
never puts words in the mouth of someone the importer could not see, and a coach's
correction of the grader is kept rather than dropped. A session names one of the engines
Sparring has; one played with an engine this server has not configured (the model) is
imported all the same, and graded here by the offline grader (grades.grading_engine).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import auth
from app import sessions as service
from app.catalog import Catalog, Difficulty, Language
from app.engine.director import ClientState
from app.engine.grader import BetterPhrasing, Evidence, Verdict
from app.engines import ENGINE_NAMES
from app.errors import Conflict, Forbidden, Invalid
from app.export import CoachNote, render_markdown
from app.models import (
    CUT_SHORT,
    INT_MAX,
    CriterionPublic,
    CriterionResult,
    Grade,
    GradePublic,
    GradeStatus,
    LLMCall,
    Message,
    MessagePublic,
    MessageStatus,
    PracticeSession,
    Review,
    SessionDetail,
    SessionOutcome,
    User,
    utcnow,
)
from app.reviews import MAX_COMMENT_CHARS, REVIEWER_ROLES

FORMAT: Literal["sparring-sessions"] = "sparring-sessions"
CHUNK = 500  # ids per IN (...) query
CSV_COLUMNS = (
    "session_id",
    "trainee",
    "persona",
    "language",
    "difficulty",
    "created_at",
    "score",
    "technique_id",
    "verdict",
    "flagged",
    "evidence",
)


CLOCK_SKEW = timedelta(days=1)  # another server's clock may run ahead, not by more


def _utc(value: datetime) -> datetime:
    """Naive times in a bundle are taken as UTC, the only zone the service writes. A time
    in the future (year 9999) would sort first in every list for ever: refused."""
    moment = value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
    if moment > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(f"{moment.isoformat()} is in the future")
    return moment


UTCTime = Annotated[datetime, AfterValidator(_utc)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageRecord(Record):
    seq: int = Field(ge=1, le=INT_MAX)
    role: Literal["trainee", "client"]
    content: str
    status: MessageStatus = "complete"
    moves: list[str] = []
    meta: dict[str, Any] = {}
    created_at: UTCTime


class CriterionRecord(Record):
    technique_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    verdict: Verdict
    evidence: list[Evidence] = []
    rationale: str
    better_phrasing: BetterPhrasing | None = None
    flagged: bool = False


class ReviewRecord(Record):
    """A coach's verdict on a criterion, or a comment on a criterion or on a message: the
    shapes app.reviews.save_review stores, with the reviewer by username (database ids
    mean nothing in another database)."""

    reviewer: str = Field(min_length=1, max_length=64)
    technique_id: str | None = Field(default=None, max_length=64)
    message_seq: int | None = Field(default=None, ge=1, le=INT_MAX)
    verdict: Verdict | None = None
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)
    created_at: UTCTime

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        """A row the review pages can show: on one criterion or one message, saying something."""
        if (self.technique_id is None) == (self.message_seq is None):
            raise ValueError("a review is on a technique_id or on a message_seq (exactly one)")
        if self.verdict is not None and self.technique_id is None:
            raise ValueError("a verdict is given on a technique_id, not on a message")
        if self.verdict is None and not self.comment.strip():
            raise ValueError("a review without a verdict needs a comment")
        return self


class GradeRecord(Record):
    status: GradeStatus
    score: int | None = Field(default=None, ge=0, le=100)
    passed: bool | None = None
    summary: str = ""
    grader: str = Field(max_length=120)
    prompt_version: str = Field(max_length=64)
    error: str | None = None
    created_at: UTCTime
    claimed_at: UTCTime | None = None  # a pending grade is finished by the importing server
    criteria: list[CriterionRecord] = []
    # oldest first: a coach's latest verdict on a criterion is the one that counts
    reviews: list[ReviewRecord] = []


class LLMCallRecord(Record):
    """One request the session made to a model endpoint (the llm_calls row, less its ids)."""

    purpose: str = Field(max_length=8)
    model: str = Field(max_length=120)
    prompt_version: str = Field(max_length=64)
    tokens_in: int | None = Field(default=None, ge=0, le=INT_MAX)
    tokens_out: int | None = Field(default=None, ge=0, le=INT_MAX)
    latency_ms: int = Field(ge=0, le=INT_MAX)
    outcome: str = Field(max_length=8)
    error: str | None = None
    created_at: UTCTime


class SessionRecord(Record):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    persona_id: str = Field(max_length=64)
    language: Language
    difficulty: Difficulty
    seed: int = Field(ge=0, le=INT_MAX)  # as POST /api/sessions takes it
    engine: str = Field(max_length=16)
    trainee: str = Field(max_length=64)
    status: Literal["active", "ended"]
    outcome: SessionOutcome | None = None
    state: dict[str, Any]
    message_count: int = Field(ge=0, le=INT_MAX)
    score: int | None = Field(default=None, ge=0, le=100)
    passed: bool | None = None
    created_at: UTCTime
    updated_at: UTCTime
    ended_at: UTCTime | None = None

    @field_validator("state")
    @classmethod
    def _playable(cls, value: dict[str, Any]) -> dict[str, Any]:
        """The director must be able to read the state back; it is stored as given."""
        ClientState.model_validate(value)
        return value


class SessionExport(Record):
    session: SessionRecord
    messages: list[MessageRecord]
    grades: list[GradeRecord] = []  # oldest first; the last one is the session's grade
    calls: list[LLMCallRecord] = []  # oldest first


class ExportBundle(Record):
    format: Literal["sparring-sessions"] = FORMAT
    version: Literal[1] = 1
    exported_at: UTCTime
    sessions: list[SessionExport]


class ImportCounts(BaseModel):
    sessions: int = 0  # created
    skipped: int = 0  # already present (same id): importing twice changes nothing
    messages: int = 0
    grades: int = 0
    reassigned: int = 0  # given to the importer: no visible user with the trainee's name
    reviews: int = 0  # coaches' verdicts and comments created
    reviews_reassigned: int = 0  # of those, given to the importer: no visible coach or admin
    calls: int = 0  # model-call records created


# ---------------------------------------------------------------- export

REVIEW_IDS = {"id", "session_id", "grade_id", "reviewer_id"}  # a reviewer travels by username


def export_sessions(
    *,
    db: Session,
    user: User | None,
    persona_id: str | None = None,
    status: str | None = None,
    trainee: str | None = None,
    session_id: str | None = None,
) -> ExportBundle:
    """The sessions `user` may see (all of them for None: the operator on the server's
    console), oldest first, with their messages, grades, reviews and model calls; a
    fixed number of queries however many sessions (IN lists of CHUNK ids)."""
    query = select(PracticeSession)
    if user is not None and (visible := auth.visible_user_ids(db=db, user=user)) is not None:
        query = query.where(col(PracticeSession.user_id).in_(visible))
    for column, value in (
        (PracticeSession.persona_id, persona_id),
        (PracticeSession.status, status),
        (PracticeSession.trainee, trainee),
        (PracticeSession.id, session_id),
    ):
        if value:
            query = query.where(column == value)
    query = query.order_by(col(PracticeSession.created_at), col(PracticeSession.id))
    records = list(db.exec(query))
    ids = [r.id for r in records]
    messages = _group(_fetch(db, Message, Message.session_id, ids, Message.seq), "session_id")
    grades = _group(_fetch(db, Grade, Grade.session_id, ids, Grade.id), "session_id")
    grade_ids = [g.id for rows in grades.values() for g in rows]
    criteria = _group(
        _fetch(db, CriterionResult, CriterionResult.grade_id, grade_ids, CriterionResult.id),
        "grade_id",
    )
    reviews = _group(_fetch(db, Review, Review.grade_id, grade_ids, Review.id), "grade_id")
    reviewers = _usernames(db, {v.reviewer_id for rows in reviews.values() for v in rows})
    calls = _group(_fetch(db, LLMCall, LLMCall.session_id, ids, LLMCall.id), "session_id")
    return ExportBundle(
        exported_at=datetime.now(UTC),
        sessions=[
            SessionExport(
                session=SessionRecord.model_validate(r, from_attributes=True),
                messages=[
                    MessageRecord.model_validate(m, from_attributes=True)
                    for m in messages.get(r.id, [])
                ],
                grades=[
                    GradeRecord.model_validate(
                        g.model_dump(exclude={"id", "session_id"})
                        | {
                            "criteria": [
                                c.model_dump(exclude={"id", "grade_id"})
                                for c in criteria.get(g.id, [])
                            ],
                            "reviews": [
                                v.model_dump(exclude=REVIEW_IDS)
                                | {"reviewer": reviewers[v.reviewer_id]}
                                for v in reviews.get(g.id, [])
                            ],
                        }
                    )
                    for g in grades.get(r.id, [])
                ],
                calls=[
                    LLMCallRecord.model_validate(c.model_dump(exclude={"id", "session_id"}))
                    for c in calls.get(r.id, [])
                ],
            )
            for r in records
        ],
    )


def _fetch(db: Session, model: Any, key: Any, ids: Sequence[Any], order: Any) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows += db.exec(select(model).where(col(key).in_(chunk)).order_by(col(order)))
    return rows


def _usernames(db: Session, ids: set[int]) -> dict[int, str]:
    ordered = sorted(ids)
    names: dict[int, str] = {}
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        query = select(User.id, User.username).where(col(User.id).in_(chunk))
        names.update((user_id, name) for user_id, name in db.exec(query))
    return names


def _group(rows: Iterable[Any], attribute: str) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, attribute), []).append(row)
    return grouped


def session_detail(catalog: Catalog, item: SessionExport) -> SessionDetail:
    """A bundle entry in the shape of GET /api/sessions/{id}, for the Markdown report."""
    data = item.session.model_dump()
    record = PracticeSession.model_validate(data | {"user_id": 0})
    latest = item.grades[-1] if item.grades else None
    grade = None
    if latest is not None:
        criteria = [CriterionPublic.model_validate(c.model_dump()) for c in latest.criteria]
        grade = GradePublic.model_validate(latest.model_dump() | {"criteria": criteria})
    return SessionDetail(
        session=service.session_public(catalog, record),
        messages=[MessagePublic.model_validate(m.model_dump()) for m in item.messages],
        grade=grade,
    )


def bundle_markdown(catalog: Catalog, bundle: ExportBundle) -> str:
    """Every session's Markdown report, one after the other."""
    unknown = sorted({s.session.persona_id for s in bundle.sessions} - set(catalog.personas))
    if unknown:
        raise Invalid(f"personas not in this catalogue: {', '.join(unknown)}")
    reports = [
        render_markdown(catalog, session_detail(catalog, s), coach_notes(s))
        for s in bundle.sessions
    ]
    return "\n---\n\n".join(reports)


def coach_notes(item: SessionExport) -> list[CoachNote]:
    """The coaches' current verdicts and their comments on the latest finished grade, as
    app.reviews.session_reviews gives them for a stored session."""
    done = [g for g in item.grades if g.status == "done"]
    if not done:
        return []
    marked = {c.technique_id for c in done[-1].criteria}
    current: dict[tuple[str, str], CoachNote] = {}
    comments: list[CoachNote] = []
    for review in done[-1].reviews:  # oldest first: the latest verdict wins
        technique = review.technique_id
        if review.verdict and technique is not None and technique in marked:
            current[(review.reviewer, technique)] = CoachNote(
                reviewer=review.reviewer, technique_id=technique, verdict=review.verdict
            )
        if review.comment:
            comments.append(
                CoachNote(
                    reviewer=review.reviewer,
                    technique_id=review.technique_id,
                    message_seq=review.message_seq,
                    comment=review.comment,
                )
            )
    return [*current.values(), *comments]


def _cell(text: str) -> str:
    """Text that a spreadsheet will show, not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def grades_csv(bundle: ExportBundle) -> str:
    """One row per criterion of each session's latest finished grade."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in bundle.sessions:
        done = [g for g in item.grades if g.status == "done"]
        if not done:
            continue
        grade, s = done[-1], item.session
        for c in grade.criteria:
            writer.writerow(
                (
                    s.id,
                    _cell(s.trainee),
                    s.persona_id,
                    s.language,
                    s.difficulty,
                    s.created_at.isoformat(),
                    grade.score,
                    c.technique_id,
                    c.verdict,
                    str(c.flagged).lower(),
                    _cell(" | ".join(e.quote for e in c.evidence)),
                )
            )
    return out.getvalue()


# ---------------------------------------------------------------- import


def import_sessions(
    *, db: Session, catalog: Catalog, user: User, bundle: ExportBundle
) -> ImportCounts:
    """Recreate the bundle's sessions, messages, grades, reviews and model calls in one
    transaction: the whole bundle is checked before anything is written. The importer gets
    what has no owner here, coaches' reviews included, so it must be a coach or an admin."""
    if user.role not in REVIEWER_ROLES:
        raise Forbidden(
            f"'{user.username}' is a {user.role}: sessions are imported by a coach or an admin, "
            "who get the reviews of coaches not found here"
        )
    for index, item in enumerate(bundle.sessions):
        where = ("body", "sessions", index)
        if item.session.persona_id not in catalog.personas:
            raise Invalid(
                f"session {item.session.id}: unknown persona '{item.session.persona_id}'",
                loc=(*where, "session", "persona_id"),
            )
        if item.session.engine not in ENGINE_NAMES:
            raise Invalid(
                f"session {item.session.id}: unknown engine '{item.session.engine}'; known "
                f"engines: {', '.join(ENGINE_NAMES)}",
                loc=(*where, "session", "engine"),
            )
        seqs = [m.seq for m in item.messages]
        if len(seqs) != len(set(seqs)):
            raise Invalid(
                f"session {item.session.id}: two messages with the same seq",
                loc=(*where, "messages"),
            )
        _check_state(item, where)
        _check_grades(item, catalog, set(seqs), where)
        _check_reviews(item, set(seqs), where)
    trainees = {s.session.trainee for s in bundle.sessions}
    named = {v.reviewer for s in bundle.sessions for g in s.grades for v in g.reviews}
    people = _owners(db, user, trainees | named)
    reviewers = {
        name: found if (found := people.get(name)) and found.role in REVIEWER_ROLES else user
        for name in named
    }
    counts = ImportCounts()
    seen: set[str] = set()
    for item in bundle.sessions:
        sid = item.session.id
        if sid in seen or db.get(PracticeSession, sid) is not None:
            counts.skipped += 1
            continue
        seen.add(sid)
        owner = people.get(item.session.trainee, user)
        counts.reassigned += owner is user and item.session.trainee != user.username
        _add_session(db, item, owner, user, reviewers)
        counts.sessions += 1
        counts.messages += len(item.messages)
        counts.grades += len(item.grades)
        counts.calls += len(item.calls)
        for review in (v for g in item.grades for v in g.reviews):
            counts.reviews += 1
            counts.reviews_reassigned += (
                reviewers[review.reviewer] is user and review.reviewer != user.username
            )
    try:
        db.commit()
    except IntegrityError as exc:  # another import of the same ids won the race
        db.rollback()
        raise Conflict("some of these sessions were imported meanwhile; import again") from exc
    return counts


def _owners(db: Session, importer: User, names: set[str]) -> dict[str, User]:
    """Users matched by username, among those the importer may see."""
    visible = auth.visible_user_ids(db=db, user=importer)
    found = db.exec(select(User).where(col(User.username).in_(sorted(names))))
    return {u.username: u for u in found if visible is None or u.id in visible}


def _check_state(item: SessionExport, where: tuple[str | int, ...]) -> None:
    """The session's status and outcome are the director state's, as the service keeps them:
    an 'active' session whose state has ended could never take another message. A session
    cut short ended with no outcome of the director's."""
    record = item.session
    state = ClientState.model_validate(record.state)
    cut = record.outcome == CUT_SHORT and state.status == "ended" and state.outcome is None
    outcome = CUT_SHORT if cut else state.outcome
    for field, given, expected in (
        ("status", record.status, state.status),
        ("outcome", record.outcome, outcome),
    ):
        if given != expected:
            raise Invalid(
                f"session {record.id}: {field} is {given!r} but its state's {field} is "
                f"{expected!r}; they must agree",
                loc=(*where, "session", field),
            )


def _check_grades(
    item: SessionExport, catalog: Catalog, seqs: set[int], where: tuple[str | int, ...]
) -> None:
    """Criteria mark techniques this catalogue knows, and quote messages the session has."""
    sid = item.session.id
    for g, grade in enumerate(item.grades):
        for c, criterion in enumerate(grade.criteria):
            at = (*where, "grades", g, "criteria", c)
            if criterion.technique_id not in catalog.techniques:
                raise Invalid(
                    f"session {sid}: a grade marks technique '{criterion.technique_id}', "
                    "which is not in this catalogue",
                    loc=(*at, "technique_id"),
                )
            for e, evidence in enumerate(criterion.evidence):
                if evidence.seq not in seqs:
                    raise Invalid(
                        f"session {sid}: evidence for '{criterion.technique_id}' quotes "
                        f"message seq {evidence.seq}, which the session does not have",
                        loc=(*at, "evidence", e, "seq"),
                    )


def _check_reviews(item: SessionExport, seqs: set[int], where: tuple[str | int, ...]) -> None:
    """save_review's rules, against the bundle instead of the database: reviews are on a
    finished grade, on one of its criteria or on one of the session's messages."""
    sid = item.session.id
    for g, grade in enumerate(item.grades):
        at = (*where, "grades", g, "reviews")
        if grade.reviews and grade.status != "done":
            raise Invalid(f"session {sid}: reviews of a grade that is {grade.status}", loc=at)
        techniques = {c.technique_id for c in grade.criteria}
        for r, review in enumerate(grade.reviews):
            if review.technique_id is not None and review.technique_id not in techniques:
                raise Invalid(
                    f"session {sid}: a review of technique '{review.technique_id}', which "
                    f"its grade does not mark; known: {sorted(techniques)}",
                    loc=(*at, r, "technique_id"),
                )
            if review.message_seq is not None and review.message_seq not in seqs:
                raise Invalid(
                    f"session {sid}: a review of message seq {review.message_seq}, "
                    "which the session does not have",
                    loc=(*at, r, "message_seq"),
                )


def _add_session(
    db: Session, item: SessionExport, owner: User, importer: User, reviewers: dict[str, User]
) -> None:
    data = item.session.model_dump()
    max_seq = max((m.seq for m in item.messages), default=0)
    data |= {"user_id": owner.id, "trainee": owner.username, "message_count": max_seq}
    data |= {"imported_by": importer.username, "imported_at": utcnow()}
    db.add(PracticeSession.model_validate(data))
    db.flush()
    db.add_all(Message(session_id=item.session.id, **m.model_dump()) for m in item.messages)
    for grade in item.grades:
        row = Grade(session_id=item.session.id, **grade.model_dump(exclude={"criteria"}))
        db.add(row)
        db.flush()
        db.add_all(
            CriterionResult(grade_id=row.id, **c.model_dump())  # type: ignore[arg-type]
            for c in grade.criteria
        )
        db.add_all(  # in bundle order: ids keep the latest verdict the latest
            Review(
                session_id=item.session.id,
                grade_id=row.id,  # type: ignore[arg-type]
                reviewer_id=reviewers[v.reviewer].id,  # type: ignore[arg-type]
                **v.model_dump(exclude={"reviewer"}),
            )
            for v in grade.reviews
        )
    db.add_all(LLMCall(session_id=item.session.id, **c.model_dump()) for c in item.calls)
