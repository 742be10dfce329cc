"""An accessibility audit: axe-core (bundled by axe-playwright-python) checks every page as
its user sees it, in English and Italian, on a desktop and on a phone, against the WCAG 2.1
A and AA rules. A violation of impact "serious" or "critical" fails the page's test.

The app, the stub model and the browser are test_browser.py's fixtures (a live server on
loopback with its own temporary database for this module). The data every page needs is
made once through the API: an ended, graded and reviewed session (the report card, the
desk's review page, agreement, history), an unfinished one (practice, the chat), an
assignment; the graded real chat is uploaded through the page's own form. Every finding,
minor ones too, is written to test-output/axe/PAGE-LANG-DEVICE.json for review.

Skipped, like test_browser.py, only when /usr/bin/chromium is missing and
SPARRING_REQUIRE_BROWSER is unset.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import test_browser  # skips this module too where Chromium is missing
from test_browser import PASSWORD, REAL_CHAT, Site

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the dev extra is not installed
    if os.environ.get("SPARRING_REQUIRE_BROWSER"):
        raise
    pytest.skip("no axe-playwright-python: pip install -e '.[dev]'", allow_module_level=True)

# test_browser.py's module-scoped fixtures: here they start this module's own app and browser
site = test_browser.site
browser = test_browser.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}
DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
LOCALES = {"en": "en-GB", "it": "it-IT"}
# Rules left out, each for a reason that holds on every page (none so far).
EXCLUDED_RULES: dict[str, str] = {}

REPORTS = Path(__file__).resolve().parents[2] / "test-output" / "axe"


# ---------------------------------------------------------------- the data the pages show


@dataclass
class World:
    """Who is logged in where (storage states), what was made, and open browser contexts."""

    site: Site
    browser: Any
    states: dict[str, dict[str, Any]]
    ended: str  # graded and reviewed
    active: str  # unfinished, with messages
    chat_file: Path
    contexts: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def page(self, user: str, lang: str, device: str) -> Any:
        """A tab for `user` ("" = logged out) in `lang` on `device`: one per browser context,
        reused from page to page (a new tab each time costs more than the audit)."""
        key = (user, lang, device)
        if key not in self.contexts:
            self.contexts[key] = self.browser.new_context(
                base_url=self.site.base_url,
                locale=LOCALES[lang],
                storage_state=self.states[user] if user else None,
                **DEVICES[device],
            )
            self.contexts[key].new_page()
        return self.contexts[key].pages[0]


def _api_login(context: Any, username: str) -> dict[str, str]:
    answer = context.request.post(
        "/api/auth/login", data={"username": username, "password": PASSWORD}
    )
    assert answer.ok, answer.text()
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def _post(context: Any, path: str, headers: dict[str, str], data: Any) -> Any:
    answer = context.request.post(path, data=data, headers=headers)
    assert answer.ok, f"{path}: {answer.status} {answer.text()}"
    return answer.json()


@pytest.fixture(scope="module")
def world(site: Site, browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    states: dict[str, dict[str, Any]] = {}
    made: dict[str, str] = {}
    for username in ("tess", "cora", "adri"):
        context = browser.new_context(base_url=site.base_url)
        headers = _api_login(context, username)
        if username == "tess":
            # graded by the stub model (mixed verdicts), two turns
            start = {"persona_id": "impossible-idea", "language": "en", "engine": "llm"}
            ended = _post(context, "/api/sessions", headers, start)["session"]["id"]
            for text in (
                "I understand, what matters most to you about the new site?",
                "Could we agree on the home page by Monday and plan the rest next week?",
            ):
                _post(context, f"/api/sessions/{ended}/messages", headers, {"content": text})
            _post(context, f"/api/sessions/{ended}/end", headers, None)
            # left unfinished: listed on the practice page, open in the chat
            start = {"persona_id": "free-advice-seeker", "language": "it", "engine": "offline"}
            active = _post(context, "/api/sessions", headers, start)["session"]["id"]
            for text in ("Buongiorno, mi racconti: che cosa le serve?", "Capisco, e per quando?"):
                _post(context, f"/api/sessions/{active}/messages", headers, {"content": text})
            made |= {"ended": ended, "active": active}
        elif username == "cora":
            ended = made["ended"]
            grade = context.request.get(f"/api/sessions/{ended}").json()["grade"]
            verdicts = {c["technique_id"]: c["verdict"] for c in grade["criteria"]}
            first = next(iter(verdicts))
            verdicts[first] = "missed" if verdicts[first] != "missed" else "applied"
            review = {
                "verdicts": verdicts,
                "criterion_comments": {first: "Too generous here."},
                "message_comments": {"2": "Good open question."},
            }
            _post(context, f"/api/sessions/{ended}/reviews", headers, review)
            assignment = {
                "team": "blue",
                "persona_id": "loyal-debtor",
                "language": "en",
                "note": "Before Friday's call, please.",
                "due": (date.today() + timedelta(days=7)).isoformat(),
            }
            _post(context, "/api/assignments", headers, assignment)
        state = context.storage_state()
        # the page's language comes from the browser (Accept-Language), not a cookie
        state["cookies"] = [c for c in state["cookies"] if c["name"] != "lang"]
        states[username] = state
        context.close()
    chat_file = tmp_path_factory.mktemp("a11y") / "WhatsApp Chat with Sara.txt"
    chat_file.write_text(REAL_CHAT, encoding="utf-8")
    made_world = World(site, browser, states, made["ended"], made["active"], chat_file)
    try:
        yield made_world
    finally:
        for context in made_world.contexts.values():
            context.close()


# ---------------------------------------------------------------- the pages, as seen


def _tick_heard(page: Any) -> None:
    """The chat with 'show what the client picks up' ticked (chat.js shows the box)."""
    page.locator("#show-heard").check()
    page.locator("#transcript .heard").first.wait_for()


def _too_long(page: Any) -> None:
    """A pasted message over the limit: the counter turns red, Send shows why it was refused
    (in the browser: nothing reaches the server)."""
    page.locator("#message").fill("a" * 4001)
    page.locator("#char-count.over").wait_for()
    page.locator("#send").click()
    page.locator("#chat-error").wait_for()


def _grade_real_chat(world: World) -> Callable[[Any], None]:
    def upload(page: Any) -> None:
        page.locator("#g-file").set_input_files(str(world.chat_file))
        page.locator("#g-persona").select_option("free-advice-seeker")
        page.locator("#g-trainee").fill("Marco")
        page.locator("#grade-chat-form button[type=submit]").click()
        page.locator("#graded").wait_for()

    return upload


def _login_failed(page: Any) -> None:
    page.locator("#username").fill("nobody")  # an unknown name: no account gets locked
    page.locator("#password").fill("not the password")
    page.locator("#password").press("Enter")
    page.locator("main .alert").wait_for()


@dataclass(frozen=True)
class Visit:
    user: str  # "" when logged out
    path: Callable[[World], str]
    then: Callable[[World], Callable[[Any], None] | None] = lambda world: None
    status: int = 200


PAGES: dict[str, Visit] = {
    "login": Visit("", lambda w: "/login"),
    "login-failed": Visit("", lambda w: "/login", lambda w: _login_failed),
    "practice": Visit("tess", lambda w: "/practice"),
    "chat": Visit("tess", lambda w: f"/sessions/{w.active}", lambda w: _tick_heard),
    "chat-refused": Visit("tess", lambda w: f"/sessions/{w.active}", lambda w: _too_long),
    "report": Visit("tess", lambda w: f"/sessions/{w.ended}/report"),
    "history": Visit("tess", lambda w: "/history"),
    "grade-chat": Visit("cora", lambda w: "/grade-chat"),
    "grade-chat-graded": Visit("cora", lambda w: "/grade-chat", _grade_real_chat),
    "desk": Visit("cora", lambda w: "/desk"),
    "review": Visit("cora", lambda w: f"/desk/{w.ended}?saved=1"),
    "agreement": Visit("cora", lambda w: "/agreement"),
    "assignments": Visit("cora", lambda w: "/assignments?saved=1"),
    "users": Visit("adri", lambda w: "/users?saved=1"),
    "error": Visit("tess", lambda w: "/sessions/0123456789abcdef0123456789abcdef", status=404),
}


def _serious(results: dict[str, Any]) -> list[str]:
    """'rule (impact), N nodes: targets' per failing rule."""
    found = []
    for rule in results["violations"]:
        if rule["impact"] in FAILING_IMPACTS and rule["id"] not in EXCLUDED_RULES:
            targets = [" ".join(map(str, node["target"])) for node in rule["nodes"]]
            found.append(
                f"{rule['id']} ({rule['impact']}), {len(targets)} nodes: {', '.join(targets)}"
            )
    return found


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("lang", list(LOCALES))
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_violations(world: World, name: str, lang: str, device: str) -> None:
    visit = PAGES[name]
    page = world.page(visit.user, lang, device)
    answer = page.goto(visit.path(world))
    assert answer is not None and answer.status == visit.status, page.url
    if visit.user:
        assert "/login" not in page.url, f"{visit.user} is not logged in"
    assert page.locator("html").get_attribute("lang") == lang
    if (then := visit.then(world)) is not None:
        then(page)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options).response
    page.evaluate("window.sessionStorage.clear()")  # no draft left for the next visit
    REPORTS.mkdir(parents=True, exist_ok=True)  # every finding, minor ones too, for review
    report = REPORTS / f"{name}-{lang}-{device}.json"
    report.write_text(json.dumps(results["violations"], indent=1), encoding="utf-8")
    found = _serious(results)
    assert not found, f"{name} ({lang}, {device}):\n  " + "\n  ".join(found)
