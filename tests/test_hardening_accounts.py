"""Accounts hardened: there is always an active admin, a login takes as long for an unknown
username as for a real one, out-of-range ids are refused rather than crashing, and team
names are checked; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import auth
from app.errors import Conflict
from app.models import LoginFailure, TrustedDevice, UserUpdate

HUGE = 2**70  # past SQLite's and PostgreSQL's integers
PASSWORD = "correct horse battery staple"


pytestmark = pytest.mark.usefixtures("quick_hashing")


def user_id(admin: TestClient, username: str) -> int:
    return next(u["id"] for u in admin.get("/api/users").json() if u["username"] == username)


# ---------------------------------------------------------------- the last admin


def test_the_only_active_admin_cannot_demote_or_deactivate_themselves(
    login_as: Callable[..., TestClient],
) -> None:
    root = login_as("root", "admin")
    root_id = user_id(root, "root")
    # the app's start created `admin` too: deactivate it, so root is the only active admin
    assert root.patch(f"/api/users/{user_id(root, 'admin')}", json={"active": False}).is_success
    for change in ({"role": "trainee"}, {"role": "coach"}, {"active": False}):
        refused = root.patch(f"/api/users/{root_id}", json=change)
        assert refused.status_code == 409, change
        assert "only active admin" in refused.json()["detail"]
    me = root.get("/api/me").json()
    assert me["role"] == "admin" and me["active"] is True
    # harmless changes to the last admin still go through
    assert root.patch(f"/api/users/{root_id}", json={"role": "admin", "active": True}).is_success
    assert root.patch(f"/api/users/{root_id}", json={"teams": ["blue"]}).is_success


def test_an_admin_can_step_down_once_another_admin_is_active(
    login_as: Callable[..., TestClient],
) -> None:
    root = login_as("root", "admin")
    login_as("backup", "admin")
    admin_id = user_id(root, "admin")
    assert root.patch(f"/api/users/{admin_id}", json={"active": False}).is_success
    stepped = root.patch(f"/api/users/{user_id(root, 'root')}", json={"role": "coach"})
    assert stepped.status_code == 200 and stepped.json()["role"] == "coach"
    backup = login_as("backup", "admin")
    last = backup.patch(f"/api/users/{user_id(backup, 'backup')}", json={"active": False})
    assert last.status_code == 409


def test_the_service_refuses_it_too_so_the_cli_and_pages_do(
    anonymous: TestClient,
) -> None:
    with Session(anonymous.app.state.engine) as db:  # type: ignore[attr-defined]
        (only,) = [u for u in auth.list_users(db=db) if u.role == "admin"]
        with pytest.raises(Conflict, match="only active admin"):
            auth.update_user(db=db, user_id=only.id, request=UserUpdate(role="trainee"))  # type: ignore[arg-type]
        assert auth.get_user(db=db, user_id=only.id).role == "admin"  # type: ignore[arg-type]


# ---------------------------------------------------------------- login timing


class CountingHasher(PasswordHasher):
    """argon2 at test strength, counting verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def test_an_unknown_username_costs_the_same_work_as_a_wrong_password(
    anonymous: TestClient,
    login_as: Callable[..., TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login_as("ada")
    login_as("gone")
    root = login_as("root", "admin")
    root.patch(f"/api/users/{user_id(root, 'gone')}", json={"active": False})
    hasher, slept = CountingHasher(), []
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=slept.append))

    def attempt(username: str) -> tuple[int, list[str], list[float]]:
        hasher.verified.clear()
        slept.clear()
        body = {"username": username, "password": "not the password"}
        status = anonymous.post("/api/auth/login", json=body).status_code
        return status, list(hasher.verified), list(slept)

    real, unknown, inactive = attempt("ada"), attempt("nobody"), attempt("gone")
    for status, verified, sleeps in (real, unknown, inactive):
        assert status == 401
        assert len(verified) == 1 and verified[0].startswith("$argon2")  # one argon2 verify
        assert sleeps == real[2] == [auth.FAILED_DELAY]  # the same delay for every failure
    assert unknown[1] == inactive[1]  # the dummy hash
    good = anonymous.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
    assert good.status_code == 200


# ---------------------------------------------------------------- ids out of range


@pytest.mark.parametrize("bad", [HUGE, 2**31, 0, -1])
def test_out_of_range_ids_are_refused_not_a_server_error(
    login_as: Callable[..., TestClient], bad: int
) -> None:
    root = login_as("root", "admin")
    for response in (
        root.patch(f"/api/users/{bad}", json={"active": True}),
        root.delete(f"/api/tokens/{bad}"),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][0] == "path"


def test_the_service_says_not_found_for_an_id_no_row_can_have(anonymous: TestClient) -> None:
    with Session(anonymous.app.state.engine) as db:  # type: ignore[attr-defined]
        admin = auth.list_users(db=db)[0]
        for call in (
            lambda: auth.get_user(db=db, user_id=HUGE),
            lambda: auth.revoke_token(db=db, user=admin, token_id=HUGE),
        ):
            with pytest.raises(auth.NotFound):
                call()


