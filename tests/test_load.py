"""A class practising at once: 50 concurrent scripted trainees through full sessions against a
real server on loopback (SQLite and PostgreSQL); zero errors, and the database holds exactly
the messages sent and received. Two replicas share one PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import random
import time

import httpx
import pytest
from conftest import empty_postgres
from fastapi import APIRouter
from fastapi.routing import APIRoute
from live_server import LiveServer, make_trainees
from sqlalchemy import func
from sqlmodel import Session, select

import app.api
import app.web
from app.api.deps import SessionRoute
from app.db import get_engine
from app.models import Message, PracticeSession

TRAINEES = 50
PERSONAS = [
    "yes-then-sells", "loyal-debtor", "impossible-idea", "after-hours-caller", "needs-approval",
    "endless-whatsapp", "disorganized", "free-advice-seeker", "doesnt-listen",
]  # fmt: skip
TURNS = [
    "Good morning, thank you for your time. How are things going?",
    "What matters most to you in this project?",
    "If I understand correctly, you need more certainty. What do you think?",
    "I propose a plan: a short call every Monday between 9 and 10, and a shared agenda.",
    "We could do everything at once, but given time and cost I suggest a first step.",
    "My hourly rate is 80 euro and we have no contract yet: shall I send a proposal?",
]
TIME_LIMIT = 240  # seconds for the whole class; the loop stops itself


async def trainee(
    base_urls: list[str], token: str, index: int, received: dict[str, int]
) -> list[str]:
    """One trainee's full session; returns the errors met (none expected)."""
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(index)
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:

        async def call(method: str, path: str, **kwargs: object) -> httpx.Response | None:
            url = rng.choice(base_urls) + path  # several replicas: any may answer
            response = await http.request(method, url, **kwargs)  # type: ignore[arg-type]
            if response.status_code >= 400:
                errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                return None
            return response

        body = {"persona_id": PERSONAS[index % len(PERSONAS)], "language": "en", "seed": index}
        started = await call("POST", "/api/sessions", json=body)
        if started is None:
            return errors
        sid = started.json()["session"]["id"]
        count = len(started.json()["messages"])
        for text in TURNS:
            turn = await call("POST", f"/api/sessions/{sid}/messages", json={"content": text})
            if turn is None:
                return errors
            count += 1 + len(turn.json()["replies"])
            if turn.json()["session"]["status"] != "active":
                break
        if await call("POST", f"/api/sessions/{sid}/end") is None:
            return errors
        received[sid] = count
    return errors


async def run_class(base_urls: list[str], tokens: list[str]) -> tuple[dict[str, int], list[str]]:
    received: dict[str, int] = {}
    results = await asyncio.wait_for(
        asyncio.gather(*(trainee(base_urls, t, i, received) for i, t in enumerate(tokens))),
        timeout=TIME_LIMIT,
    )
    return received, [error for errors in results for error in errors]


def check_database(database_url: str, received: dict[str, int]) -> None:
    with Session(get_engine(database_url)) as db:
        sessions = db.exec(select(func.count()).select_from(PracticeSession)).one()
        stored = dict(
            db.exec(select(Message.session_id, func.count()).group_by(Message.session_id)).all()
        )
        counts = dict(db.exec(select(PracticeSession.id, PracticeSession.message_count)).all())
        incomplete = db.exec(
            select(func.count()).select_from(Message).where(Message.status != "complete")
        ).one()
    assert sessions == TRAINEES
    assert stored == received  # exactly the messages sent and received, per session
    assert counts == received
    assert incomplete == 0


def test_fifty_concurrent_trainees(database_url: str) -> None:
    tokens = make_trainees(database_url, TRAINEES)
    with LiveServer(database_url) as server:
        began = time.monotonic()
        received, errors = asyncio.run(run_class([server.url], tokens))
        elapsed = time.monotonic() - began
    assert errors == [], errors[:5]
    assert len(received) == TRAINEES
    check_database(database_url, received)
    assert elapsed < TIME_LIMIT


def test_two_replicas_behind_one_postgres(postgres_url: str) -> None:
    empty_postgres(postgres_url)
    tokens = make_trainees(postgres_url, TRAINEES, prefix="r")
    with LiveServer(postgres_url) as first, LiveServer(postgres_url) as second:
        received, errors = asyncio.run(run_class([first.url, second.url], tokens))
        # a browser login made on one replica works on the other
        login = httpx.post(
            f"{first.url}/api/auth/login",
            json={"username": "r000", "password": "load test password"},
        )
        cookies = {"sparring_session": login.cookies["sparring_session"]}
        me = httpx.get(f"{second.url}/api/me", cookies=cookies)
        assert me.status_code == 200 and me.json()["username"] == "r000"
    assert errors == [], errors[:5]
    check_database(postgres_url, received)


CROWD = 200  # requests at once: several times the server's 40 worker threads


async def crowd_of_reads(url: str, tokens: list[str]) -> list[int]:
    """CROWD list requests at once, each authenticated (a read, then the route's own read in
    another worker thread); the status codes, or 0 where the client gave up (a stalled
    server answered after its pool's 30 s timeout, with 500s)."""
    async with httpx.AsyncClient(base_url=url, timeout=25, limits=httpx.Limits()) as http:

        async def one(i: int) -> int:
            token = tokens[i % len(tokens)] if i % 3 else "spr_unknown"  # a 401 after a read
            headers = {"Authorization": f"Bearer {token}"}
            try:
                return (await http.get("/api/sessions", headers=headers)).status_code
            except httpx.TimeoutException:
                return 0

        return await asyncio.gather(*(one(i) for i in range(CROWD)))


def test_every_route_closes_its_session_in_its_own_thread() -> None:
    """A router made other than by `api_router` (or `route_class=PageRoute` for pages) would
    bring the stall back."""
    modules = [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for package in (app.api, app.web)
        for info in pkgutil.iter_modules(package.__path__)
    ]
    routers = [v for m in modules for v in vars(m).values() if isinstance(v, APIRouter)]
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    assert len(routers) >= 9 and len(routes) > 40
    assert [r.path for r in routes if not isinstance(r, SessionRoute)] == []


@pytest.mark.usefixtures("quick_hashing")
def test_a_crowd_of_requests_never_waits_for_a_free_connection(database_url: str) -> None:
    """Before the fix, requests between their two worker threads held every pooled connection
    while the threads waited for one: 30 s stalls, then 500s (QueuePool timeouts)."""
    tokens = make_trainees(database_url, 20, prefix="c")
    with LiveServer(database_url) as server:
        codes = asyncio.run(crowd_of_reads(server.url, tokens))
    assert codes == [401 if i % 3 == 0 else 200 for i in range(CROWD)], sorted(set(codes))
