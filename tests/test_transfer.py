"""Exports and imports: JSON that round-trips into a fresh database (coaches' reviews and
model-call records included), CSV of verdicts, Markdown, who may export and import what,
and `sparring export` / `sparring import`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from live_server import LiveServer
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import auth
from app.cli import cli
from app.config import Settings
from app.db import get_engine
from app.drills import error_text
from app.main import create_app
from app.models import LLMCall, User, UserCreate
from app.reviews import VERDICTS
from app.transfer import CSV_COLUMNS, ExportBundle, grades_csv

runner = CliRunner()
PASSWORD = "correct horse battery staple"
EXPORT = "/api/exports/sessions.json"
CSV = "/api/exports/grades.csv"
IMPORT = "/api/imports/sessions"
TURNS = {
    "free-advice-seeker": [
        "Nice to meet you. I am Sara. Tell me about you: what do you expect?",
        "We have no contract yet: my hourly rate is 80 euro. Shall I send a proposal?",
    ],
    "yes-then-sells": [
        "Good morning. What matters most to you in this portfolio?",
        "Let me be clear: I recommend you hold the shares. I am certain of it.",
    ],
}


pytestmark = pytest.mark.usefixtures("quick_hashing")


def drill(client: TestClient, persona: str, seed: int = 1) -> str:
    body = {"persona_id": persona, "language": "en", "seed": seed, "turns": TURNS[persona]}
    response = client.post("/api/drills", json=body)
    assert response.status_code == 200, response.text
    return response.json()["session"]["id"]


@pytest.fixture
def people(login_as: Callable[..., TestClient]) -> dict[str, TestClient]:
    """ada and bob (trainees in teams blue and red), carla (coach of blue), root (admin),
    with graded drills, a re-graded session and one still active."""
    clients = {
        "ada": login_as("ada", role="trainee", teams=["blue"]),
        "bob": login_as("bob", role="trainee", teams=["red"]),
        "carla": login_as("carla", role="coach", teams=["blue"]),
        "root": login_as("root", role="admin"),
    }
    first = drill(clients["ada"], "free-advice-seeker")
    drill(clients["ada"], "yes-then-sells", seed=3)
    assert clients["carla"].post(f"/api/sessions/{first}/grade").status_code == 200
    started = clients["ada"].post(
        "/api/sessions", json={"persona_id": "yes-then-sells", "language": "en", "seed": 5}
    )
    sid = started.json()["session"]["id"]
    clients["ada"].post(f"/api/sessions/{sid}/messages", json={"content": "Hello, how are you?"})
    drill(clients["bob"], "free-advice-seeker", seed=2)
    return clients


def client_for(
    app: FastAPI, username: str, role: str, teams: list[str] | None = None
) -> TestClient:
    """A client of `app` with an API token for `username` (created if missing)."""
    with Session(app.state.engine) as db:
        user = db.exec(select(User).where(User.username == username)).first()
        if user is None:
            request = UserCreate(username=username, password=PASSWORD, role=role, teams=teams or [])
            user = auth.create_user(db=db, request=request)
        _, secret = auth.create_token(db=db, user=user, name="tests")
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[FastAPI]:
    """A second, empty Sparring on its own SQLite database."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    with TestClient(create_app(settings)) as started:
        yield started.app  # type: ignore[misc]


def by_id(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["session"]["id"]: item for item in bundle["sessions"]}


@pytest.fixture
def reviewed(people: dict[str, TestClient], settings: Settings) -> dict[str, str]:
    """carla reviews ada's re-graded session: a verdict against the grader's, then a change
    of mind, and a comment on the first message; the session also has two model calls."""
    bundle = people["root"].get(EXPORT).json()
    sid = next(s["session"]["id"] for s in bundle["sessions"] if len(s["grades"]) == 2)
    criterion = by_id(bundle)[sid]["grades"][-1]["criteria"][0]
    technique, grader = criterion["technique_id"], criterion["verdict"]
    first, final = [v for v in VERDICTS if v != grader][:2]
    for body in (
        {"verdicts": {technique: first}, "message_comments": {"1": "Warm opening."}},
        {"verdicts": {technique: final}},
    ):
        response = people["carla"].post(f"/api/sessions/{sid}/reviews", json=body)
        assert response.status_code == 200, response.text
    with Session(get_engine(settings.database_url)) as db:
        db.add(
            LLMCall(
                session_id=sid,
                purpose="actor",
                model="actor-model",
                prompt_version="actor-v3",
                tokens_in=812,
                tokens_out=64,
                latency_ms=950,
                outcome="ok",
            )
        )
        db.add(
            LLMCall(
                session_id=sid,
                purpose="grader",
                model="grader-model",
                prompt_version="grader-v2",
                latency_ms=30000,
                outcome="error",
                error="timed out",
            )
        )
        db.commit()
    return {"sid": sid, "technique": technique, "grader": grader, "first": first, "final": final}


