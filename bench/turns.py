"""Benchmarks 1 and 2, on the `llm` engine against the instant stub:

1. turn overhead: `concurrency` trainees playing full sessions, turn latency and turns per
   second, against the bare proxy making the same upstream calls (bench.baselines);
2. streaming: from the stub's first token to the trainee's first `delta` event, one trainee
   at a time and with the whole class streaming, against the bare proxy streaming.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace

import httpx

from bench.baselines import bearer, write_prompts
from bench.common import (
    Config,
    Database,
    Process,
    Server,
    Services,
    StubProcess,
    app_env,
    provision,
)
from bench.load import Recorder, app_trainee, baseline_trainee, crowd
from bench.report import Figure, Result, number, table

APP = "app.main:create_app"
BASELINE = "bench.baselines:create_app"
Trainee = Callable[[httpx.AsyncClient, Recorder, int], Awaitable[None]]


def measure(
    url: str,
    trainee: Trainee,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    watch: list[Process],
    needs: tuple[str, ...] = (),
    minimum: int = 0,
) -> tuple[Recorder, dict[str, float]]:
    """Run a crowd and the CPU seconds each watched process spent meanwhile."""
    before = {p.name: p.cpu() for p in watch}
    rec = asyncio.run(
        crowd(
            url,
            concurrency=concurrency,
            warmup=warmup,
            duration=duration,
            trainee=trainee,
            needs=needs,
            minimum=minimum,
        )
    )
    cpu = {p.name: p.cpu() - before[p.name] for p in watch}
    cpu["load generator"] = rec.extra["loadgen_cpu"][-1]
    return rec, cpu


@dataclass
class Side:
    """One server of a comparison: its URL, its trainee given the app's session lengths so
    far (the baseline replays them), and the processes whose CPU time counts."""

    url: str
    trainee: Callable[[list[int]], Trainee]
    watch: list[Process]


@dataclass
class Pair:
    app: Recorder
    app_cpu: dict[str, float]
    base: Recorder
    base_cpu: dict[str, float]
    others: list[tuple[Recorder, dict[str, float]]]  # the `also` baselines, in order


def paired(
    cfg: Config,
    app: Side,
    base: Side,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    needs: tuple[str, ...] = ("turn",),
    also: tuple[Side, ...] = (),
) -> Pair:
    """The app and its baseline (and the `also` ones) in alternating rounds (`cfg.rounds`,
    `duration` in all for each), so whatever else the machine does at a moment weighs on
    all alike."""
    found: list[tuple[Recorder, Counter[str]]] = []
    for _ in range(cfg.rounds):
        for index, side in enumerate((app, base, *also)):
            lengths = (found[0][0].session_turns if found else []) or [12]
            rec, cpu = measure(
                side.url,
                side.trainee(lengths),
                concurrency=concurrency,
                warmup=warmup,
                duration=duration / cfg.rounds,
                watch=side.watch,
                needs=needs,
                minimum=cfg.min_samples,
            )
            name = "app" if index == 0 else f"baseline {index}"
            rec.errors = [f"{name}: {e}" for e in rec.errors]
            if len(found) <= index:
                found.append((rec, Counter(cpu)))
            else:
                found[index][0].merge(rec)
                found[index][1].update(cpu)
    (a, a_cpu), (b, b_cpu), *others = found
    return Pair(a, dict(a_cpu), b, dict(b_cpu), [(r, dict(c)) for r, c in others])


def llm_sides(
    app: Server,
    base: Server,
    tokens: list[str],
    *,
    stream: bool = False,
    also: list[Process] | None = None,
) -> tuple[Side, Side]:
    """The app's trainees on the `llm` engine, and the bare proxy replaying their sessions'
    lengths. Each server's CPU counts, with that of the processes in `also`; with `stream`,
    none is counted."""

    def on_app(lengths: list[int]) -> Trainee:
        return lambda http, rec, i: app_trainee(
            http, rec, token=tokens[i], engine="llm", number=i, stream=stream
        )

    def on_base(lengths: list[int]) -> Trainee:
        return lambda http, rec, i: baseline_trainee(
            http, rec, number=i, lengths=lengths, stream=stream
        )

    def watch(server: Server) -> list[Process]:
        return [] if stream else [server, *(also or [])]

    return Side(app.url, on_app, watch(app)), Side(base.url, on_base, watch(base))


DURABLE_LLM = ("/durable/start", "/durable/turn", "/durable/end")


def bearer_side(base: Server, paths: tuple[str, str, str], watch: list[Process]) -> Side:
    """A baseline's routes (`paths`: start, turn, end) called with each trainee's Bearer
    token (the `/durable…` routes check it), replaying the app's session lengths."""
    start, turn, end = paths

    def trainee(lengths: list[int]) -> Trainee:
        return lambda http, rec, i: baseline_trainee(
            http,
            rec,
            number=i,
            lengths=lengths,
            start_path=start,
            turn_path=turn,
            end_path=end,
            headers=bearer(i),
        )

    return Side(base.url, trainee, watch)


