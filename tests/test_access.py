"""Who may do what: every API route for every role and for anonymous callers, logins,
tokens, CSRF, limits and security headers; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

ROLES = ["anonymous", "owner", "other_trainee", "coach_same_team", "coach_other_team", "admin"]


@dataclass
class World:
    clients: dict[str, TestClient]
    session_id: str  # ada's, ended and graded
    active_id: str  # ada's, still active
    token_id: int  # one of ada's API tokens
    assignment_id: int  # set by carla for the blue team


@pytest.fixture
def world(anonymous: TestClient, login_as: Callable[..., TestClient]) -> World:
    clients = {
        "anonymous": anonymous,
        "owner": login_as("ada", "trainee", ["blue"]),
        "other_trainee": login_as("bob", "trainee", ["red"]),
        "coach_same_team": login_as("carla", "coach", ["blue"]),
        "coach_other_team": login_as("dario", "coach", ["red"]),
        "admin": login_as("root", "admin"),
    }
    owner = clients["owner"]
    body = {"persona_id": "loyal-debtor", "language": "it", "seed": 5}
    ended = owner.post("/api/sessions", json=body).json()["session"]["id"]
    owner.post(f"/api/sessions/{ended}/messages", json={"content": "Come sta? Come va?"})
    assert owner.post(f"/api/sessions/{ended}/end").status_code == 200
    active = owner.post("/api/sessions", json=body).json()["session"]["id"]
    token_id = owner.post("/api/tokens", json={"name": "spare"}).json()["id"]
    assignment = {"team": "blue", "persona_id": "loyal-debtor"}
    assigned = clients["coach_same_team"].post("/api/assignments", json=assignment)
    assert assigned.status_code == 201, assigned.text
    return World(clients, ended, active, token_id, assigned.json()["id"])


# (method, path, body) → expected status per role; {sid} ended session, {active} active one
S = "{sid}"
MATRIX: list[tuple[str, str, object, dict[str, int]]] = [
    ("GET", "/healthz", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/me", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200)),
    ("GET", "/api/tokens", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200)),
    ("POST", "/api/tokens", {"name": "x"}, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 201)),
    (
        "DELETE",
        "/api/tokens/{token}",
        None,
        {
            "anonymous": 401,
            "owner": 200,
            "other_trainee": 404,
            "coach_same_team": 404,
            "coach_other_team": 404,
            "admin": 200,
        },
    ),
    ("GET", "/api/users", None, {"anonymous": 401, "admin": 200} | dict.fromkeys(ROLES[1:5], 403)),
    (
        "POST",
        "/api/users",
        {"username": "newbie", "password": "long enough password"},
        {"anonymous": 401, "admin": 201} | dict.fromkeys(ROLES[1:5], 403),
    ),
    (
        "PATCH",
        "/api/users/1",
        {"active": True},
        {"anonymous": 401, "admin": 200} | dict.fromkeys(ROLES[1:5], 403),
    ),
    ("GET", "/api/personas", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200)),
    (
        "GET",
        "/api/personas/disorganized",
        None,
        {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200),
    ),
    ("GET", "/api/techniques", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200)),
    ("GET", "/api/engines", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200)),
    (
        "POST",
        "/api/sessions",
        {"persona_id": "disorganized", "language": "en"},
        {"anonymous": 401} | dict.fromkeys(ROLES[1:], 201),
    ),
    ("GET", "/api/sessions", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200)),
    *[
        (
            "GET",
            path,
            None,
            {
                "anonymous": 401,
                "owner": 200,
                "other_trainee": 404,
                "coach_same_team": 200,
                "coach_other_team": 404,
                "admin": 200,
            },
        )
        for path in (f"/api/sessions/{S}", f"/api/sessions/{S}/export?format=md")
    ],
    (
        "DELETE",  # only its trainee, and only before a word: this one has words (409)
        f"/api/sessions/{S}",
        None,
        {
            "anonymous": 401,
            "owner": 409,
            "other_trainee": 404,
            "coach_same_team": 403,
            "coach_other_team": 404,
            "admin": 403,
        },
    ),
    (
        "POST",
        f"/api/sessions/{S}/grade",
        None,
        {
            "anonymous": 401,
            "owner": 409,  # graded already: only a coach or an admin grades it again
            "other_trainee": 404,
            "coach_same_team": 200,
            "coach_other_team": 404,
            "admin": 200,
        },
    ),
    *[
        (
            "POST",
            path,
            body,
            {
                "anonymous": 401,
                "owner": 200,
                "other_trainee": 404,
                "coach_same_team": 403,
                "coach_other_team": 404,
                "admin": 403,
            },
        )
        for path, body in (
            ("/api/sessions/{active}/messages", {"content": "Buongiorno"}),
            ("/api/sessions/{active}/end", None),
        )
    ],
    (
        "POST",
        "/api/grade",
        {"persona_id": "disorganized", "messages": [{"role": "trainee", "content": "Ciao?"}]},
        {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200),
    ),
    (
        "POST",
        "/api/drills",
        {"persona_id": "disorganized", "turns": ["Ciao, come posso aiutarla?"]},
        {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200),
    ),
    (
        "GET",
        f"/api/sessions/{S}/reviews",
        None,
        {
            "anonymous": 401,
            "owner": 200,
            "other_trainee": 404,
            "coach_same_team": 200,
            "coach_other_team": 404,
            "admin": 200,
        },
    ),
    (
        "POST",
        f"/api/sessions/{S}/reviews",
        {"verdicts": {}},
        {
            "anonymous": 401,
            "owner": 403,
            "other_trainee": 403,
            "coach_same_team": 200,
            "coach_other_team": 404,
            "admin": 200,
        },
    ),
    *[
        (
            "GET",
            path,
            None,
            {"anonymous": 401, "owner": 403, "other_trainee": 403} | dict.fromkeys(ROLES[3:], 200),
        )
        for path in ("/api/reviews/sessions", "/api/reviews/agreement")
    ],
    *[
        ("GET", path, None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200))
        for path in ("/api/exports/sessions.json", "/api/exports/grades.csv")
    ],
    (
        "POST",
        "/api/imports/sessions",
        {"exported_at": "2026-01-01T00:00:00Z", "sessions": []},
        {"anonymous": 401, "owner": 403, "other_trainee": 403}
        | dict.fromkeys(["coach_same_team", "coach_other_team", "admin"], 200),
    ),
    ("POST", "/api/grade/upload", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 422)),
    ("GET", "/api/assignments", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 200)),
    (
        "POST",
        "/api/assignments",
        {"team": "blue", "persona_id": "disorganized", "note": "before Friday"},
        {"anonymous": 401, "owner": 403, "other_trainee": 403}
        | {"coach_same_team": 201, "coach_other_team": 404, "admin": 201},
    ),
    (
        "DELETE",
        "/api/assignments/{assignment}",
        None,
        {"anonymous": 401, "owner": 403, "other_trainee": 404}
        | {"coach_same_team": 204, "coach_other_team": 404, "admin": 204},
    ),
    ("POST", "/api/auth/logout", None, {"anonymous": 401} | dict.fromkeys(ROLES[1:], 204)),
]


def _template(path: str) -> str:
    return (
        re.sub(r"\?.*", "", path)
        .replace("{sid}", "{session_id}")
        .replace("{active}", "{session_id}")
        .replace("{token}", "{token_id}")
        .replace("{assignment}", "{assignment_id}")
        .replace("/1", "/{user_id}")
        .replace("/disorganized", "/{persona_id}")
    )


def test_every_api_route_is_in_the_matrix(anonymous: TestClient) -> None:
    paths = anonymous.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api")
        for method in operations
    }
    assert len(routes) > 20
    covered = {(method, _template(path)) for method, path, _, _ in MATRIX}
    covered |= {("POST", "/api/auth/login")}  # tested on its own below
    assert routes - covered == set(), "add the new routes to MATRIX"


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world: World, role: str) -> None:
    client = world.clients[role]
    for method, path, body, expected in MATRIX:
        url = path.format(
            sid=world.session_id,
            active=world.active_id,
            token=world.token_id,
            assignment=world.assignment_id,
        )
        response = client.request(method, url, json=body)
        assert response.status_code == expected[role], (role, method, url, response.text)
        if response.status_code in (401, 403, 404):
            assert response.json()["detail"], "errors say what is wrong"


def test_lists_show_only_visible_sessions(world: World) -> None:
    totals = {role: world.clients[role].get("/api/sessions").json()["total"] for role in ROLES[1:]}
    assert totals == {
        "owner": 2,
        "other_trainee": 0,
        "coach_same_team": 2,
        "coach_other_team": 0,
        "admin": 2,
    }


def test_a_coach_does_not_see_a_fellow_coach_s_practice(
    world: World, login_as: Callable[..., TestClient]
) -> None:
    """Coaches follow the trainees of their teams; a colleague who practises is not one."""
    frank = login_as("frank", "coach", ["blue"])
    body = {"persona_id": "loyal-debtor", "language": "it"}
    own = frank.post("/api/sessions", json=body).json()["session"]["id"]
    carla = world.clients["coach_same_team"]
    assert carla.get(f"/api/sessions/{own}").status_code == 404
    assert own not in {s["id"] for s in carla.get("/api/sessions").json()["items"]}
    assert carla.get(f"/api/sessions/{world.session_id}").status_code == 200  # ada's: hers
    assert world.clients["admin"].get(f"/api/sessions/{own}").status_code == 200


def test_guessing_a_session_id_finds_nothing(world: World) -> None:
    for role in ROLES[1:]:
        guess = uuid.uuid4().hex
        assert world.clients[role].get(f"/api/sessions/{guess}").status_code == 404


def test_cookie_login_needs_csrf_for_writes_and_logout_ends_it(
    anonymous: TestClient, login_as: Callable[..., TestClient]
) -> None:
    login_as("ada")
    bad = anonymous.post("/api/auth/login", json={"username": "ada", "password": "nope"})
    assert bad.status_code == 401 and "wrong username or password" in bad.json()["detail"]
    login = anonymous.post(
        "/api/auth/login", json={"username": "ada", "password": "correct horse battery staple"}
    )
    assert login.status_code == 200
    cookie = login.cookies.get("sparring_session")
    assert cookie and "httponly" in login.headers["set-cookie"].lower()
    csrf = login.json()["csrf_token"]
    assert anonymous.get("/api/me").json()["username"] == "ada"
    body = {"persona_id": "disorganized", "language": "en"}
    refused = anonymous.post("/api/sessions", json=body)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    assert (
        anonymous.post("/api/sessions", json=body, headers={"X-CSRF-Token": csrf}).status_code
        == 201
    )
    assert anonymous.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    anonymous.cookies.set("sparring_session", cookie)  # a stolen old cookie is dead too
    assert anonymous.get("/api/me").status_code == 401


def test_a_new_password_logs_out_whoever_had_the_old_one(
    anonymous: TestClient, login_as: Callable[..., TestClient]
) -> None:
    ada_id = login_as("ada").get("/api/me").json()["id"]
    root = login_as("root", "admin")
    login = {"username": "ada", "password": "correct horse battery staple"}
    assert anonymous.post("/api/auth/login", json=login).status_code == 200
    assert anonymous.get("/api/me").status_code == 200  # a browser logged in as ada
    changed = root.patch(f"/api/users/{ada_id}", json={"password": "a-brand-new-secret"})
    assert changed.status_code == 200, changed.text
    assert anonymous.get("/api/me").status_code == 401
    assert root.get("/api/me").status_code == 200  # nobody else's login


def test_tokens_are_shown_once_and_revocable(client: TestClient, anonymous: TestClient) -> None:
    created = client.post("/api/tokens", json={"name": "laptop"}).json()
    secret = created["token"]
    assert secret.startswith("spr_") and created["prefix"] == secret[:10]
    listed = client.get("/api/tokens").json()
    assert all("token" not in t for t in listed)
    headers = {"Authorization": f"Bearer {secret}"}
    assert anonymous.get("/api/me", headers=headers).status_code == 200
    client.delete(f"/api/tokens/{created['id']}")
    revoked = anonymous.get("/api/me", headers=headers)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_repeated_failed_logins_lock_the_account(
    anonymous: TestClient, login_as: Callable[..., TestClient]
) -> None:
    login_as("ada")
    for _ in range(5):
        anonymous.post("/api/auth/login", json={"username": "ada", "password": "guess"})
    good = {"username": "ada", "password": "correct horse battery staple"}
    locked = anonymous.post("/api/auth/login", json=good)
    assert locked.status_code == 429 and "locked" in locked.json()["detail"]


def test_first_start_creates_an_admin_and_prints_its_password_once(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings)) as first:
        printed = capsys.readouterr().out
        password = re.search(r"password: (\S+)", printed)
        assert password, printed
        login = first.post(
            "/api/auth/login", json={"username": "admin", "password": password.group(1)}
        )
        assert login.status_code == 200 and login.json()["user"]["role"] == "admin"
    with TestClient(create_app(settings)):
        assert "password" not in capsys.readouterr().out


def test_limits(settings: Settings, login_as: Callable[..., TestClient]) -> None:
    client = login_as("ada")
    huge = client.post(
        "/api/grade",
        content=b'{"persona_id": "x", "messages": [' + b" " * 300_000 + b"]}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and "too large" in huge.json()["detail"]

    strict = settings.model_copy(update={"sessions_per_hour": 2, "max_turns_per_session": 1})
    with TestClient(create_app(strict)) as app_client:
        app_client.headers.update(client.headers)
        body = {"persona_id": "disorganized", "language": "en"}
        sid = app_client.post("/api/sessions", json=body).json()["session"]["id"]
        assert app_client.post("/api/sessions", json=body).status_code == 201
        third = app_client.post("/api/sessions", json=body)
        assert third.status_code == 429 and "last hour" in third.json()["detail"]
        say = f"/api/sessions/{sid}/messages"
        assert app_client.post(say, json={"content": "Hello, how can I help?"}).status_code == 200
        capped = app_client.post(say, json={"content": "Anything else?"})
        assert capped.status_code == 409 and "turns" in capped.json()["detail"]


def test_security_headers(anonymous: TestClient) -> None:
    headers = anonymous.get("/healthz").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert (
        "'unsafe-inline'"
        not in headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
