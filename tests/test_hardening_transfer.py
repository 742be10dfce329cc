"""Imports hardened: integers the database cannot hold, a session whose status disagrees
with its director state, and grades that mark unknown techniques or quote messages the
session lacks are refused with a 422 that says what is wrong, and nothing is imported."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

EXPORT = "/api/exports/sessions.json"
IMPORT = "/api/imports/sessions"
HUGE = 2**70


pytestmark = pytest.mark.usefixtures("quick_hashing")


@pytest.fixture
def setup(login_as: Callable[..., TestClient]) -> tuple[TestClient, dict[str, Any]]:
    """root (admin) and one of ada's graded drills, exported, renamed so it imports anew."""
    ada = login_as("ada", "trainee", ["blue"])
    root = login_as("root", "admin")
    body = {
        "persona_id": "yes-then-sells",
        "language": "en",
        "seed": 3,
        "turns": [
            "Good morning. What matters most to you in this portfolio?",
            "Let me be clear: I recommend you hold the shares. I am certain of it.",
        ],
    }
    assert ada.post("/api/drills", json=body).status_code == 200
    bundle = root.get(EXPORT).json()
    bundle["sessions"][0]["session"]["id"] = "copy1"
    return root, bundle


def refused(root: TestClient, bundle: dict[str, Any], where: list[Any], words: str) -> None:
    response = root.post(IMPORT, json=bundle)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"][: len(where)] == where, detail
    assert words in detail["msg"], detail
    assert "copy1" not in {s["session"]["id"] for s in root.get(EXPORT).json()["sessions"]}


def changed(bundle: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copied = copy.deepcopy(bundle)
    edit(copied["sessions"][0])
    return copied


def test_the_unchanged_bundle_imports(setup: tuple[TestClient, dict[str, Any]]) -> None:
    root, bundle = setup
    response = root.post(IMPORT, json=bundle)
    assert response.status_code == 200 and response.json()["sessions"] == 1


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("session", "seed"), HUGE),
        (("session", "seed"), -1),
        (("session", "seed"), 2**31),
        (("session", "message_count"), HUGE),
        (("messages", 0, "seq"), HUGE),
        (("messages", 0, "seq"), 2**31),
    ],
)
def test_integers_out_of_range_are_refused_not_a_server_error(
    setup: tuple[TestClient, dict[str, Any]], path: tuple[Any, ...], value: int
) -> None:
    root, bundle = setup

    def edit(item: dict[str, Any]) -> None:
        node = item
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    response = root.post(IMPORT, json=changed(bundle, edit))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-len(path) :] == list(path)
    assert "copy1" not in {s["session"]["id"] for s in root.get(EXPORT).json()["sessions"]}


def test_a_status_that_disagrees_with_the_state_is_refused(
    setup: tuple[TestClient, dict[str, Any]],
) -> None:
    root, bundle = setup
    assert bundle["sessions"][0]["session"]["status"] == "ended"

    def reopen(item: dict[str, Any]) -> None:
        item["session"]["status"] = "active"
        item["session"]["outcome"] = None

    where = ["body", "sessions", 0, "session", "status"]
    refused(root, changed(bundle, reopen), where, "its state's status is 'ended'")

    def other_outcome(item: dict[str, Any]) -> None:
        state = item["session"]["state"]
        item["session"]["outcome"] = next(
            o for o in ("agreement", "walked_away") if o != state["outcome"]
        )

    where = ["body", "sessions", 0, "session", "outcome"]
    refused(root, changed(bundle, other_outcome), where, "must agree")


def test_a_grade_marking_a_technique_this_catalogue_lacks_is_refused(
    setup: tuple[TestClient, dict[str, Any]],
) -> None:
    root, bundle = setup

    def edit(item: dict[str, Any]) -> None:
        item["grades"][-1]["criteria"][0]["technique_id"] = "mind-reading"

    where = ["body", "sessions", 0, "grades", 0, "criteria", 0, "technique_id"]
    refused(root, changed(bundle, edit), where, "'mind-reading', which is not in this catalogue")


def test_evidence_quoting_a_message_the_session_lacks_is_refused(
    setup: tuple[TestClient, dict[str, Any]],
) -> None:
    root, bundle = setup
    criteria = bundle["sessions"][0]["grades"][-1]["criteria"]
    c = next(i for i, x in enumerate(criteria) if x["evidence"])

    def edit(item: dict[str, Any]) -> None:
        item["grades"][-1]["criteria"][c]["evidence"][0]["seq"] = 99

    where = ["body", "sessions", 0, "grades", 0, "criteria", c, "evidence", 0, "seq"]
    refused(root, changed(bundle, edit), where, "message seq 99, which the session does not have")


def test_a_time_in_the_future_is_refused(setup: tuple[TestClient, dict[str, Any]]) -> None:
    """Year 9999 would sort first in every list for ever; a clock a few hours ahead is fine."""
    root, bundle = setup

    def far(item: dict[str, Any]) -> None:
        item["session"]["created_at"] = "9999-12-31T23:59:59Z"

    where = ["body", "sessions", 0, "session", "created_at"]
    refused(root, changed(bundle, far), where, "9999-12-31T23:59:59+00:00 is in the future")
    soon = (datetime.now(UTC) + timedelta(hours=3)).isoformat()

    def ahead(item: dict[str, Any]) -> None:
        item["messages"][0]["created_at"] = soon

    assert root.post(IMPORT, json=changed(bundle, ahead)).status_code == 200
