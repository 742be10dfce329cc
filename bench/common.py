"""What every benchmark shares: servers in subprocesses on loopback, users and tokens made
straight in the database, latency statistics, and a description of the machine."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import auth
from app.catalog import Catalog, load_catalog
from app.config import Settings
from app.db import make_engine, migrate
from app.models import Team, TeamMember, User

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
UNUSABLE_HASH = "!bench-no-password"  # not an argon2 hash: these users can only use tokens


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class Process:
    """A child process whose output goes to a log file; stopped with SIGINT, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log = logdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def spawn(self, **popen: Any) -> subprocess.Popen[bytes]:
        """Start it in the work directory (so no .env applies) with only the settings given:
        SPARRING_* and OPENAI_* variables of the caller's environment are left out."""
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("SPARRING_", "OPENAI_"))
        }
        path = os.pathsep.join([str(ROOT), str(TESTS)])
        env = {**inherited, "PYTHONPATH": path, **self.env}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.log.parent,
                env=env,
                stderr=log,
                start_new_session=True,
                **popen,
            )
        return self.proc

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def interrupt(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.interrupt()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class Server(Process):
    """`uvicorn TARGET` on a free 127.0.0.1 port, one process, as `sparring serve` runs it
    (uvloop and httptools when installed), with the access log off."""

    def __init__(
        self,
        name: str,
        target: str,
        *,
        env: dict[str, str],
        logdir: Path,
        factory: bool = True,
        ready_path: str = "/healthz",
        argv: list[str] | None = None,
    ) -> None:
        """`argv`, when given, replaces the uvicorn command; `--port N` is appended to it."""
        self.port = free_port()
        if argv is None:
            argv = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1"]
            argv += ["--log-level", "warning", "--no-access-log"]
            argv += ["--factory"] if factory else []
        argv = [*argv, "--port", str(self.port)]
        super().__init__(name, argv, env, logdir)
        self.ready_path = ready_path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Self:
        self.spawn(stdout=subprocess.DEVNULL)
        return self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> Self:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as http:  # one client: each new one builds an SSL context
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start-up:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(self.url + self.ready_path).status_code == 200:
                        return self
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.ready_path} in {timeout}s")


def start_all(*servers: Server) -> None:
    """Start the servers not started yet side by side (start-up is mostly imports). Whoever
    made a server stops it (use each as a context manager)."""
    pending = [s for s in servers if s.proc is None]
    for server in pending:
        server.spawn(stdout=subprocess.DEVNULL)
    for server in pending:
        server.wait_ready()


