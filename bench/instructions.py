"""Instructions per offline session, counted by callgrind: a CPU figure that other work on
the machine does not move, for comparing two versions of the app where timings are too noisy.

    python -m bench.instructions                    # this tree
    python -m bench.instructions ../before .        # each tree against the first one

Each tree plays FEW and then MANY offline sessions in one process through the service
functions (start, the bench's trainee lines until the client ends the session, end and grade;
SQLite in a temporary directory; no HTTP, no thread pool), under `valgrind --tool=callgrind`.
The difference divided by MANY - FEW is one session: start-up, imports and migrations cancel
out. The code measured is the tree's own (it runs with the tree first on the path, its
bench/load.py's lines included); this file comes from the tree the command runs in. The two
processes of a tree run at once: callgrind's counts do not depend on what else runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

FEW, MANY = 2, 8
PERSONA = "yes-then-sells"
_COLLECTED = re.compile(rb"Collected : (\d+)")


def play(sessions: int) -> int:
    """Play `sessions` full offline sessions; return the number of messages stored."""
    from sqlmodel import Session, col, func, select

    from app import auth
    from app import sessions as service
    from app.catalog import load_catalog
    from app.config import Settings
    from app.db import make_engine, migrate
    from app.engines import build_engines
    from app.models import Message, SessionCreate, User, UserCreate

    sys.path.append(str(Path(__file__).resolve().parent.parent))  # bench.load if the tree has none
    from bench.load import TRAINEE_LINES, said

    with tempfile.TemporaryDirectory(prefix="sparring-instructions-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/app.db")
        migrate(engine)
        catalog = load_catalog()
        engines = build_engines(Settings(), catalog)
        limits = service.Limits(
            max_message_chars=4000, max_turns_per_session=100, sessions_per_hour=10_000
        )
        with Session(engine, expire_on_commit=False) as db:
            request = UserCreate(username="trainee", password="a-long-password", role="trainee")
            user = auth.create_user(db=db, request=request)
            _, secret = auth.create_token(db=db, user=user, name="bench")

        @contextmanager
        def api_request() -> Iterator[tuple[Session, User]]:
            """What each request does first: a database session and the token's user."""
            with Session(engine, expire_on_commit=False) as db:
                trainee = auth.user_from_token(db=db, secret=secret)
                assert trainee is not None
                yield db, trainee

        for number in range(sessions):
            with api_request() as (db, trainee):
                start = SessionCreate(persona_id=PERSONA, language="en", seed=number)
                record, _ = service.start(
                    db=db, catalog=catalog, engines=engines, user=trainee, request=start,
                    limits=limits,
                )  # fmt: skip
            for line in TRAINEE_LINES:
                with api_request() as (db, trainee):
                    turn = service.accept(
                        db=db, catalog=catalog, user=trainee, session_id=record.id,
                        content=said(line, number), limits=limits,
                    )  # fmt: skip
                    list(service.play(db=db, catalog=catalog, engines=engines, turn=turn))
                if turn.record.status != "active":
                    break
            with api_request() as (db, trainee):
                service.end(
                    db=db, catalog=catalog, engines=engines, user=trainee, session_id=record.id
                )
        with Session(engine) as db:
            stored = db.exec(select(func.count(col(Message.id)))).one()
        engine.dispose()
        return stored


def _collected(tree: Path, sessions: int) -> int:
    """Instructions callgrind counts for a process of `tree` playing `sessions` sessions."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        "--play",
        str(sessions),
    ]
    done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{tree}: callgrind failed:\n{done.stderr.decode()[-2000:]}")
    return int(found.group(1))


def per_session(tree: Path) -> float:
    """One session's instructions in `tree`, start-up excluded."""
    with ThreadPoolExecutor(2) as pool:
        few, many = pool.map(lambda n: _collected(tree, n), (FEW, MANY))
    return (many - few) / (MANY - FEW)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("trees", nargs="*", type=Path, help="app trees (default: this one)")
    parser.add_argument("--play", type=int, help=argparse.SUPPRESS)  # the measured process
    args = parser.parse_args(argv)
    if args.play is not None:
        play(args.play)
        return 0
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    trees = [t.resolve() for t in args.trees] or [Path(__file__).resolve().parent.parent]
    counts = [per_session(tree) for tree in trees]
    print(f"instructions per offline session ({FEW} and {MANY} sessions, callgrind):")
    for tree, count in zip(trees, counts, strict=True):
        print(f"  {count / 1e6:9.1f} M  {count / counts[0]:.3f}x  {tree}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
