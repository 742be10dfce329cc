"""Scripted trainees: coroutines that play full sessions over HTTP with httpx.AsyncClient, on
the app or on a baseline that makes the same upstream calls, recording each request.

Every loop is bounded by a deadline (and the turn scripts by their length); all traffic goes
to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import percentile
from bench.stub_server import parse_stamp

PERSONAS = (
    "impossible-idea",
    "yes-then-sells",
    "free-advice-seeker",
    "endless-whatsapp",
    "after-hours-caller",
    "doesnt-listen",
    "disorganized",
    "loyal-debtor",
    "needs-approval",
)
# What a trainee says, in order; sessions end earlier when the client ends them.
TRAINEE_LINES = (
    "Nice to meet you. Tell me about your project: what do you expect from this work?",
    "If I understand correctly, the deadline matters most to you. What would change for you?",
    "I hear you, and it is a fair worry. What have you tried so far?",
    "Let us look at it together: which part would you launch first if we had to choose?",
    "I can offer an alternative: a first version by Monday and the rest in two weeks.",
    "My rate is 80 euro an hour and I answer messages between 9 and 18 on weekdays.",
    "What would make you feel this is going in the right direction?",
    "I understand you are in a hurry. Shall we agree on the first three priorities?",
    "Before I start, let us write down what we agreed, so we both know what to expect.",
    "I am sorry the last delivery was late. Here is what I will do differently this time.",
    "How does that sound to you? Is there anything you would change?",
    "Let us decide together how we check progress: a short call on Fridays?",
    "If it helps, I can send you a written proposal today with the dates and the price.",
    "Thank you. To sum up: first version Monday, review Friday, rate as agreed.",
)
TIMEOUT = httpx.Timeout(60.0)


SESSION_TAGS = itertools.count(1)  # unique in a bench run, whichever crowd plays


def said(line: str, session_tag: int) -> str:
    """A line as said in one session: real trainees never send the same text twice, so what
    the app remembers per message must not flatter it (SESSION_TAGS)."""
    return f"{line} ({session_tag})"


def client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    """Keep-alive connections are dropped after 2 s idle: before uvicorn closes them (5 s), so
    a request never goes out on a connection the server is closing."""
    size = concurrency + 8
    limits = httpx.Limits(
        max_connections=size, max_keepalive_connections=size, keepalive_expiry=2.0
    )
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=TIMEOUT)


@dataclass
class Recorder:
    """Requests by kind, as (start, seconds); failed requests counted apart. Trainees stop at
    `deadline`; what counts is what fell within a measured window (after the warm-up, by the
    deadline) of this recorder or of those merged into it."""

    warm_until: float
    deadline: float
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    extra: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    session_turns: list[int] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.windows = self.windows or [(self.warm_until, self.deadline)]

    def add(self, kind: str, start: float, seconds: float) -> None:
        self.samples.setdefault(kind, []).append((start, seconds))

    def note(self, kind: str, value: float) -> None:
        self.extra.setdefault(kind, []).append(value)

    def fail(self, what: str) -> None:
        if len(self.errors) < 1000:
            self.errors.append(what[:300])

    def merge(self, other: Recorder) -> Recorder:
        """This recorder with another run's samples and windows added (for rounds)."""
        for kind, values in other.samples.items():
            self.samples.setdefault(kind, []).extend(values)
        for kind, extra in other.extra.items():
            self.extra.setdefault(kind, []).extend(extra)
        self.errors += other.errors
        self.session_turns += other.session_turns
        self.windows += other.windows
        return self

    def _inside(self, start: float, end: float) -> bool:
        return any(low <= start and end <= high for low, high in self.windows)

    def measured(self, kind: str) -> list[float]:
        """Latencies of requests started after a warm-up that finished by its deadline."""
        return [d for s, d in self.samples.get(kind, []) if self._inside(s, s + d)]

    def rate(self, kind: str) -> float:
        """Requests of this kind finished per second of measured windows."""
        seconds = sum(high - low for low, high in self.windows)
        done = sum(1 for s, d in self.samples.get(kind, []) if self._inside(s + d, s + d))
        return done / seconds if seconds > 0 else math.nan

    def summary(self, kind: str) -> dict[str, float]:
        values = self.measured(kind)
        return {
            "count": len(values),
            "p50_ms": percentile(values, 50) * 1000,
            "p99_ms": percentile(values, 99) * 1000,
            "per_s": self.rate(kind),
        }


async def timed(
    rec: Recorder,
    kind: str,
    call: Awaitable[httpx.Response],
    *,
    expect: int = 200,
) -> dict[str, Any] | None:
    start = time.monotonic()
    try:
        response = await call
    except httpx.HTTPError as exc:
        rec.fail(f"{kind}: {type(exc).__name__} after {time.monotonic() - start:.3f} s: {exc!r}")
        return None
    seconds = time.monotonic() - start
    if response.status_code != expect:
        rec.fail(f"{kind}: HTTP {response.status_code}: {response.text[:200]}")
        return None
    rec.add(kind, start, seconds)
    return response.json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- on the app