def without_ids(reviews: dict[str, Any]) -> dict[str, Any]:
    """GET /api/sessions/{id}/reviews less the database ids, which differ between databases."""
    return {
        "verdicts": [
            {k: v for k, v in x.items() if k != "reviewer_id"} for x in reviews["verdicts"]
        ],
        "comments": [{k: v for k, v in x.items() if k != "id"} for x in reviews["comments"]],
        "history": [{k: v for k, v in x.items() if k != "id"} for x in reviews["history"]],
    }


# ---------------------------------------------------------------- round trip


def test_export_then_import_into_a_fresh_database_gives_the_same_sessions(
    people: dict[str, TestClient], fresh: FastAPI
) -> None:
    original = people["root"].get(EXPORT)
    assert original.status_code == 200
    assert "attachment" in original.headers["content-disposition"]
    bundle = original.json()
    assert len(bundle["sessions"]) == 4
    regraded = [s for s in bundle["sessions"] if len(s["grades"]) == 2]
    assert len(regraded) == 1  # every grade travels, not only the latest

    admin = client_for(fresh, "admin2", "admin")
    client_for(fresh, "ada", "trainee")  # bob has no account here
    counts = admin.post(IMPORT, json=bundle)
    assert counts.status_code == 200, counts.text
    assert counts.json() == {
        "sessions": 4,
        "skipped": 0,
        "messages": sum(len(s["messages"]) for s in bundle["sessions"]),
        "grades": sum(len(s["grades"]) for s in bundle["sessions"]),
        "reassigned": 1,
        "reviews": 0,
        "reviews_reassigned": 0,
        "calls": 0,
    }
    again = admin.post(IMPORT, json=bundle).json()
    assert again["sessions"] == 0 and again["skipped"] == 4  # idempotent on session ids

    copied = by_id(admin.get(EXPORT).json())
    for sid, item in by_id(bundle).items():
        twin = copied[sid]
        assert twin["messages"] == item["messages"]
        assert twin["grades"] == item["grades"]
        expected_owner = "admin2" if item["session"]["trainee"] == "bob" else "ada"
        assert twin["session"] == item["session"] | {"trainee": expected_owner}

    # what the trainee sees through the ordinary API is the same on both sides, but for the
    # mark that the session was brought in, by whom
    ada_fresh = client_for(fresh, "ada", "trainee")
    for sid in (s for s, i in by_id(bundle).items() if i["session"]["trainee"] == "ada"):
        here = people["ada"].get(f"/api/sessions/{sid}").json()
        there = ada_fresh.get(f"/api/sessions/{sid}").json()
        assert here["session"]["imported_by"] is None and here["session"]["imported_at"] is None
        assert there["session"].pop("imported_by") == "admin2"
        assert there["session"].pop("imported_at") > bundle["exported_at"]
        here["session"] = {k: v for k, v in here["session"].items() if not k.startswith("import")}
        assert there == here
        report = ada_fresh.get(f"/sessions/{sid}/report?lang=en")
        assert '<dd id="imported">by admin2, ' in report.text
        assert 'id="imported"' not in people["ada"].get(f"/sessions/{sid}/report").text
    review = admin.get(f"/desk/{sid}?lang=it")
    assert "<dt>Importata</dt>" in review.text and "da admin2, " in review.text