class StubProcess(Process):
    """tests/llm_stub.StubLLM, instant, in its own process (bench.stub_server)."""

    def __init__(self, logdir: Path, chunk_delay: float = 0.0, name: str = "llm-stub") -> None:
        argv = [sys.executable, "-m", "bench.stub_server"]
        env = {"BENCH_STUB_CHUNK_DELAY": str(chunk_delay)}
        super().__init__(name, argv, env, logdir)
        self.base_url = ""

    def start(self, timeout: float = 30.0) -> Self:
        proc = self.spawn(stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()  # the stub prints its URL when ready
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the LLM stub did not start:\n{self.tail()}")
        self.base_url = line
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # the stub exits when its stdin closes
        super().stop()


class Services:
    """What the benchmarks share, each started once on first use: the stub, the baseline
    server (bench.baselines, whose prompts are rendered here and handed over in a file) and
    the app with the `llm` engine configured (its offline engine is there too), on SQLite,
    with `concurrency` trainees."""

    APP = "app.main:create_app"

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.stack = contextlib.ExitStack()
        self._stub: StubProcess | None = None
        self._baseline: Server | None = None
        self._app: Server | None = None
        self.tokens: list[str] = []

    @property
    def stub(self) -> StubProcess:
        if self._stub is None:
            self._stub = self.stack.enter_context(StubProcess(self.cfg.workdir).start())
        return self._stub

    @property
    def baseline(self) -> Server:
        """Not started on first use: start it with `start`, with the app under test."""
        if self._baseline is None:
            from bench.baselines import write_prompts

            prompts = write_prompts(self.cfg.workdir / "baseline-prompts.json")
            env = {"BENCH_UPSTREAM": self.stub.base_url, "BENCH_PROMPTS": str(prompts)}
            env |= {
                "BENCH_STORE": str(self.cfg.workdir / "durable.db"),
                "BENCH_TRAINEES": str(self.cfg.concurrency),
            }
            self._baseline = Server(
                "baseline", "bench.baselines:create_app", env=env, logdir=self.cfg.workdir
            )
            self.stack.enter_context(self._baseline)
        return self._baseline

    @property
    def app(self) -> Server:
        """Not started on first use (see `baseline`); `tokens` are its trainees' tokens."""
        if self._app is None:
            db = self.stack.enter_context(Database.sqlite(self.cfg.workdir, "app"))
            engine = db.engine()
            people = provision(engine, trainees=self.cfg.concurrency)
            engine.dispose()
            self.tokens = [token for _, _, token in people.trainees]
            env = app_env(db.url, self.stub.base_url)
            self._app = Server("app", self.APP, env=env, logdir=self.cfg.workdir)
            self.stack.enter_context(self._app)
        return self._app

    def start(self, *servers: Server) -> None:
        start_all(*servers)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for process in (self._app, self._baseline, self._stub):
            if process is not None:
                process.interrupt()  # all at once: each takes a moment to shut down
        self.stack.close()


def app_env(database_url: str, llm_url: str | None) -> dict[str, str]:
    """The app's settings for a benchmark: its database, the stub, no hourly session limit."""
    env = {"SPARRING_DATABASE_URL": database_url, "SPARRING_SESSIONS_PER_HOUR": "100000000"}
    if llm_url:
        env["SPARRING_LLM_BASE_URL"] = llm_url
    return env


@functools.cache
def catalog() -> Catalog:
    """The app's catalogue, read once per run."""
    settings = Settings()
    return load_catalog(settings.personas_dir, settings.prompts_dir)


# ---------------------------------------------------------------- databases


@dataclass
class Database:
    """A throwaway database: a SQLite file in the work directory, or a PostgreSQL database
    created on the given server and dropped afterwards."""

    url: str
    kind: str
    _admin_url: str | None = None

    @classmethod
    @contextlib.contextmanager
    def sqlite(cls, workdir: Path, name: str) -> Iterator[Database]:
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield cls(f"sqlite:///{path}", "sqlite")

    @classmethod
    @contextlib.contextmanager
    def postgres(cls, server_url: str, name: str) -> Iterator[Database]:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        dbname = f"bench_{name}_{os.getpid()}"
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{dbname}"'))
            url = make_url(server_url).set(database=dbname).render_as_string(hide_password=False)
            yield cls(url, "postgresql")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()

    def engine(self) -> Engine:
        return make_engine(self.url)


def postgres_reachable(url: str | None) -> bool:
    if not url:
        return False
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL for this run
        return False


@dataclass
class People:
    """Who plays: trainees with API tokens, a coach of `team`, an admin."""

    trainees: list[tuple[int, str, str]] = field(default_factory=list)  # id, username, token
    coach_token: str = ""
    admin_token: str = ""
    team: str = "class-a"


def provision(engine: Engine, *, trainees: int, team_size: int | None = None) -> People:
    """Migrate the schema, then add users, the coach's team and tokens straight in the database.

    Users get no usable password (hashing one costs ~50 ms each); they use API tokens.
    The first `team_size` trainees (all by default) are in the coach's team.
    """
    migrate(engine)
    people = People()
    team_size = trainees if team_size is None else team_size
    with Session(engine, expire_on_commit=False) as db:
        team = Team(name=people.team)
        db.add(team)
        users = [
            User(username=f"trainee{i:04d}", role="trainee", password_hash=UNUSABLE_HASH)
            for i in range(trainees)
        ]
        coach = User(username="coach", role="coach", password_hash=UNUSABLE_HASH)
        admin = User(username="bench-admin", role="admin", password_hash=UNUSABLE_HASH)
        db.add_all([*users, coach, admin])
        db.flush()
        members = [*users[:team_size], coach]
        db.add_all(TeamMember(team_id=team.id, user_id=u.id) for u in members)  # type: ignore[arg-type]
        db.commit()
        for user in users:
            _, secret = auth.create_token(db=db, user=user, name="bench")
            people.trainees.append((user.id, user.username, secret))  # type: ignore[arg-type]
        people.coach_token = auth.create_token(db=db, user=coach, name="bench")[1]
        people.admin_token = auth.create_token(db=db, user=admin, name="bench")[1]
    return people


# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline and not math.isnan(baseline) else math.nan


# ---------------------------------------------------------------- the machine


def _read(path: str) -> str:
    with contextlib.suppress(OSError):
        return Path(path).read_text()
    return ""


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if "MemTotal" in line
        ),
        0,
    )
    import sqlite3

    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("fastapi", "starlette", "uvicorn", "sqlalchemy", "openai", "httpx", "psycopg")
    )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "loop": "uvloop" if _version("uvloop") != "-" else "asyncio",
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


# ---------------------------------------------------------------- sizes


@dataclass
class Config:
    """Sizes of a run: `full()` for `make bench`, `quick()` for the smoke test."""

    workdir: Path
    quick: bool = False
    concurrency: int = 50  # trainees at once
    rounds: int = 2  # app and baseline alternate this many times
    warmup: float = 2.5  # seconds of each round not measured
    duration: float = 14.0  # seconds measured on each server, all rounds together
    stream_duration: float = 4.0  # the same for each streaming run
    slow_chunk_delay: float = 0.1  # 1b: seconds between the slow stub's streamed chunks
    slow_warmup: float = 4.0
    slow_duration: float = 10.0
    min_samples: int = 0  # smoke runs stretch their short windows until they have this many
    storage_sizes: tuple[int, ...] = (1_000, 100_000)
    messages_per_session: int = 20
    storage_repeats: int = 25
    profile_duration: float = 10.0
    postgres_url: str | None = None

    @classmethod
    def full(cls, workdir: Path, postgres_url: str | None) -> Config:
        return cls(workdir=workdir, postgres_url=postgres_url)

    @classmethod
    def smoke(cls, workdir: Path, postgres_url: str | None) -> Config:
        return cls(
            workdir=workdir,
            quick=True,
            rounds=1,
            min_samples=3,
            concurrency=3,
            warmup=0.2,
            duration=0.5,
            stream_duration=0.4,
            slow_chunk_delay=0.005,
            slow_warmup=0.2,
            slow_duration=0.5,
            storage_sizes=(10, 40),
            messages_per_session=4,
            storage_repeats=2,
            profile_duration=0.5,
            postgres_url=postgres_url,
        )
