"""Rendering pages: one Jinja2 environment (autoescape on everywhere), the page context
(language, user, navigation, CSRF token), versioned static URLs, and errors as pages."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from app.api.deps import SessionRoute
from app.catalog import Language
from app.errors import ServiceError
from app.models import User
from app.web.i18n import LANG_COOKIE, Translator, chosen_language, strings

APP_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = APP_DIR / "templates"
STATIC_DIR = APP_DIR / "static"
LANG_COOKIE_AGE = 365 * 24 * 3600

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every page, every value: user and model text is always escaped
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


@lru_cache(maxsize=64)
def static_url(path: str) -> str:
    """/static/<path>?v=<content hash>, so a changed file is never served from a stale cache."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    return f"/static/{path}?v={digest}"


def when(moment: datetime | None) -> str:
    """Times are stored and shown in UTC, and say so: a class can span time zones."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


@pass_context
def percent(context: Context, value: float | None) -> str:
    return context["t"]("common.not_available") if value is None else f"{round(100 * value)}%"


@pass_context
def decimal(context: Context, value: float | None) -> str:
    """Two decimals, with the decimal comma in Italian (0,67)."""
    t = context["t"]
    if value is None:
        return t("common.not_available")
    text = f"{value:.2f}"
    return text.replace(".", ",") if t.lang == "it" else text


def size(count: int) -> str:
    """Bytes as people write a file's size: 256 KB, 5 MB (binary units, as browsers count)."""
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MB"
    return f"{count // 1024} KB"


_env.globals.update(static=static_url)
_env.filters.update(when=when, percent=percent, decimal=decimal, size=size)


def nav_for(user: User | None) -> list[tuple[str, str]]:
    """(href, string key) of the menu: what the user's role is for."""
    if user is None:
        return []
    if user.role == "trainee":
        return [("/practice", "nav.practice"), ("/history", "nav.history")]
    items = [
        ("/desk", "nav.desk"),
        ("/assignments", "nav.assignments"),
        ("/agreement", "nav.agreement"),
    ]
    if user.role == "admin":
        items.append(("/users", "nav.users"))
    return items


def lang_links(request: Request) -> list[tuple[str, str]]:
    """(code, href) for switching language on the same page (without a one-off ?saved=1)."""
    query = {k: v for k, v in request.query_params.items() if k not in ("lang", "saved")}
    # one leading slash: "//evil.example/x" (a 404 page's own path) is another site's address
    path = "/" + request.url.path.lstrip("/")
    return [(code, f"{path}?{urlencode({**query, 'lang': code})}") for code in ("it", "en")]


def render(
    request: Request,
    template: str,
    *,
    user: User | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    lang, asked = chosen_language(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": Translator(lang),
            "user": user,
            "nav": nav_for(user),
            "lang_links": lang_links(request),
            "csrf_token": getattr(request.state, "csrf_token", ""),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    if asked:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE, samesite="lax")
    response.headers["Cache-Control"] = "no-store"  # pages hold personal data
    return response


def render_error(request: Request, status_code: int, detail: str) -> Response:
    user = getattr(request.state, "page_user", None)
    return render(
        request, "error.html", user=user, status_code=status_code, status=status_code, detail=detail
    )


def error_text(exc: ServiceError, lang: Language) -> str:
    """The error in the reader's language where it has a code, else the API's message."""
    if exc.code and f"error_code.{exc.code}" in strings():
        return Translator(lang)(f"error_code.{exc.code}", **exc.params)
    return str(exc)


class PageRoute(SessionRoute):
    """A page route: a service error, or a request FastAPI refuses (a field too long, an id
    that is not a number), becomes an error page with the same status code."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as exc:
                lang = chosen_language(request)[0]
                return render_error(request, exc.status_code, error_text(exc, lang))
            except RequestValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first.get("loc", ()))
                return render_error(request, 422, f"{where}: {first.get('msg')}")

        return page_handler
