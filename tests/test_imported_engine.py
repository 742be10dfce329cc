"""A session played with an engine this server lacks: an import naming an engine Sparring does
not have is refused; one played with the model and imported into a server without one is
never stuck: ending or grading it gives a grade by the offline grader (named so), a message
to it is stored and refused with a 503 that says what to configure, and a grade left pending
is finished by the sweep. Nothing answers 422 about a body field the request does not have."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.engine.grader import HEURISTIC_GRADER
from app.main import create_app

EXPORT = "/api/exports/sessions.json"
IMPORT = "/api/imports/sessions"
PASSWORD = "correct horse battery staple"
HELLO = "Good morning. What matters most to you in this portfolio?"
DRILL = {
    "persona_id": "yes-then-sells",
    "language": "en",
    "seed": 3,
    "turns": [HELLO, "Let me be clear: I recommend you hold the shares. I am certain of it."],
}

pytestmark = pytest.mark.usefixtures("quick_hashing")

People = dict[str, TestClient]


@pytest.fixture
def people(login_as: Callable[..., TestClient]) -> People:
    """ada (trainee of blue), carla (her coach) and root (admin), on a server without a model."""
    clients = {
        "ada": login_as("ada", "trainee", ["blue"]),
        "carla": login_as("carla", "coach", ["blue"]),
        "root": login_as("root", "admin"),
    }
    assert clients["root"].app.state.engines.get("llm") is None  # type: ignore[attr-defined]
    return clients


def exported(people: People, sid: str) -> dict[str, Any]:
    """ada's session `sid`, exported, as a bundle of its own."""
    bundle = people["root"].get(EXPORT, params={"session": sid}).json()
    assert [s["session"]["id"] for s in bundle["sessions"]] == [sid]
    return bundle


def as_llm(bundle: dict[str, Any], new_id: str, engine: str = "llm") -> dict[str, Any]:
    """The bundle's session under a new id, as if played with `engine` on another server."""
    copied = copy.deepcopy(bundle)
    copied["sessions"][0]["session"] |= {"id": new_id, "engine": engine}
    return copied


def active_with_one_message(people: People) -> dict[str, Any]:
    started = people["ada"].post(
        "/api/sessions", json={"persona_id": "yes-then-sells", "language": "en", "seed": 5}
    )
    sid = started.json()["session"]["id"]
    said = people["ada"].post(f"/api/sessions/{sid}/messages", json={"content": HELLO})
    assert said.status_code == 200, said.text
    bundle = exported(people, sid)
    assert bundle["sessions"][0]["session"]["status"] == "active"
    return bundle


def ended_drill(people: People) -> dict[str, Any]:
    drilled = people["ada"].post("/api/drills", json=DRILL)
    assert drilled.status_code == 200, drilled.text
    return exported(people, drilled.json()["session"]["id"])


def imported(people: People, bundle: dict[str, Any]) -> None:
    response = people["root"].post(IMPORT, json=bundle)
    assert response.status_code == 200, response.text
    assert response.json()["sessions"] == 1


def engine_unavailable(response: Any, sid: str) -> None:
    """A 503 that names the session, the engine and what to set; no 422 about a body field."""
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["code"] == "engine_unavailable" and body["params"] == {"engine": "llm"}
    assert isinstance(body["detail"], str)
    for words in (f"session '{sid}'", "'llm' engine", "SPARRING_LLM_BASE_URL"):
        assert words in body["detail"], body


# ---------------------------------------------------------------- the import


@pytest.mark.parametrize("engine", ["bogus", "LLM", ""])
def test_an_engine_sparring_does_not_have_is_refused_naming_the_session_and_field(
    people: People, engine: str
) -> None:
    bundle = as_llm(ended_drill(people), "bogus1", engine=engine)
    response = people["root"].post(IMPORT, json=bundle)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "sessions", 0, "session", "engine"], detail
    for words in ("session bogus1", f"unknown engine '{engine}'", "llm", "offline"):
        assert words in detail["msg"], detail
    ids = {s["session"]["id"] for s in people["root"].get(EXPORT).json()["sessions"]}
    assert "bogus1" not in ids


def test_a_session_played_with_the_model_imports_where_no_model_is_configured(
    people: People,
) -> None:
    imported(people, as_llm(ended_drill(people), "llm1"))
    session = people["ada"].get("/api/sessions/llm1").json()["session"]
    assert session["engine"] == "llm"  # what it was played with stays recorded


# ---------------------------------------------------------------- ending and grading