def test_coaches_reviews_and_model_calls_survive_export_then_import(
    people: dict[str, TestClient], reviewed: dict[str, str], fresh: FastAPI
) -> None:
    sid, technique = reviewed["sid"], reviewed["technique"]
    bundle = people["root"].get(EXPORT).json()
    item = by_id(bundle)[sid]
    assert item["grades"][0]["reviews"] == []  # on the grade carla saw, not the older one
    assert [
        (r["reviewer"], r["technique_id"], r["message_seq"], r["verdict"], r["comment"])
        for r in item["grades"][-1]["reviews"]
    ] == [
        ("carla", technique, None, reviewed["first"], ""),
        ("carla", None, 1, None, "Warm opening."),
        ("carla", technique, None, reviewed["final"], ""),
    ]
    assert [(c["purpose"], c["outcome"], c["error"]) for c in item["calls"]] == [
        ("actor", "ok", None),
        ("grader", "error", "timed out"),
    ]

    admin = client_for(fresh, "admin2", "admin")
    client_for(fresh, "ada", "trainee", ["blue"])
    carla = client_for(fresh, "carla", "coach", ["blue"])
    counts = admin.post(IMPORT, json=bundle)
    assert counts.status_code == 200, counts.text
    assert counts.json() == {
        "sessions": 4,
        "skipped": 0,
        "messages": sum(len(s["messages"]) for s in bundle["sessions"]),
        "grades": sum(len(s["grades"]) for s in bundle["sessions"]),
        "reassigned": 1,  # bob
        "reviews": 3,
        "reviews_reassigned": 0,
        "calls": 2,
    }
    copied = by_id(admin.get(EXPORT).json())
    for key, original in by_id(bundle).items():
        assert copied[key]["grades"] == original["grades"]
        assert copied[key]["calls"] == original["calls"]

    # the coach's latest verdict is still the one shown beside the grader's, comment and
    # history included, to her and to the trainee
    url = f"/api/sessions/{sid}/reviews"
    there = carla.get(url).json()
    assert [
        (v["technique_id"], v["reviewer"], v["grader_verdict"], v["coach_verdict"])
        for v in there["verdicts"]
    ] == [(technique, "carla", reviewed["grader"], reviewed["final"])]
    assert [(c["message_seq"], c["comment"]) for c in there["comments"]] == [(1, "Warm opening.")]
    assert without_ids(there) == without_ids(people["carla"].get(url).json())
    trainee_view = client_for(fresh, "ada", "trainee").get(url).json()
    assert without_ids(trainee_view) == without_ids(there)


def test_a_bundle_from_before_reviews_and_model_calls_still_imports(
    people: dict[str, TestClient], fresh: FastAPI
) -> None:
    bundle = people["root"].get(EXPORT).json()
    for item in bundle["sessions"]:  # the shape of a version-1 bundle written before them
        del item["calls"]
        for grade in item["grades"]:
            del grade["reviews"]
    assert bundle["version"] == 1

    admin = client_for(fresh, "admin2", "admin")
    counts = admin.post(IMPORT, json=bundle)
    assert counts.status_code == 200, counts.text
    assert counts.json()["sessions"] == 4
    assert counts.json()["reviews"] == counts.json()["calls"] == 0
    copied = by_id(admin.get(EXPORT).json())
    for sid, item in by_id(bundle).items():
        assert copied[sid]["messages"] == item["messages"]
        assert copied[sid]["grades"] == [g | {"reviews": []} for g in item["grades"]]
        assert copied[sid]["calls"] == []


@pytest.mark.parametrize("carla_here", [None, "trainee", "coach of another team"])
def test_a_review_by_someone_unknown_here_becomes_the_importers_and_is_counted(
    people: dict[str, TestClient],
    reviewed: dict[str, str],
    fresh: FastAPI,
    carla_here: str | None,
) -> None:
    """Absent, not a reviewer, or not visible to the importer: the same to an import."""
    bundle = people["root"].get(EXPORT).json()
    client_for(fresh, "ada", "trainee", ["blue"])
    if carla_here == "trainee":
        client_for(fresh, "carla", "trainee", ["blue"])
    elif carla_here:
        client_for(fresh, "carla", "coach", ["red"])
    dora = client_for(fresh, "dora", "coach", ["blue"])
    counts = dora.post(IMPORT, json=bundle)
    assert counts.status_code == 200, counts.text
    assert counts.json()["reviews"] == 3 and counts.json()["reviews_reassigned"] == 3

    shown = dora.get(f"/api/sessions/{reviewed['sid']}/reviews").json()
    assert [(v["reviewer"], v["coach_verdict"]) for v in shown["verdicts"]] == [
        ("dora", reviewed["final"])
    ]
    assert [(c["reviewer"], c["comment"]) for c in shown["comments"]] == [("dora", "Warm opening.")]
    assert {r["reviewer"] for r in shown["history"]} == {"dora"}


