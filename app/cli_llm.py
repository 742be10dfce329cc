"""`sparring llm-check`: the configured model endpoint, tried the way a session uses it (an
opening, a reply, a grade), before a class meets it: what works, how fast, what it refused."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from app import cli_common as common
from app.cli_options import LangOption
from app.engine.actors import Reply


class _Clock:
    """How long the trainee waits for the first words of an answer, and for the whole of it."""

    def __init__(self) -> None:
        self.started = self.first = 0.0

    def start(self) -> None:
        self.started, self.first = time.perf_counter(), 0.0

    def event(self, item: str | Reply) -> None:
        if not isinstance(item, Reply) and not self.first:
            self.first = time.perf_counter()

    def line(self, what: str, replies: list[Reply]) -> str:
        done = time.perf_counter()
        said = " / ".join(r.content for r in replies)
        return (
            f"{what} in {done - self.started:.2f} s (first words after "
            f"{(self.first or done) - self.started:.2f} s): {said[:160]!r}"
        )


def llm_check(
    persona: Annotated[str, typer.Option(help="the client who plays")] = "free-advice-seeker",
    lang: LangOption = None,
) -> None:
    """Try the model endpoint the `llm` engine is configured for, as a session would."""
    from app.config import get_settings
    from app.engine.llm import CallRecord, LLMError
    from app.engine.llm_grader import GradeFailed
    from app.engine.script import Rehearsal
    from app.engines import build_engines

    settings = get_settings()
    if not settings.llm_configured:
        common.fail(
            "no model endpoint is configured: set SPARRING_LLM_BASE_URL (a local or hosted "
            "OpenAI-compatible server) or SPARRING_LLM_API_KEY (OpenAI)"
        )
    lang = common.language(lang)
    catalog = common.catalog()
    played = common.persona(catalog, persona)
    engine = build_engines(settings, catalog).available["llm"]
    typer.echo(
        f"endpoint {settings.llm_base_url or 'OpenAI'}; actor model {settings.actor_model}, "
        f"grader model {settings.grader_model}"
    )
    clock, calls = _Clock(), list[CallRecord]()
    step = "the opening"
    try:
        clock.start()
        session = Rehearsal(
            catalog=catalog,
            persona=played,
            language=lang,  # type: ignore[arg-type]
            difficulty="medium",
            seed=1,
            actor=engine.actor,
            on_event=clock.event,
            calls=calls,
        )
        typer.echo(clock.line("actor: the opening", session.opening))
        step = "a reply"
        clock.start()
        turn = session.say(catalog.texts["llm"]["check"](lang))
        typer.echo(clock.line("actor: a reply", turn.replies))
        step, started = "the grade", time.perf_counter()
        result = engine.grader.grade(
            catalog=catalog,
            persona=played,
            language=lang,  # type: ignore[arg-type]
            messages=session.transcript,
            calls=calls,
        )
    except (LLMError, GradeFailed) as exc:
        common.fail(f"{step} failed: {exc}")
    client: Any = getattr(engine.grader, "client", None)
    typer.echo(
        f"grader: a grade in {time.perf_counter() - started:.2f} s, {len(result.criteria)} "
        f"techniques, score {result.score}; structured output: {client.structured}"
    )
    counted = [c for c in calls if c.tokens_in is not None]
    typer.echo(
        f"token counts reported for {len(counted)} of {len(calls)} calls; fields the model "
        f"refused: {', '.join(f'{m}: {f}' for m, f in sorted(client.refused)) or 'none'}"
    )
    typer.echo("ok: the llm engine works with this endpoint")