# ---------------------------------------------------------------- team names


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ([""], "cannot be empty"),
        (["   "], "cannot be empty"),
        (["a\u0000b"], "control or invisible"),
        (["blue\u200b"], "control or invisible"),
        (["x" * 1000], "at most 64 characters"),
    ],
)
def test_bad_team_names_are_refused(
    login_as: Callable[..., TestClient], teams: list[str], message: str
) -> None:
    root = login_as("root", "admin")
    created = root.post(
        "/api/users", json={"username": "zed", "password": PASSWORD, "teams": teams}
    )
    assert created.status_code == 422 and message in created.text
    root_id = user_id(root, "root")
    assert root.patch(f"/api/users/{root_id}", json={"teams": teams}).status_code == 422
    assert "zed" not in {u["username"] for u in root.get("/api/users").json()}


def test_team_names_are_trimmed_so_padding_does_not_make_another_team(
    login_as: Callable[..., TestClient],
) -> None:
    root = login_as("root", "admin")
    login_as("carla", "coach", ["blue"])
    body = {"username": "zed", "password": PASSWORD, "teams": ["  blue  ", "blue", "x" * 64]}
    created = root.post("/api/users", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["teams"] == ["blue", "x" * 64]


def test_team_names_differing_only_in_case_are_one_team(
    login_as: Callable[..., TestClient],
) -> None:
    """As with usernames: "Blue" and "blue" typed by two admins are one class for its coach."""
    root = login_as("root", "admin")
    carla = login_as("carla", "coach", ["Blue"])
    for name, teams in (("zed", ["blue", "BLUE"]), ("amy", ["  bLuE "])):
        body = {"username": name, "password": PASSWORD, "teams": teams}
        created = root.post("/api/users", json=body)
        assert created.status_code == 201 and created.json()["teams"] == ["Blue"]
    assert {u["username"] for u in root.get("/api/users").json() if u["teams"] == ["Blue"]} == {
        "carla",
        "zed",
        "amy",
    }
    assignment = {"team": "BLUE", "persona_id": "disorganized", "difficulty": "medium"}
    made = carla.post("/api/assignments", json=assignment | {"language": "en"})
    assert made.status_code == 201 and made.json()["team"] == "Blue"


def test_a_token_needs_no_body(client: TestClient) -> None:
    made = client.post("/api/tokens")
    assert made.status_code == 201 and made.json()["name"] == "api"
    assert client.post("/api/tokens", json={"name": ""}).status_code == 422


def test_usernames_differing_only_in_case_are_one_name(
    login_as: Callable[..., TestClient],
) -> None:
    admin = login_as("root", role="admin")
    body = {"password": "a long enough password", "role": "trainee"}
    assert admin.post("/api/users", json={"username": "eve1", **body}).status_code == 201
    twin = admin.post("/api/users", json={"username": "EVE1", **body})
    assert twin.status_code == 409 and "'eve1' already exists" in twin.json()["detail"]


# ---------------------------------------------------------------- guessing passwords


def test_guesses_sent_at_once_are_all_counted(
    anonymous: TestClient, login_as: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read, add one, write: 40 guesses at once used to count as 3, and got 30 more in."""
    login_as("bob")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))
    body = {"username": "bob", "password": "a wrong guess"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: anonymous.post("/api/auth/login", json=body), range(8)))
    assert {a.status_code for a in answers} <= {401, 429}
    with Session(anonymous.app.state.engine) as db:  # type: ignore[attr-defined]
        counted = db.exec(select(LoginFailure).where(LoginFailure.username == "bob")).one()
    # every password checked is counted; a guess that finds the name locked checks none
    statuses = [a.status_code for a in answers]
    assert counted.failures == statuses.count(401) >= auth.LOCK_AFTER
    assert counted.locked_until is not None


def test_a_name_that_does_not_exist_locks_like_one_that_does(
    anonymous: TestClient, login_as: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Otherwise the sixth answer (429 or 401) tells which accounts exist."""
    login_as("ada")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))

    def sixth(username: str) -> tuple[int, str]:
        body = {"username": username, "password": "a wrong guess"}
        for _ in range(auth.LOCK_AFTER):
            assert anonymous.post("/api/auth/login", json=body).status_code == 401
        answer = anonymous.post("/api/auth/login", json=body)
        return answer.status_code, answer.json()["detail"].split(" until ")[0]

    locked = (429, "too many failed logins: this name is locked from your address")
    assert sixth("ada") == sixth("nobody") == locked


def _guess(app: object, username: str, address: str, password: str = "a wrong guess") -> int:
    elsewhere = TestClient(app, client=(address, 40000))  # type: ignore[arg-type]
    body = {"username": username, "password": password}
    return elsewhere.post("/api/auth/login", json=body).status_code


