"""`sparring users …`: accounts and API tokens from the command line (works on the configured
database directly, so it needs no running server)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, select

from app import auth
from app.config import get_settings
from app.db import get_engine, migrate
from app.errors import ServiceError
from app.models import TokenCreate, User, UserCreate, UserUpdate

users = typer.Typer(help="Accounts and API tokens.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def shown_url(url: str) -> str:
    """A database URL fit for an error message: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


def one_line(exc: BaseException) -> str:
    """A driver's message, often several lines, as one."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


def database_engine(url: str) -> Engine:
    """The engine for SPARRING_DATABASE_URL, or a one-line error saying what is wrong with it."""
    try:
        return get_engine(url)
    except (ArgumentError, ImportError) as exc:  # no such dialect or driver, not a URL
        raise _fail(
            f"SPARRING_DATABASE_URL {shown_url(url)} is not a database URL this can use "
            f"({one_line(exc)}); e.g. sqlite:///path/to/sparring.db or "
            "postgresql+psycopg://user@host/db"
        ) from exc


@contextmanager
def _db() -> Iterator[Session]:
    url = get_settings().database_url
    engine = database_engine(url)
    try:
        migrate(engine)
    except (SQLAlchemyError, CommandError) as exc:  # unreachable, refused, unknown revision
        raise _fail(f"cannot use the database {shown_url(url)}: {one_line(exc)}") from exc
    with Session(engine, expire_on_commit=False) as db:
        yield db


def _problem(loc: tuple[int | str, ...], message: str) -> str:
    where = "--team" if loc[0] == "teams" else loc[0]
    return f"{where}: {message.removeprefix('Value error, ')}"


@users.command("create")
def create(
    username: str,
    role: Annotated[str, typer.Option(help="admin, coach or trainee")] = "trainee",
    team: Annotated[list[str] | None, typer.Option(help="a team to join (repeatable)")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="default: a random one, printed once", envvar="SPARRING_NEW_PASSWORD"),
    ] = None,
) -> None:
    """Create an account. Coaches see the sessions of trainees who share a team with them."""
    team = team or []
    chosen = password or auth.new_password()
    try:
        request = UserCreate(username=username, password=chosen, role=role, teams=team)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise _fail("; ".join(_problem(e["loc"], e["msg"]) for e in exc.errors())) from exc
    with _db() as db:
        try:
            auth.create_user(db=db, request=request)
        except ServiceError as exc:
            raise _fail(str(exc)) from exc
    teams = ", ".join(request.teams)
    typer.echo(f"created {role} '{username}'" + (f" in {teams}" if teams else ""))
    if password is None:
        typer.echo(f"password (shown once): {chosen}")


@users.command("list")
def list_users() -> None:
    """Every account, with role and teams."""
    with _db() as db:
        for user in auth.list_users(db=db):
            teams = ", ".join(auth.teams_of(db, user.id))  # type: ignore[arg-type]
            state = "" if user.active else " (inactive)"
            typer.echo(f"{user.username:24} {user.role:8} {teams}{state}")


def _user(db: Session, username: str) -> User:
    user = db.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise _fail(f"no user named '{username}'")
    return user


def _change(username: str, fields: dict[str, object]) -> User:
    """What the Users page does to an account, here; the last active admin stays one."""
    try:
        request = UserUpdate.model_validate(fields)
    except ValidationError as exc:
        raise _fail("; ".join(_problem(e["loc"], e["msg"]) for e in exc.errors())) from exc
    with _db() as db:
        try:
            return auth.update_user(db=db, user_id=_user(db, username).id, request=request)  # type: ignore[arg-type]
        except ServiceError as exc:
            raise _fail(str(exc)) from exc


@users.command("update")
def update(
    username: str,
    role: Annotated[str | None, typer.Option(help="admin, coach or trainee")] = None,
    team: Annotated[
        list[str] | None, typer.Option(help="the teams, instead of the current ones (repeatable)")
    ] = None,
    no_teams: Annotated[bool, typer.Option("--no-teams", help="leave every team")] = False,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="whether it may log in")
    ] = None,
) -> None:
    """Change an account's role, teams, or whether it may log in (its tokens stop working
    while it may not)."""
    fields: dict[str, object] = {"role": role, "active": active}
    if team or no_teams:
        fields["teams"] = [] if no_teams else team
    if all(value is None for value in fields.values()):
        raise _fail("nothing to change: pass --role, --team, --no-teams, --active or --inactive")
    user = _change(username, fields)
    with _db() as db:
        teams = ", ".join(auth.teams_of(db, user.id)) or "no team"  # type: ignore[arg-type]
    state = "active" if user.active else "inactive"
    typer.echo(f"{user.username}: {user.role}, {teams}, {state}")


@users.command("password")
def password(
    username: str,
    new: Annotated[
        str | None,
        typer.Option(
            "--password", help="default: a random one, printed once", envvar="SPARRING_NEW_PASSWORD"
        ),
    ] = None,
) -> None:
    """Give USERNAME a new password and lift a lock from failed logins: how an admin who
    forgot theirs gets back in."""
    chosen = new or auth.new_password()
    _change(username, {"password": chosen})
    typer.echo(f"new password for '{username}'" + ("" if new else f" (shown once): {chosen}"))


@users.command("token")
def token(
    username: str, name: Annotated[str, typer.Option(help="a label for the token")] = "cli"
) -> None:
    """Create an API token for USERNAME and print it once (only its hash is stored)."""
    try:
        name = TokenCreate(name=name).name
    except ValidationError as exc:
        raise _fail(f"--name: {exc.errors()[0]['msg']}") from exc
    with _db() as db:
        user = _user(db, username)
        if not user.active:
            raise _fail(
                f"'{username}' is deactivated, so a token would not work: "
                f"`sparring users update {username} --active` first"
            )
        _, secret = auth.create_token(db=db, user=user, name=name)
    typer.echo(secret)
