"""`sparring users …`: accounts and API tokens from the command line (works on the configured
database directly, so it needs no running server)."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlmodel import Session, select

from app import auth
from app.config import get_settings
from app.db import get_engine, migrate
from app.errors import ServiceError
from app.models import User, UserCreate

users = typer.Typer(help="Accounts and API tokens.", no_args_is_help=True)


@contextmanager
def _db() -> Iterator[Session]:
    engine = get_engine(get_settings().database_url)
    migrate(engine)
    with Session(engine, expire_on_commit=False) as db:
        yield db


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


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
    chosen = password or secrets.token_urlsafe(15)
    try:
        request = UserCreate(username=username, password=chosen, role=role, teams=team)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise _fail("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from exc
    with _db() as db:
        try:
            auth.create_user(db=db, request=request)
        except ServiceError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"created {role} '{username}'" + (f" in {', '.join(team)}" if team else ""))
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
    with _db() as db:
        user = db.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise _fail(f"no user named '{username}'")
        _, secret = auth.create_token(db=db, user=user, name=name)
    typer.echo(secret)