def test_a_review_of_a_message_the_session_lacks_is_refused_and_nothing_is_imported(
    people: dict[str, TestClient], reviewed: dict[str, str], fresh: FastAPI
) -> None:
    bundle = people["root"].get(EXPORT).json()
    reviews = by_id(bundle)[reviewed["sid"]]["grades"][-1]["reviews"]
    next(r for r in reviews if r["message_seq"])["message_seq"] = 99

    admin = client_for(fresh, "admin2", "admin")
    response = admin.post(IMPORT, json=bundle)
    assert response.status_code == 422
    assert f"session {reviewed['sid']}: a review of message seq 99" in error_text(response)
    assert admin.get(EXPORT).json()["sessions"] == []
    assert admin.get(f"/api/sessions/{reviewed['sid']}").status_code == 404


# ---------------------------------------------------------------- who sees what


def test_exports_show_only_the_sessions_the_caller_may_see(people: dict[str, TestClient]) -> None:
    def trainees(name: str, **params: str) -> list[str]:
        response = people[name].get(EXPORT, params=params)
        assert response.status_code == 200
        return sorted(s["session"]["trainee"] for s in response.json()["sessions"])

    assert trainees("ada") == ["ada", "ada", "ada"]
    assert trainees("bob") == ["bob"]
    assert trainees("carla") == ["ada", "ada", "ada"]  # her team, not bob
    assert trainees("root") == ["ada", "ada", "ada", "bob"]
    assert trainees("bob", trainee="ada") == []
    assert trainees("root", persona="free-advice-seeker") == ["ada", "bob"]
    assert trainees("root", status="active") == ["ada"]
    csv_rows = list(csv.DictReader(io.StringIO(people["bob"].get(CSV).text)))
    assert {row["trainee"] for row in csv_rows} == {"bob"}


def test_import_needs_a_coach_or_an_admin_who_cannot_plant_sessions_outside_her_teams(
    people: dict[str, TestClient], anonymous: TestClient, fresh: FastAPI
) -> None:
    bundle = people["root"].get(EXPORT).json()
    refused = people["ada"].post(IMPORT, json=bundle)
    assert refused.status_code == 403 and "coach or admin" in refused.json()["detail"]
    assert anonymous.post(IMPORT, json=bundle).status_code == 401
    assert anonymous.get(EXPORT).status_code == 401
    assert anonymous.get(CSV).status_code == 401
    assert people["carla"].post(IMPORT, json=bundle).json()["skipped"] == 4

    client_for(fresh, "ada", "trainee", ["blue"])
    client_for(fresh, "bob", "trainee", ["red"])
    coach = client_for(fresh, "carla", "coach", ["blue"])
    counts = coach.post(IMPORT, json=bundle).json()
    assert counts["sessions"] == 4 and counts["reassigned"] == 1
    owners = sorted(s["session"]["trainee"] for s in coach.get(EXPORT).json()["sessions"])
    assert owners == ["ada", "ada", "ada", "carla"]  # bob's session went to the coach
    assert client_for(fresh, "bob", "trainee").get(EXPORT).json()["sessions"] == []


