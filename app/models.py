"""Tables and API schemas: a model family per entity (XBase, table X, XCreate, XPublic)."""

import unicodedata
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, ConfigDict, StringConstraints, field_validator
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.catalog import Difficulty, Language, Mood, Outcome, Phase
from app.engine.grader import BetterPhrasing, Criterion, Evidence, Verdict

MessageStatus = Literal["complete", "incomplete"]
INT_MAX = 2**31 - 1  # the largest INTEGER on PostgreSQL: ids, seeds, message seqs
GradeStatus = Literal["pending", "done", "failed"]
CUT_SHORT = "cut_short"
# How a session ended: the director's outcomes (the client's, the turn limit, the trainee
# ending it), or `cut_short`: a failure stopped it before any of those (a drill whose model
# failed mid-way cannot go on). The director's state of such a session ends with no outcome.
SessionOutcome = Literal[Outcome, "cut_short"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite gives naive UTC datetimes back, PostgreSQL aware ones: compare them as aware."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def new_id() -> str:
    return uuid.uuid4().hex


# Table models build their defaults in Python and look at each factory's signature every
# time: a builtin's (`list`, `dict`) costs ~60 µs to read, a plain function's ~4 µs.
def no_moves() -> list[str]:
    return []


def no_meta() -> dict[str, Any]:
    return {}


# ---------------------------------------------------------------- accounts

Role = Literal["admin", "coach", "trainee"]
ROLES: tuple[str, ...] = get_args(Role)
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    role: str = Field(max_length=8)
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class LoginFailure(SQLModel, table=True):
    """Failed logins in a row for one name from one address. Keyed by the address too, so
    that guessing from elsewhere cannot lock a person out; keyed by the name as typed, so a
    name that does not exist counts (and locks) like one that does."""

    __tablename__ = "login_failures"

    username: str = Field(primary_key=True, max_length=64)  # lowercased
    address: str = Field(primary_key=True, max_length=64)  # the client's IP address
    failures: int = 0
    last_failed_at: datetime = Field(default_factory=utcnow, index=True)
    locked_until: datetime | None = None


class Team(SQLModel, table=True):
    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)