def requests(rec: Recorder) -> int:
    return sum(len(v) for k, v in rec.samples.items() if k in ("start", "turn", "end"))


def cpu_per(cpu: dict[str, float], rec: Recorder) -> str:
    count = max(requests(rec), 1)
    return ", ".join(f"{name} {1000 * s / count:.2f}" for name, s in cpu.items())


def latency_rows(label: str, rec: Recorder, kinds: tuple[str, ...]) -> list[list[str]]:
    rows = []
    for kind in kinds:
        s = rec.summary(kind)
        rows.append(
            [
                label,
                kind,
                str(int(s["count"])),
                number(s["p50_ms"], "ms"),
                number(s["p99_ms"], "ms"),
                number(s["per_s"]),
            ]
        )
    return rows


def run(cfg: Config, services: Services) -> list[Result]:
    overhead = Result("turns", "1. Turn overhead (llm engine, instant stub)")
    slow = Result("slow", "1b. Turn overhead with a model that takes its time")
    streaming = Result("streaming", "2. Streaming: stub's first token → trainee's first delta")
    app, base, stub = services.app, services.baseline, services.stub
    with ExitStack() as stack:
        slow_app, slow_base, slow_tokens = _slow_servers(cfg, stack)
        services.start(app, base, slow_app, slow_base)  # side by side: mostly imports
        _turn_overhead(cfg, overhead, app, base, stub, services.tokens)
        _slow_model(cfg, slow, slow_app, slow_base, slow_tokens)
    _streaming(cfg, streaming, app, base, services.tokens)
    return [overhead, slow, streaming]


def _slow_servers(cfg: Config, stack: ExitStack) -> tuple[Server, Server, list[str]]:
    """A stub that waits between streamed chunks, as a model does, with an app and a bare
    proxy of their own on it (not started yet)."""
    stub = StubProcess(cfg.workdir, chunk_delay=cfg.slow_chunk_delay, name="llm-stub-slow")
    stack.enter_context(stub.start())
    db = stack.enter_context(Database.sqlite(cfg.workdir, "slow"))
    engine = db.engine()
    tokens = [token for _, _, token in provision(engine, trainees=cfg.concurrency).trainees]
    engine.dispose()
    prompts = write_prompts(cfg.workdir / "baseline-prompts-slow.json")
    env = {"BENCH_UPSTREAM": stub.base_url, "BENCH_PROMPTS": str(prompts)}
    app = Server("app-slow", Services.APP, env=app_env(db.url, stub.base_url), logdir=cfg.workdir)
    base = Server("baseline-slow", BASELINE, env=env, logdir=cfg.workdir)
    stack.enter_context(app)
    stack.enter_context(base)
    return app, base, tokens


def _slow_model(cfg: Config, result: Result, app: Server, base: Server, tokens: list[str]) -> None:
    """The same crowd against the slow stub: what a class feels with a real model, and where
    holding a database connection or a worker across the model call would show."""
    started = time.monotonic()
    n = cfg.concurrency

    pair = paired(
        replace(cfg, rounds=1),
        *llm_sides(app, base, tokens),
        concurrency=n,
        warmup=cfg.slow_warmup,
        duration=cfg.slow_duration,
    )
    a, b = pair.app.summary("turn"), pair.base.summary("turn")
    vs = "bare proxy"
    result.figures = [
        Figure("p50 turn", a["p50_ms"], b["p50_ms"], "ms", baseline_name=vs),
        Figure("p99 turn", a["p99_ms"], b["p99_ms"], "ms", baseline_name=vs),
        Figure("turns/s", a["per_s"], b["per_s"], "turns/s", better="higher", baseline_name=vs),
    ]
    rows = latency_rows("app", pair.app, ("turn",)) + latency_rows(vs, pair.base, ("turn",))
    result.details = [
        f"As benchmark 1, but the stub waits {1000 * cfg.slow_chunk_delay:g} ms before each "
        "streamed chunk (the bare proxy's turn time is the model's time); "
        f"{cfg.slow_duration:g} s measured on each server after {cfg.slow_warmup:g} s (sessions "
        "this slow mostly start in the warm-up: turns only). No goal was set for it: it shows "
        "what a class feels with a real model, where time spent waiting for a database "
        "connection or a worker thread would add up.",
        "",
        *table(["server", "request", "count", "p50", "p99", "per s"], rows),
        "",
        f"CPU ms per request: app: {cpu_per(pair.app_cpu, pair.app)}; "
        f"{vs}: {cpu_per(pair.base_cpu, pair.base)}.",
    ]
    result.errors = pair.app.errors + pair.base.errors
    result.seconds = time.monotonic() - started


