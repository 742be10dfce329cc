"""The `sparring` command: serve the app, run drills, grade chats, move sessions and cards.

Commands that read or write data work in-process (this machine's settings and database)
or, with --url and --token, against a running server through its REST API. A bad file or
a refused request ends with a one-line error and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app import cli_common as common
from app.calibration import calibrate_command
from app.catalog import Catalog
from app.cli_assignments import assignments
from app.cli_llm import llm_check
from app.cli_options import OutputOption, TokenOption, UrlOption
from app.cli_personas import personas
from app.cli_practise import practise
from app.cli_usage import usage_command
from app.cli_users import users
from app.engine.grader import HEURISTIC_GRADER

if TYPE_CHECKING:
    import httpx

    from app.drills import Drill, DrillResult, Player
    from app.transfer import ExportBundle

cli = typer.Typer(help="Sparring: practise with difficult clients.", no_args_is_help=True)
cli.add_typer(personas, name="personas")
cli.add_typer(users, name="users")
cli.add_typer(assignments, name="assignments")
cli.command("practise")(practise)
cli.command("calibrate")(calibrate_command)
cli.command("llm-check")(llm_check)
cli.command("usage")(usage_command)


@cli.callback()
def _settings_first() -> None:
    # SPARRING_* variables and .env are read before any command: a bad one is one line
    from pydantic import ValidationError

    from app.config import get_settings, settings_problem

    try:
        get_settings()
    except ValidationError as exc:
        common.fail(settings_problem(exc))


# ---------------------------------------------------------------- serve


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: SPARRING_HOST or 127.0.0.1")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="default: SPARRING_PORT or 8000")
    ] = None,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="server processes, up to one per core (SPARRING_WORKERS)"),
    ] = None,
) -> None:
    """Start the web service."""
    import uvicorn

    from app.cli_users import database_engine

    settings = common.settings()
    common.catalog()  # a card that does not validate is one line here, not a failed start-up
    database_engine(settings.database_url).dispose()  # so is a database URL it cannot use
    workers = workers or settings.workers
    if workers > 1:
        if reload:
            raise typer.BadParameter("--reload runs a single process; leave out --workers")
        from app.main import prepare_database

        prepare_database(settings).dispose()  # once, before the workers race for it
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        workers=workers,
    )


# ---------------------------------------------------------------- drills


@cli.command()
def drill(
    files: Annotated[list[Path], typer.Argument(help="drill files, or folders of *.yaml drills")],
    url: UrlOption = None,
    token: TokenOption = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="write a JUnit XML report here")
    ] = None,
) -> None:
    """Play drill files and check their expectations; exit 1 if any fails (for CI)."""
    from app import drills

    catalog = common.catalog()
    loaded: list[tuple[Path, Drill]] = []
    problems: list[str] = []
    for path in drills.drill_paths(files):
        try:
            loaded.append((path, drills.load_drill(path, catalog)))
        except drills.DrillError as exc:
            problems.append(str(exc))
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        common.fail(f"{len(problems)} drill file(s) are invalid; nothing was played", 2)
    if not loaded:
        common.fail("no drill files found", 2)
    with _player(catalog, url, token) as player:
        results = _play_all(loaded, player)
    _report(results)
    if junit is not None:
        common.write(drills.junit_xml(results), junit)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@contextmanager
def _player(catalog: Catalog, url: str | None, token: str | None) -> Iterator[Player]:
    from app import drills

    if url:
        with common.remote(url, token) as client:
            yield lambda d: drills.play_remote(d, client)
        return
    from app.engines import build_engines

    engines = build_engines(common.settings(), catalog)
    yield lambda d: drills.play_in_memory(d, catalog, engines)


def _play_all(loaded: list[tuple[Path, Drill]], player: Player) -> list[DrillResult]:
    from app import drills

    results = []
    for number, (path, item) in enumerate(loaded, start=1):
        typer.echo(f"[{number}/{len(loaded)}] {path} ... ", err=True, nl=False)
        result = drills.run_drill(path, item, player)
        verdict = "ok" if result.ok else ("ERROR" if result.error else "FAIL")
        typer.echo(f"{verdict} ({result.seconds:.2f}s)", err=True)
        results.append(result)
    return results


def _report(results: list[DrillResult]) -> None:
    rows = []
    for r in results:
        run = r.run
        status = "ok" if r.ok else ("ERROR" if r.error else "FAIL")
        rows.append(
            (
                r.path.name,
                r.drill.persona,
                r.drill.language,
                r.drill.difficulty,
                f"{run.turns_played}/{len(r.drill.turns)}" if run else "-",
                (run.outcome or "-") if run else "-",
                run.score if run else "-",
                status,
            )
        )
    headers = ("drill", "persona", "lang", "level", "turns", "outcome", "score", "result")
    typer.echo(common.table(headers, rows))
    for r in results:
        for problem in [r.error] if r.error else r.failures:
            typer.echo(f"{'ERROR' if r.error else 'FAIL'} {r.path}: {problem}")
    failed = sum(1 for r in results if not r.ok)
    typer.echo(f"{len(results)} drills: {len(results) - failed} passed, {failed} failed")


# ---------------------------------------------------------------- grading a real chat


@cli.command()
def grade(
    file: Annotated[
        Path, typer.Argument(help="JSON, a 'Name: text' chat log or a WhatsApp export")
    ],
    persona: Annotated[str, typer.Option("--persona", help="the persona the client is closest to")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="it or en; default: the chat's own language")
    ] = None,
    trainee: Annotated[
        str | None,
        typer.Option(
            "--trainee", help="the trainee's name in a chat log; the others are the client"
        ),
    ] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="offline or llm")] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the grade as JSON")] = False,
) -> None:
    """Grade a conversation recorded elsewhere against a persona's techniques."""
    from app.chat_grading import recent
    from app.chatlog import ChatLogError, read_chatlog
    from app.language import guess_language

    try:
        log = read_chatlog(common.read_bytes(file), trainee=trainee)
    except ChatLogError as exc:
        common.fail(f"{file}: {exc}")
    lines = recent(log.lines)
    language = common.language(lang) if lang else guess_language(text for _, text in lines)
    read_as = (
        "" if lang else f", in {'Italian' if language == 'it' else 'English'} (--lang to choose)"
    )
    typer.echo(
        f"{file}: {log.format}, {len(log.lines)} messages ({log.skipped} left out){read_as}",
        err=True,
    )
    if len(lines) < len(log.lines):
        typer.echo(f"grading the last {len(lines)} of them", err=True)
    if url:
        body = {
            "persona_id": persona,
            "language": language,
            "engine": engine,
            "messages": [{"role": role, "content": text} for role, text in lines],
        }
        with common.remote(url, token) as client:
            report = common.call(client, "POST", "/api/grade", json=body).json()
    else:
        report = _grade_here(persona, language, engine, lines)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    rows = [
        (c["technique_id"], c["verdict"], "; ".join(e["quote"] for e in c["evidence"])[:70])
        for c in report["criteria"]
    ]
    typer.echo(common.table(("technique", "verdict", "evidence"), rows))
    typer.echo(report["summary"])
    if report["grader"] == HEURISTIC_GRADER:  # how far to trust it, as the pages say
        from app.web.i18n import Translator

        typer.echo(Translator(language)("report.heuristic_note"), err=True)