def add_review(bundle: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A comment on message 1 of the first session's latest grade, changed by `fields`."""
    grade = bundle["sessions"][0]["grades"][-1]
    review = {
        "reviewer": "carla",
        "message_seq": 1,
        "comment": "Good.",
        "created_at": "2025-01-01T00:00:00Z",
    }
    grade["reviews"].append(review | fields)
    return grade


BROKEN: list[tuple[Callable[[dict[str, Any]], object], str | None]] = [
    (lambda b: b["sessions"][0]["session"].update(persona_id="ghost"), "ghost"),
    (lambda b: b["sessions"][0]["messages"].append(b["sessions"][0]["messages"][0]), "seq"),
    (lambda b: b.update(format="something-else"), None),
    (lambda b: b["sessions"][0]["session"].update(state={"meters": 1}), None),
    (lambda b: b["sessions"][0]["session"].update(id="../etc"), None),
    (lambda b: add_review(b, message_seq=None, technique_id="ghost-move"), "ghost-move"),
    (lambda b: add_review(b, message_seq=None, technique_id="x", verdict="superb"), "verdict"),
    (lambda b: add_review(b, technique_id="x"), "exactly one"),
    (lambda b: add_review(b, verdict="missed"), "technique_id, not on a message"),
    (lambda b: add_review(b, comment="  "), "needs a comment"),
    (lambda b: add_review(b, message_seq=0), "message_seq"),
    (lambda b: add_review(b, reviewer_id=3), "reviewer_id"),
    (lambda b: add_review(b).update(status="failed"), "reviews of a grade that is failed"),
    (lambda b: b["sessions"][0]["calls"].append({"purpose": "actor"}), "latency_ms"),
]


def test_a_broken_bundle_is_refused_whole(people: dict[str, TestClient], fresh: FastAPI) -> None:
    admin = client_for(fresh, "admin2", "admin")
    for change, detail in BROKEN:
        bundle = people["root"].get(EXPORT).json()
        change(bundle)
        response = admin.post(IMPORT, json=bundle)
        assert response.status_code == 422
        if detail:
            assert detail in error_text(response)
    assert admin.get(EXPORT).json()["sessions"] == []  # nothing half-imported


# ---------------------------------------------------------------- CSV and Markdown


def test_grades_csv_has_a_row_per_criterion_of_the_latest_grade(
    people: dict[str, TestClient],
) -> None:
    response = people["root"].get(CSV)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    bundle = people["root"].get(EXPORT).json()
    graded = [s for s in bundle["sessions"] if s["grades"]]
    assert len(rows) == sum(len(s["grades"][-1]["criteria"]) for s in graded)
    item = graded[0]
    latest = item["grades"][-1]
    mine = [r for r in rows if r["session_id"] == item["session"]["id"]]
    assert [r["technique_id"] for r in mine] == [c["technique_id"] for c in latest["criteria"]]
    for row, criterion in zip(mine, latest["criteria"], strict=True):
        assert row["verdict"] == criterion["verdict"]
        assert row["score"] == str(latest["score"])
        assert row["evidence"] == " | ".join(e["quote"] for e in criterion["evidence"])
        assert row["flagged"] in ("true", "false")

    # a quote a spreadsheet would run as a formula is shown as text
    graded[0]["grades"][-1]["criteria"][0]["evidence"] = [{"seq": 2, "quote": "=HYPERLINK(1)"}]
    rows = list(csv.DictReader(io.StringIO(grades_csv(ExportBundle.model_validate(bundle)))))
    assert "'=HYPERLINK(1)" in {r["evidence"] for r in rows}


# ---------------------------------------------------------------- the CLI


def test_cli_export_and_import_round_trip(
    people: dict[str, TestClient],
    settings: Settings,
    fresh: FastAPI,
    tmp_path: Path,
    use_database: Callable[[str], None],
) -> None:
    use_database(settings.database_url)
    out = tmp_path / "sessions.json"
    result = runner.invoke(cli, ["export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 sessions" in result.stderr
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert by_id(exported).keys() == by_id(people["root"].get(EXPORT).json()).keys()

    md = runner.invoke(cli, ["export", "--format", "md", "--trainee", "bob"])
    assert md.exit_code == 0 and md.stdout.count("# Practice session") == 1
    rows = runner.invoke(cli, ["export", "--format", "csv", "--persona", "yes-then-sells"])
    assert rows.stdout.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert {r["persona"] for r in csv.DictReader(io.StringIO(rows.stdout))} == {"yes-then-sells"}

    use_database(str(fresh.state.engine.url))  # its start created the account `admin`
    with Session(fresh.state.engine) as db:
        auth.create_user(db=db, request=UserCreate(username="tina", password="a-long-password"))
    # a trainee would become the reviewer of every coach's review not found here
    as_trainee = runner.invoke(cli, ["import", str(out), "--owner", "tina"])
    assert as_trainee.exit_code == 1 and "'tina' is a trainee" in as_trainee.stderr
    assert "imported" not in as_trainee.stdout
    imported = runner.invoke(cli, ["import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "imported 4 sessions" in imported.stdout
    assert "given to the importer: 4 sessions, 0 reviews" in imported.stdout
    copied = by_id(client_for(fresh, "admin", "admin").get(EXPORT).json())
    for sid, item in by_id(exported).items():
        assert copied[sid]["messages"] == item["messages"]
        assert copied[sid]["grades"] == item["grades"]
    assert "skipped 4" in runner.invoke(cli, ["import", str(out)]).stdout


def test_cli_export_and_import_errors_are_one_line(
    tmp_path: Path, use_database: Callable[[str], None]
) -> None:
    use_database(f"sqlite:///{tmp_path / 'missing.db'}")
    missing = runner.invoke(cli, ["export"])
    assert missing.exit_code == 1 and "no database at" in missing.stderr
    assert not (tmp_path / "missing.db").exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "sparring-sessions", "sessions": 3}', encoding="utf-8")
    refused = runner.invoke(cli, ["import", str(bad)])
    assert refused.exit_code == 1 and "not a Sparring export" in refused.stderr
    one = tmp_path / "sparring-abc.json"
    one.write_text('{"session": {"id": "abc"}, "messages": [], "grade": null}', encoding="utf-8")
    single = runner.invoke(cli, ["import", str(one)])
    assert single.exit_code == 1 and "is one session's download" in single.stderr
    assert runner.invoke(cli, ["export", "--format", "xml"]).exit_code == 2
    for result in (missing, refused):
        assert "Traceback" not in result.output


def admin_token(server: LiveServer) -> str:
    with Session(get_engine(server.env["SPARRING_DATABASE_URL"])) as db:
        admin = db.exec(select(User).where(User.username == "admin")).one()
        return auth.create_token(db=db, user=admin, name="tests")[1]


def test_cli_export_and_import_through_a_server(tmp_path: Path) -> None:
    with LiveServer(f"sqlite:///{tmp_path / 'server.db'}") as server:
        token = admin_token(server)
        remote = ["--url", server.url, "--token", token]
        body = {"persona_id": "yes-then-sells", "language": "en", "turns": TURNS["yes-then-sells"]}
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{server.url}/api/drills", json=body, headers=headers).is_success

        out = tmp_path / "bundle.json"
        exported = runner.invoke(cli, ["export", "-o", str(out), *remote])
        assert exported.exit_code == 0, exported.output
        assert len(json.loads(out.read_text(encoding="utf-8"))["sessions"]) == 1
        imported = runner.invoke(cli, ["import", str(out), *remote])
        assert imported.exit_code == 0, imported.output
        assert "imported 0 sessions" in imported.stdout and "skipped 1" in imported.stdout
        rows = runner.invoke(cli, ["export", "--format", "csv", *remote]).stdout
        assert {r["persona"] for r in csv.DictReader(io.StringIO(rows))} == {"yes-then-sells"}
        wrong = runner.invoke(cli, ["export", "--url", server.url, "--token", "nope"])
        assert wrong.exit_code == 1 and "401" in wrong.stderr


def test_a_class_larger_than_one_request_imports_through_a_server_in_parts(
    tmp_path: Path,
) -> None:
    """A class's export outgrows the server's body limit: the CLI sends it in parts that fit
    the limit the server's 413 names."""
    with LiveServer(f"sqlite:///{tmp_path / 'old.db'}") as old:
        token = admin_token(old)
        for persona_id, turns in [*TURNS.items(), *TURNS.items()]:
            body = {"persona_id": persona_id, "language": "en", "turns": turns}
            headers = {"Authorization": f"Bearer {token}"}
            assert httpx.post(f"{old.url}/api/drills", json=body, headers=headers).is_success
        out = tmp_path / "class.json"
        exported = runner.invoke(
            cli, ["export", "-o", str(out), "--url", old.url, "--token", token]
        )
        assert exported.exit_code == 0, exported.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    largest = max(len(json.dumps(session)) for session in bundle["sessions"])
    limit = int(2.5 * largest)  # room for two sessions a request, not for the whole class
    assert len(bundle["sessions"]) >= 4 and out.stat().st_size > limit

    env = {"SPARRING_MAX_UPLOAD_BYTES": str(limit)}
    with LiveServer(f"sqlite:///{tmp_path / 'new.db'}", **env) as new:
        token = admin_token(new)
        headers = {"Authorization": f"Bearer {token}"}
        whole = httpx.post(f"{new.url}{IMPORT}", content=out.read_bytes(), headers=headers)
        assert whole.status_code == 413 and whole.json()["params"] == {"limit": limit}
        remote = ["--url", new.url, "--token", token]
        imported = runner.invoke(cli, ["import", str(out), *remote])
        assert imported.exit_code == 0, imported.output
        count = len(bundle["sessions"])
        assert f"imported {count} sessions" in imported.stdout
        there = httpx.get(f"{new.url}{EXPORT}", headers=headers).json()["sessions"]
        assert sorted(s["session"]["id"] for s in there) == sorted(
            s["session"]["id"] for s in bundle["sessions"]
        )
        again = runner.invoke(cli, ["import", str(out), *remote])
        assert "imported 0 sessions" in again.stdout and f"skipped {count}" in again.stdout

    with LiveServer(f"sqlite:///{tmp_path / 'tiny.db'}", SPARRING_MAX_UPLOAD_BYTES="500") as tiny:
        remote = ["--url", tiny.url, "--token", admin_token(tiny)]
        refused = runner.invoke(cli, ["import", str(out), *remote])
        assert refused.exit_code == 1 and "413" in refused.stderr
        assert "limit is 500 bytes" in refused.stderr and "Traceback" not in refused.output
