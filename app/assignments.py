"""Assignments: a coach asks a team's trainees to practise with a client (level, language, a
note, a due date); each trainee's part is done by ending a session with that client, level
and language after the assignment was set. Coaches see who has done it and with what score.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import Row, or_
from sqlmodel import Field, Session, SQLModel, col, select

from app import auth
from app.catalog import Catalog, Difficulty, Language
from app.errors import Forbidden, Invalid, NotFound
from app.models import (
    CUT_SHORT,
    Assignment,
    PracticeSession,
    Team,
    TeamMember,
    User,
    as_utc,
    utcnow,
)

MAX_NOTE_CHARS = 500
SETTERS = ("coach", "admin")


class AssignmentCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    team: str = Field(min_length=1, max_length=64)
    persona_id: str = Field(min_length=1, max_length=64)
    difficulty: Difficulty = "medium"
    language: Language = "it"
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)
    due: date | None = None


class Progress(SQLModel):
    """One trainee's part: the best ended session since the assignment was set, if any."""

    trainee: str
    done: bool
    session_id: str | None
    score: int | None


class AssignmentPublic(SQLModel):
    id: int
    team: str
    persona_id: str
    difficulty: Difficulty
    language: Language
    note: str
    due: date | None
    set_by: str
    created_at: datetime
    progress: list[Progress]  # the team's trainees (a trainee sees only their own)


def _my_team_ids(db: Session, user: User) -> list[int] | None:
    """None: every team (admins)."""
    if user.role == "admin":
        return None
    return list(db.exec(select(TeamMember.team_id).where(TeamMember.user_id == user.id)))


def settable_teams(*, db: Session, user: User) -> list[str]:
    """The teams `user` may set assignments for: a coach's own, every team for admins."""
    if user.role not in SETTERS:
        return []
    query = select(Team.name).order_by(Team.name)
    mine = _my_team_ids(db, user)
    if mine is not None:
        query = query.where(col(Team.id).in_(mine))
    return list(db.exec(query))


def create(
    *, db: Session, catalog: Catalog, user: User, request: AssignmentCreate
) -> AssignmentPublic:
    if user.role not in SETTERS:
        raise Forbidden("only coaches and admins set assignments")
    team = auth.find_team(db, request.team)
    mine = _my_team_ids(db, user)
    if team is None or (mine is not None and team.id not in mine):
        raise NotFound(f"no team '{request.team}' among yours", code="no_team")
    if request.persona_id not in catalog.personas:
        raise Invalid(
            f"no persona '{request.persona_id}'", ("body", "persona_id"), code="no_persona"
        )
    # a day's grace: the coach's today may still be yesterday in UTC
    if request.due is not None and request.due < utcnow().date() - timedelta(days=1):
        raise Invalid(
            f"the due date {request.due} is in the past",
            ("body", "due"),
            code="due_in_past",
            due=request.due.isoformat(),
        )
    assignment = Assignment(
        team_id=team.id,  # type: ignore[arg-type]
        persona_id=request.persona_id,
        difficulty=request.difficulty,
        language=request.language,
        note=request.note.strip(),
        due=request.due,
        created_by=user.id,  # type: ignore[arg-type]
    )
    db.add(assignment)
    db.commit()
    return listed(db=db, user=user, ids=[assignment.id])[0]  # type: ignore[list-item]


def delete(*, db: Session, user: User, assignment_id: int) -> None:
    """The coach who set it, or an admin; anyone else is told there is no such assignment
    if they cannot see it."""
    assignment = db.get(Assignment, assignment_id)
    mine = _my_team_ids(db, user)
    if assignment is None or (mine is not None and assignment.team_id not in mine):
        raise NotFound(f"no assignment {assignment_id}", code="no_assignment")
    if user.role != "admin" and assignment.created_by != user.id:
        raise Forbidden("only the coach who set an assignment (or an admin) can remove it")
    db.delete(assignment)
    db.commit()


def listed(*, db: Session, user: User, ids: list[int] | None = None) -> list[AssignmentPublic]:
    """Assignments of the user's teams (all, for admins), newest first, with progress: the
    team's trainees for coaches and admins, their own for trainees. Four queries, however
    many assignments and trainees."""
    query = select(Assignment, Team.name, User.username).join(
        Team, col(Team.id) == Assignment.team_id
    )
    query = query.join(User, col(User.id) == Assignment.created_by)
    mine = _my_team_ids(db, user)
    if mine is not None:
        query = query.where(col(Assignment.team_id).in_(mine))
    if ids is not None:
        query = query.where(col(Assignment.id).in_(ids))
    rows = db.exec(query.order_by(col(Assignment.created_at).desc(), col(Assignment.id))).all()
    if not rows:
        return []
    team_ids = {a.team_id for a, _, _ in rows}
    members = db.exec(
        select(TeamMember.team_id, User.id, User.username)
        .join(User, col(User.id) == TeamMember.user_id)
        .where(col(TeamMember.team_id).in_(team_ids), User.role == "trainee")
        .order_by(User.username)
    ).all()
    if user.role == "trainee":
        members = [m for m in members if m.id == user.id]
    trainees: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for team_id, user_id, username in members:
        trainees[team_id].append((user_id, username))
    since = min(a.created_at for a, _, _ in rows)
    played = db.exec(
        select(
            PracticeSession.id,
            PracticeSession.user_id,
            PracticeSession.persona_id,
            PracticeSession.difficulty,
            PracticeSession.language,
            PracticeSession.created_at,
            PracticeSession.score,
        ).where(
            col(PracticeSession.user_id).in_({user_id for _, user_id, _ in members}),
            col(PracticeSession.persona_id).in_({a.persona_id for a, _, _ in rows}),
            PracticeSession.status == "ended",
            # a drill the model cut short was not practised to its end
            or_(col(PracticeSession.outcome).is_(None), PracticeSession.outcome != CUT_SHORT),
            col(PracticeSession.created_at) >= since,
        )
    ).all()
    by_trainee: dict[int, list[Row[Any]]] = defaultdict(list)
    for session in played:
        by_trainee[session.user_id].append(session)
    return [
        AssignmentPublic(
            id=a.id,  # type: ignore[arg-type]
            team=team,
            persona_id=a.persona_id,
            difficulty=a.difficulty,  # type: ignore[arg-type]
            language=a.language,  # type: ignore[arg-type]
            note=a.note,
            due=a.due,
            set_by=set_by,
            created_at=a.created_at,
            progress=[
                _progress(a, username, by_trainee[user_id])
                for user_id, username in trainees[a.team_id]
            ],
        )
        for a, team, set_by in rows
    ]


def _progress(assignment: Assignment, trainee: str, sessions: list[Row[Any]]) -> Progress:
    matching = [
        s
        for s in sessions
        if (s.persona_id, s.difficulty, s.language)
        == (assignment.persona_id, assignment.difficulty, assignment.language)
        and as_utc(s.created_at) >= as_utc(assignment.created_at)  # type: ignore[operator]
    ]
    best = max(matching, key=lambda s: s.score if s.score is not None else -1, default=None)
    return Progress(
        trainee=trainee,
        done=best is not None,
        session_id=best.id if best else None,
        score=best.score if best else None,
    )