def _grade_here(
    persona_id: str, language: Any, engine: str | None, lines: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    from app.engine.grader import TranscriptMessage
    from app.engine.llm_grader import GradeFailed
    from app.engines import build_engines

    catalog = common.catalog()
    persona = common.persona(catalog, persona_id)
    engines = build_engines(common.settings(), catalog)
    chosen = engines.get(engine or engines.default)
    if chosen is None:
        common.fail(f"the '{engine}' engine is not configured here (set SPARRING_LLM_BASE_URL)")
    messages = [
        TranscriptMessage(seq=i, role=role, content=text)  # type: ignore[arg-type]
        for i, (role, text) in enumerate(lines, start=1)
    ]
    try:
        result = chosen.grader.grade(
            catalog=catalog, persona=persona, language=language, messages=messages, calls=[]
        )
    except GradeFailed as exc:
        common.fail(f"grading failed: {exc}")
    return result.model_dump(mode="json") | {"language": language}  # as the API's report


@cli.command("reviews-to-gold")
def reviews_to_gold(
    folder: Annotated[Path, typer.Argument(help="where to write the gold files (created)")],
    reviewer: Annotated[
        str | None, typer.Option("--reviewer", help="one coach's verdicts only (username)")
    ] = None,
    persona: Annotated[str | None, typer.Option("--persona", help="one persona's sessions")] = None,
) -> None:
    """Write the sessions coaches gave verdicts on as gold files, for `sparring calibrate`.

    The coaches' verdicts are the labels; `sparring calibrate --gold-dir FOLDER` then says how
    far the grader agrees with your own coaches, on your own trainees' conversations."""
    from sqlmodel import select

    from app.calibration import export_reviews_as_gold, gold_yaml, reviewed_sessions
    from app.models import User

    if persona is not None:
        common.persona(common.catalog(), persona)
    with common.database() as db:
        reviewer_id = None
        if reviewer is not None:
            found = db.exec(select(User).where(User.username == reviewer)).first()
            if found is None:
                common.fail(f"no user named '{reviewer}' here")
            reviewer_id = found.id
        ids = reviewed_sessions(db, reviewer_id=reviewer_id, persona_id=persona)
        if not ids:
            by = f" by {reviewer}" if reviewer else ""
            common.fail(f"no session has a coach's verdict{by} yet: review some on the desk first")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for session_id in ids:
                gold = export_reviews_as_gold(db, session_id, reviewer_id=reviewer_id)
                name = f"{gold['persona']}-{gold['language']}-{session_id}.yaml"
                (folder / name).write_text(gold_yaml(gold), encoding="utf-8")
        except OSError as exc:
            common.fail(f"cannot write to {folder}: {exc}")
    typer.echo(f"wrote {len(ids)} gold files to {folder}")
    typer.echo(f"next: sparring calibrate --gold-dir {folder} [--engine llm]")


@cli.command("purge")
def purge_command(
    before: Annotated[
        str, typer.Option("--before", help="sessions last active before this date (YYYY-MM-DD)")
    ],
    trainee: Annotated[
        str | None, typer.Option("--trainee", help="one trainee's sessions only (username)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="delete; without it, only count")] = False,
) -> None:
    """Delete old sessions with their messages, grades and reviews (a retention policy).

    Without --yes it only says what would go. Model-call records stay, without their
    session, for `sparring usage`."""
    from datetime import UTC, datetime

    from sqlmodel import select

    from app import retention
    from app.models import User

    try:
        cutoff = datetime.strptime(before, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        common.fail(f"--before must be a date like 2026-01-31, not {before!r}", 2)
    with common.database() as db:
        named = select(User).where(User.username == trainee)
        if trainee is not None and db.exec(named).first() is None:
            common.fail(f"no user named '{trainee}' here")
        ids = retention.stale_sessions(db, before=cutoff, username=trainee)
        counts = retention.purge(db, ids) if yes else retention.count(db, ids)
    what = (
        f"{counts.sessions} sessions last active before {before} "
        f"({counts.messages} messages, {counts.grades} grades, {counts.reviews} coach reviews)"
    )
    typer.echo(f"deleted {what}" if yes else f"would delete {what}; add --yes to delete them")


# ---------------------------------------------------------------- export and import


@cli.command("export")
def export_(
    persona: Annotated[str | None, typer.Option("--persona")] = None,
    status: Annotated[str | None, typer.Option("--status", help="active or ended")] = None,
    trainee: Annotated[str | None, typer.Option("--trainee", help="a trainee's username")] = None,
    session: Annotated[str | None, typer.Option("--session", help="one session by id")] = None,
    format: Annotated[
        str, typer.Option("--format", help="json (re-importable), md or csv")
    ] = "json",
    output: OutputOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Export stored sessions (all of them here, or those your token may see with --url)."""
    from app import transfer
    from app.errors import ServiceError

    if format not in ("json", "md", "csv"):
        common.fail(f"--format must be json, md or csv, not {format!r}", 2)
    if status not in (None, "active", "ended"):
        common.fail(f"--status must be active or ended, not {status!r}", 2)
    filters = {"persona": persona, "status": status, "trainee": trainee, "session": session}
    bundle = _fetch_bundle(filters, url, token)
    if format == "json":
        text = json.dumps(bundle.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    elif format == "csv":
        text = transfer.grades_csv(bundle)
    else:
        try:
            text = transfer.bundle_markdown(common.catalog(), bundle)
        except ServiceError as exc:
            common.fail(str(exc))
    typer.echo(f"{len(bundle.sessions)} sessions", err=True)
    common.write(text, output)


def _fetch_bundle(
    filters: dict[str, str | None], url: str | None, token: str | None
) -> ExportBundle:
    from app import transfer

    if url:
        params = {k: v for k, v in filters.items() if v}
        with common.remote(url, token) as client:
            data = common.call(client, "GET", "/api/exports/sessions.json", params=params).json()
        return transfer.ExportBundle.model_validate(data)
    with common.database() as db:
        return transfer.export_sessions(
            db=db,
            user=None,
            persona_id=filters["persona"],
            status=filters["status"],
            trainee=filters["trainee"],
            session_id=filters["session"],
        )


IMPORT_PART_BYTES = 4 * 1024 * 1024  # well under the server's default upload limit


def _import_in_parts(client: httpx.Client, bundle: ExportBundle) -> dict[str, int]:
    """POST a bundle as parts of whole sessions, each under the server's body limit: a class's
    export is larger than one request may be. A 413 names the limit; the rest is sent in parts
    that fit it. Sessions already imported are skipped, so a part sent twice changes nothing."""
    head = json.dumps(bundle.model_dump(mode="json", exclude={"sessions"}) | {"sessions": []})
    prefix = head.encode().removesuffix(b"]}")
    sessions = [json.dumps(s.model_dump(mode="json")).encode() for s in bundle.sessions]
    budget, totals = IMPORT_PART_BYTES, Counter[str]()
    while sessions:
        size, count = len(head), 0
        while count < len(sessions) and (count == 0 or size + len(sessions[count]) < budget):
            size, count = size + len(sessions[count]) + 1, count + 1
        response = common.call(
            client,
            "POST",
            "/api/imports/sessions",
            content=prefix + b",".join(sessions[:count]) + b"]}",
            headers={"content-type": "application/json"},
            allow=(413,),
        )
        if response.status_code == 413:
            limit = response.json().get("params", {}).get("limit")
            if count == 1 or not isinstance(limit, int) or limit >= budget:
                from app.drills import error_text

                common.fail(f"the server answered 413: {error_text(response)}")
            budget = limit
            continue
        totals.update(response.json())
        sessions = sessions[count:]
    return dict(totals)


@cli.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="a JSON export (sparring export, or the API's)")],
    owner: Annotated[
        str,
        typer.Option("--owner", help="here: the user importing (trainees not found go to them)"),
    ] = "admin",
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Import exported sessions; sessions already present (same id) are skipped."""
    from pydantic import ValidationError
    from sqlmodel import select

    from app import transfer
    from app.errors import ServiceError
    from app.models import User

    try:
        data = json.loads(common.read_bytes(file).decode("utf-8-sig"))
        if isinstance(data, dict) and "session" in data and "sessions" not in data:
            common.fail(
                f"{file} is one session's download (its report card's Export JSON): import "
                "takes a file from `sparring export` or GET /api/exports/sessions.json"
            )
        bundle = transfer.ExportBundle.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        common.fail(f"{file}: not a Sparring export: {where}: {first['msg']}")
    except ValueError as exc:  # not UTF-8, not JSON
        common.fail(f"{file}: not a Sparring export: {exc}")
    if url:
        with common.remote(url, token) as client:
            counts = _import_in_parts(client, bundle)
    else:
        catalog = common.catalog()
        with common.database() as db:
            user = db.exec(select(User).where(User.username == owner)).first()
            if user is None:
                common.fail(f"no user named '{owner}' here: pass --owner with an existing username")
            try:
                result = transfer.import_sessions(db=db, catalog=catalog, user=user, bundle=bundle)
            except ServiceError as exc:
                common.fail(str(exc))
            counts = result.model_dump()
    typer.echo(
        f"imported {counts['sessions']} sessions ({counts['messages']} messages, "
        f"{counts['grades']} grades, {counts['reviews']} coach reviews, {counts['calls']} "
        f"model calls); skipped {counts['skipped']} already present; given to the importer: "
        f"{counts['reassigned']} sessions, {counts['reviews_reassigned']} reviews"
    )


def main() -> None:
    cli()
