"""kill -9 mid-session: nothing stored is lost, a cut reply stays marked `incomplete`, the
session continues after a restart, and a grade the crash left pending is finished."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

import httpx
import pytest
from live_server import LiveServer, make_trainees
from llm_stub import Hang, StubLLM
from sqlmodel import Session, col, select

from app.db import get_engine
from app.models import Grade, Message

WORDS = " ".join(f"word{i}" for i in range(60))  # 20 chunks of 3 words


def responder(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "# Techniques" not in system:
        return WORDS
    ids = system.rsplit("one entry per technique id: ", 1)[1].strip().rstrip(".").split(", ")
    return json.dumps(
        {"criteria": [{"technique_id": t, "verdict": "missed", "evidence": []} for t in ids]}
    )


def messages(database_url: str, session_id: str) -> list[Message]:
    with Session(get_engine(database_url)) as db:
        query = select(Message).where(Message.session_id == session_id).order_by(col(Message.seq))
        return list(db.exec(query))


def wait_for(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError("condition not met in time")


@pytest.fixture
def stub() -> Any:
    with StubLLM(responder) as server:
        yield server


def test_a_server_killed_mid_reply_loses_nothing(stub: StubLLM, database_url: str) -> None:
    token = make_trainees(database_url, 1)[0]
    headers = {"Authorization": f"Bearer {token}"}
    env = {"SPARRING_LLM_BASE_URL": stub.base_url, "SPARRING_LLM_TIMEOUT": "30"}
    server = LiveServer(database_url, **env).start()
    try:
        body = {"persona_id": "endless-whatsapp", "language": "en", "seed": 1}
        started = httpx.post(f"{server.url}/api/sessions", json=body, headers=headers, timeout=30)
        sid = started.json()["session"]["id"]
        opening = [m["content"] for m in started.json()["messages"]]

        stub.chunk_delay = 0.15  # 20 chunks: a 3-second reply
        text = "I hear you. What worries you most about the wedding?"
        deltas = 0
        with httpx.stream(
            "POST",
            f"{server.url}/api/sessions/{sid}/messages",
            json={"content": text},
            headers={**headers, "Accept": "text/event-stream"},
            timeout=30,
        ) as stream:
            for line in stream.iter_lines():
                deltas += line == "event: delta"
                if deltas == 8:  # > 1 s in: the partial reply has been flushed
                    server.kill()
                    break
    finally:
        server.kill()

    stored = messages(database_url, sid)
    assert [m.content for m in stored[: len(opening)]] == opening
    trainee = stored[len(opening)]
    assert trainee.role == "trainee" and trainee.content == text
    cut = stored[len(opening) + 1 :]
    assert len(cut) == 1 and cut[0].status == "incomplete"
    assert cut[0].content and WORDS.startswith(cut[0].content)

    stub.chunk_delay = 0
    with LiveServer(database_url, **env) as restarted:
        resumed = httpx.post(
            f"{restarted.url}/api/sessions/{sid}/messages",
            json={"content": text},
            headers=headers,
            timeout=30,
        )
        assert resumed.status_code == 200, resumed.text
        reply = resumed.json()["replies"][-1]
        assert reply["status"] == "complete" and reply["content"] == WORDS
        assert resumed.json()["session"]["state"]["turn"] == 1
        after = httpx.get(f"{restarted.url}/api/sessions/{sid}", headers=headers).json()
    statuses = [m["status"] for m in after["messages"]]
    assert statuses.count("incomplete") == 1  # the cut reply is kept, marked, never lost


def test_a_grade_cut_by_a_crash_is_finished_after_restart(stub: StubLLM, database_url: str) -> None:
    token = make_trainees(database_url, 1)[0]
    headers = {"Authorization": f"Bearer {token}"}
    env = {
        "SPARRING_LLM_BASE_URL": stub.base_url,
        "SPARRING_LLM_TIMEOUT": "60",
        "SPARRING_GRADE_SWEEP_SECONDS": "0.5",
        "SPARRING_GRADE_STALE_AFTER_SECONDS": "1",
    }
    server = LiveServer(database_url, **env).start()
    try:
        body = {"persona_id": "disorganized", "language": "it", "seed": 2}
        sid = httpx.post(f"{server.url}/api/sessions", json=body, headers=headers, timeout=30)
        sid = sid.json()["session"]["id"]
        say = {"content": "Facciamo così: una checklist condivisa e un promemoria ogni lunedì."}
        httpx.post(f"{server.url}/api/sessions/{sid}/messages", json=say, headers=headers)
        stub.script(Hang(30))  # the grader hangs…

        def end_session() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server dies under it
                httpx.post(f"{server.url}/api/sessions/{sid}/end", headers=headers, timeout=60)

        ending = threading.Thread(target=end_session, daemon=True)
        ending.start()

        def pending() -> bool:
            """The grade is stored as pending and the grader's call is hanging at the stub
            (killed any sooner, the restarted server's call would meet the Hang instead)."""
            with Session(get_engine(database_url)) as db:
                grade = db.exec(select(Grade).where(Grade.session_id == sid)).first()
                return grade is not None and grade.status == "pending" and stub.pending == 0

        wait_for(pending)
        server.kill()  # …and the server dies while grading
    finally:
        server.kill()

    with LiveServer(database_url, **env) as restarted:

        def done() -> bool:
            with Session(get_engine(database_url)) as db:
                grades = list(db.exec(select(Grade).where(Grade.session_id == sid)))
                return len(grades) == 1 and grades[0].status == "done"

        wait_for(done, timeout=30)
        detail = httpx.get(f"{restarted.url}/api/sessions/{sid}", headers=headers).json()
    assert detail["grade"]["status"] == "done" and detail["grade"]["grader"].startswith("llm:")
    assert detail["session"]["status"] == "ended"
