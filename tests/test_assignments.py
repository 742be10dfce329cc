"""Assignments: a coach asks a team to practise with a client; each trainee's part is done by
an ended session with that client, level and language; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

ASSIGN = {"team": "blue", "persona_id": "loyal-debtor", "difficulty": "easy", "language": "en"}


def play(client: TestClient, difficulty: str = "easy", language: str = "en") -> dict[str, Any]:
    body = {"persona_id": "loyal-debtor", "difficulty": difficulty, "language": language}
    sid = client.post("/api/sessions", json=body).json()["session"]["id"]
    said = client.post(f"/api/sessions/{sid}/messages", json={"content": "How are you doing?"})
    assert said.status_code == 200, said.text
    grade = client.post(f"/api/sessions/{sid}/end").json()
    return {"id": sid, "score": grade["score"]}


def test_a_trainee_s_part_is_done_by_a_matching_ended_session(
    login_as: Callable[..., TestClient],
) -> None:
    carla = login_as("carla", "coach", ["blue"])
    ada = login_as("ada", "trainee", ["blue"])
    eve = login_as("eve", "trainee", ["blue"])
    started_before = ada.post(
        "/api/sessions", json={k: v for k, v in ASSIGN.items() if k != "team"}
    ).json()["session"]["id"]
    created = carla.post("/api/assignments", json=ASSIGN | {"note": "  Before Friday's call "})
    assert created.status_code == 201, created.text
    assignment = created.json()
    assert assignment["set_by"] == "carla" and assignment["note"] == "Before Friday's call"
    assert [p["trainee"] for p in assignment["progress"]] == ["ada", "eve"]  # not the coach
    assert not any(p["done"] for p in assignment["progress"])

    # started before it was set, another level, another language: none of them count
    ada.post(f"/api/sessions/{started_before}/messages", json={"content": "Hello there"})
    ada.post(f"/api/sessions/{started_before}/end")
    play(ada, difficulty="hard")
    play(ada, language="it")
    assert not carla.get("/api/assignments").json()[0]["progress"][0]["done"]

    done = play(ada)
    mine = ada.get("/api/assignments").json()
    assert len(mine) == 1 and mine[0]["progress"] == [
        {"trainee": "ada", "done": True, "session_id": done["id"], "score": done["score"]}
    ]  # a trainee sees only their own part
    progress = {p["trainee"]: p for p in carla.get("/api/assignments").json()[0]["progress"]}
    assert progress["ada"]["done"] and not progress["eve"]["done"]
    assert eve.get("/api/assignments").json()[0]["progress"][0]["done"] is False


def test_only_the_teams_concerned_see_an_assignment(login_as: Callable[..., TestClient]) -> None:
    carla = login_as("carla", "coach", ["blue"])
    bob = login_as("bob", "trainee", ["red"])
    dario = login_as("dario", "coach", ["red"])
    root = login_as("root", "admin")
    assignment_id = carla.post("/api/assignments", json=ASSIGN).json()["id"]
    assert bob.get("/api/assignments").json() == []
    assert dario.get("/api/assignments").json() == []
    assert [a["id"] for a in root.get("/api/assignments").json()] == [assignment_id]
    # a coach of another team cannot set one for blue, nor remove blue's
    refused = dario.post("/api/assignments", json=ASSIGN)
    assert refused.status_code == 404 and refused.json()["code"] == "no_team"
    assert dario.delete(f"/api/assignments/{assignment_id}").status_code == 404
    assert root.delete(f"/api/assignments/{assignment_id}").status_code == 204
    assert carla.get("/api/assignments").json() == []
    assert carla.delete(f"/api/assignments/{assignment_id}").status_code == 404


def test_bad_assignments_are_clear_4xx(login_as: Callable[..., TestClient]) -> None:
    carla = login_as("carla", "coach", ["blue"])
    cases = [
        (ASSIGN | {"persona_id": "nobody"}, 422, "no persona 'nobody'"),
        (ASSIGN | {"team": "green"}, 404, "no team 'green' among yours"),
        (ASSIGN | {"difficulty": "brutal"}, 422, "difficulty"),
        (ASSIGN | {"language": "fr"}, 422, "language"),
        (ASSIGN | {"note": "x" * 501}, 422, "note"),
        (ASSIGN | {"due": "next Friday"}, 422, "due"),
    ]
    for body, status, words in cases:
        response = carla.post("/api/assignments", json=body)
        assert response.status_code == status, (body, response.text)
        assert words in response.text, response.text
    assert carla.get("/api/assignments").json() == []
    big = carla.delete(f"/api/assignments/{2**40}")
    assert big.status_code == 422 and "assignment_id" in big.text


def test_the_sessions_played_stay_when_an_assignment_goes(
    login_as: Callable[..., TestClient],
) -> None:
    carla = login_as("carla", "coach", ["blue"])
    ada = login_as("ada", "trainee", ["blue"])
    assignment_id = carla.post("/api/assignments", json=ASSIGN | {"due": "2026-12-11"}).json()["id"]
    assert ada.get("/api/assignments").json()[0]["due"] == "2026-12-11"
    done = play(ada)
    assert carla.delete(f"/api/assignments/{assignment_id}").status_code == 204
    assert ada.get(f"/api/sessions/{done['id']}").status_code == 200


def test_the_list_costs_the_same_queries_for_1_or_6_assignments(
    login_as: Callable[..., TestClient], anonymous: TestClient
) -> None:
    carla = login_as("carla", "coach", ["blue"])
    trainees = [login_as(name, "trainee", ["blue"]) for name in ("ada", "eve", "ivo")]
    engine = anonymous.app.state.engine  # type: ignore[attr-defined]
    counts: list[int] = []

    def count(*_: object) -> None:
        counts[-1] += 1

    for total in (1, 6):
        while len(carla.get("/api/assignments").json()) < total:
            carla.post("/api/assignments", json=ASSIGN)
            for trainee in trainees:
                play(trainee)
        counts.append(0)
        event.listen(engine, "before_cursor_execute", count)
        try:
            listed = carla.get("/api/assignments").json()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(listed) == total and all(p["done"] for p in listed[0]["progress"])
    assert counts[0] == counts[1], f"queries grew with the assignments: {counts}"
