"""The pages without a browser: who may open what (redirects, 403, 404), the login form,
CSRF on every form post, escaping of user and model text, languages, and that every page
renders in Italian and English; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select, update

from app import auth
from app.catalog import Catalog, load_catalog
from app.models import Assignment, User, UserCreate
from app.web.i18n import from_accept_language, strings
from app.web.render import STATIC_DIR
from app.web.view import meter_directions

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


class FormFields(HTMLParser):
    """What a browser submits for the form with id `form_id`, untouched: its own fields and
    those outside it that name it with form="…" (a select sends its selected option, or the
    first one when none is selected); also the ids of every form on the page."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.fields: dict[str, str] = {}
        self.select_options: dict[str, list[tuple[str, str, bool]]] = {}  # value, label, selected
        self.required: list[str] = []
        self.forms: list[str] = []
        self._inside = False
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._textarea: str | None = None

    def _ours(self, attrs: dict[str, str | None]) -> bool:
        return attrs.get("form") == self.form_id or (self._inside and "form" not in attrs)

    def handle_starttag(self, tag: str, pairs: list[tuple[str, str | None]]) -> None:
        attrs = dict(pairs)
        name = attrs.get("name") or ""
        if tag == "form":
            self.forms.append(attrs.get("id") or "")
            self._inside = attrs.get("id") == self.form_id
        elif tag == "input" and name and self._ours(attrs):
            self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name and self._ours(attrs):
            self._select = name
            self.select_options[name] = []
        elif tag == "option" and self._select:
            self._option = (attrs.get("value") or "", "selected" in attrs)
        elif tag == "textarea" and name and self._ours(attrs):
            self._textarea = name
            self.fields[name] = ""
            if "required" in attrs:
                self.required.append(name)

    def handle_data(self, data: str) -> None:
        if self._option and self._select:
            value, selected = self._option
            self.select_options[self._select].append((value, data.strip(), selected))
            self._option = None
        elif self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "select" and self._select:
            options = self.select_options[self._select]
            chosen = [value for value, _, selected in options if selected] or [options[0][0]]
            self.fields[self._select] = chosen[-1]
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    @classmethod
    def of(cls, html: str, form_id: str) -> FormFields:
        parser = cls(form_id)
        parser.feed(html)
        return parser


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
    [
        "/",
        "/practice",
        "/history",
        "/desk",
        "/assignments",
        "/agreement",
        "/users",
        "/sessions/abc/report",
        "/grade-chat",
    ],
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
    # the name stays, the password is what gets typed again
    assert 'value="ada"' in wrong.text and re.search(r'id="password"[^>]* autofocus', wrong.text)
    odd = anonymous.post(
        "/login", data={"username": '"><b>x', "password": "nope", "csrf_token": token}
    )
    assert 'value="&#34;&gt;&lt;b&gt;x"' in odd.text and "<b>x" not in odd.text
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


def test_the_login_page_says_a_name_is_locked_from_here_only(
    anonymous: TestClient, browser_as: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser_as("ada")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))
    token = login_token(anonymous.get("/login?lang=it").text)
    guess = {"username": "ada", "password": "nope", "csrf_token": token}
    for _ in range(auth.LOCK_AFTER):
        assert anonymous.post("/login?lang=it", data=guess).status_code == 401
    locked = anonymous.post("/login?lang=it", data=guess | {"password": PASSWORD})
    assert locked.status_code == 429
    assert "per qualche minuto questo nome non può accedere da qui" in locked.text
    elsewhere = TestClient(anonymous.app, client=("198.51.100.7", 50000))
    token = login_token(elsewhere.get("/login").text)
    ok = elsewhere.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_the_login_page_lets_a_browser_used_before_in_past_a_colleagues_lock(
    anonymous: TestClient, browser_as: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same office, same address: the colleague's guesses lock the name for new browsers only."""
    browser_as("ada")
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))

    def log_in(browser: TestClient, password: str) -> int:
        token = login_token(browser.get("/login?lang=it").text)
        form = {"username": "ada", "password": password, "csrf_token": token}
        return browser.post("/login?lang=it", data=form, follow_redirects=False).status_code

    adas = TestClient(anonymous.app, client=("192.0.2.60", 50000))
    assert log_in(adas, PASSWORD) == 303 and adas.cookies.get("sparring_device")
    adas.cookies.delete("sparring_session")  # the next morning: the login has expired
    colleague = TestClient(anonymous.app, client=("192.0.2.60", 50001))
    for _ in range(auth.LOCK_AFTER):
        assert log_in(colleague, "nope") == 401
    assert log_in(colleague, PASSWORD) == 429
    assert log_in(adas, PASSWORD) == 303


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
    for path in ("/desk", "/assignments", "/agreement", "/users"):
        refused = trainee.client.get(path)
        assert refused.status_code == 403
        assert "This page is for " in refused.text and '<html lang="' in refused.text
    assert coach.client.get("/users").status_code == 403
    desk = coach.client.get("/desk").text
    assert 'href="/agreement"' in desk and 'href="/users"' not in desk
    assert 'href="/assignments"' in desk and 'href="/assignments"' not in menu
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