async def app_trainee(
    http: httpx.AsyncClient,
    rec: Recorder,
    *,
    token: str,
    engine: str,
    number: int,
    stream: bool = False,
    max_sessions: int | None = None,
) -> None:
    """Play full sessions (start, turns until the client ends it, end and grade) until the
    deadline; turns as JSON, or as SSE when `stream`."""
    headers = {"Authorization": f"Bearer {token}"}
    for session_no in itertools.count():
        if time.monotonic() >= rec.deadline or (max_sessions and session_no >= max_sessions):
            return
        persona = PERSONAS[(number + session_no) % len(PERSONAS)]
        body = {"persona_id": persona, "language": "en", "difficulty": "medium"}
        body |= {"seed": number * 1000 + session_no, "engine": engine}
        started = await timed(
            rec, "start", http.post("/api/sessions", json=body, headers=headers), expect=201
        )
        if started is None:
            await asyncio.sleep(0.05)
            continue
        sid, tag = started["session"]["id"], next(SESSION_TAGS)
        turns = 0
        for line in TRAINEE_LINES:
            if time.monotonic() >= rec.deadline:
                return
            line = said(line, tag)
            url = f"/api/sessions/{sid}/messages"
            if stream:
                status = await sse_turn(http, rec, url, {"content": line}, headers)
            else:
                turn = await timed(
                    rec, "turn", http.post(url, json={"content": line}, headers=headers)
                )
                status = turn["session"]["status"] if turn else None
            if status is None:
                break
            turns += 1
            if status != "active":
                break
        if await timed(rec, "end", http.post(f"/api/sessions/{sid}/end", headers=headers)):
            rec.session_turns.append(turns)


async def sse_turn(
    http: httpx.AsyncClient,
    rec: Recorder,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> str | None:
    """One streamed turn; notes `first_token` (stub's first token → first `delta` event) and
    `ttft` (request sent → first `delta`). Returns the session status (`active` when the
    stream carries no state event, as the baseline's does not)."""
    headers = {**headers, "Accept": "text/event-stream"}
    start = time.monotonic()
    first: int | None = None
    status = "active"
    try:
        async with http.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code != 200:
                await response.aread()
                rec.fail(f"turn: HTTP {response.status_code}: {response.text[:200]}")
                return None
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif not line.startswith("data: "):
                    continue
                elif event == "delta" and first is None:
                    first = time.monotonic_ns()
                    stamp = parse_stamp(json.loads(line[6:])["text"])
                    if stamp is not None:
                        rec.add("first_token", start, (first - stamp) / 1e9)
                    rec.add("ttft", start, first / 1e9 - start)
                elif event == "state":
                    status = json.loads(line[6:])["status"]
                elif event == "error":
                    rec.fail(f"turn: SSE error {line[6:200]}")
                    return None
    except httpx.HTTPError as exc:
        rec.fail(f"turn: {type(exc).__name__}: {exc}")
        return None
    rec.add("turn", start, time.monotonic() - start)
    return status


# ---------------------------------------------------------------- on a baseline


async def baseline_trainee(
    http: httpx.AsyncClient,
    rec: Recorder,
    *,
    number: int,
    lengths: Sequence[int],
    stream: bool = False,
    start_path: str = "/start",
    turn_path: str = "/turn",
    end_path: str = "/end",
    headers: dict[str, str] | None = None,
) -> None:
    """The same shape of session on a baseline: a start, as many turns as the app's sessions
    had (cycling through `lengths`), an end."""
    shape = itertools.cycle(lengths[number % len(lengths) :] + lengths[: number % len(lengths)])
    while time.monotonic() < rec.deadline:
        await timed(rec, "start", http.post(start_path, json={"content": ""}, headers=headers))
        tag = next(SESSION_TAGS)
        for line in TRAINEE_LINES[: next(shape)]:
            if time.monotonic() >= rec.deadline:
                return
            line = said(line, tag)
            if stream:
                await sse_turn(http, rec, turn_path + "/stream", {"content": line}, headers or {})
            else:
                turn = http.post(turn_path, json={"content": line}, headers=headers)
                await timed(rec, "turn", turn)
        await timed(rec, "end", http.post(end_path, json={"content": ""}, headers=headers))


# ---------------------------------------------------------------- running a crowd


async def crowd(
    base_url: str,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    trainee: Callable[[httpx.AsyncClient, Recorder, int], Awaitable[None]],
    needs: tuple[str, ...] = (),
    minimum: int = 0,
    grace: float = 15.0,
) -> Recorder:
    """`concurrency` trainees at once for warmup + duration seconds (then they finish their
    request in flight). With `minimum`, the window stretches until each kind in `needs` has
    that many measured requests, for at most `grace` seconds more (tiny smoke runs on a busy
    machine); every loop stays bounded by the deadline."""
    now = time.monotonic()
    rec = Recorder(warm_until=now + warmup, deadline=now + warmup + duration)
    stop_by = rec.deadline + grace

    async def stretch() -> None:
        while minimum:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if now < rec.deadline - 0.1:
                continue
            if now >= stop_by or all(len(rec.measured(k)) >= minimum for k in needs):
                return
            rec.deadline += 0.25
            rec.windows[-1] = (rec.warm_until, rec.deadline)

    async with client(base_url, concurrency) as http:
        cpu0 = os.times()
        stretching = asyncio.create_task(stretch())
        await asyncio.gather(*(trainee(http, rec, n) for n in range(concurrency)))
        stretching.cancel()
        cpu1 = os.times()
    rec.note("loadgen_cpu", (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system))
    return rec
