"""Options several `sparring` commands share, declared once so they read the same in --help."""

from pathlib import Path
from typing import Annotated

import typer

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="SPARRING_URL", help="a running server, e.g. http://127.0.0.1:8000"
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="SPARRING_TOKEN", help="API token for --url"),
]
LangOption = Annotated[
    str | None,
    typer.Option("--lang", help="it or en (default: SPARRING_LANGUAGE, it)"),
]
OutputOption = Annotated[
    Path | None, typer.Option("-o", "--output", help="default: standard output")
]
ForceOption = Annotated[bool, typer.Option("--force", help="overwrite an existing file")]