def test_guesses_from_elsewhere_do_not_lock_a_person_out(
    anonymous: TestClient, login_as: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted on the account, anyone could keep an admin out by failing every 15 minutes."""
    login_as("root", role="admin")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))
    app = anonymous.app
    for _ in range(auth.LOCK_AFTER):
        assert _guess(app, "ROOT", "203.0.113.9") == 401
    assert _guess(app, "root", "203.0.113.9", PASSWORD) == 429  # any spelling of the name
    assert _guess(app, "root", "198.51.100.7", PASSWORD) == 200  # the admin, at their desk


def test_failures_are_forgotten_after_a_while_and_by_a_success_or_a_reset(
    anonymous: TestClient, login_as: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = login_as("root", role="admin")
    login_as("bob")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))
    app, here = anonymous.app, "192.0.2.1"
    for _ in range(auth.LOCK_AFTER - 1):
        assert _guess(app, "bob", here) == 401
    assert _guess(app, "bob", here, PASSWORD) == 200  # a success starts the count again
    for _ in range(auth.LOCK_AFTER - 1):
        assert _guess(app, "bob", here) == 401
    assert _guess(app, "bob", here) == 401 and _guess(app, "bob", here, PASSWORD) == 429

    engine = app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as db:  # the lock, a quarter of an hour on
        for row in db.exec(select(LoginFailure)):
            row.last_failed_at -= auth.LOCK_FOR + timedelta(seconds=1)
            row.locked_until -= auth.LOCK_FOR + timedelta(seconds=1)
            db.add(row)
        db.commit()
    assert _guess(app, "bob", here) == 401  # counted from one again, not locked at once
    with Session(engine) as db:
        assert db.exec(select(LoginFailure.failures)).all() == [1]

    for _ in range(auth.LOCK_AFTER):
        _guess(app, "bob", here)
    assert _guess(app, "bob", here, PASSWORD) == 429
    bob = next(u for u in admin.get("/api/users").json() if u["username"] == "bob")
    reset = admin.patch(f"/api/users/{bob['id']}", json={"password": "a brand new password"})
    assert reset.status_code == 200
    assert _guess(app, "bob", here, "a brand new password") == 200


# ---------------------------------------------------------------- browsers logged in before


def _browser(app: object, address: str) -> TestClient:
    """A browser at `address`: it keeps its cookies from one request to the next."""
    return TestClient(app, client=(address, 40000))  # type: ignore[arg-type]


def _login(browser: TestClient, username: str, password: str = "a wrong guess") -> int:
    body = {"username": username, "password": password}
    return browser.post("/api/auth/login", json=body).status_code


def test_a_colleague_behind_the_same_address_cannot_lock_out_a_browser_used_before(
    anonymous: TestClient, login_as: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted by address alone, anyone behind an office's one address could lock a person
    out of the office for a quarter of an hour."""
    login_as("bob")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))
    app, office = anonymous.app, "192.0.2.50"
    bobs = _browser(app, office)
    assert _login(bobs, "bob", PASSWORD) == 200
    assert bobs.cookies.get("sparring_device")
    colleague = _browser(app, office)
    for _ in range(auth.LOCK_AFTER):
        assert _login(colleague, "bob") == 401
    assert _login(colleague, "bob", PASSWORD) == 429  # a browser without history: locked
    assert _login(bobs, "bob", PASSWORD) == 200  # bob's own browser still logs in
    assert _login(bobs, "bob", PASSWORD) == 200  # and keeps the cookie it had
    with Session(app.state.engine) as db:  # type: ignore[attr-defined]
        assert len(db.exec(select(TrustedDevice)).all()) == 1


def test_a_browser_used_before_has_its_own_count_and_only_for_its_account(
    anonymous: TestClient, login_as: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    login_as("bob")
    login_as("ada")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))
    app, office = anonymous.app, "192.0.2.51"
    bobs = _browser(app, office)
    assert _login(bobs, "bob", PASSWORD) == 200
    for _ in range(auth.LOCK_AFTER):
        assert _login(bobs, "bob") == 401
    locked = bobs.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert locked.status_code == 429 and "locked from this browser" in locked.json()["detail"]
    assert _login(_browser(app, office), "bob", PASSWORD) == 200  # the address is not locked

    # bob's browser gets no separate count for ada: her name is counted by its address
    for _ in range(auth.LOCK_AFTER):
        assert _login(bobs, "ada") == 401
    assert _login(_browser(app, office), "ada", PASSWORD) == 429


def test_an_account_keeps_its_newest_browsers_and_a_new_password_forgets_them(
    anonymous: TestClient, login_as: Callable[..., TestClient]
) -> None:
    admin = login_as("root", role="admin")
    login_as("bob")
    app = anonymous.app
    browsers = [_browser(app, f"198.51.100.{n}") for n in range(auth.DEVICES_KEPT + 2)]
    for browser in browsers:
        assert _login(browser, "bob", PASSWORD) == 200
    engine = app.state.engine  # type: ignore[attr-defined]

    def kept() -> set[str]:
        with Session(engine) as db:
            return set(db.exec(select(TrustedDevice.token_hash)).all())

    newest = {auth._digest(b.cookies["sparring_device"]) for b in browsers[-auth.DEVICES_KEPT :]}
    assert kept() == newest
    bob = user_id(admin, "bob")
    assert admin.patch(f"/api/users/{bob}", json={"password": "a brand new password"}).is_success
    assert kept() == set()
