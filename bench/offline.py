"""Benchmark 3: the offline engine's turns per second in one server process, against a
FastAPI endpoint that returns a constant (bench.baselines `/constant`), same crowd, same
shape of session; and against one that does the least a turn must store (`/durable`: the
token looked up, one row written and committed), which says how much of the gap storing
costs and how much is the turn's own work."""

from __future__ import annotations

import time

from bench.common import Config, Services, ratio
from bench.load import app_trainee
from bench.report import Figure, Result, number, table
from bench.turns import Side, Trainee, bearer_side, cpu_per, latency_rows, paired, requests


def run(cfg: Config, services: Services) -> Result:
    result = Result("offline", "3. Offline engine throughput")
    started = time.monotonic()
    n = cfg.concurrency
    app, base, tokens = services.app, services.baseline, services.tokens
    services.start(app, base)

    def on_app(lengths: list[int]) -> Trainee:
        return lambda http, rec, i: app_trainee(
            http, rec, token=tokens[i], engine="offline", number=i
        )

    pair = paired(
        cfg,
        Side(app.url, on_app, [app]),
        # start, turns and end all go to one route; only turns count as turns
        bearer_side(base, ("/constant",) * 3, [base]),
        concurrency=n,
        warmup=cfg.warmup,
        duration=cfg.duration,
        also=(bearer_side(base, ("/durable",) * 3, [base]),),
    )
    app_rec, app_cpu, base_rec, base_cpu = pair.app, pair.app_cpu, pair.base, pair.base_cpu
    [(floor_rec, floor_cpu)] = pair.others
    a, b, f = app_rec.summary("turn"), base_rec.summary("turn"), floor_rec.summary("turn")
    a_cpu = 1000 * app_cpu["app"] / max(1, requests(app_rec))
    b_cpu = 1000 * base_cpu["baseline"] / max(1, requests(base_rec))
    f_cpu = 1000 * floor_cpu["baseline"] / max(1, requests(floor_rec))
    durable = "durable endpoint (token, one row)"
    result.figures = [
        Figure(
            "turns/s",
            a["per_s"],
            b["per_s"],
            "turns/s",
            better="higher",
            goal=0.5,
            baseline_name="constant endpoint",
        ),
        Figure("server CPU per request", a_cpu, b_cpu, "ms", baseline_name="constant endpoint"),
        Figure("turns/s", a["per_s"], f["per_s"], "turns/s", "higher", baseline_name=durable),
        Figure("server CPU per request", a_cpu, f_cpu, "ms", baseline_name=durable),
    ]
    rows = latency_rows("app (offline)", app_rec, ("start", "turn", "end"))
    rows += latency_rows("constant endpoint", base_rec, ("start", "turn", "end"))
    rows += latency_rows("durable endpoint", floor_rec, ("start", "turn", "end"))
    result.details = [
        f"{n} trainees at once on one uvicorn process (the app of benchmarks 1-2), full "
        "sessions on the offline engine (start, turns, end with the heuristic grader), "
        f"{cfg.duration:g} s measured on each server in {cfg.rounds} alternating rounds after "
        f"{cfg.warmup:g} s of warm-up each; SQLite. The constant endpoint gets the same "
        "sequence of requests "
        "(a start, the app's session lengths in turns, an end), each answered with a constant "
        "by a sync route like the app's; `start` and `end` rows there are the same constant. "
        "The durable endpoint gets the same sequence too, with each trainee's Bearer token: "
        "each request looks the token up, writes the text as one row and commits (SQLModel "
        "on SQLite with the app's pragmas), the least a turn must do before it answers. "
        "All share the 2 cores with the load generator (httpx), so the constant endpoint's "
        "rate is partly the load generator's ceiling: server CPU per request is the figure "
        "free of it.",
        "",
        *table(["server", "request", "count", "p50", "p99", "per s"], rows),
        "",
        f"CPU ms per request: app: {cpu_per(app_cpu, app_rec)}; "
        f"constant: {cpu_per(base_cpu, base_rec)}; durable: {cpu_per(floor_cpu, floor_rec)}. "
        f"Turn throughput ratio: {number(ratio(a['per_s'], b['per_s']))}x against the "
        f"constant, {number(ratio(a['per_s'], f['per_s']))}x against the durable endpoint.",
    ]
    result.errors = app_rec.errors + base_rec.errors + floor_rec.errors
    result.seconds = time.monotonic() - started
    return result
