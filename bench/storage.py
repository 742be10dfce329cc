"""Benchmark 4: the coach's session list and one transcript's page as the data grows, in SQLite
and PostgreSQL: each figure is the time at the largest size against the smallest.

Data goes straight into the tables in bulk (executemany on SQLite, COPY on PostgreSQL):
sessions spread over a year among 200 trainees, classes of 50 practising at once (so each
session's messages are interleaved with others', as in real use), each session with its
messages, and each ended one with a grade and one criterion row per technique. The app
then serves it from its own process; requests are timed one at a time over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Integer, Table, event, text

from app.catalog import Catalog
from app.config import Settings
from app.db import get_engine
from app.engine.director import initial_state
from app.main import create_app
from app.models import CriterionResult, Grade, Message, PracticeSession
from bench.common import (
    Config,
    Database,
    People,
    Server,
    Services,
    app_env,
    percentile,
    provision,
    start_all,
)
from bench.common import (
    catalog as shared_catalog,
)
from bench.load import PERSONAS, TRAINEE_LINES
from bench.report import Figure, Result, number, table

TRAINEES = 200
TEAM = 30  # the coach's class
WAVE = 50  # sessions practised at the same time
FILTER_PERSONA = "impossible-idea"
FLUSH_ROWS = 20_000
START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)


@dataclass
class Query:
    name: str
    path: str
    who: str  # admin or coach
    goal: bool = True  # in the 2x goal (the last page is not: OFFSET reads what it skips)


@dataclass
class Timing:
    median_ms: float
    p90_ms: float
    status: int


@dataclass
class SizeRun:
    size: int
    messages: int
    load_seconds: float
    timings: dict[str, Timing] = field(default_factory=dict)
    statements: dict[str, int] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)


def queries(size: int, transcript_id: str) -> list[Query]:
    last = max(1, -(-size // 20))
    return [
        Query("coach list, page 1", "/api/sessions", "coach"),
        Query(
            "coach list, persona + status filter",
            f"/api/sessions?persona={FILTER_PERSONA}&status=ended",
            "coach",
        ),
        Query("admin list, page 1", "/api/sessions", "admin"),
        Query("admin list, one trainee", "/api/sessions?trainee=trainee0007", "admin"),
        Query("admin list, page 40", "/api/sessions?page=40", "admin"),
        Query("transcript page (coach)", f"/api/sessions/{transcript_id}", "coach"),
        Query(f"admin list, last page ({last})", f"/api/sessions?page={last}", "admin", goal=False),
    ]


# ---------------------------------------------------------------- bulk loading


# The columns the bench fills, per table; the others are nullable (checked against the models).
COLUMNS = {
    "practice_sessions": (
        "id", "persona_id", "language", "difficulty", "seed", "engine", "trainee", "user_id",
        "status", "outcome", "state", "message_count", "score", "passed", "created_at",
        "updated_at", "ended_at",
    ),
    "grades": (
        "id", "session_id", "status", "score", "passed", "summary", "grader", "prompt_version",
        "created_at",
    ),
    "messages": ("session_id", "seq", "role", "content", "status", "moves", "meta", "created_at"),
    "criterion_results": (
        "grade_id", "technique_id", "name", "verdict", "evidence", "rationale", "flagged",
    ),
}  # fmt: skip
TABLES = {
    t.name: t
    for t in (
        PracticeSession.__table__,
        Grade.__table__,
        Message.__table__,
        CriterionResult.__table__,
    )  # type: ignore[attr-defined]
}


def _check_columns() -> None:
    for name, columns in COLUMNS.items():
        table: Table = TABLES[name]
        missing = [
            c.name
            for c in table.columns
            if c.name not in columns
            and not c.nullable
            and not (c.primary_key and isinstance(c.type, Integer))  # numbered by the database
        ]
        if missing:
            raise ValueError(f"the bench fills no {', '.join(missing)} in {name}: add them")


class Loader:
    """Bulk inserts of tuples in COLUMNS order: executemany on SQLite, COPY on PostgreSQL.

    Like any bulk load: foreign keys are not checked while loading (the data is consistent by
    construction) and the tables' secondary indexes are dropped first and built again at the
    end, with their exact definitions, so the schema the app then reads is the migrated one.
    """

    def __init__(self, engine: Engine) -> None:
        _check_columns()
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.stamp_suffix = "" if self.sqlite else "+00"  # timestamps are UTC
        self.raw = engine.raw_connection()
        cursor = self.raw.cursor()
        if self.sqlite:
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")  # KiB
        else:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers
        cursor.close()
        self.rebuild = self._drop_indexes()

    def _drop_indexes(self) -> list[str]:
        """Drop the loaded tables' secondary indexes; return the statements that rebuild them."""
        names = ", ".join(f"'{t}'" for t in COLUMNS)
        cursor = self.raw.cursor()
        rebuild, drop = [], []
        if self.sqlite:
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({names})"
            )
            for name, sql in cursor.fetchall():
                drop.append(f'DROP INDEX "{name}"')
                rebuild.append(sql)
        else:
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'u' "
                f"AND c.conrelid::regclass::text IN ({names})"
            )
            constraints = cursor.fetchall()
            for table, name, definition in constraints:
                drop.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                f"AND tablename IN ({names}) AND indexname NOT LIKE '%%_pkey'"
            )
            unique = {name for _, name, _ in constraints}
            for name, definition in cursor.fetchall():
                if name not in unique:
                    drop.append(f'DROP INDEX "{name}"')
                    rebuild.append(definition)
        for statement in drop:
            cursor.execute(statement)
        cursor.close()
        return rebuild

    def stamp(self, moment: datetime) -> str:
        """A naive UTC datetime as the app's columns store it."""
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") + self.stamp_suffix

    def insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        names = ", ".join(columns)
        cursor = self.raw.cursor()
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        else:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        cursor.close()

    def finish(self) -> None:
        cursor = self.raw.cursor()
        for statement in self.rebuild:
            cursor.execute(statement)
        if not self.sqlite:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('grades', 'id'), max(id)) FROM grades"
            )
        cursor.close()
        self.raw.commit()
        self.raw.close()
        if not self.sqlite:
            # what autovacuum does by the time anyone reads: statistics, the visibility map
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))


