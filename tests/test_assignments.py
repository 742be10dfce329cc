"""Assignments: a coach asks a team to practise with a client; each trainee's part is done by
an ended session with that client, level and language; on SQLite and PostgreSQL; and
`sparring assignments`, here and through a server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from live_server import LiveServer
from sqlalchemy import event
from sqlmodel import Session, select, update
from typer.testing import CliRunner

from app import auth
from app import sessions as service
from app.cli import cli
from app.config import Settings
from app.db import get_engine
from app.models import Assignment, User, UserCreate

ASSIGN = {"team": "blue", "persona_id": "loyal-debtor", "difficulty": "easy", "language": "en"}
DUE = (date.today() + timedelta(days=4)).isoformat()


def time_passes(database_url: str, due: date) -> None:
    """Every assignment's due date becomes `due`, as if the days went by (a past date can
    not be set)."""
    engine = get_engine(database_url)
    with Session(engine) as db:
        db.exec(update(Assignment).values(due=due))
        db.commit()
    engine.dispose()


runner = CliRunner()


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


def test_a_session_cut_short_does_not_do_the_part(login_as: Callable[..., TestClient]) -> None:
    """A drill whose model failed mid-way ends `cut_short`: graded later or not, it was not
    practised to its end, so the trainee still has the assignment to do."""
    carla = login_as("carla", "coach", ["blue"])
    ada = login_as("ada", "trainee", ["blue"])
    assert carla.post("/api/assignments", json=ASSIGN).status_code == 201
    body = {k: v for k, v in ASSIGN.items() if k != "team"}
    sid = ada.post("/api/sessions", json=body).json()["session"]["id"]
    ada.post(f"/api/sessions/{sid}/messages", json={"content": "How are you doing?"})
    with Session(ada.app.state.engine) as db:  # type: ignore[attr-defined]
        user = db.exec(select(User).where(User.username == "ada")).one()
        service.cut_short(db=db, user=user, session_id=sid)
    assert ada.post(f"/api/sessions/{sid}/end").status_code == 200  # graded on request
    assert ada.get(f"/api/sessions/{sid}").json()["session"]["outcome"] == "cut_short"
    assert not ada.get("/api/assignments").json()[0]["progress"][0]["done"]
    done = play(ada)
    assert ada.get("/api/assignments").json()[0]["progress"][0]["session_id"] == done["id"]


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
        (ASSIGN | {"due": "2020-01-31"}, 422, "the due date 2020-01-31 is in the past"),
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
    assignment_id = carla.post("/api/assignments", json=ASSIGN | {"due": DUE}).json()["id"]
    assert ada.get("/api/assignments").json()[0]["due"] == DUE
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


# ---------------------------------------------------------------- sparring assignments


def test_cli_sets_lists_shows_and_removes_an_assignment_here(
    login_as: Callable[..., TestClient],
    settings: Settings,
    use_database: Callable[[str], None],
) -> None:
    login_as("carla", "coach", ["blue"])
    ada = login_as("ada", "trainee", ["blue"])
    login_as("eve", "trainee", ["blue"])
    use_database(settings.database_url)
    as_carla = ["--as", "carla"]

    made = runner.invoke(
        cli,
        ["assignments", "set", "blue", "loyal-debtor", "--difficulty", "easy", "--lang", "en",
         "--note", "Before Friday", "--due", DUE, *as_carla],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    time_passes(settings.database_url, date(2020, 1, 31))
    assert "blue (2 trainees) to practise with loyal-debtor" in made.stdout
    assignment_id = carla_list(as_carla)[0]["id"]
    assert ada.get("/api/assignments").json()[0]["note"] == "Before Friday"  # the pages' too

    table = runner.invoke(cli, ["assignments", "list", *as_carla]).stdout.splitlines()
    assert table[0].split() == ["id", "team", "client", "level", "lang", "due", "done", "set", "by"]
    assert table[2].split() == [
        str(assignment_id), "blue", "loyal-debtor", "easy", "en", "2020-01-31", "(overdue)",
        "0/2", "carla",
    ]  # fmt: skip

    done = play(ada)
    assert "0/2" not in runner.invoke(cli, ["assignments", "list", *as_carla]).stdout
    shown = runner.invoke(cli, ["assignments", "show", str(assignment_id), *as_carla])
    assert shown.exit_code == 0, shown.output
    assert "note: Before Friday" in shown.stdout
    rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines()[4:]}
    assert rows == {
        "ada": ["yes", str(done["score"]), done["id"]],
        "eve": ["not", "yet", "-", "-"],
    }

    removed = runner.invoke(cli, ["assignments", "remove", str(assignment_id), *as_carla])
    assert removed.exit_code == 0 and f"removed assignment {assignment_id}" in removed.stdout
    assert runner.invoke(cli, ["assignments", "list", *as_carla]).stdout == "no assignments\n"
    assert ada.get(f"/api/sessions/{done['id']}").status_code == 200


def carla_list(as_carla: list[str]) -> list[dict[str, Any]]:
    listed = runner.invoke(cli, ["assignments", "list", "--json", *as_carla])
    assert listed.exit_code == 0, listed.output
    return json.loads(listed.stdout)


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["set", "green", "loyal-debtor", "--as", "carla"], 1, "no team 'green' among yours"),
        (["set", "blue", "nobody", "--as", "carla"], 1, "no persona 'nobody'"),
        (["set", "blue", "loyal-debtor", "--as", "ada"], 1, "only coaches and admins"),
        (["set", "blue", "loyal-debtor", "--lang", "fr", "--as", "carla"], 2, "language:"),
        (["set", "blue", "loyal-debtor", "--as", "zed"], 1, "no user named 'zed' here"),
        (["show", "99", "--as", "carla"], 1, "no assignment 99 among yours"),
        (["remove", "99", "--as", "carla"], 1, "no assignment 99"),
        (["remove", "99999999999", "--as", "carla"], 1, "no assignment 99999999999"),
    ],
)
def test_cli_mistakes_are_one_line_errors(
    login_as: Callable[..., TestClient],
    settings: Settings,
    use_database: Callable[[str], None],
    args: list[str],
    code: int,
    says: str,
) -> None:
    login_as("carla", "coach", ["blue"])
    login_as("ada", "trainee", ["blue"])
    use_database(settings.database_url)
    result = runner.invoke(cli, ["assignments", *args])
    assert result.exit_code == code, result.output
    assert says in result.stderr and "Traceback" not in result.output


def test_cli_assignments_through_a_server(tmp_path: Path) -> None:
    with LiveServer(f"sqlite:///{tmp_path / 'server.db'}") as server:
        engine = get_engine(server.env["SPARRING_DATABASE_URL"])
        with Session(engine) as db:
            request = UserCreate(
                username="carla", password="correct horse battery", role="coach", teams=["blue"]
            )
            carla = auth.create_user(db=db, request=request)
            trainee = UserCreate(
                username="ada", password="correct horse battery", role="trainee", teams=["blue"]
            )
            auth.create_user(db=db, request=trainee)
            _, token = auth.create_token(db=db, user=carla, name="tests")
        remote = ["--url", server.url, "--token", token]

        made = runner.invoke(cli, ["assignments", "set", "blue", "disorganized", *remote])
        assert made.exit_code == 0, made.output
        listed = json.loads(runner.invoke(cli, ["assignments", "list", "--json", *remote]).stdout)
        assert [(a["team"], a["persona_id"], a["set_by"]) for a in listed] == [
            ("blue", "disorganized", "carla")
        ]  # the token's owner set it, not --as's default
        refused = runner.invoke(cli, ["assignments", "set", "red", "disorganized", *remote])
        assert refused.exit_code == 1 and "404" in refused.stderr and "red" in refused.stderr
        gone = runner.invoke(cli, ["assignments", "remove", str(listed[0]["id"]), *remote])
        assert gone.exit_code == 0, gone.output
        again = runner.invoke(cli, ["assignments", "remove", str(listed[0]["id"]), *remote])
        assert again.exit_code == 1 and "404" in again.stderr
        with Session(engine) as db:
            assert db.exec(select(User).where(User.username == "carla")).one().role == "coach"
