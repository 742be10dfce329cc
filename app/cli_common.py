"""What every `sparring` command shares: a one-line failure, this machine's settings,
catalogue and database, a client for a running server, and plain-text output."""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import typer

from app.catalog import Catalog, CatalogError, Language, Persona, load_catalog

if TYPE_CHECKING:
    import httpx
    from sqlmodel import Session

    from app.config import Settings


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    from app.config import get_settings

    return get_settings()


def catalog() -> Catalog:
    found = settings()
    try:
        return load_catalog(found.personas_dir, found.prompts_dir)
    except CatalogError as exc:
        fail(str(exc))


def persona(catalog: Catalog, persona_id: str) -> Persona:
    found = catalog.personas.get(persona_id)
    if found is None:
        fail(f"unknown persona '{persona_id}'; known: {', '.join(sorted(catalog.personas))}")
    return found


def language(value: str | None) -> Language:
    """--lang as given, or SPARRING_LANGUAGE when it is left out."""
    if value is None:
        return settings().language
    if value not in ("it", "en"):
        fail(f"--lang must be it or en, not {value!r}", 2)
    return cast("Language", value)


@contextmanager
def remote(url: str, token: str | None) -> Iterator[httpx.Client]:
    """An HTTP client for the server at `url`, sending the API token."""
    import httpx

    if not token:
        fail("--url needs an API token: --token or SPARRING_TOKEN", 2)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=300) as client:
        yield client


def call(
    client: httpx.Client, method: str, path: str, allow: Container[int] = (), **kwargs: Any
) -> httpx.Response:
    """One request; a network error or a 4xx/5xx (but those in `allow`) ends the command with
    the server's words."""
    import httpx

    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {client.base_url}: {exc}")
    if response.status_code >= 400 and response.status_code not in allow:
        from app.drills import error_text

        fail(f"the server answered {response.status_code}: {error_text(response)}")
    return response


@contextmanager
def database() -> Iterator[Session]:
    """This machine's database, as the server configured here uses it."""
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from sqlmodel import Session

    from app.cli_users import database_engine, one_line, shown_url

    url = settings().database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        fail(f"no database at {url}: start the server once (sparring serve) to create it")
    engine = database_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            yield db
    except (OperationalError, ProgrammingError) as exc:
        fail(
            f"cannot use the database {shown_url(url)}: {one_line(exc)}; start the server once "
            "to create it"
        )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")
    typer.echo(f"wrote {output}", err=True)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
