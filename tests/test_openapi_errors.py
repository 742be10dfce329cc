"""The OpenAPI document lists, for each route, the error statuses it can answer with, and
only those, each with the shared error body: what a client codes its error handling against.
(tests/test_schema_fuzz.py checks the other way round too: schemathesis fails on a status a
route answers with but does not list.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import PASSWORD
from fastapi.testclient import TestClient
from test_access import MATRIX, _template

from app.config import Settings
from app.errors import ERRORS as ERROR_TEXTS
from app.errors import ErrorMessage, documented
from app.main import create_app

Operation = dict[str, Any]
ERRORS = {"400", "401", "403", "404", "409", "413", "415", "422", "429", "502", "503"}
SAFE = {"get", "head", "options"}
BODY_ERRORS = {"400", "413", "415"}  # only a request body brings these


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    # the document is built from the routes alone: no database, no start-up needed
    return create_app(Settings(database_url="sqlite://")).openapi()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, Operation]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def errors(op: Operation) -> set[str]:
    return {status for status in op["responses"] if status[0] in "45"}


def body_types(op: Operation) -> set[str]:
    return set(op.get("requestBody", {}).get("content", {}))


TURN_ERRORS = {400, 401, 403, 404, 409, 413, 415, 422, 502, 503}  # not rate-limited: no 429
EXPECTED: dict[tuple[str, str], set[int]] = {
    ("get", "/healthz"): set(),
    ("get", "/api/me"): {401},
    ("get", "/api/engines"): {401},
    ("get", "/api/users"): {401, 403},
    ("get", "/api/personas"): {401, 422},
    ("get", "/api/personas/{persona_id}"): {401, 404, 422},
    ("get", "/api/sessions"): {401, 422},
    ("get", "/api/sessions/{session_id}"): {401, 404, 422},
    ("get", "/api/reviews/agreement"): {401, 403, 422},
    ("post", "/api/auth/login"): {400, 401, 413, 415, 422, 429},
    ("post", "/api/auth/logout"): {401, 403, 422},
    ("post", "/api/sessions"): {400, 401, 403, 404, 413, 415, 422, 429, 502},
    ("post", "/api/sessions/{session_id}/messages"): TURN_ERRORS,
    ("post", "/api/sessions/{session_id}/end"): {401, 403, 404, 409, 422, 502, 503},
    ("delete", "/api/sessions/{session_id}"): {401, 403, 404, 409, 422},
    ("post", "/api/grade"): {400, 401, 403, 404, 413, 415, 422, 429, 502},
    ("post", "/api/drills"): {400, 401, 403, 404, 409, 413, 415, 422, 429, 502},
    ("post", "/api/grade/upload"): {400, 401, 403, 404, 413, 422, 429, 502},  # a form: no 415
    ("patch", "/api/users/{user_id}"): {400, 401, 403, 404, 409, 413, 415, 422},
    ("delete", "/api/tokens/{token_id}"): {401, 403, 404, 422},
}


@pytest.mark.parametrize(("method", "path"), list(EXPECTED), ids=" ".join)
def test_a_route_lists_exactly_the_errors_it_has(
    spec: dict[str, Any], method: str, path: str
) -> None:
    op = spec["paths"][path][method]
    assert errors(op) == {str(s) for s in EXPECTED[method, path]}


def test_every_error_has_the_shared_body_and_says_when(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status in errors(op):
            response = op["responses"][status]
            model = "HTTPValidationError" if status == "422" else "ErrorMessage"
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{model}"}, (method, path, status)
            assert len(response["description"]) > 20, (method, path, status)
    body = spec["components"]["schemas"]["HTTPValidationError"]["properties"]
    assert {"detail", "code", "params"} <= set(body)  # a 422 may carry a code, as others do


def test_no_route_lists_an_error_it_cannot_produce(spec: dict[str, Any]) -> None:
    wrong = []
    for method, path, op in operations(spec):
        listed = errors(op)
        types = body_types(op)
        cannot = set()
        if not types:
            cannot |= BODY_ERRORS  # nothing to read, too large, or of the wrong type
        elif "application/json" not in types:
            cannot.add("415")  # a form route reads what it is sent as a form
        if not types and not op.get("parameters"):
            cannot.add("422")  # nothing to validate
        if "security" not in op:
            cannot.add("403")  # no login, so no role and no CSRF header to miss
            if path != "/api/auth/login":  # whose 401 is a wrong password
                cannot.add("401")
        if method in SAFE:
            cannot |= {"409", "429", "502", "503"}  # reads change nothing, call no model
        wrong += [(method, path, status) for status in sorted(listed & cannot)]
    assert wrong == []


def test_no_route_leaves_out_an_error_every_request_can_meet(spec: dict[str, Any]) -> None:
    missing = []
    for method, path, op in operations(spec):
        listed = errors(op)
        needed = set()
        types = body_types(op)
        if types:
            needed |= {"400", "413", "422"} | ({"415"} if "application/json" in types else set())
        if op.get("parameters"):
            needed.add("422")
        if "security" in op:
            needed.add("401")
            if method not in SAFE:
                needed.add("403")  # a cookie login without its CSRF header
        if "{" in path:
            needed.add("404")  # every id in a path is looked up
        missing += [(method, path, status) for status in sorted(needed - listed)]
    assert missing == []
    assert set().union(*(errors(op) for *_, op in operations(spec))) == ERRORS


# ---------------------------------------------------------------- the listed errors are real


def fill(path: str) -> str:
    """A concrete URL for a path template: every id is 1 (none needs to exist)."""
    return "/".join("1" if part.startswith("{") else part for part in path.split("/"))


def test_each_route_answers_the_body_and_login_errors_it_lists(
    spec: dict[str, Any], login_as: Callable[..., TestClient], anonymous: TestClient
) -> None:
    """No login: 401; a cookie login writing without its CSRF header: 403; a body that is not
    JSON: 415; JSON nested too deep to read: 400. Each seen is listed for its route."""
    admin = login_as("root", role="admin")
    cookie = TestClient(anonymous.app)
    login = {"username": "root", "password": PASSWORD}
    assert cookie.post("/api/auth/login", json=login).status_code == 200
    seen: dict[tuple[str, str], set[str]] = {}
    for method, path, op in operations(spec):
        url, got = fill(path), seen.setdefault((method, path), set())
        if "security" in op:
            got.add(str(anonymous.request(method, url).status_code))
            if method not in SAFE:
                got.add(str(cookie.request(method, url).status_code))
        if "application/json" in body_types(op):
            plain = {"content-type": "text/plain"}
            got.add(str(admin.request(method, url, content=b"hello", headers=plain).status_code))
            deep = b"[" * 5000 + b"]" * 5000
            json_type = {"content-type": "application/json"}
            got.add(str(admin.request(method, url, content=deep, headers=json_type).status_code))
    expected_kinds = {"401", "403", "415", "400"}
    for (method, path), got in seen.items():
        listed = errors(spec["paths"][path][method])
        assert got & expected_kinds <= listed, (method, path, got)
    answered = set().union(*seen.values())
    assert expected_kinds <= answered  # each kind was met somewhere


def test_every_error_the_access_matrix_meets_is_listed(spec: dict[str, Any]) -> None:
    """tests/test_access.py plays every route for every role and asserts the status each
    gets: each error among them is one the route documents."""
    unlisted = [
        (method, _template(path), role, status)
        for method, path, _body, expected in MATRIX
        for role, status in expected.items()
        if status >= 400
        and str(status) not in errors(spec["paths"][_template(path)][method.lower()])
    ]
    assert unlisted == []


def test_documented_refuses_a_status_the_api_never_answers_or_one_listed_twice() -> None:
    with pytest.raises(ValueError, match="418"):
        documented(401, 418)
    with pytest.raises(ValueError, match="twice"):
        documented(404, (404, "No such thing."))
    assert documented((404, "No such thing."), 401) == {
        401: {"model": ErrorMessage, "description": ERROR_TEXTS[401]},
        404: {"model": ErrorMessage, "description": "No such thing."},
    }
