"""The pages without a browser: who may open what (redirects, 403, 404), the login form,
CSRF on every form post, escaping of user and model text, languages, and that every page
renders in Italian and English; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import auth
from app.models import User, UserCreate
from app.web.i18n import from_accept_language, strings

PASSWORD = "correct horse battery staple"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@dataclass
class Browser:
    """A TestClient logged in through the login form, like a browser."""

    client: TestClient
    csrf: str

    def form(self, url: str, data: dict[str, str] | None = None, token: bool = True):  # type: ignore[no-untyped-def]
        fields = {**(data or {}), **({"csrf_token": self.csrf} if token else {})}
        return self.client.post(url, data=fields, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found, "every page carries the CSRF token"
    return found.group(1)


def login_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


Login = Callable[..., Browser]


@pytest.fixture
def browser_as(anonymous: TestClient) -> Login:
    app = anonymous.app

    def make(username: str, role: str = "trainee", teams: list[str] | None = None) -> Browser:
        with Session(app.state.engine) as db:  # type: ignore[attr-defined]
            if db.exec(select(User).where(User.username == username)).first() is None:
                request = UserCreate(
                    username=username,
                    password=PASSWORD,
                    role=role,  # type: ignore[arg-type]
                    teams=teams or [],
                )
                auth.create_user(db=db, request=request)
        client = TestClient(app)
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": login_token(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        home = client.get(response.headers["location"])
        assert home.status_code == 200, home.text
        return Browser(client, csrf_of(home.text))

    return make


def play(trainee: Browser, text: str = "Hello, what do you expect from me?") -> str:
    """Start (form), say one thing (the no-JS form), end (form): the session id."""
    started = trainee.form(
        "/practice", {"persona_id": "free-advice-seeker", "difficulty": "easy", "language": "en"}
    )
    assert started.status_code == 303, started.text
    sid = started.headers["location"].rsplit("/", 1)[1]
    said = trainee.form(f"/sessions/{sid}/say", {"content": text})
    assert said.status_code == 303, said.text
    ended = trainee.form(f"/sessions/{sid}/end")
    assert ended.status_code == 303 and ended.headers["location"] == f"/sessions/{sid}/report"
    return sid


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    "path",
    ["/", "/practice", "/history", "/desk", "/agreement", "/users", "/sessions/abc/report"],
)
def test_logged_out_pages_redirect_to_login(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_logged_out_form_posts_redirect_to_login(anonymous: TestClient) -> None:
    response = anonymous.post("/practice", data={"persona_id": "x"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2F"


def test_login_form(anonymous: TestClient, browser_as: Login) -> None:
    browser_as("ada")  # creates the account
    page = anonymous.get("/login?next=/history")
    assert page.status_code == 200 and 'name="next" value="/history"' in page.text
    token = login_token(page.text)
    wrong = anonymous.post(
        "/login", data={"username": "ada", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    forged = TestClient(anonymous.app).post(
        "/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token}
    )
    assert forged.status_code == 403, "a login form posted from elsewhere has no matching cookie"
    ok = anonymous.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": token, "next": "/history"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/history"
    assert "httponly" in ok.headers["set-cookie"].lower()
    assert anonymous.get("/login", follow_redirects=False).headers["location"] == "/"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(anonymous: TestClient, target: str) -> None:
    with Session(anonymous.app.state.engine) as db:  # type: ignore[attr-defined]
        auth.create_user(db=db, request=UserCreate(username="ada", password=PASSWORD))
    token = login_token(anonymous.get("/login").text)
    response = anonymous.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_roles_see_their_own_menu_and_pages(browser_as: Login) -> None:
    trainee = browser_as("ada", "trainee", ["blue"])
    coach = browser_as("carla", "coach", ["blue"])
    admin = browser_as("root", "admin")
    assert trainee.client.get("/", follow_redirects=False).headers["location"] == "/practice"
    assert coach.client.get("/", follow_redirects=False).headers["location"] == "/desk"
    menu = trainee.client.get("/practice").text
    assert 'href="/history"' in menu and 'href="/desk"' not in menu
    for path in ("/desk", "/agreement", "/users"):
        refused = trainee.client.get(path)
        assert refused.status_code == 403
        assert "this page is for" in refused.text and '<html lang="' in refused.text
    assert coach.client.get("/users").status_code == 403
    desk = coach.client.get("/desk").text
    assert 'href="/agreement"' in desk and 'href="/users"' not in desk
    assert 'href="/users"' in admin.client.get("/desk").text
    users = admin.client.get("/users")
    assert users.status_code == 200 and "carla" in users.text and "blue" in users.text


def test_coaches_see_only_their_teams_sessions(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    sid = play(ada)
    same = browser_as("carla", "coach", ["blue"])
    other = browser_as("dario", "coach", ["red"])
    stranger = browser_as("bob", "trainee", ["red"])
    for path in (f"/desk/{sid}", f"/sessions/{sid}/report"):
        assert same.client.get(path).status_code == 200
        assert other.client.get(path).status_code == 404
    assert stranger.client.get(f"/sessions/{sid}/report").status_code == 404
    assert stranger.client.get(f"/sessions/{sid}").status_code == 404
    assert sid in same.client.get("/desk").text
    assert sid not in other.client.get("/desk").text
    refused = other.form(f"/desk/{sid}", {"verdict:x": "applied"})
    assert refused.status_code == 404
    # a coach reads an active session's transcript but cannot play it
    started = ada.form("/practice", {"persona_id": "disorganized", "language": "en"})
    active = started.headers["location"].rsplit("/", 1)[1]
    assert same.client.get(f"/sessions/{active}", follow_redirects=False).status_code == 303
    assert same.form(f"/sessions/{active}/end").status_code == 403


# ---------------------------------------------------------------- CSRF


def test_form_posts_need_the_csrf_token(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    carla = browser_as("carla", "coach", ["blue"])
    sid = play(ada)
    start = {"persona_id": "disorganized", "language": "en"}
    for who, url, data in (
        (ada, "/practice", start),
        (ada, f"/sessions/{sid}/end", {}),
        (ada, f"/sessions/{sid}/grade", {}),
        (ada, "/logout", {}),
        (carla, f"/desk/{sid}", {"message:2": "hi"}),
    ):
        missing = who.form(url, data, token=False)
        assert missing.status_code == 403, (url, missing.text)
        assert "X-CSRF-Token" in missing.text
        wrong = who.client.post(url, data={**data, "csrf_token": "forged"}, follow_redirects=False)
        assert wrong.status_code == 403, url
    assert ada.form("/practice", start).status_code == 303
    assert carla.form(f"/desk/{sid}", {"message:2": "hi"}).status_code == 303
    # logging out ends the cookie session
    assert ada.form("/logout").headers["location"] == "/login"
    assert ada.client.get("/practice", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------- escaping


def test_user_and_model_text_is_escaped_everywhere(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    carla = browser_as("carla", "coach", ["blue"])
    started = ada.form("/practice", {"persona_id": "free-advice-seeker", "language": "en"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    assert ada.form(f"/sessions/{sid}/say", {"content": f"What do you expect? {XSS}"}).status_code
    chat = ada.client.get(f"/sessions/{sid}").text
    assert XSS not in chat and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in chat
    ada.form(f"/sessions/{sid}/end")
    technique = re.findall(r'name="verdict:([^"]+)"', carla.client.get(f"/desk/{sid}").text)[0]
    saved = carla.form(f"/desk/{sid}", {f"comment:{technique}": XSS, "message:2": XSS})
    assert saved.status_code == 303
    for page in (
        ada.client.get(f"/sessions/{sid}/report").text,
        carla.client.get(f"/desk/{sid}").text,
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert page.count("&lt;script&gt;alert(") >= 2
    assert "<script" not in ada.client.get("/history").text.replace(
        '<script src="/static/js/app.js', ""
    ).replace('<script src="/static/js/chat.js', "")


def test_pages_have_no_inline_script_or_style(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    sid = play(ada)
    for path in ("/practice", "/history", f"/sessions/{sid}/report", "/login"):
        html = ada.client.get(path).text
        assert " style=" not in html and "<style" not in html
        assert not re.search(r" on[a-z]+=", html), "no inline event handlers"
        for script in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in script or 'type="application/json"' in script
    headers = ada.client.get("/practice").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- languages


def test_language_from_the_browser_a_query_or_the_cookie(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    client = ada.client
    italian = client.get("/practice", headers={"accept-language": "it-IT,it;q=0.9,en;q=0.5"})
    assert '<html lang="it">' in italian.text and "Scegli un cliente" in italian.text
    english = client.get("/practice", headers={"accept-language": "de-DE,en;q=0.7,it;q=0.3"})
    assert '<html lang="en">' in english.text and "Choose a client" in english.text
    switched = client.get("/practice?lang=it", headers={"accept-language": "en"})
    assert "Scegli un cliente" in switched.text and "lang=it" in switched.headers["set-cookie"]
    remembered = client.get("/history", headers={"accept-language": "en"})
    assert '<html lang="it">' in remembered.text
    # persona texts come from the catalogue in the page's language
    assert "Il tuo ruolo" in switched.text


def test_accept_language_parsing() -> None:
    assert from_accept_language("it-IT,it;q=0.9") == "it"
    assert from_accept_language("fr;q=1, en;q=0.5, it;q=0.8") == "it"
    assert from_accept_language("fr, de") is None
    assert from_accept_language("") is None
    assert from_accept_language("it;q=0, en") == "en"


def test_every_string_has_both_languages() -> None:
    table = strings()
    assert table and all(set(texts) == {"it", "en"} for texts in table.values())
    assert all(texts["it"].strip() and texts["en"].strip() for texts in table.values())


@pytest.mark.parametrize("lang", ["it", "en"])
def test_every_page_renders_in_both_languages(browser_as: Login, lang: str) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    carla = browser_as("carla", "coach", ["blue"])
    admin = browser_as("root", "admin")
    sid = play(ada)
    started = ada.form("/practice", {"persona_id": "endless-whatsapp", "language": lang})
    active = started.headers["location"].rsplit("/", 1)[1]
    carla.form(f"/desk/{sid}", {"message:1": "ok"})
    pages = [
        (ada, "/practice"),
        (ada, f"/sessions/{active}"),
        (ada, f"/sessions/{active}/report"),
        (ada, f"/sessions/{sid}/report"),
        (ada, "/history"),
        (carla, "/desk"),
        (carla, "/desk?reviewed=yes&score_min=0&score_max=100&date_from=2020-01-01&date_to=x"),
        (carla, f"/desk/{sid}?saved=1"),
        (carla, f"/sessions/{sid}/report"),
        (carla, "/agreement"),
        (carla, "/agreement?mine=1"),
        (admin, "/users"),
        (admin, "/desk/nonexistent"),
    ]
    for who, path in pages:
        separator = "&" if "?" in path else "?"
        response = who.client.get(f"{path}{separator}lang={lang}")
        expected = 404 if "nonexistent" in path else 200
        assert response.status_code == expected, (path, response.text[:500])
        assert f'<html lang="{lang}">' in response.text


def test_static_files_are_served(anonymous: TestClient) -> None:
    for path, kind in (
        ("/static/css/app.css", "text/css"),
        ("/static/js/app.js", "javascript"),
        ("/static/js/chat.js", "javascript"),
    ):
        response = anonymous.get(path)
        assert response.status_code == 200 and kind in response.headers["content-type"]


def test_history_charts_one_point_per_graded_session(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    first, second = play(ada), play(ada, "How can I help? My rate is 80 euro per hour.")
    html = ada.client.get("/history").text
    overall = html.split('class="chart chart-wide"', 1)[1].split("</svg>", 1)[0]
    assert overall.count('class="dot"') == 2
    assert f"/sessions/{first}/report" in overall and f"/sessions/{second}/report" in overall
    assert 'class="small-multiples"' in html
