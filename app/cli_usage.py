"""`sparring usage`: the model calls of this machine's database, summed by purpose and model
(calls, failures, tokens, latency), over the last days."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from app import cli_common as common


def usage_command(
    days: Annotated[int, typer.Option(min=1, max=36_500, help="the last N days")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="the rows as JSON")] = False,
) -> None:
    """What the model endpoint was asked over the last days, and what it cost in tokens."""
    from app.models import utcnow
    from app.usage import usage

    since = utcnow() - timedelta(days=days)
    with common.database() as db:
        rows = usage(db, since=since)
    if as_json:
        typer.echo(json.dumps([row.model_dump() for row in rows], indent=2))
        return
    shown = since.strftime("%Y-%m-%d %H:%M UTC")
    if not rows:
        typer.echo(f"no model calls since {shown}")
        return
    typer.echo(f"model calls since {shown}")
    headers = ("purpose", "model", "calls", "failed", "tokens in", "tokens out", "uncounted")
    table = [
        (r.purpose, r.model, r.calls, r.errors, f"{r.tokens_in:,}", f"{r.tokens_out:,}")
        + (r.uncounted, f"{r.mean_latency_ms:,} ms")
        for r in rows
    ]
    typer.echo(common.table((*headers, "mean latency"), table))
    calls = sum(r.calls for r in rows)
    tokens_in, tokens_out = sum(r.tokens_in for r in rows), sum(r.tokens_out for r in rows)
    typer.echo(f"total: {calls} calls, {tokens_in:,} tokens in, {tokens_out:,} out")
