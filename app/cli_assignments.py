"""`sparring assignments …`: the Assignments page for coaches who script their class: list
them, see who has done one, set one for a team, remove one. Here (this machine's database,
acting as the user named by --as) or on a running server with --url and --token, where the
token's owner is the one acting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app import cli_common as common
from app.cli_options import LangOption, TokenOption, UrlOption

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.models import User

assignments = typer.Typer(
    help="Coaches' assignments: which client a team should practise with.",
    no_args_is_help=True,
)

AsOption = Annotated[
    str, typer.Option("--as", help="here: the coach or admin acting (ignored with --url)")
]


@contextmanager
def _acting(username: str) -> Iterator[tuple[Session, User]]:
    """This machine's database and the user named `username` in it."""
    from sqlmodel import select

    from app.models import User

    with common.database() as db:
        user = db.exec(select(User).where(User.username == username)).first()
        if user is None:
            common.fail(f"no user named '{username}' here: pass --as with an existing username")
        yield db, user


def _listed(username: str, url: str | None, token: str | None) -> list[dict[str, Any]]:
    """Every assignment the user can see, as the API returns them."""
    from app import assignments as service

    if url:
        with common.remote(url, token) as client:
            return common.call(client, "GET", "/api/assignments").json()
    with _acting(username) as (db, user):
        return [a.model_dump(mode="json") for a in service.listed(db=db, user=user)]


def _done(item: dict[str, Any]) -> str:
    progress = item["progress"]
    return f"{sum(p['done'] for p in progress)}/{len(progress)}"


def _due(item: dict[str, Any]) -> str:
    due = item["due"]
    if due is None:
        return "-"
    overdue = due < datetime.now().date().isoformat() and any(
        not p["done"] for p in item["progress"]
    )
    return f"{due} (overdue)" if overdue else due


@assignments.command("list")
def list_(
    as_user: AsOption = "admin",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="the API's JSON, for scripts")] = False,
) -> None:
    """Your teams' assignments, newest first, with how many trainees have done each."""
    items = _listed(as_user, url, token)
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        typer.echo("no assignments")
        return
    headers = ("id", "team", "client", "level", "lang", "due", "done", "set by")
    rows = [
        (
            a["id"],
            a["team"],
            a["persona_id"],
            a["difficulty"],
            a["language"],
            _due(a),
            _done(a),
            a["set_by"],
        )
        for a in items
    ]
    typer.echo(common.table(headers, rows))


@assignments.command("show")
def show(
    assignment_id: Annotated[int, typer.Argument(help="the assignment's id (see list)")],
    as_user: AsOption = "admin",
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """One assignment: each trainee, whether they have done it, the score and the session."""
    found = [a for a in _listed(as_user, url, token) if a["id"] == assignment_id]
    if not found:
        common.fail(f"no assignment {assignment_id} among yours")
    item = found[0]
    typer.echo(
        f"{item['team']}: {item['persona_id']}, {item['difficulty']}, {item['language']}; "
        f"due {_due(item)}; set by {item['set_by']}"
    )
    if item["note"]:
        typer.echo(f"note: {item['note']}")
    rows = [
        (
            p["trainee"],
            "yes" if p["done"] else "not yet",
            "-" if p["score"] is None else p["score"],
            p["session_id"] or "-",
        )
        for p in item["progress"]
    ]
    typer.echo(
        common.table(("trainee", "done", "score", "session"), rows) if rows else "no trainees"
    )


@assignments.command("set")
def set_(
    team: Annotated[str, typer.Argument(help="the team's name")],
    persona: Annotated[str, typer.Argument(help="the client's persona id")],
    difficulty: Annotated[str, typer.Option(help="easy, medium or hard")] = "medium",
    lang: LangOption = None,
    note: Annotated[str, typer.Option(help="a word for the trainees")] = "",
    due: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")] = None,
    as_user: AsOption = "admin",
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Ask a team to practise with a client; prints the new assignment's id."""
    from pydantic import ValidationError

    from app import assignments as service
    from app.assignments import AssignmentCreate
    from app.errors import ServiceError

    fields = {
        "team": team,
        "persona_id": persona,
        "difficulty": difficulty,
        "language": common.settings().language if lang is None else lang,
        "note": note,
        "due": due.date() if due else None,
    }
    try:
        request = AssignmentCreate.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        common.fail(f"{first['loc'][0]}: {first['msg']}", 2)
    if url:
        with common.remote(url, token) as client:
            body = request.model_dump(mode="json")
            created = common.call(client, "POST", "/api/assignments", json=body).json()
    else:
        catalog = common.catalog()
        with _acting(as_user) as (db, user):
            try:
                made = service.create(db=db, catalog=catalog, user=user, request=request)
            except ServiceError as exc:
                common.fail(str(exc))
            created = made.model_dump(mode="json")
    typer.echo(
        f"assignment {created['id']}: {created['team']} ({len(created['progress'])} trainees) "
        f"to practise with {created['persona_id']}"
    )


@assignments.command("remove")
def remove(
    assignment_id: Annotated[int, typer.Argument(help="the assignment's id (see list)")],
    as_user: AsOption = "admin",
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Remove an assignment you set (admins: any); the sessions played for it stay."""
    from app import assignments as service
    from app.errors import ServiceError
    from app.models import INT_MAX

    if not 1 <= assignment_id <= INT_MAX:
        common.fail(f"no assignment {assignment_id}")
    if url:
        with common.remote(url, token) as client:
            common.call(client, "DELETE", f"/api/assignments/{assignment_id}")
    else:
        with _acting(as_user) as (db, user):
            try:
                service.delete(db=db, user=user, assignment_id=assignment_id)
            except ServiceError as exc:
                common.fail(str(exc))
    typer.echo(f"removed assignment {assignment_id}")