def test_ending_an_imported_model_session_grades_it_offline_and_says_so(people: People) -> None:
    imported(people, as_llm(active_with_one_message(people), "llm1"))
    ada = people["ada"]

    ended = ada.post("/api/sessions/llm1/end")

    assert ended.status_code == 200, ended.text
    grade = ended.json()
    assert grade["status"] == "done" and grade["grader"] == HEURISTIC_GRADER
    assert grade["criteria"] and grade["score"] is not None
    detail = ada.get("/api/sessions/llm1").json()
    assert detail["session"]["status"] == "ended" and detail["session"]["engine"] == "llm"
    assert detail["grade"] == grade
    assert ada.post("/api/sessions/llm1/end").json() == grade  # idempotent


def test_a_graded_model_session_is_not_regraded_offline_and_keeps_its_grade(
    people: People,
) -> None:
    """The heuristic would replace a finished grade (and hide the coaches' verdicts on it):
    a 503 saying what to configure, and the grade stays."""
    imported(people, as_llm(active_with_one_message(people), "llm1"))
    first = people["ada"].post("/api/sessions/llm1/end").json()

    engine_unavailable(people["carla"].post("/api/sessions/llm1/grade"), "llm1")

    assert people["ada"].get("/api/sessions/llm1").json()["grade"] == first
    mine = people["ada"].post("/api/sessions/llm1/grade")
    assert mine.status_code == 409 and mine.json()["code"] == "already_graded"


def failed_grade(grade: dict[str, Any]) -> dict[str, Any]:
    return grade | {
        "status": "failed",
        "score": None,
        "passed": None,
        "summary": "",
        "grader": "gpt-4o-mini",
        "error": "the model endpoint timed out",
        "criteria": [],
        "reviews": [],
    }


@pytest.mark.parametrize("grades", ["none", "failed"])
@pytest.mark.parametrize("who", ["ada", "carla"])
def test_an_ended_model_session_without_a_grade_is_graded_offline(
    people: People, grades: str, who: str
) -> None:
    bundle = as_llm(ended_drill(people), "llm1")
    item = bundle["sessions"][0]
    item["grades"] = [failed_grade(item["grades"][-1])] if grades == "failed" else []
    imported(people, bundle)

    response = people[who].post("/api/sessions/llm1/grade")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"
    assert response.json()["grader"] == HEURISTIC_GRADER


def test_a_message_to_an_imported_model_session_is_stored_and_refused_then_it_ends(
    people: People,
) -> None:
    imported(people, as_llm(active_with_one_message(people), "llm1"))
    ada = people["ada"]
    text = "What would you like to achieve this year?"

    engine_unavailable(ada.post("/api/sessions/llm1/messages", json={"content": text}), "llm1")

    detail = ada.get("/api/sessions/llm1").json()
    assert detail["messages"][-1]["content"] == text  # nothing the trainee wrote is lost
    assert detail["session"]["status"] == "active"
    ended = ada.post("/api/sessions/llm1/end")
    assert ended.status_code == 200 and ended.json()["grader"] == HEURISTIC_GRADER


def test_a_grade_left_pending_by_the_model_is_finished_offline_at_start(
    people: People, settings: Settings
) -> None:
    bundle = as_llm(ended_drill(people), "llm1")
    item = bundle["sessions"][0]
    item["grades"] = [
        failed_grade(item["grades"][-1]) | {"status": "pending", "error": None, "claimed_at": None}
    ]
    imported(people, bundle)
    assert people["ada"].get("/api/sessions/llm1").json()["grade"]["status"] == "pending"

    with TestClient(create_app(settings)):  # a restart: the sweep runs at start
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            grade = people["ada"].get("/api/sessions/llm1").json()["grade"]
            if grade["status"] != "pending":
                break
            time.sleep(0.05)

    assert grade["status"] == "done" and grade["grader"] == HEURISTIC_GRADER, grade


# ---------------------------------------------------------------- the chat page


def page_login(app: Any, username: str) -> tuple[TestClient, str]:
    """A browser logged in through the form, and the CSRF token of its pages."""
    browser = TestClient(app)
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = browser.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = browser.get(response.headers["location"])
    csrf = re.search(r'<meta name="csrf-token" content="([^"]*)"', home.text)
    assert csrf
    return browser, csrf.group(1)


def test_ending_it_from_the_chat_page_shows_the_offline_grade(people: People) -> None:
    imported(people, as_llm(active_with_one_message(people), "llm1"))
    browser, csrf = page_login(people["ada"].app, "ada")

    ended = browser.post("/sessions/llm1/end", data={"csrf_token": csrf}, follow_redirects=False)

    assert ended.status_code == 303, ended.text
    assert ended.headers["location"] == "/sessions/llm1/report"
    report = browser.get("/sessions/llm1/report")
    assert report.status_code == 200
    assert 'id="heuristic-note"' in report.text
