"""What the API says about a request it cannot take: a misspelt field, a body that is not JSON,
NaN, a password, a message of control characters; each a 4xx that says what is wrong, never
a 500 and never a write quietly lost. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"


def _session(client: TestClient) -> str:
    body = {"persona_id": "yes-then-sells", "language": "en", "difficulty": "medium", "seed": 1}
    started = client.post("/api/sessions", json=body)
    assert started.status_code == 201, started.text
    return started.json()["session"]["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"username": NaN, "password": "x"}', "username"),
        ('{"username": "ada", "password": Infinity}', "password"),
        ('{"username": "ada", "password": "x", "extra": -Infinity}', "extra"),
    ],
)
def test_nan_and_infinity_get_a_422_not_a_500(anonymous: TestClient, body: str, field: str) -> None:
    """Python's JSON reader takes them, JSON itself has no way to write them back."""
    answer = anonymous.post(
        "/api/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert any(e["loc"][-1] == field for e in answer.json()["detail"])


def test_a_session_started_with_nan_is_refused_naming_the_field(client: TestClient) -> None:
    answer = client.post(
        "/api/sessions",
        content='{"persona_id": "yes-then-sells", "seed": NaN}',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    error = answer.json()["detail"][0]
    assert error["loc"] == ["body", "seed"] and error["input"] == "NaN"


def test_a_password_is_never_repeated_in_an_error(
    anonymous: TestClient, login_as: Callable[..., TestClient]
) -> None:
    admin = login_as("root", role="admin")
    short = admin.post("/api/users", json={"username": "zed", "password": "hunter2"})
    assert short.status_code == 422 and "hunter2" not in short.text
    assert short.json()["detail"][0]["loc"] == ["body", "password"]
    long = anonymous.post("/api/auth/login", json={"username": "zed", "password": "s3cret" * 50})
    assert long.status_code == 422 and "s3cret" not in long.text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "username=ada&password=x"),
        ("text/plain", '{"username": "ada", "password": "x"}'),
        (None, '{"username": "ada", "password": "x"}'),
    ],
)
def test_a_body_that_is_not_sent_as_json_gets_415_saying_so(
    anonymous: TestClient, content_type: str | None, body: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answer = anonymous.post("/api/auth/login", content=body, headers=headers)
    assert answer.status_code == 415
    assert answer.json()["code"] == "body_not_json"
    assert "Content-Type: application/json" in answer.json()["detail"]
    assert "password" not in answer.text.replace("application/json", "")


def test_misspelt_fields_are_refused_not_dropped(
    login_as: Callable[..., TestClient], client: TestClient
) -> None:
    """Each of these answered 2xx and quietly lost what the caller meant."""
    admin = login_as("root", role="admin")
    carla = login_as("carla", role="coach", teams=["blue"])
    ada = next(u for u in admin.get("/api/users").json() if u["username"] == "ada")
    refused = {
        "deactivate": admin.patch(f"/api/users/{ada['id']}", json={"is_active": False}),
        "create": admin.post(
            "/api/users", json={"username": "zed", "password": PASSWORD, "is_active": False}
        ),
        "token": client.post("/api/tokens", json={"nam": "ci"}),
        "assignment": carla.post(
            "/api/assignments",
            json={"team": "blue", "persona_id": "yes-then-sells", "due_date": "2026-12-31"},
        ),
        "grade": client.post(
            "/api/grade",
            json={
                "persona_id": "yes-then-sells",
                "messages": [{"role": "trainee", "content": "Hello", "seq": 1}],
            },
        ),
    }
    for what, answer in refused.items():
        assert answer.status_code == 422, (what, answer.text)
        assert answer.json()["detail"][0]["type"] == "extra_forbidden", what
    assert next(u for u in admin.get("/api/users").json() if u["id"] == ada["id"])["active"]
    assert "zed" not in {u["username"] for u in admin.get("/api/users").json()}


def test_a_review_with_misspelt_fields_stores_nothing_and_says_why(
    login_as: Callable[..., TestClient], client: TestClient
) -> None:
    carla = login_as("carla", role="coach", teams=["blue"])
    session_id = _session(client)
    said = client.post(f"/api/sessions/{session_id}/messages", json={"content": "Hello, tell me"})
    assert said.status_code == 200
    assert client.post(f"/api/sessions/{session_id}/end").status_code == 200
    body = {"verdict": {"adapt-style": "applied"}, "comment": "good job"}
    answer = carla.post(f"/api/sessions/{session_id}/reviews", json=body)
    assert answer.status_code == 422
    assert {tuple(e["loc"]) for e in answer.json()["detail"]} == {
        ("body", "verdict"),
        ("body", "comment"),
    }
    assert carla.get(f"/api/sessions/{session_id}/reviews").json()["history"] == []


@pytest.mark.parametrize("content", ["\u0007", "\u0000", " \u0007\u200b ", "\u001b\u0008\r\n"])
def test_a_message_of_control_characters_is_empty(client: TestClient, content: str) -> None:
    session_id = _session(client)
    answer = client.post(f"/api/sessions/{session_id}/messages", json={"content": content})
    assert answer.status_code == 422 and answer.json()["code"] == "message_empty"
    assert client.get(f"/api/sessions/{session_id}").json()["session"]["message_count"] == 1


@pytest.mark.parametrize("name", ["   ", "a\u0000b", "ci\u202e"])
def test_a_token_name_must_show_something(client: TestClient, name: str) -> None:
    answer = client.post("/api/tokens", json={"name": name})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.post("/api/tokens", json={"name": "  ci  "}).json()["name"] == "ci"