# ---------------------------------------------------------------- the review page


def _grader_option(options: list[tuple[str, str, bool]]) -> str:
    [value] = [value for value, label, _ in options if "(as the grader)" in label]
    return value


def test_saving_a_review_records_only_the_verdicts_the_coach_chose(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    carla = browser_as("carla", "coach", ["blue"])
    sid = play(ada)
    page = FormFields.of(carla.client.get(f"/desk/{sid}?lang=en").text, "review-form")
    options = {name.split(":", 1)[1]: o for name, o in page.select_options.items()}
    assert len(options) >= 2
    for technique, choices in options.items():
        assert page.fields[f"verdict:{technique}"] == "", "no verdict is chosen for the coach"
        assert choices[0][:2] == ("", "— no verdict —")
        _grader_option(choices)  # agreeing is one explicit choice
    first, second, *_ = sorted(options)
    grader = _grader_option(options[first])
    other = "missed" if grader != "missed" else "applied"
    # change one verdict and save the page as it is
    assert carla.form(f"/desk/{sid}", {**page.fields, f"verdict:{first}": other}).status_code == 303
    agreement = carla.client.get("/agreement").text
    assert 'data-reviewed="1"' in agreement and "agree on 0 of 1 reviewed criteria" in agreement
    again = FormFields.of(carla.client.get(f"/desk/{sid}").text, "review-form")
    assert again.fields[f"verdict:{first}"] == other, "the coach's verdict stays chosen"
    assert "" not in [value for value, _, _ in again.select_options[f"verdict:{first}"]]
    assert all(again.fields[f"verdict:{t}"] == "" for t in options if t != first)
    carla.form(f"/desk/{sid}", again.fields)  # saved again untouched: nothing new
    assert 'data-reviewed="1"' in carla.client.get("/agreement").text
    agree = {**again.fields, f"verdict:{second}": _grader_option(options[second])}
    carla.form(f"/desk/{sid}", agree)
    assert "agree on 1 of 2 reviewed criteria" in carla.client.get("/agreement").text
    assert "— nessun giudizio —" in carla.client.get(f"/desk/{sid}?lang=it").text
    # the trainee's list points to the feedback, on the reviewed session only
    unreviewed = play(ada)
    rows = ada.client.get("/history?lang=en").text.split("<tr>")
    feedback = [row for row in rows if "reviewed by your coach" in row]
    assert len(feedback) == 1 and sid in feedback[0] and unreviewed not in feedback[0]


def test_the_review_shows_the_moves_the_detectors_found(browser_as: Login) -> None:
    """What the director and the offline grader went by, for the coach correcting them."""
    ada, carla = browser_as("ada", "trainee", ["blue"]), browser_as("carla", "coach", ["blue"])
    sid = play(ada, "I understand how hard this is. What matters most to you?")
    page = unescape(carla.client.get(f"/desk/{sid}?lang=en").text)
    detected = re.findall(r'<p class="heard">([^<]*)</p>', page)
    assert len(detected) == 1 and detected[0].startswith("Moves detected: ")
    assert "empathy" in detected[0] and "an open question" in detected[0]
    assert "a question" not in detected[0]  # the open one says it already
    trainee_line = re.compile(r'<span class="who">\d+\. ada</span>')
    assert trainee_line.search(page)  # the coach did not write it: "You" would lie
    italian = unescape(carla.client.get(f"/desk/{sid}?lang=it").text)
    assert "Mosse rilevate: " in italian and "empatia" in italian
    report = carla.client.get(f"/sessions/{sid}/report?lang=en").text
    assert trainee_line.search(report)
    own = ada.client.get(f"/sessions/{sid}/report?lang=en").text
    assert re.search(r'<span class="who">\d+\. You</span>', own) and not trainee_line.search(own)


def _left_by_the_client(ada: Browser) -> str:
    """A session the client ended (rudeness, or out of turns) that nobody ended from the page:
    the trainee reloaded or went elsewhere instead of opening the report card."""
    started = ada.form("/practice", {"persona_id": "after-hours-caller", "language": "en"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    for _ in range(40):
        ada.form(f"/sessions/{sid}/say", {"content": "You are an idiot, stop bothering me."})
        if ada.client.get(f"/api/sessions/{sid}").json()["session"]["status"] != "active":
            return sid
    raise AssertionError("the client never ended the session")


def test_a_session_the_client_ended_can_be_graded_from_the_report_or_the_desk(
    browser_as: Login,
) -> None:
    ada, carla = browser_as("ada", "trainee", ["blue"]), browser_as("carla", "coach", ["blue"])
    sid = _left_by_the_client(ada)
    report = ada.client.get(f"/sessions/{sid}/report?lang=en").text
    assert "This session has ended but has not been graded yet." in report
    assert 'id="not-graded"' in report and "Grade it now" in report
    graded = ada.form(f"/sessions/{sid}/grade")
    assert graded.headers["location"] == f"/sessions/{sid}/report"
    assert 'id="not-graded"' not in ada.client.get(f"/sessions/{sid}/report").text
    assert ada.client.get(f"/api/sessions/{sid}").json()["grade"]["status"] == "done"

    # the coach finds the next one ungraded on the desk and grades it there
    other = _left_by_the_client(ada)
    desk = carla.client.get(f"/desk/{other}?lang=it").text
    assert "La sessione è finita ma non è ancora stata valutata." in desk and "Valutala ora" in desk
    back = carla.form(f"/sessions/{other}/grade", {"then": "review"})
    assert back.headers["location"] == f"/desk/{other}"
    assert 'id="review-form"' in carla.client.get(f"/desk/{other}").text


def test_the_practice_page_lists_ones_own_unfinished_sessions(browser_as: Login) -> None:
    ada, bea = browser_as("ada", "trainee", ["blue"]), browser_as("bea", "trainee", ["blue"])
    assert "Conversations you left unfinished" not in ada.client.get("/practice?lang=en").text
    started = ada.form("/practice", {"persona_id": "disorganized", "language": "en"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    page = ada.client.get("/practice?lang=en").text
    assert "Conversations you left unfinished" in page
    assert f'<a class="button" href="/sessions/{sid}">Continue</a>' in page
    assert "started " in page.split(f'id="unfinished-{sid}"')[1].split("</li>")[0]
    assert f"/sessions/{sid}" not in bea.client.get("/practice?lang=en").text  # her own only
    play(ada)  # an ended one is not listed
    listed = re.compile(r'id="unfinished-[0-9a-f]{32}"')
    assert len(listed.findall(ada.client.get("/practice").text)) == 1
    ada.form(f"/sessions/{sid}/discard")
    assert not listed.findall(ada.client.get("/practice").text)


def test_the_users_page_keeps_what_was_typed_when_it_refuses(browser_as: Login) -> None:
    adri = browser_as("adri", "admin")
    browser_as("pia", "trainee", ["blue"])
    taken = adri.form("/users", {"username": "Pia", "role": "coach", "teams": "blue, red"})
    assert taken.status_code == 409
    page = unescape(taken.text)
    assert 'id="account-error"' in page and "pia" in page.split('id="account-error"')[1][:200]
    assert 'value="Pia"' in page and 'value="blue, red"' in page
    assert '<option value="coach" selected>' in page
    assert 'action="/users"' in page  # the users page itself, not an error page
    assert "data-confirm=" in page.split('/password"')[1][:200]  # a reset asks first


def test_commenting_on_a_message_saves_the_whole_review(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    carla = browser_as("carla", "coach", ["blue"])
    sid = play(ada)
    html = carla.client.get(f"/desk/{sid}?lang=en").text
    assert html.count(f'action="/desk/{sid}"') == 1, "one review form, no form per message"
    page = FormFields.of(html, "review-form")
    assert {"message:1", "message:2"} <= set(page.fields), "message comments are in the form"
    assert page.required == [], "a blank comment box does not block saving"
    assert html.count('form="review-form"') >= 2 * html.count('class="comment-box"') > 0
    technique = sorted(page.select_options)[0].split(":", 1)[1]
    grader = _grader_option(page.select_options[f"verdict:{technique}"])
    other = "missed" if grader != "missed" else "applied"
    # what "Add comment" under message 2 sends, after the coach changed a verdict and wrote
    # on a technique: the whole review
    fields = {
        **page.fields,
        f"verdict:{technique}": other,
        f"comment:{technique}": "Too generous here.",
        "message:2": "Good open question.",
    }
    saved = carla.form(f"/desk/{sid}", fields)
    assert saved.status_code == 303 and saved.headers["location"] == f"/desk/{sid}?saved=1"
    after = carla.client.get(saved.headers["location"]).text
    assert "Review saved." in after
    assert "Good open question." in after and "Too generous here." in after
    assert FormFields.of(after, "review-form").fields[f"verdict:{technique}"] == other
    assert f'href="/desk/{sid}?lang=it"' in after, "switching language does not repeat the banner"
    assert after.count('<span class="comment-text">') == 2, "blank boxes add no comments"


# ---------------------------------------------------------------- the chat page meters


def test_meters_show_which_way_is_good_for_the_trainee(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    started = ada.form("/practice", {"persona_id": "after-hours-caller", "language": "en"})
    chat = ada.client.get(started.headers["location"]).text

    def gauge(meter: str) -> str:
        found = re.search(
            rf'<li class="meter-row" data-meter="{meter}"([^>]*)>\s*<label[^>]*>'
            rf"([^<]*)</label>\s*<meter ([^>]*)>",
            chat,
        )
        assert found, meter
        return f"{found.group(1)} {found.group(2)} {found.group(3)}"

    for meter, label in (("habit", "Habit"), ("anger", "Anger")):  # a rise is bad news
        assert 'data-better="low"' in gauge(meter) and 'optimum="0"' in gauge(meter)
        assert label in gauge(meter)
    for meter in ("trust", "patience"):
        assert 'data-better="high"' in gauge(meter) and 'optimum="100"' in gauge(meter)
    started = ada.form("/practice", {"persona_id": "endless-whatsapp", "language": "it"})
    italian = ada.client.get(f"{started.headers['location']}?lang=it").text
    assert '<label for="meter-rules">Regole</label>' in italian
    # what each meter tells, in the page's language, for this client's meters only
    assert "<summary>Che cosa indicano gli indicatori</summary>" in italian
    assert "<dt>Regole</dt><dd>Quanto sono chiari orari e tempi di risposta" in italian
    assert "<dt>Abitudine</dt>" not in italian  # the night caller's meter, not this client's


def test_every_persona_meter_has_labels_and_a_good_direction() -> None:
    table, directions = strings(), meter_directions()
    meters = {meter for persona in load_catalog().persona_list for meter in persona.meters}
    unlabelled = sorted(m for m in meters if set(table.get(f"meter.{m}", {})) != {"it", "en"})
    assert unlabelled == [], "add them to the meter: section of app/templates/i18n.yaml"
    unexplained = sorted(m for m in meters if set(table.get(f"meter_help.{m}", {})) != {"it", "en"})
    assert unexplained == [], "add them to the meter_help: section of app/templates/i18n.yaml"
    assert sorted(meters - set(directions)) == [], "add them to app/templates/meters.yaml"
    lower_is_better = {m for m in meters if directions[m] == "low"}
    assert lower_is_better == {
        "habit", "anger", "chaos", "self_talk", "anxiety", "free_requests", "conceded",
        "hurt", "sold_count",
    }  # fmt: skip


def test_every_move_has_a_name_for_the_chat() -> None:
    """What the client picked up is named on the chat page: a move added to
    prompts/moves.yaml needs its name in both languages too."""
    table = strings()
    unnamed = sorted(
        m for m in load_catalog().moves if set(table.get(f"move.{m}", {})) != {"it", "en"}
    )
    assert unnamed == [], "add them to the move: section of app/templates/i18n.yaml"
    assert sorted(k.removeprefix("move.") for k in table if k.startswith("move.")) == sorted(
        load_catalog().moves
    ), "a name for a move that no longer exists"


# ---------------------------------------------------------------- accessibility


def _contrast(one: str, two: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_focus_ring_stands_out_on_the_page() -> None:
    css = (STATIC_DIR / "css" / "app.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    ring = re.search(r":focus-visible \{([^}]*)\}", css)
    assert ring and "outline: 3px solid var(--focus)" in ring.group(1)
    for background in ("paper", "wash"):
        assert _contrast(colours["focus"], colours[background]) >= 3, background


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
    carla.form("/assignments", {"team": "blue", "persona_id": "disorganized", "note": "Presto"})
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
        (carla, "/assignments?saved=1"),
        (admin, "/assignments?removed=1"),
        (admin, "/users"),
        (admin, "/desk/nonexistent"),
        (ada, "/grade-chat"),
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
    day = datetime.now(UTC).date().isoformat()  # the time axis says when its two ends were
    assert re.findall(r'<text class="axis"[^>]*>(\d{4}-\d\d-\d\d)</text>', overall) == [day, day]
    assert 'class="small-multiples"' in html


def test_counts_of_one_read_in_the_singular(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    play(ada)
    english = ada.client.get("/history?lang=en").text
    assert "Your one graded session so far" in english and "Graded once" in english
    assert "1 graded sessions" not in english and "1 times" not in english
    italian = ada.client.get("/history?lang=it").text
    assert "La tua unica sessione valutata finora" in italian and "1 volte" not in italian
    play(ada)
    assert "Your last 2 graded sessions" in ada.client.get("/history?lang=en").text


def test_an_unknown_address_gets_the_error_page_in_a_browser(anonymous: TestClient) -> None:
    page = anonymous.get("/no-such-page", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found." in page.text and "no page at /no-such-page" in page.text
    api = anonymous.get("/api/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    # a path that reads as another site's address stays on this one in the language links
    odd = anonymous.get("http://testserver//evil.example/x", headers={"Accept": "text/html"})
    assert odd.status_code == 404 and 'href="/evil.example/x?lang=en"' in odd.text
    assert 'href="//' not in odd.text


def test_leaving_before_a_word_discards_the_session(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    started = ada.form(
        "/practice", {"persona_id": "disorganized", "difficulty": "easy", "language": "en"}
    )
    sid = started.headers["location"].rsplit("/", 1)[1]
    page = ada.client.get(f"/sessions/{sid}").text
    assert f'action="/sessions/{sid}/discard"' in page and "Leave without a grade" in page
    left = ada.form(f"/sessions/{sid}/discard")
    assert left.status_code == 303 and left.headers["location"] == "/practice"
    assert ada.client.get(f"/sessions/{sid}").status_code == 404
    again = ada.form("/practice", {"persona_id": "disorganized", "language": "en"})
    sid = again.headers["location"].rsplit("/", 1)[1]
    ada.form(f"/sessions/{sid}/say", {"content": "What is on your mind?"})
    page = ada.client.get(f"/sessions/{sid}").text  # a word said: ending grades it
    assert f'action="/sessions/{sid}/end"' in page and "End and see the report card" in page
    assert ada.form(f"/sessions/{sid}/discard").status_code == 409


def test_figures_are_written_the_local_way() -> None:
    from app.web.i18n import Translator
    from app.web.render import _env

    figure = _env.from_string("{{ 0.666 | decimal }} {{ none | decimal }} {{ 0.75 | percent }}")
    assert figure.render(t=Translator("it")) == "0,67 n.d. 75%"
    assert figure.render(t=Translator("en")) == "0.67 n/a 75%"


def test_practise_again_with_the_same_client_from_the_report(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    sid = play(ada)
    again = FormFields.of(ada.client.get(f"/sessions/{sid}/report").text, "practise-again")
    assert again.fields["persona_id"] == "free-advice-seeker"
    started = ada.form("/practice", {k: v for k, v in again.fields.items() if k != "csrf_token"})
    assert started.status_code == 303, started.text
    new_id = started.headers["location"].rsplit("/", 1)[1]
    assert new_id != sid
    new = ada.client.get(f"/api/sessions/{new_id}").json()["session"]
    assert (new["persona_id"], new["difficulty"], new["language"], new["engine"]) == (
        "free-advice-seeker",
        "easy",
        "en",
        "offline",
    )
    # a coach reading the report cannot start the trainee's session; nor an unfinished one
    carla = browser_as("carla", "coach", ["blue"])
    assert 'id="practise-again"' not in carla.client.get(f"/sessions/{sid}/report").text
    assert 'id="practise-again"' not in ada.client.get(f"/sessions/{new_id}/report").text


def test_the_chat_says_what_the_trainee_will_be_graded_on(
    browser_as: Login, catalog: Catalog
) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    started = ada.form("/practice", {"persona_id": "yes-then-sells", "language": "it"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    page = ada.client.get(f"/sessions/{sid}?lang=en").text
    listed = unescape(page.split('id="graded-on"', 1)[1].split("</details>", 1)[0])
    assert "What you will be graded on" in listed
    for technique_id in catalog.personas["yes-then-sells"].techniques:
        technique = catalog.techniques[technique_id]
        assert f"<dt>{technique.name('en')}</dt>" in listed  # in the page's language
    assert listed.count("<dt>") == len(catalog.personas["yes-then-sells"].techniques)


def test_the_chat_knows_what_the_client_picked_up(browser_as: Login, catalog: Catalog) -> None:
    """The moves the director detected in each trainee message, and their names in the
    page's language, for the script that shows them when the trainee asks (see e2e)."""
    ada = browser_as("ada", "trainee", ["blue"])
    started = ada.form("/practice", {"persona_id": "yes-then-sells", "language": "en"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    ada.form(
        f"/sessions/{sid}/say",
        {"content": "I understand how hard this is. What matters most to you?"},
    )
    ada.form(f"/sessions/{sid}/say", {"content": "Ok."})
    page = unescape(ada.client.get(f"/sessions/{sid}?lang=it").text)
    said = re.findall(r'class="msg msg-trainee"[^>]*data-moves="([^"]*)"', page)
    assert said[1] == "" and {"empathy", "open_question"} <= set(said[0].split())
    assert 'id="show-heard-field" hidden' in page  # the choice needs the script
    labels = json.loads(re.search(r'id="chat-strings">([^<]*)<', page).group(1))  # type: ignore[union-attr]
    assert labels["heard"] == "Il cliente ha colto" and labels["move.empathy"] == "empatia"
    assert {f"move.{m}" for m in catalog.moves} <= labels.keys()


def test_a_coach_assigns_a_client_and_sees_who_has_practised(browser_as: Login) -> None:
    carla = browser_as("carla", "coach", ["blue"])
    ada = browser_as("ada", "trainee", ["blue"])
    browser_as("eve", "trainee", ["blue"])
    form = FormFields.of(carla.client.get("/assignments?lang=en").text, "assignment-form")
    assert form.select_options["team"] == [("blue", "blue", False)]
    assigned = carla.form(
        "/assignments",
        {
            "team": "blue",
            "persona_id": "free-advice-seeker",
            "difficulty": "easy",
            "language": "en",
            "due": (due := (date.today() + timedelta(days=4)).isoformat()),
            "note": "State your rate before Friday.",
        },
    )
    assert assigned.status_code == 303 and assigned.headers["location"] == "/assignments?saved=1"
    page = carla.client.get("/assignments?lang=en").text
    assert "0 of 2 trainees have done it" in page and f"Due by {due}" in page

    # the trainee finds it on the practice page, starts it from there and plays it
    practice = ada.client.get("/practice?lang=en").text
    card = practice.split('id="assigned-', 1)[1].split("</li>", 1)[0]
    assert "From your coach" in practice and "State your rate before Friday." in card
    start = FormFields.of(f'<form id="x">{card.split("<form", 1)[1]}', "x").fields
    started = ada.form("/practice", {k: v for k, v in start.items() if k != "csrf_token"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    ada.form(f"/sessions/{sid}/say", {"content": "Nice to meet you: what do you expect from me?"})
    assert ada.form(f"/sessions/{sid}/end").status_code == 303
    done = ada.client.get("/practice?lang=en").text.split('id="assigned-', 1)[1]
    assert f'href="/sessions/{sid}/report">done (' in done and "Practise again" in done
    page = carla.client.get("/assignments?lang=en").text
    assert "One of 2 trainees has done it" in page and f"/sessions/{sid}/report" in page

    # the coach who set it removes it; the trainee's session stays
    found = re.search(r'id="assignment-(\d+)"', page)
    assert found is not None
    removed = carla.form(f"/assignments/{found[1]}/delete")
    assert removed.headers["location"] == "/assignments?removed=1"
    assert "From your coach" not in ada.client.get("/practice").text
    assert ada.client.get(f"/sessions/{sid}/report").status_code == 200


def test_an_assignment_past_its_due_date_reads_overdue_until_done(browser_as: Login) -> None:
    carla = browser_as("carla", "coach", ["blue"])
    ada = browser_as("ada", "trainee", ["blue"])
    fields = {"team": "blue", "persona_id": "free-advice-seeker", "language": "en"}
    past = carla.form("/assignments", fields | {"difficulty": "easy", "due": "2020-01-31"})
    assert past.status_code == 422 and "The due date 2020-01-31 is already past." in past.text
    # the form again, beside the reason, as the coach filled it in
    assert 'id="assignment-form"' in past.text and 'value="2020-01-31"' in past.text
    assert '<option value="free-advice-seeker" selected>' in past.text
    assert '<option value="easy" selected>' in past.text
    carla.form("/assignments", fields | {"difficulty": "easy", "due": date.today().isoformat()})
    carla.form("/assignments", fields | {"difficulty": "hard", "due": "2999-01-31"})
    with Session(carla.client.app.state.engine) as db:  # the days go by for the easy one
        easy = update(Assignment).where(Assignment.difficulty == "easy")
        db.exec(easy.values(due=date(2020, 1, 31)))
        db.commit()
    page = carla.client.get("/assignments?lang=en").text
    assert page.count('<span class="overdue">overdue</span>') == 1
    assert page.count("not yet</span>") == 1  # the one due in 2999
    assert ada.client.get("/practice?lang=en").text.count('class="overdue"') == 1
    play(ada)  # free-advice-seeker, easy, English: the overdue one is done
    assert 'class="overdue"' not in ada.client.get("/practice?lang=en").text
    assert 'class="overdue"' not in carla.client.get("/assignments?lang=en").text


def test_a_bad_assignment_form_is_a_clear_error_page(browser_as: Login) -> None:
    carla = browser_as("carla", "coach", ["blue"])
    carla.client.cookies.set("lang", "it")
    long_note = carla.form(
        "/assignments", {"team": "blue", "persona_id": "disorganized", "note": "x" * 501}
    )
    assert long_note.status_code == 422 and "note" in long_note.text
    other_team = carla.form("/assignments", {"team": "red", "persona_id": "disorganized"})
    assert other_team.status_code == 404
    assert "Non c&#39;è un team con questo nome tra i tuoi." in other_team.text
    # what FastAPI itself refuses reads as a page too, not as JSON
    not_an_id = carla.form("/assignments/99999999999/delete")
    assert not_an_id.status_code == 422 and '<html lang="it">' in not_an_id.text
    assert "assignment_id" in not_an_id.text
    too_long = carla.form("/practice", {"persona_id": "x" * 65})
    assert too_long.status_code == 422 and '<html lang="it">' in too_long.text
    assert "persona_id" in too_long.text
    assert "Nessun incarico per ora." in carla.client.get("/assignments").text


def test_conversation_text_carries_its_language(browser_as: Login) -> None:
    """Screen readers read an Italian conversation with an Italian voice on an English UI."""
    ada = browser_as("ada", "trainee", ["blue"])
    started = ada.form("/practice", {"persona_id": "disorganized", "language": "it"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    ada.client.cookies.set("lang", "en")
    page = ada.client.get(f"/sessions/{sid}").text
    assert '<html lang="en"' in page and '<ol class="transcript" lang="it"' in page
    # the grader's notes are written in the conversation's language: marked, and said so
    said = ada.form(f"/sessions/{sid}/say", {"content": "Mi dica: che cosa si aspetta da me?"})
    assert said.status_code == 303, said.text
    assert ada.form(f"/sessions/{sid}/end").status_code == 303
    report = ada.client.get(f"/sessions/{sid}/report").text
    assert '<p class="rationale" lang="it">' in report
    assert '<p class="summary" lang="it">' in report
    assert "The grader writes its notes in Italian, the language of the conversation." in report
    ada.client.cookies.set("lang", "it")
    assert "Il valutatore scrive" not in ada.client.get(f"/sessions/{sid}/report").text


def test_errors_read_in_the_pages_language(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    ada.client.cookies.set("lang", "it")
    missing = ada.client.get("/sessions/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404
    assert "Questa sessione non esiste, o non puoi vederla." in missing.text
    assert "no session with id" not in missing.text
    # a coach's own session, reviewed from a stale or crafted form
    carla = browser_as("carla", "coach", ["blue"])
    sid = play(carla)
    carla.client.cookies.set("lang", "it")
    own = carla.form(f"/desk/{sid}", {})
    assert own.status_code == 403
    assert "È una tua sessione: puoi leggerla ma non rivederla." in own.text


def test_the_chat_knows_the_error_texts(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    ada.client.cookies.set("lang", "it")
    started = ada.form("/practice", {"persona_id": "disorganized", "language": "it"})
    page = ada.client.get(started.headers["location"]).text
    found = re.search(r'<script type="application/json" id="chat-strings">(.*?)</script>', page)
    assert found
    texts = json.loads(found.group(1))
    assert texts["error_code.message_too_long"].startswith("Il messaggio è lungo {length}")


def test_the_desk_says_when_an_unfinished_session_last_moved(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    carla = browser_as("carla", "coach", ["blue"])
    started = ada.form("/practice", {"persona_id": "disorganized", "language": "en"})
    sid = started.headers["location"].rsplit("/", 1)[1]
    said = ada.form(f"/sessions/{sid}/say", {"content": "Hello, shall we begin?"})
    assert said.status_code == 303
    said_at = ada.client.get(f"/api/sessions/{sid}").json()["session"]["updated_at"]
    stamp = said_at[:16].replace("T", " ") + " UTC"  # as the page writes moments
    row = carla.client.get("/desk?lang=en").text.split(f'data-session="{sid}"')[1].split("</tr>")[0]
    assert f"in progress <small>last message {stamp}</small>" in row
    # nothing to review yet: the coach can follow it
    assert "not finished yet" in row and ">Follow<" in row and "to review" not in row
    italian = carla.client.get("/desk?lang=it").text
    assert f"in corso <small>ultimo messaggio {stamp}</small>" in italian


WHATSAPP = """\
[12/03/24, 21:14:05] Sara Rossi: Buonasera, posso farle una domanda sul mio sito?
[12/03/24, 21:15:10] Marco: Buonasera Sara, volentieri. Mi racconti: cosa vuole ottenere?
[12/03/24, 21:16:00] Sara Rossi: Niente di che, solo due consigli gratis, giusto per capire.
[12/03/24, 21:17:30] Marco: Capisco. Per un'analisi seria le mando una proposta: 80 euro l'ora.
"""


def test_a_real_chat_is_graded_on_the_page_with_its_evidence_marked(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    ada.client.cookies.set("lang", "it")
    assert 'href="/grade-chat"' in ada.client.get("/practice").text
    assert "Fino a 5 MB." in ada.client.get("/grade-chat").text  # what the chat reader takes
    carla = browser_as("carla", "coach", ["blue"])
    assert 'href="/grade-chat"' in carla.client.get("/desk").text

    def upload(content: bytes, **fields: str):  # type: ignore[no-untyped-def]
        data = {"csrf_token": ada.csrf, "persona_id": "free-advice-seeker", "language": "it"}
        files = {"file": ("chat.txt", content, "text/plain")}
        return ada.client.post("/grade-chat", data=data | fields, files=files)

    unnamed = upload(WHATSAPP.encode())
    assert unnamed.status_code == 422
    assert "ci parlano: Sara Rossi, Marco." in unescape(unnamed.text)  # who is the trainee?
    assert 'value="free-advice-seeker" selected' in unnamed.text  # the form as it was sent

    graded = upload(WHATSAPP.encode(), trainee_name="marco")
    assert graded.status_code == 200, graded.text[:500]
    page = unescape(graded.text)
    score = re.search(r'id="score"><span class="number">(\d+)<', page)
    api = ada.client.post(
        "/api/grade/upload",
        data={"persona_id": "free-advice-seeker", "language": "it", "trainee_name": "Marco"},
        files={"file": ("chat.txt", WHATSAPP.encode(), "text/plain")},
        headers={"X-CSRF-Token": ada.csrf},
    )
    assert api.status_code == 200, api.text
    assert score and int(score.group(1)) == api.json()["score"]  # the same grade as the API's
    name = load_catalog().personas["free-advice-seeker"].name("it")
    assert f"Valutazione contro {name}" in page
    assert '<mark class="ev-' in page  # the evidence, marked in the chat
    assert "80 euro" in page and page.count(">4. marco<") == 1  # named as in the form
    assert ada.client.get("/api/sessions").json()["total"] == 0  # nothing stored

    long = upload(
        b"Marco: Mi racconti.\nSara Rossi: Un consiglio gratis?\n" * 300, trainee_name="Marco"
    )
    assert long.status_code == 200 and 'id="graded-window"' in long.text
    assert "La chat ha 600 messaggi: la valutazione considera gli ultimi 500." in long.text
    assert 'id="graded-window"' not in graded.text

    empty = upload(b"")
    assert empty.status_code == 422 and "Scegli il file della chat." in empty.text
    binary = upload(b"\x00\x01 not a chat")
    assert binary.status_code == 422
    assert "Il file non si legge come una chat" in unescape(binary.text)
    assert "no messages found" in unescape(binary.text)  # and the reason, as the API says it
    unknown = upload(WHATSAPP.encode(), trainee_name="marco", persona_id="nobody")
    assert unknown.status_code == 404 and "Non c'è un cliente con questo" in unescape(unknown.text)

    # an English page, the language left to the chat: graded as the Italian it is written in
    english = ada.client.get("/grade-chat?lang=en").text
    assert '<option value="" selected>The chat&#39;s own</option>' in english
    auto = unescape(upload(WHATSAPP.encode(), trainee_name="marco", language="").text)
    assert f'id="score"><span class="number">{api.json()["score"]}<' in auto
    assert "The grader writes its notes in Italian" in auto


def test_a_form_too_large_gets_a_page_in_the_readers_language(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    ada.client.cookies.set("lang", "it")
    html = {"accept": "text/html"}
    chat = ada.client.post(
        "/grade-chat",
        data={"csrf_token": ada.csrf, "persona_id": "free-advice-seeker"},
        files={"file": ("chat.txt", b"x" * (16 * 1024 * 1024 + 1), "text/plain")},
        headers=html,
    )
    assert chat.status_code == 413 and chat.headers["content-type"].startswith("text/html")
    assert "troppo grande: il limite è 16 MB." in unescape(chat.text)
    assert "frame-ancestors 'none'" in chat.headers["content-security-policy"]
    form = ada.client.post("/login", data={"username": "x" * 300_000}, headers=html)
    assert form.status_code == 413 and "il limite è 256 KB." in unescape(form.text)
    api = ada.client.post("/api/grade", content=b"x" * 300_000, headers=html)
    assert api.status_code == 413 and api.json()["code"] == "body_too_large"


def test_an_offline_grade_says_how_far_to_trust_it(browser_as: Login) -> None:
    ada = browser_as("ada", "trainee", ["blue"])
    sid = play(ada)
    report = ada.client.get(f"/sessions/{sid}/report?lang=en").text
    assert 'id="heuristic-note"' in report and "fewer than half of the verdicts" in report
    carla = browser_as("carla", "coach", ["blue"])
    assert 'id="heuristic-note"' in carla.client.get(f"/desk/{sid}").text  # the review too
    chat = ada.client.post(
        "/grade-chat",
        data={"csrf_token": ada.csrf, "persona_id": "free-advice-seeker", "trainee_name": "Marco"},
        files={"file": ("chat.txt", WHATSAPP.encode(), "text/plain")},
    )
    assert chat.status_code == 200 and 'id="heuristic-note"' in chat.text


def test_an_admin_manages_accounts_on_the_users_page(browser_as: Login) -> None:
    admin = browser_as("root", "admin")
    admin.client.cookies.set("lang", "en")
    made = admin.form("/users", {"username": "nina", "role": "coach", "teams": " blue , red,"})
    assert made.status_code == 200, made.text[:300]
    password = re.search(r'<code class="secret">([^<]+)</code>', made.text)
    assert password and "nina&#39;s password:" in made.text

    def logs_in(secret: str) -> bool:
        fresh = TestClient(admin.client.app)
        form = {"username": "nina", "password": secret}
        form["csrf_token"] = login_token(fresh.get("/login").text)
        answer = fresh.post("/login", data=form, follow_redirects=False)
        return answer.status_code == 303 and answer.headers["location"] == "/"

    assert logs_in(password.group(1))
    row = re.search(r'<tr id="account-(\d+)">\s*<th scope="row">nina</th>', made.text)
    assert row, "the new account is listed"
    nina_id = row.group(1)
    assert 'value="blue, red"' in made.text and 'value="coach" selected' in made.text

    again = admin.form("/users", {"username": "NINA"})
    assert again.status_code == 409 and "There is already a user named nina." in again.text
    bad = admin.form("/users", {"username": "n i n a"})
    assert bad.status_code == 422 and "A username has letters, digits" in bad.text

    saved = admin.form(f"/users/{nina_id}", {"role": "trainee", "teams": "green"})  # unchecked
    assert saved.status_code == 303 and saved.headers["location"] == "/users?saved=1"
    listed = admin.client.get("/users?saved=1").text
    assert "Account updated." in listed and 'value="green"' in listed
    assert not logs_in(password.group(1))  # inactive now

    reset = admin.form(f"/users/{nina_id}/password")
    new = re.search(r'<code class="secret">([^<]+)</code>', reset.text)
    assert reset.status_code == 200 and new and new.group(1) != password.group(1)

    def account_id(name: str) -> str:
        found = re.search(rf'<tr id="account-(\d+)">\s*<th scope="row">{name}</th>', listed)
        assert found, name
        return found.group(1)

    root_id = account_id("root")  # the start-up's `admin` is the other admin: set it inactive
    assert admin.form(f"/users/{account_id('admin')}", {"role": "admin"}).status_code == 303
    last = admin.form(f"/users/{root_id}", {"role": "coach", "active": "on"})
    assert last.status_code == 409 and "root is the only active admin" in last.text
    coach = browser_as("carla", "coach", ["blue"])
    assert coach.form("/users", {"username": "mallory", "role": "admin"}).status_code == 403
    assert "mallory" not in admin.client.get("/users").text
