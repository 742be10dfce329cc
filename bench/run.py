"""Run the benchmarks and write bench/RESULTS.md.

    python -m bench                     # everything, full sizes (make bench)
    python -m bench --quick             # smoke sizes, seconds
    python -m bench --only turns,storage --output /tmp/RESULTS.md

PostgreSQL is used for the storage benchmark when --postgres-url (or
SPARRING_BENCH_DATABASE_URL, else SPARRING_TEST_DATABASE_URL) reaches a server; each run
works in a database of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bench import grader_cost, offline, profiling, storage, turns
from bench.common import ROOT, Config, Services, machine, postgres_reachable
from bench.report import Result, render, write

BENCHMARKS = ("turns", "offline", "storage", "grader", "profile")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke sizes (seconds, not minutes)")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated: {','.join(BENCHMARKS)}"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SPARRING_BENCH_DATABASE_URL")
        or os.environ.get("SPARRING_TEST_DATABASE_URL")
        or DEFAULT_PG,
        help="a PostgreSQL server to create throwaway databases on ('' for none)",
    )
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.only = [b.strip() for b in args.only.split(",") if b.strip()]
    if unknown := set(args.only) - set(BENCHMARKS):
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return args


def run(cfg: Config, only: list[str], log: Callable[[str], None]) -> tuple[list[Result], list[str]]:
    """Run the chosen benchmarks; a benchmark that crashes is reported, the others still run."""
    results: list[Result] = []
    profile: list[str] = []

    def guarded(key: str, title: str, body: Callable[[], list[Result]]) -> None:
        if key not in only:
            return
        log(f"bench: {title}…")
        started = time.monotonic()
        try:
            found = body()
        except Exception:  # noqa: BLE001 - report it and carry on with the next benchmark
            found = [Result(key, title, errors=[traceback.format_exc()])]
        for result in found:
            log(f"bench:   {result.title}: {time.monotonic() - started:.0f} s")
        results.extend(found)

    with Services(cfg) as services:
        guarded("turns", "turn overhead and streaming", lambda: turns.run(cfg, services))
        guarded("offline", "offline engine", lambda: [offline.run(cfg, services)])
        guarded("grader", "grader cost", lambda: [grader_cost.run(cfg, services.stub.base_url)])
        guarded("storage", "storage scale", lambda: storage.run(cfg))
        if "profile" in only:
            log("bench: profiling the slowest path…")
            try:
                profile = profiling.run(cfg, services)
            except Exception:  # noqa: BLE001 - the figures above are still worth writing
                profile = ["Profiling failed:", "", "```", traceback.format_exc(), "```"]
    return results, profile


def execute(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[list[Result], str]:
    """Run what `args` asks for; return the results and the text of RESULTS.md."""
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    pg = args.postgres_url if postgres_reachable(args.postgres_url) else None
    with tempfile.TemporaryDirectory(prefix="sparring-bench-") as tmp:
        cfg = (Config.smoke if args.quick else Config.full)(Path(tmp), pg)
        results, profile = run(cfg, args.only, log)
    total = time.monotonic() - started
    command = " ".join(["python -m bench", *(shlex.quote(a) for a in args.argv)])
    commands = [
        "make bench" if not args.argv else f"# not the default run: {command}",
        f"# = {python()} {command.removeprefix('python ')}",
        f"# at commit {revision()}",
        f"# PostgreSQL: {safe_url(pg) if pg else 'not reachable, skipped'}",
    ]
    about = machine()
    about["load average"] = (
        f"{load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after (the run itself "
        "keeps about 2 busy; more means other work shared the machine)"
    )
    text = render(
        results,
        machine=about,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        commands=commands,
        total_seconds=total,
        quick=args.quick,
        profile=profile,
    )
    return results, text


def python() -> str:
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else str(exe)


def revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            # the results file is this run's output, not a change to what it measures
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!bench/RESULTS.md",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    results, text = execute(args, lambda line: print(line, file=sys.stderr, flush=True))
    write(args.output, text)
    print(f"bench: wrote {args.output}", file=sys.stderr)
    failed = [r.title for r in results if not r.ok]
    if failed:
        print(f"bench: with errors: {'; '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