class TeamMember(SQLModel, table=True):
    """Coaches see the sessions of the trainees who share a team with them."""

    __tablename__ = "team_members"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=64)
    prefix: str = Field(max_length=16)  # shown in lists so a user can tell tokens apart
    token_hash: str = Field(unique=True, index=True, max_length=64)  # sha256 of the token
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A browser login, kept in the database so any replica can serve the next request."""

    __tablename__ = "web_sessions"

    id_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie value
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class TrustedDevice(SQLModel, table=True):
    """A browser that has logged in to an account before. Its failed logins for that account
    are counted apart from its address's, so a colleague guessing wrong behind the same
    office address cannot lock the account's owner out (OWASP's "device cookies")."""

    __tablename__ = "trusted_devices"

    token_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie value
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


TEAM_NAME_MAX = 64  # the teams.name column


def _team_name(value: str) -> str:
    """A team name as stored: trimmed and NFC-normalised, so ' blue ' is the team 'blue'."""
    name = unicodedata.normalize("NFC", value.strip())
    if not name:
        raise ValueError("a team name cannot be empty")
    if len(name) > TEAM_NAME_MAX:
        raise ValueError(
            f"a team name has at most {TEAM_NAME_MAX} characters; this one has {len(name)}"
        )
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError(f"the team name {name!r} contains control or invisible characters")
    return name


TeamName = Annotated[str, AfterValidator(_team_name)]


def _token_name(value: str) -> str:
    """A label to tell tokens apart in a list: trimmed, and something must show."""
    name = value.strip()
    if not name or any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("a token name must show something and hold no control characters")
    return name


class UserCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    username: Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
    password: str = Field(min_length=10, max_length=256)
    role: Role = "trainee"
    teams: list[TeamName] = Field(default_factory=list, max_length=20)


class UserUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=256)
    teams: list[TeamName] | None = Field(default=None, max_length=20)


class UserPublic(SQLModel):
    id: int
    username: str
    role: Role
    active: bool
    teams: list[str]
    created_at: datetime


class LoginRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class LoginPublic(SQLModel):
    user: UserPublic
    csrf_token: str  # send back as X-CSRF-Token on unsafe requests made with the cookie


class TokenCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: Annotated[str, AfterValidator(_token_name)] = Field(
        default="api", min_length=1, max_length=64
    )


class TokenPublic(SQLModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str  # shown once; only its hash is stored


# ---------------------------------------------------------------- sessions


class PracticeSessionBase(SQLModel):
    persona_id: str = Field(index=True, max_length=64)
    language: str = Field(max_length=2)
    difficulty: str = Field(max_length=8)
    seed: int
    engine: str = Field(max_length=16)
    trainee: str = Field(index=True, max_length=64)  # the owner's username, for lists and filters


class PracticeSession(PracticeSessionBase, table=True):
    __tablename__ = "practice_sessions"
    __table_args__ = (
        # Lists are newest first within what the reader may see: these cover the filters and
        # the order, so a page reads 20 rows whatever the number of sessions.
        Index("ix_practice_sessions_user_created", "user_id", "created_at", "id"),
        Index("ix_practice_sessions_trainee_created", "trainee", "created_at", "id"),
        Index(
            "ix_practice_sessions_persona_status_user",
            "persona_id", "status", "user_id", "created_at", "id",
        ),
    )  # fmt: skip

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="users.id", index=True)
    status: str = Field(default="active", index=True, max_length=8)
    outcome: str | None = Field(default=None, max_length=20)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    message_count: int = 0
    score: int | None = Field(default=None, index=True)  # of the latest finished grade
    passed: bool | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    # Who brought the session in from an export (`sparring import`, POST /api/imports/sessions)
    # and when: it was not practised here, and its trainee and coaches can see so.
    imported_by: str | None = Field(default=None, max_length=64)
    imported_at: datetime | None = None


class SessionCreate(SQLModel):
    # a misspelt field ("lang", "level") is refused, not left to a default the caller did not mean
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    persona_id: str
    language: Language = "it"
    difficulty: Difficulty = "medium"
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    engine: Literal["offline", "llm"] | None = None  # default: llm when configured


class StatePublic(SQLModel):
    """The client's meters and phase, as the trainee's page shows them."""

    meters: dict[str, float]
    phase: Phase
    mood: Mood
    turn: int
    turn_limit: int


class SessionPublic(PracticeSessionBase):
    id: str
    status: str
    outcome: SessionOutcome | None
    # agreement or dismissed: the trainee handled the client; None while active or cut short
    success: bool | None
    message_count: int
    score: int | None
    passed: bool | None
    state: StatePublic
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    imported_by: str | None = None  # set on sessions brought in from an export
    imported_at: datetime | None = None


class SessionPage(SQLModel):
    items: list[SessionPublic]
    total: int
    page: int
    page_size: int


# ---------------------------------------------------------------- messages


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="practice_sessions.id", index=True, max_length=32)
    seq: int
    role: str = Field(max_length=8)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="complete", max_length=12)
    moves: list[str] = Field(default_factory=no_moves, sa_column=Column(JSON, nullable=False))
    meta: dict[str, Any] = Field(default_factory=no_meta, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class MessageCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    content: str

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is empty")
        return value


class MessagePublic(SQLModel):
    seq: int
    role: Literal["trainee", "client"]
    content: str
    status: MessageStatus
    moves: list[str]
    created_at: datetime


class TurnPublic(SQLModel):
    """What one trainee message produced."""

    trainee_message: MessagePublic
    replies: list[MessagePublic]
    session: SessionPublic


class StartPublic(SQLModel):
    session: SessionPublic
    messages: list[MessagePublic]


# ---------------------------------------------------------------- grades


class Grade(SQLModel, table=True):
    __tablename__ = "grades"
    __table_args__ = (
        # One grading at a time per session: a second request finds the first one's grade.
        Index(
            "uq_grades_one_pending",
            "session_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="practice_sessions.id", index=True, max_length=32)
    status: str = Field(default="pending", max_length=8)
    score: int | None = None
    passed: bool | None = None
    summary: str = ""
    grader: str = Field(max_length=120)
    prompt_version: str = Field(max_length=64)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None  # when a process last started grading it (while pending)


class CriterionResult(SQLModel, table=True):
    __tablename__ = "criterion_results"

    id: int | None = Field(default=None, primary_key=True)
    grade_id: int = Field(foreign_key="grades.id", index=True)
    technique_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    verdict: str = Field(max_length=16)
    evidence: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    rationale: str = Field(sa_column=Column(Text, nullable=False))
    better_phrasing: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    flagged: bool = False


class CriterionPublic(SQLModel):
    technique_id: str
    name: str
    verdict: Verdict
    evidence: list[Evidence]
    rationale: str
    better_phrasing: BetterPhrasing | None
    flagged: bool


class GradePublic(SQLModel):
    status: GradeStatus
    score: int | None
    passed: bool | None
    summary: str
    grader: str
    prompt_version: str
    error: str | None
    created_at: datetime
    criteria: list[CriterionPublic]


class SessionDetail(SQLModel):
    session: SessionPublic
    messages: list[MessagePublic]
    grade: GradePublic | None


# ---------------------------------------------------------------- coach reviews


class Assignment(SQLModel, table=True):
    """A client a coach asks a team's trainees to practise: done by each trainee who ends a
    session with that client, level and language after it was set."""

    __tablename__ = "assignments"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    persona_id: str = Field(max_length=64)
    difficulty: str = Field(max_length=8)
    language: str = Field(max_length=2)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    due: date | None = None
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    """A coach's word on a graded session, stored beside the grader's verdicts, never over them.

    With `technique_id` and `verdict`: the coach's verdict on that criterion (equal to the
    grader's when the coach agrees). With `message_seq` or `technique_id` and a `comment`:
    a note on that message or criterion. The latest row per (grade, reviewer, technique)
    is the coach's current verdict.
    """

    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="practice_sessions.id", index=True, max_length=32)
    grade_id: int = Field(foreign_key="grades.id", index=True)
    reviewer_id: int = Field(foreign_key="users.id", index=True)
    technique_id: str | None = Field(default=None, max_length=64)
    message_seq: int | None = None
    verdict: str | None = Field(default=None, max_length=16)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


# ---------------------------------------------------------------- model calls


class ModelGradeUse(SQLModel, table=True):
    """A conversation recorded elsewhere that a user had graded by the model, kept for an
    hour: the hourly quota counts these rows."""

    __tablename__ = "model_grade_uses"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LLMCall(SQLModel, table=True):
    """One request to a model endpoint, successful or not."""

    __tablename__ = "llm_calls"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str | None = Field(
        default=None, foreign_key="practice_sessions.id", index=True, max_length=32
    )
    purpose: str = Field(max_length=8)
    model: str = Field(max_length=120)
    prompt_version: str = Field(max_length=64)
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int
    outcome: str = Field(max_length=8)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class EnginePublic(SQLModel):
    name: Literal["offline", "llm"]
    available: bool
    default: bool
    models: dict[str, str]


# ---------------------------------------------------------------- stateless grading and drills


def visible(text: str) -> bool:
    """Whether `text` shows anything: control characters (a bell, NUL), zero-width and other
    format characters do not."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