def generate(
    catalog: Catalog, people: People, sessions: int, per_session: int, loader: Loader
) -> str:
    """Write the sessions; return the id of a graded session of the coach's class (the
    newest one of trainee0000) for the transcript page."""
    rng = random.Random(20261123)
    trainees = people.trainees
    states = {
        p: initial_state(catalog.personas[p], "medium").model_dump(mode="json") for p in PERSONAS
    }
    client_lines = {
        p: [line.messages("en")[0] for beat in catalog.personas[p].lines.values() for line in beat]
        for p in PERSONAS
    }
    criteria = {
        p: [(t, catalog.techniques[t].name("en")) for t in catalog.personas[p].techniques]
        for p in PERSONAS
    }
    evidence = json.dumps([{"seq": 2, "quote": TRAINEE_LINES[0][:40], "kind": "cue"}])
    rationale = "Technique used in 2 message(s) and never contradicted."
    trainee_moves, no_moves, no_meta = json.dumps(["question"]), "[]", "{}"
    client_meta = [
        json.dumps({"engine": "offline", "beat": "neutral", "line": seq})
        for seq in range(per_session + 1)
    ]
    after = [timedelta(seconds=20 * seq) for seq in range(per_session + 1)]
    suffix = loader.stamp_suffix
    buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
    grade_id = 0
    transcript = ""
    step = YEAR / max(sessions, 1)

    def flush() -> None:
        for name, rows in buffers.items():  # parents first: the COLUMNS order
            loader.insert(name, rows)
            rows.clear()

    for wave in range(0, sessions, WAVE):
        wave_rows = []
        for i in range(wave, min(wave + WAVE, sessions)):
            user_id, username, _ = trainees[rng.randrange(len(trainees))] if i else trainees[0]
            persona_id = PERSONAS[rng.randrange(len(PERSONAS))] if i else FILTER_PERSONA
            created = START + step * i + timedelta(seconds=rng.randrange(60))
            created = created.replace(microsecond=rng.randrange(1, 1_000_000))
            ended = created + timedelta(minutes=15)
            active = i >= sessions * 0.97  # the newest few are still being played
            score = rng.randrange(20, 100)
            state = {**states[persona_id], "turn": per_session // 2}
            state |= (
                {"status": "active"} if active else {"status": "ended", "outcome": "turn_limit"}
            )
            session_id = f"{rng.getrandbits(128):032x}"
            buffers["practice_sessions"].append(
                (
                    session_id, persona_id, "en", "medium", rng.randrange(2**31), "offline",
                    username, user_id, "active" if active else "ended",
                    None if active else "turn_limit", json.dumps(state), per_session,
                    None if active else score, None if active else score >= 60,
                    loader.stamp(created), loader.stamp(ended),
                    None if active else loader.stamp(ended),
                )
            )  # fmt: skip
            wave_rows.append((session_id, persona_id, created.replace(tzinfo=None)))
            if username == trainees[0][1] and not active:
                transcript = session_id
            if active:
                continue
            grade_id += 1
            summary = f"Passed: {score}/100." if score >= 60 else f"Not passed: {score}/100."
            buffers["grades"].append(
                (
                    grade_id, session_id, "done", score, score >= 60, summary,
                    "offline-heuristic", "1", loader.stamp(ended),
                )
            )  # fmt: skip
            buffers["criterion_results"] += [
                (grade_id, tid, name, "applied", evidence, rationale, False)
                for tid, name in criteria[persona_id]
            ]
        messages = buffers["messages"]
        for seq in range(1, per_session + 1):  # the wave's messages, interleaved in time
            trainee_line = TRAINEE_LINES[(seq // 2) % len(TRAINEE_LINES)]
            for session_id, persona_id, created in wave_rows:
                at = f"{created + after[seq]}{suffix}"  # naive, with microseconds: as stored
                if seq % 2:
                    lines = client_lines[persona_id]
                    content = lines[(seq + ord(session_id[0])) % len(lines)]
                    messages.append(
                        (session_id, seq, "client", content, "complete", no_moves,
                         client_meta[seq], at)
                    )  # fmt: skip
                else:
                    messages.append(
                        (session_id, seq, "trainee", trainee_line, "complete", trainee_moves,
                         no_meta, at)
                    )  # fmt: skip
        if len(messages) >= FLUSH_ROWS:
            flush()
    flush()
    return transcript


# ---------------------------------------------------------------- measuring


def time_queries(
    sites: list[tuple[str, People, list[Query]]], repeats: int
) -> list[dict[str, Timing]]:
    """Time each query on every site (url, people, queries of the same names), alternating
    between the sites request by request, so whatever else the machine does at a moment
    weighs on every size alike."""
    clients = [httpx.Client(base_url=url, timeout=60) for url, _, _ in sites]
    found: list[dict[str, Timing]] = [{} for _ in sites]
    try:
        for index in range(len(sites[0][2])):
            seconds: list[list[float]] = [[] for _ in sites]
            status = [0 for _ in sites]
            for round_ in range(repeats + 2):  # two rounds warm caches, plans and pools
                for i, (http, (_, people, qs)) in enumerate(zip(clients, sites, strict=True)):
                    q = qs[index]
                    token = people.admin_token if q.who == "admin" else people.coach_token
                    start = time.perf_counter()
                    response = http.get(q.path, headers={"Authorization": f"Bearer {token}"})
                    if round_ >= 2:
                        seconds[i].append(time.perf_counter() - start)
                    status[i] = response.status_code
            for i, (_, _, qs) in enumerate(sites):
                found[i][qs[index].name] = Timing(
                    statistics.median(seconds[i]) * 1000,
                    percentile(seconds[i], 90) * 1000,
                    status[i],
                )
    finally:
        for http in clients:
            http.close()
    return found


@contextlib.contextmanager
def statement_log(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def count_and_explain(
    database_url: str, people: People, qs: list[Query]
) -> tuple[dict[str, int], dict[str, str]]:
    """SQL statements per request (in-process, same app), and the plans of the list queries."""
    counts: dict[str, int] = {}
    plans: dict[str, str] = {}
    tokens = {"admin": people.admin_token, "coach": people.coach_token}
    with TestClient(create_app(Settings(database_url=database_url))) as http:
        engine = get_engine(database_url)
        extra = [Query("admin list, page_size=100", "/api/sessions?page_size=100", "admin")]
        for q in [*qs, *extra]:
            headers = {"Authorization": f"Bearer {tokens[q.who]}"}
            http.get(q.path, headers=headers)  # token last-use updates happen once, here
            with statement_log(engine) as seen:
                http.get(q.path, headers=headers)
            counts[q.name] = len(seen)
            if q in qs and q.goal and "list" in q.name:
                plans[q.name] = _plans(engine, seen)
    return counts, plans


def _plans(engine: Engine, statements: list[tuple[str, Any]]) -> str:
    out = []
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        for statement, params in statements:
            if "practice_sessions" not in statement or not statement.lstrip().startswith("SELECT"):
                continue
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
            rows = conn.exec_driver_sql(prefix + statement, params).fetchall()
            plan = "\n".join(str(r[-1]) if sqlite else str(r[0]) for r in rows)
            out.append(" ".join(statement.split()) + "\n" + plan)
    return "\n\n".join(out)


@dataclass
class Loaded:
    run: SizeRun
    db: Database
    people: People
    queries: list[Query]
    server: Server


def load_backend(
    cfg: Config,
    name: str,
    database: Callable[[int], contextlib.AbstractContextManager[Database]],
    stack: contextlib.ExitStack,
) -> list[Loaded]:
    """Load every size into a database of its own, each with an app server (not started)."""
    catalog = shared_catalog()
    trainees, team = (TRAINEES, TEAM) if not cfg.quick else (6, 3)
    loaded = []
    for size in cfg.storage_sizes:
        db = stack.enter_context(database(size))
        engine = db.engine()
        people = provision(engine, trainees=trainees, team_size=team)
        started = time.monotonic()
        loader = Loader(engine)
        transcript = generate(catalog, people, size, cfg.messages_per_session, loader)
        loader.finish()
        engine.dispose()
        run = SizeRun(size, size * cfg.messages_per_session, time.monotonic() - started)
        env = app_env(db.url, None)
        server = Server(f"app-{name}-{size}", Services.APP, env=env, logdir=cfg.workdir)
        stack.enter_context(server)
        loaded.append(Loaded(run, db, people, queries(size, transcript), server))
    return loaded


def measure_backend(cfg: Config, loaded: list[Loaded]) -> list[SizeRun]:
    """Time the requests on every size, alternating; then count statements and explain the
    list queries in-process at the largest size."""
    sites = [(item.server.url, item.people, item.queries) for item in loaded]
    for item, timings in zip(loaded, time_queries(sites, cfg.storage_repeats), strict=True):
        item.run.timings = timings
    for item in loaded:
        item.server.stop()
    last = loaded[-1]
    last.run.statements, last.run.plans = count_and_explain(last.db.url, last.people, last.queries)
    get_engine(last.db.url).dispose()
    return [item.run for item in loaded]


def run(cfg: Config) -> list[Result]:
    result = Result("storage", "4. Storage scale")
    started = time.monotonic()
    backends: list[tuple[str, Callable[[int], contextlib.AbstractContextManager[Database]]]] = [
        ("SQLite", lambda size: Database.sqlite(cfg.workdir, f"storage{size}"))
    ]
    if cfg.postgres_url:
        url = cfg.postgres_url
        backends.append(("PostgreSQL", lambda size: Database.postgres(url, f"storage{size}")))
    else:
        result.notes.append("PostgreSQL was not reachable: only SQLite was measured.")
    small, large = min(cfg.storage_sizes), max(cfg.storage_sizes)
    with contextlib.ExitStack() as stack:
        loaded = {name: load_backend(cfg, name.lower(), db, stack) for name, db in backends}
        start_all(*(item.server for items in loaded.values() for item in items))
        measured = {name: measure_backend(cfg, items) for name, items in loaded.items()}
    for name, runs in measured.items():
        first, last = runs[0], runs[-1]
        qs = queries(large, "")
        for q, q_small in zip(qs, queries(small, ""), strict=True):
            a, b = last.timings[q.name], first.timings[q_small.name]
            if q.goal:
                result.figures.append(
                    Figure(
                        f"{name}, {q.name}",
                        a.median_ms,
                        b.median_ms,
                        "ms",
                        goal=2.0,
                        baseline_name=f"{small:,} sessions",
                    )
                )
        rows = []
        for q, q_small in zip(qs, queries(small, ""), strict=True):
            a, b = last.timings[q.name], first.timings[q_small.name]
            rows.append(
                [
                    q.name,
                    f"{number(b.median_ms, 'ms')} / {number(b.p90_ms, 'ms')}",
                    f"{number(a.median_ms, 'ms')} / {number(a.p90_ms, 'ms')}",
                    f"{number(a.median_ms / b.median_ms)}x",
                    str(last.statements.get(q.name, "-")),
                    f"{b.status} / {a.status}",
                ]
            )
        n100 = "admin list, page_size=100"
        result.details += [
            f"### {name}",
            "",
            f"{small:,} sessions ({first.messages:,} messages) loaded in "
            f"{first.load_seconds:.1f} s; {large:,} sessions ({last.messages:,} messages) "
            f"in {last.load_seconds:.1f} s. "
            f"Median / p90 of {cfg.storage_repeats} requests each, one at a time, alternating "
            "between the sizes.",
            "",
            *table(
                [
                    "request",
                    f"{small:,} sessions",
                    f"{large:,} sessions",
                    "ratio",
                    f"SQL statements ({large:,})",
                    "HTTP status",
                ],
                rows,
            ),
            "",
            f"SQL statements for a list page of 20 and of 100 sessions: "
            f"{last.statements.get('admin list, page 1', 0)} and {last.statements.get(n100, 0)} "
            "(the same count: no query per listed session).",
            "",
            f"<details><summary>{name} query plans at {large:,} sessions</summary>",
            "",
            "```text",
            *("\n\n".join(f"-- {k}\n{v}" for k, v in last.plans.items()).splitlines()),
            "```",
            "",
            "</details>",
            "",
        ]
    result.details = [
        f"{TRAINEES} trainees (the coach's class: {TEAM}), {cfg.messages_per_session} messages per "
        "session, 97 % of sessions ended and graded. Each list request also counts the "
        "matching sessions (`total`).",
        "",
        *result.details,
    ]
    result.seconds = time.monotonic() - started
    return [result]
