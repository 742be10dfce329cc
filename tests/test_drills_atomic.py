"""POST /api/drills is one call: a turn the session service would refuse is refused before the
session starts (no session, nothing counted against the hourly limit), and a failure once it
has started leaves no half-played session active: it is ended, and the error names it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from llm_stub import Reply, Status, StubLLM
from sqlmodel import Session
from test_llm_engine import llm_settings, trainee_client
from test_llm_engine import responder as grading_responder
from test_pages import login_token

from app import auth
from app.catalog import Catalog
from app.config import Settings
from app.db import get_engine
from app.drills import DrillError, load_drill
from app.models import UserCreate

BASE = {"persona_id": "impossible-idea", "language": "en", "difficulty": "medium", "seed": 3}
TURNS = [
    "Let's look at your idea together.",
    "What matters most to you about the launch?",
    "Shall we see what fits the budget?",
]
CLIENT_LINE = "Listen, I want the whole site redone by Monday."


def post_drill(client: TestClient, turns: list[str], **extra: Any) -> Any:
    """JSON with ASCII escapes, so a lone surrogate travels as the JSON text `\\ud800`."""
    body = json.dumps({**BASE, **extra, "turns": turns})
    return client.post("/api/drills", content=body, headers={"Content-Type": "application/json"})


def total(client: TestClient, **params: str) -> int:
    response = client.get("/api/sessions", params=params)
    assert response.status_code == 200, response.text
    return response.json()["total"]


BAD_TURNS = {
    "zero-width-space": "\u200b",
    "word-joiner": "\u2060",
    "bell": "\u0007",
    "blanks-and-invisible": " \u200b\t\u2060 ",
    "lone-surrogate": "a\ud800",
    "nul": "ok\u0000",
    "too-long": "x" * 4001,
}


@pytest.mark.parametrize("bad", BAD_TURNS.values(), ids=BAD_TURNS.keys())
def test_a_bad_turn_is_refused_before_the_session_starts(client: TestClient, bad: str) -> None:
    before = total(client)
    response = post_drill(client, [TURNS[0], bad, TURNS[2]])
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "turns", 1]  # the index counts from 0, as pydantic's
    assert problem["msg"].startswith("turn 2 (turns[1]) ")  # the message counts from 1
    assert "the drill was not started" in problem["msg"]
    assert total(client) == before  # no session, half-played or otherwise


def test_a_refused_drill_does_not_count_against_the_hourly_limit(database_url: str) -> None:
    with trainee_client(Settings(database_url=database_url, sessions_per_hour=1)) as client:
        assert post_drill(client, [TURNS[0], "\u200b"]).status_code == 422
        assert post_drill(client, [TURNS[0], "a\ud800"]).status_code == 422
        played = post_drill(client, TURNS)
        assert played.status_code == 200, played.text
        assert total(client) == 1


def test_more_turns_than_a_session_takes_are_refused_up_front(database_url: str) -> None:
    with trainee_client(Settings(database_url=database_url, max_turns_per_session=2)) as client:
        response = post_drill(client, TURNS)
        assert response.status_code == 422, response.text
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["body", "turns"] and "at most 2" in problem["msg"]
        assert total(client) == 0


def test_the_message_limit_is_the_servers_setting(database_url: str) -> None:
    with trainee_client(Settings(database_url=database_url, max_message_chars=40)) as client:
        response = post_drill(client, [TURNS[0], "x" * 41])
        assert response.status_code == 422
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["body", "turns", 1] and "the limit is 40" in problem["msg"]
        assert total(client) == 0


def test_a_drill_file_with_an_invisible_turn_is_refused_when_loaded(
    tmp_path: Path, catalog: Catalog
) -> None:
    path = tmp_path / "invisible.yaml"
    path.write_text(
        'persona: impossible-idea\nlanguage: en\nturns: ["Hello there.", "\\u200b"]\n',
        encoding="utf-8",
    )
    with pytest.raises(DrillError, match=r"turns\.1: .*empty"):
        load_drill(path, catalog)


# ---------------------------------------------------------------- a failure mid-drill


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLLM]:
    with StubLLM(lambda _body: CLIENT_LINE) as server:
        yield server


def test_a_model_failure_mid_drill_ends_the_session_and_names_it(
    stub: StubLLM, database_url: str
) -> None:
    with trainee_client(llm_settings(stub, database_url)) as client:
        # the opening and turn 1 are answered; turn 2's reply fails
        stub.script(Reply(CLIENT_LINE), Reply(CLIENT_LINE), Status(500))
        response = post_drill(client, TURNS, engine="llm")
        assert response.status_code == 502, response.text
        body = response.json()
        [session] = client.get("/api/sessions").json()["items"]
        sid = session["id"]
        assert f"session '{sid}'" in body["detail"] and body["params"]["session_id"] == sid
        assert body["code"] == "drill_cut_short" and body["params"]["turn"] == 2
        assert "turn 2 of 3" in body["detail"] and "play it again" in body["detail"]
        assert "send the same text again" not in body["detail"]  # a drill cannot do that

        assert total(client, status="active") == 0
        # neither the trainee nor the client ended it: a failure cut it short
        assert session["status"] == "ended" and session["outcome"] == "cut_short"
        assert session["success"] is None  # no result, good or bad
        detail = client.get(f"/api/sessions/{sid}").json()
        said = [m["content"] for m in detail["messages"] if m["role"] == "trainee"]
        assert said == TURNS[:2]  # what was played, the failed turn's message too, is kept
        # not graded right after the model failed: no call to it after the failed one
        assert len(stub.requests) == 3 and detail["grade"] is None
        assert f"POST /api/sessions/{sid}/end grades what was played" in body["detail"]


def test_a_drill_cut_short_is_graded_on_request_like_any_ended_session(
    stub: StubLLM, database_url: str
) -> None:
    """/end grades it; a grade that fails is stored as failed, 502, and grading again works,
    as for any session; the outcome stays `cut_short`."""
    with trainee_client(llm_settings(stub, database_url)) as client:
        stub.script(Reply(CLIENT_LINE), Reply(CLIENT_LINE), Status(500))
        cut = post_drill(client, TURNS, engine="llm").json()
        sid = cut["params"]["session_id"]

        failed = client.post(f"/api/sessions/{sid}/end")  # the grader's answer is not JSON
        assert failed.status_code == 502, failed.text
        assert f"POST /api/sessions/{sid}/grade" in failed.json()["detail"]
        assert client.get(f"/api/sessions/{sid}").json()["grade"]["status"] == "failed"

        stub.responder = grading_responder
        graded = client.post(f"/api/sessions/{sid}/grade")
        assert graded.status_code == 200, graded.text
        assert graded.json()["status"] == "done" and graded.json()["score"] is not None
        detail = client.get(f"/api/sessions/{sid}").json()
        assert detail["session"]["outcome"] == "cut_short"
        assert detail["session"]["score"] == graded.json()["score"]
        again = client.post(f"/api/sessions/{sid}/end")  # idempotent, as for any session
        assert again.status_code == 200 and again.json() == graded.json()


def test_a_drill_cut_short_reads_so_in_both_languages(stub: StubLLM, database_url: str) -> None:
    with trainee_client(llm_settings(stub, database_url)) as client:
        stub.script(Reply(CLIENT_LINE), Reply(CLIENT_LINE), Status(500))
        english = post_drill(client, TURNS, engine="llm").json()["params"]["session_id"]
        stub.script(Reply(CLIENT_LINE), Reply(CLIENT_LINE), Status(500))
        italian = post_drill(client, TURNS, engine="llm", language="it")
        italian_id = italian.json()["params"]["session_id"]

        export = client.get(f"/api/sessions/{english}/export?format=md").text
        assert "| Outcome | cut short by an error |" in export
        assert "ended by the trainee" not in export
        export = client.get(f"/api/sessions/{italian_id}/export?format=md").text
        assert "| Esito | interrotta da un errore |" in export
        assert "chiusa in anticipo" not in export

        browser = TestClient(client.app)  # the report card, as the trainee's browser shows it
        form = login_token(browser.get("/login").text)
        login = {"username": "eve", "password": "correct horse battery", "csrf_token": form}
        assert browser.post("/login", data=login, follow_redirects=False).status_code == 303
        for sid, lang, label in (
            (english, "en", "cut short by an error"),
            (italian_id, "it", "interrotta da un errore"),
        ):
            page = browser.get(f"/sessions/{sid}/report?lang={lang}")
            assert page.status_code == 200, page.text
            assert f'<dd id="outcome">{label}</dd>' in page.text


def test_a_drill_cut_short_survives_export_then_import(
    stub: StubLLM, database_url: str, tmp_path: Path
) -> None:
    with trainee_client(llm_settings(stub, database_url)) as client:
        stub.script(Reply(CLIENT_LINE), Reply(CLIENT_LINE), Status(500))
        sid = post_drill(client, TURNS, engine="llm").json()["params"]["session_id"]
        bundle = client.get("/api/exports/sessions.json").json()
    elsewhere = Settings(database_url=f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with trainee_client(elsewhere) as other:  # a trainee named as the exported one
        with Session(get_engine(elsewhere.database_url)) as db:
            admin = auth.create_user(
                db=db, request=UserCreate(username="imp", password="x" * 12, role="admin")
            )
            other.headers["Authorization"] = (
                "Bearer " + auth.create_token(db=db, user=admin, name="t")[1]
            )
        imported = other.post("/api/imports/sessions", json=bundle)
        assert imported.status_code == 200, imported.text
        assert other.get(f"/api/sessions/{sid}").json()["session"]["outcome"] == "cut_short"


def test_a_model_failure_on_the_opening_stores_nothing(stub: StubLLM, database_url: str) -> None:
    with trainee_client(llm_settings(stub, database_url)) as client:
        stub.script(Status(500))
        response = post_drill(client, TURNS, engine="llm")
        assert response.status_code == 502 and "nothing was stored" in response.json()["detail"]
        assert total(client) == 0