def _turn_overhead(
    cfg: Config, result: Result, app: Server, base: Server, stub: Process, tokens: list[str]
) -> None:
    started = time.monotonic()
    n = cfg.concurrency

    pair = paired(
        cfg,
        *llm_sides(app, base, tokens, also=[stub]),
        concurrency=n,
        warmup=cfg.warmup,
        duration=cfg.duration,
        # the same model calls, storing the least a turn must around them
        also=(bearer_side(base, DURABLE_LLM, [base, stub]),),
    )
    [(floor, floor_cpu)] = pair.others
    a, b, f = pair.app.summary("turn"), pair.base.summary("turn"), floor.summary("turn")
    vs, durable = "bare proxy", "proxy + storage"
    result.figures = [
        Figure("p50 turn", a["p50_ms"], b["p50_ms"], "ms", goal=1.3, baseline_name=vs),
        Figure("p99 turn", a["p99_ms"], b["p99_ms"], "ms", baseline_name=vs),
        Figure("turns/s", a["per_s"], b["per_s"], "turns/s", better="higher", baseline_name=vs),
        Figure("p50 turn", a["p50_ms"], f["p50_ms"], "ms", baseline_name=durable),
        Figure("turns/s", a["per_s"], f["per_s"], "turns/s", "higher", baseline_name=durable),
    ]
    rows = latency_rows("app", pair.app, ("start", "turn", "end"))
    rows += latency_rows(vs, pair.base, ("start", "turn", "end"))
    rows += latency_rows(durable, floor, ("start", "turn", "end"))
    lengths = pair.app.session_turns or [0]
    result.details = [
        f"{n} trainees at once, each playing full sessions (start, turns until the client ends "
        f"the session, end with the llm grader), {cfg.duration:g} s measured on each server in "
        f"{cfg.rounds} alternating rounds, each after a {cfg.warmup:g} s warm-up (each round "
        "starts new sessions); SQLite; "
        f"{len(pair.app.session_turns)} sessions finished, "
        f"{sum(lengths) / len(lengths):.1f} turns each on average. The bare proxy gets the "
        "same sequence: a start, as many turns as the app's sessions had, an end, each making "
        "the same upstream call. The proxy + storage (`/durable/…` on the same server) does "
        "the least a turn must store around that call: it looks the trainee's token up, "
        "commits the trainee's text before the call (so a model failure loses nothing) and "
        "the reply after, one row each (SQLModel on SQLite, the app's pragmas).",
        "",
        *table(["server", "request", "count", "p50", "p99", "per s"], rows),
        "",
        "CPU ms per request (server, stub, load generator): "
        f"app: {cpu_per(pair.app_cpu, pair.app)}; {vs}: {cpu_per(pair.base_cpu, pair.base)}; "
        f"{durable}: {cpu_per(floor_cpu, floor)}.",
    ]
    result.errors = pair.app.errors + pair.base.errors + floor.errors
    result.seconds = time.monotonic() - started


def _streaming(cfg: Config, result: Result, app: Server, base: Server, tokens: list[str]) -> None:
    started = time.monotonic()
    rows: list[list[str]] = []
    errors: list[str] = []
    vs = "bare proxy"

    for label, concurrency, duration in (
        ("1 trainee", 1, cfg.stream_duration),
        (f"{cfg.concurrency} trainees", cfg.concurrency, cfg.stream_duration),
    ):
        pair = paired(
            cfg,
            *llm_sides(app, base, tokens, stream=True),
            concurrency=concurrency,
            warmup=cfg.warmup / 2,
            duration=duration,
            needs=("first_token", "ttft"),
        )
        a, b = pair.app.summary("first_token"), pair.base.summary("first_token")
        goal = 1.2 if concurrency == 1 else None
        result.figures.append(
            Figure(f"p50, {label}", a["p50_ms"], b["p50_ms"], "ms", goal=goal, baseline_name=vs)
        )
        if concurrency > 1:
            result.figures.append(
                Figure(f"p99, {label}", a["p99_ms"], b["p99_ms"], "ms", baseline_name=vs)
            )
        for server, rec in (("app", pair.app), (vs, pair.base)):
            for kind, what in (
                ("first_token", "first token → first delta"),
                ("ttft", "sent → first delta"),
            ):
                s = rec.summary(kind)
                count, p50, p99 = str(int(s["count"])), s["p50_ms"], s["p99_ms"]
                rows.append([label, server, what, count, number(p50, "ms"), number(p99, "ms")])
        errors += pair.app.errors + pair.base.errors
    result.details = [
        "Turns sent with `Accept: text/event-stream`, full sessions as above, "
        f"{cfg.stream_duration:g} s measured on each server in {cfg.rounds} alternating rounds. "
        "The stub writes its CLOCK_MONOTONIC time into the first token as the bytes leave it; "
        "the trainee reads it back from the first `delta` event, so the figure is exactly "
        "stub → app (openai SDK, actor, reply writer, SSE) → trainee. The bare proxy forwards "
        "each upstream delta as an SSE `delta` event. `sent → first delta` (time to first "
        "token as the trainee sees it) also counts what the app does before calling the model "
        "(token check, storing the message, the director, the prompt).",
        "",
        *table(["load", "server", "interval", "count", "p50", "p99"], rows),
    ]
    result.errors = errors
    result.seconds = time.monotonic() - started
