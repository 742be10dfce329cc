"""Profile the slowest path with pyinstrument: full sessions on the `llm` engine (start, turns,
end with the llm grader) against the instant stub, one trainee at a time.

The app runs under uvicorn in a child process (`python -m bench.profiling serve`) where the
thread pool is replaced by inline calls, so one sampling profiler on the event loop's thread
sees a whole request, and each request is profiled on its own (pyinstrument's async mode),
then all are combined. What this leaves out, the hop to a worker thread and back, is small
for one request at a time; under load see the turn benchmark's CPU figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, Config, Database, Server, Services, app_env, provision
from bench.load import Recorder, app_trainee, crowd
from bench.report import table

INTERVAL = 0.0002  # seconds between samples
RESET = "/__profile/reset"
APP_DIR = f"{ROOT / 'app'}{os.sep}"
AREAS = (  # a frame's file → what it is, first match wins
    (APP_DIR, "app code (app/)"),
    ("sqlalchemy", "database (SQLAlchemy, driver)"),
    ("sqlmodel", "database (SQLAlchemy, driver)"),
    ("psycopg", "database (SQLAlchemy, driver)"),
    ("sqlite3", "database (SQLAlchemy, driver)"),
    ("openai", "model client (openai, httpx)"),
    ("httpx", "model client (openai, httpx)"),
    ("httpcore", "model client (openai, httpx)"),
    ("h11", "model client (openai, httpx)"),
    ("socket", "model client (openai, httpx)"),
    ("ssl", "model client (openai, httpx)"),
    (f"{ROOT / 'bench'}{os.sep}", "the profiler's own wrapper"),
    ("jinja2", "templates (jinja2)"),
    ("pydantic", "validation and JSON (pydantic, json)"),
    ("/json/", "validation and JSON (pydantic, json)"),
    ("fastapi", "web framework (fastapi, starlette, uvicorn, anyio)"),
    ("starlette", "web framework (fastapi, starlette, uvicorn, anyio)"),
    ("uvicorn", "web framework (fastapi, starlette, uvicorn, anyio)"),
    ("anyio", "web framework (fastapi, starlette, uvicorn, anyio)"),
    ("asyncio", "web framework (fastapi, starlette, uvicorn, anyio)"),
)


# ---------------------------------------------------------------- the profiled server (child)


def _inline_threadpool() -> None:
    """Run FastAPI's sync routes and dependencies on the event loop thread (before FastAPI is
    imported): one request at a time, this changes nothing but where the code runs."""
    import anyio.to_thread

    async def inline(func: Any, *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]


class ProfileRequests:
    """ASGI wrapper: profile each HTTP request by itself; keep the sessions."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sessions: list[Any] = []
        self.routes: Counter[str] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        if scope["path"] == RESET:  # the warm-up is over: forget what was profiled
            self.sessions.clear()
            self.routes.clear()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        from pyinstrument import Profiler

        profiler = Profiler(interval=INTERVAL, async_mode="enabled")
        profiler.start()
        try:
            await self.app(scope, receive, send)
        finally:
            self.sessions.append(profiler.stop())
            self.routes[f"{scope['method']} {_route(scope['path'])}"] += 1


def _route(path: str) -> str:
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[:2] == ["api", "sessions"]:
        parts[2] = "{id}"
    return "/" + "/".join(parts)


