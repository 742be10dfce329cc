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
from app.models import TokenCreate, User, UserCreate

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
        user = db.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise _fail(f"no user named '{username}'")
        _, secret = auth.create_token(db=db, user=user, name=name)
    typer.echo(secret)