def _shown(text: str) -> str:
    if not visible(text):
        raise ValueError("the message is empty (only blanks or invisible characters)")
    return text


MAX_GRADED_MESSAGES = 500  # a grade's transcript; a longer chat file is graded on its last ones
MAX_GRADED_CHARS = 200_000  # and its characters, all messages together
MAX_LINE_CHARS = 20_000  # a message of a recorded conversation


class TranscriptLine(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    role: Literal["trainee", "client"]
    content: Annotated[str, AfterValidator(_shown)] = Field(min_length=1, max_length=MAX_LINE_CHARS)


class GradeRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    persona_id: str
    language: Language | None = None  # None: the language the messages are written in
    engine: Literal["offline", "llm"] | None = None
    messages: list[TranscriptLine] = Field(min_length=1, max_length=MAX_GRADED_MESSAGES)


class GradeReport(SQLModel):
    """A grade for a transcript that is not stored (same criteria schema as a session's)."""

    score: int
    passed: bool
    summary: str
    grader: str
    prompt_version: str
    criteria: list[Criterion]
    language: Language  # the conversation's, as given or as read from the messages


class DrillRequest(SessionCreate):
    turns: list[str] = Field(min_length=1, max_length=60)


class DrillResult(SQLModel):
    turns_played: int  # fewer than sent when the client ended the session early
    session: SessionPublic
    messages: list[MessagePublic]
    grade: GradePublic


# ---------------------------------------------------------------- catalogue, localized


class DifficultyPublic(SQLModel):
    level: Difficulty
    description: str
    turn_limit: int
    meters: dict[str, float]


class TechniqueRef(SQLModel):
    id: str
    name: str


class PersonaSummary(SQLModel):
    id: str
    name: str
    title: str
    situation: str
    trainee_role: str
    source: list[str]
    difficulties: list[Difficulty]


class PersonaPublic(PersonaSummary):
    personality: str
    goal: str
    signature_behaviours: list[str]
    softened_by: list[str]
    hardened_by: list[str]
    walk_away_rules: list[str]
    techniques: list[TechniqueRef]
    meters: list[str]
    difficulty: list[DifficultyPublic]


class TechniquePublic(SQLModel):
    id: str
    name: str
    description: str
    source: list[str]
    positive_cues: list[str]
    anti_patterns: list[str]
    better_phrasing: str