def serve(port: int, out: Path) -> None:
    _inline_threadpool()
    import uvicorn
    from pyinstrument.session import Session

    from app.main import create_app

    wrapped = ProfileRequests(create_app())
    config = uvicorn.Config(
        wrapped, host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()  # until SIGINT
    if wrapped.sessions:
        combined = functools.reduce(Session.combine, wrapped.sessions)
        combined.save(str(out))
    routes = ", ".join(f"{route} ×{n}" for route, n in wrapped.routes.most_common())
    out.with_suffix(".routes").write_text(routes)


# ---------------------------------------------------------------- the run (parent)


@dataclass
class Prepared:
    server: Server
    token: str
    out: Path


def prepare(cfg: Config, services: Services) -> Prepared:
    """The profiled server and its trainee, registered with `services` so that it starts with
    the next servers a benchmark starts (start-up is mostly imports: side by side is faster)."""
    out = cfg.workdir / "profile.json"
    db = services.stack.enter_context(Database.sqlite(cfg.workdir, "profile"))
    engine = db.engine()
    token = provision(engine, trainees=1).trainees[0][2]
    engine.dispose()
    argv = [sys.executable, "-m", "bench.profiling", "serve", "--out", str(out)]
    env = app_env(db.url, services.stub.base_url)
    server = Server("app-profiled", "", env=env, logdir=cfg.workdir, argv=argv)
    services.register(server)
    return Prepared(server, token, out)


def run(cfg: Config, services: Services, prepared: Prepared | None = None) -> list[str]:
    """Profile, and return the Markdown for RESULTS.md."""
    prepared = prepared or prepare(cfg, services)
    server, out = prepared.server, prepared.out
    services.start(server)

    def trainee(http: httpx.AsyncClient, rec: Recorder, i: int) -> Awaitable[None]:
        return app_trainee(http, rec, token=prepared.token, engine="llm", number=i)

    # a warm-up session first (first calls build caches, import lazily), not profiled
    asyncio.run(crowd(server.url, concurrency=1, warmup=0, duration=0.01, trainee=trainee))
    httpx.post(server.url + RESET, timeout=10).raise_for_status()
    rec = asyncio.run(
        crowd(server.url, concurrency=1, warmup=0.0, duration=cfg.profile_duration, trainee=trainee)
    )
    server.stop()  # the profile is written as the server stops
    if not out.exists():
        return [f"No profile was written; the server's log:\n\n```\n{server.tail()}\n```"]
    return describe(out, rec)


def _area(stack: list[str]) -> str:
    """The library of the innermost frame that belongs to one (the standard library and
    built-ins count for the library that called them)."""
    for frame in reversed(stack):
        parts = frame.split("\x01")[0].split("\x00")
        filename = parts[1] if len(parts) > 1 else ""
        for key, name in AREAS:
            if filename.startswith(key) if key.startswith(os.sep) else key in filename:
                return name
    return "other"


def describe(path: Path, rec: Recorder) -> list[str]:
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    session = Session.load(str(path))
    routes = path.with_suffix(".routes").read_text() if path.with_suffix(".routes").exists() else ""
    total = sum(seconds for _, seconds in session.frame_records) or 1.0
    areas: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for stack, seconds in session.frame_records:
        areas[_area(stack)] += seconds
        seen = set()
        for frame in stack:
            parts = frame.split("\x01")[0].split("\x00")
            if len(parts) > 1 and parts[1].startswith(APP_DIR) and parts[0] not in seen:
                seen.add(parts[0])
                own[f"`{parts[0]}` ({parts[1].removeprefix(APP_DIR)})"] += seconds
    requests = sum(len(rec.samples.get(k, [])) for k in ("start", "turn", "end"))
    area_rows = [[name, f"{100 * s / total:.1f} %"] for name, s in areas.most_common()]
    app_rows = [  # the middlewares every request passes through say nothing
        [name, f"{100 * s / total:.1f} %"] for name, s in own.most_common(16) if s < 0.99 * total
    ]
    tree = ConsoleRenderer(
        unicode=True,
        color=False,
        time="percent_of_total",
        processor_options={"filter_threshold": 0.015, "hide_regex": r".*/(anyio|asyncio)/.*"},
    ).render(session)
    lines = [line for line in tree.splitlines() if line.strip()]
    return [
        f"pyinstrument, every {INTERVAL * 1e6:.0f} µs, over {requests} requests of full `llm` "
        f"sessions played by one trainee against the instant stub (requests: {routes}). "
        f"Wall time of the requests: {total:.2f} s, {1000 * total / max(requests, 1):.1f} ms "
        "per request. Time by library (the innermost frame's; the standard library and built-ins "
        "count for their caller):",
        "",
        *table(["where", "share of request time"], area_rows),
        "",
        "Inclusive time of the app's own functions:",
        "",
        *table(["function", "share"], app_rows),
        "",
        "<details><summary>Call tree (frames under 1.5 % hidden)</summary>",
        "",
        "```text",
        *lines[:160],
        "```",
        "",
        "</details>",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve", help="the app under the profiler (used by `run`)")
    serve_cmd.add_argument("--port", type=int, required=True)
    serve_cmd.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.monotonic()
    serve(args.port, args.out)
    print(f"profiled for {time.monotonic() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
