"""Profile the slowest path where it is slow: py-spy samples the app server of benchmark 1 (one
uvicorn process, the `llm` engine, SQLite) while the crowd of trainees plays full sessions
against the instant stub.

`--gil` keeps only the samples of the thread holding the GIL, so the profile says where the
server's CPU goes: the event loop, the worker threads, the hops between them. Threads waiting
for the pool, SQLite's lock or the network hold no GIL and do not count. An in-process profiler
with the thread pool inlined shows none of the hops; this is why the profile is taken here.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path

import httpx

from bench.common import ROOT, Config, Services
from bench.load import Recorder, app_trainee, crowd
from bench.report import table

RATE = 250  # samples per second
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
APP_DIR = f"{ROOT / 'app'}/"
LIBRARIES = (  # a frame's file → what it is, first match wins
    (APP_DIR, "app code (app/)"),
    ("sqlalchemy", "database (SQLAlchemy, sqlite3)"),
    ("sqlmodel", "database (SQLAlchemy, sqlite3)"),
    ("sqlite3", "database (SQLAlchemy, sqlite3)"),
    ("openai", "model client (openai, httpx)"),
    ("httpx", "model client (openai, httpx)"),
    ("httpcore", "model client (openai, httpx)"),
    ("h11", "model client (openai, httpx)"),
    ("pydantic", "validation and JSON (pydantic, json)"),
    ("/json/", "validation and JSON (pydantic, json)"),
    ("jinja2", "templates (jinja2)"),
    ("fastapi", "web framework (FastAPI, Starlette)"),
    ("starlette", "web framework (FastAPI, Starlette)"),
    ("uvicorn", "server and event loop (uvicorn, asyncio)"),
    ("asyncio", "server and event loop (uvicorn, asyncio)"),
    ("anyio", "thread pool hops (anyio, threading, queue)"),
    ("threading.py", "thread pool hops (anyio, threading, queue)"),
    ("queue.py", "thread pool hops (anyio, threading, queue)"),
    ("concurrent", "thread pool hops (anyio, threading, queue)"),
)


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("py-spy is not installed: `pip install -e '.[dev]'`")
    return found


def run(cfg: Config, services: Services) -> list[str]:
    """Profile, and return the Markdown for RESULTS.md."""
    app, tokens = services.app, services.tokens
    services.start(app)
    assert app.proc is not None
    out = cfg.workdir / "profile.txt"

    def trainee(http: httpx.AsyncClient, rec: Recorder, i: int) -> Awaitable[None]:
        return app_trainee(http, rec, token=tokens[i], engine="llm", number=i)

    seconds = max(1, round(cfg.profile_duration))
    argv = [py_spy(), "record", "--pid", str(app.proc.pid), "--rate", str(RATE), "--gil"]
    argv += ["--nonblocking", "--full-filenames", "--format", "raw", "--duration", str(seconds)]
    argv += ["--output", str(out)]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rec = asyncio.run(
        crowd(app.url, concurrency=cfg.concurrency, warmup=0.5, duration=seconds, trainee=trainee)
    )
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0 or not out.exists():
        return [f"py-spy failed ({spy.returncode}):", "", "```text", err.decode()[-2000:], "```"]
    requests = sum(len(rec.measured(kind)) for kind in ("start", "turn", "end"))
    return describe(out.read_text(), cfg.concurrency, requests, seconds)


def _frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) from the outermost frame in; py-spy's raw lines are `f (file:line);…`."""
    frames = []
    for part in stack.split(";"):
        if found := _FRAME.match(part):
            frames.append((found["function"], found["file"]))
    return frames


def _library(frames: list[tuple[str, str]]) -> str:
    """The innermost frame that belongs to a known library (the standard library and
    built-ins count for their caller)."""
    for _, filename in reversed(frames):
        for key, name in LIBRARIES:
            if filename.startswith(key) if key.startswith("/") else key in filename:
                return name
    return "other"


def _name(function: str, path: str) -> str:
    if "site-packages/" in path:
        path = path.split("site-packages/")[-1]
    elif path.startswith(f"{ROOT}/"):
        path = path.removeprefix(f"{ROOT}/")
    else:
        path = Path(path).name  # the standard library
    return f"`{function}` ({path})"


def describe(raw: str, concurrency: int, requests: int, seconds: int) -> list[str]:
    total = 0
    libraries: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n, frames = int(count), _frames(stack)
        total += n
        libraries[_library(frames)] += n
        for name in {_name(fn, path) for fn, path in frames if path.startswith(APP_DIR)}:
            inclusive[name] += n
        if frames:
            fn, path = frames[-1]
            own[_name(fn, path)] += n
    if not total:
        return ["py-spy recorded no samples."]

    def share(n: int) -> str:
        return f"{100 * n / total:.1f} %"

    return [
        f"py-spy (`record --gil --rate {RATE}`) on the app server of benchmark 1 for {seconds} s "
        f"while {concurrency} trainees played full `llm` sessions against the instant stub "
        f"({requests} requests, {total:,} samples). Only the thread holding the GIL is sampled: "
        "this is where the server's CPU goes. By library (the innermost frame's; the standard "
        "library and built-ins count for their caller):",
        "",
        *table(
            ["where", "share of server CPU"], [[k, share(v)] for k, v in libraries.most_common()]
        ),
        "",
        "The app's own functions, inclusive (a request's route function includes what it calls):",
        "",
        *table(["function", "share"], [[k, share(v)] for k, v in inclusive.most_common(18)]),
        "",
        "Hottest functions by self time (where the samples land):",
        "",
        *table(["function", "share"], [[k, share(v)] for k, v in own.most_common(15)]),
    ]
