"""The FastAPI application: catalogue, database and engines ready at start-up, routers,
errors, limits and security headers."""

import gc
import json
import logging
import math
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from app import auth
from app.api import assignments, engines, exports, grading, reviews, sessions, users
from app.api import auth as auth_api
from app.api import catalog as catalog_api
from app.catalog import load_catalog
from app.config import Settings, get_settings
from app.db import get_engine, migrate
from app.engine import detectors
from app.engines import build_engines
from app.errors import Invalid, ServiceError
from app.grades import resume_pending_grades
from app.middleware import BodyLimit, SecurityHeaders, too_large_json
from app.quota import HourlyQuota
from app.web import assignment_pages, chat_grading_pages, user_pages
from app.web import pages as web
from app.web.i18n import Translator, chosen_language
from app.web.render import STATIC_DIR, render_error, size

log = logging.getLogger("sparring")

NOT_STORABLE = (
    "the request holds the NUL character (\\u0000), which the database cannot store; "
    "remove it and send again"
)
MAX_ECHOED_CHARS = 500  # of the input a 422 repeats back
FASTAPI_UNPARSED = "There was an error parsing the body"  # FastAPI's words for any of these
UNPARSED = (
    "the body could not be read: it must be JSON (or the form the route takes) in UTF-8, "
    "nested at most a few hundred levels deep"
)
NOT_JSON = "send the body as JSON with Content-Type: application/json (the request's: {type})"
NOT_REPEATED = "(not repeated)"  # what a 422 shows of a password
NOT_UNICODE = (
    "the request holds text that is not valid Unicode (an unpaired surrogate such as "
    "\\ud800 in a JSON string); send the text as UTF-8"
)


# Where files come in: each may take up to SPARRING_MAX_UPLOAD_BYTES instead of the body limit.
UPLOAD_PATHS = ("/api/imports/sessions", "/api/grade/upload", "/grade-chat")


def too_large(scope: Scope, limit: int) -> Response:
    """A browser sending a form gets the error page in its language; others get JSON."""
    request = Request(scope)
    browser = "text/html" in request.headers.get("accept", "")
    if not browser or request.url.path.startswith("/api/"):
        return too_large_json(scope, limit)
    lang = chosen_language(request)[0]
    text = Translator(lang)("error_code.body_too_large", size=size(limit))
    return render_error(request, 413, text)


class ErrorJSON(JSONResponse):
    """An error body may quote the request, and the request an unpaired surrogate: that one
    is written as its JSON escape (\\ud800) instead of failing to encode."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


class GradeSweeper(threading.Thread):
    """Finishes grades that a crash or a killed replica left pending (at start, then
    every `grade_sweep_seconds`)."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        super().__init__(name="grade-sweeper", daemon=True)
        self.app, self.settings = app, settings
        self.stopping = threading.Event()

    def run(self) -> None:
        stale = timedelta(seconds=self.settings.grade_stale_after_seconds)
        while not self.stopping.is_set():
            try:
                with Session(self.app.state.engine, expire_on_commit=False) as db:
                    done = resume_pending_grades(
                        db=db,
                        catalog=self.app.state.catalog,
                        engines=self.app.state.engines,
                        stale_after=stale,
                    )
                if done:
                    log.info("finished %d grade(s) left pending", done)
            except Exception:  # a sweep must never take the service down
                log.exception("the pending-grade sweep failed")
            self.stopping.wait(self.settings.grade_sweep_seconds)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


def prepare_database(settings: Settings) -> Engine:
    """Bring the schema up to date and make sure there is an admin. `sparring serve` with
    several workers calls it once before they start, so they never race on a new database."""
    engine = get_engine(settings.database_url)
    migrate(engine)
    with Session(engine) as db:
        password = auth.ensure_admin(db=db)
    if password:
        # Printed once, on the console of the first start; only its hash is stored.
        print(
            f"\n  Sparring: created the admin account.\n"
            f"    username: admin\n    password: {password}\n"
            f"  Keep it safe: it is not shown again.\n",
            flush=True,
        )
    return engine


def _wanted_json(errors: Sequence[Any]) -> bool:
    """The route reads a JSON object and got something else whole: a form or plain text."""
    return any(
        tuple(e["loc"]) == ("body",) and e["type"] == "model_attributes_type" for e in errors
    )


def _echoed(error: dict[str, Any]) -> Any:
    """A validation error as FastAPI words it, echoing what was sent only when it is short (a
    wrong field in a 600-message chat would otherwise send the whole chat back), never a
    password, and NaN or Infinity (which Python's JSON reader takes) as text: JSON has none."""
    shown = _finite(jsonable_encoder(error))
    if any("password" in str(part) for part in shown.get("loc", ())):
        shown["input"] = NOT_REPEATED
    elif len(json.dumps(shown.get("input"), ensure_ascii=False)) > MAX_ECHOED_CHARS:
        shown["input"] = "(too long to repeat)"
    return shown


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else f"{'-' if value < 0 else ''}Infinity"
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.catalog = load_catalog(settings.personas_dir, settings.prompts_dir)
        app.state.engines = build_engines(settings, app.state.catalog)
        detectors.prepare(app.state.catalog.moves)
        app.state.engine = prepare_database(settings)
        app.state.closers = anyio.CapacityLimiter(4)  # see get_db
        app.state.model_grades = HourlyQuota(settings.model_grades_per_hour)
        sweeper = GradeSweeper(app, settings)
        sweeper.start()
        # What start-up loaded (catalogue, templates, mappings) lives as long as the app: out
        # of the collector's sight, a full collection no longer walks it mid-request.
        gc.freeze()
        yield
        gc.unfreeze()
        sweeper.stop()

    app = FastAPI(
        title="Sparring",
        summary="Practise with difficult clients; get graded against documented techniques.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        uploads=dict.fromkeys(UPLOAD_PATHS, settings.max_upload_bytes),
        refuse=too_large,
    )
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return ErrorJSON(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        sent = request.headers.get("content-type", "")
        if "json" not in sent and _wanted_json(exc.errors()):
            error = ServiceError(NOT_JSON.format(type=sent[:100] or "none"), code="body_not_json")
            return ErrorJSON(error.body(), status_code=415)
        return ErrorJSON({"detail": [_echoed(e) for e in exc.errors()]}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """A browser asking for a page that does not exist gets the styled error page."""
        path = request.url.path
        browser = "text/html" in request.headers.get("accept", "")
        if exc.status_code == 404 and browser and not path.startswith(("/api/", "/static/")):
            return render_error(request, 404, f"no page at {path}")
        if exc.status_code == 400 and exc.detail == FASTAPI_UNPARSED:
            return ErrorJSON(ServiceError(UNPARSED, code="body_unreadable").body(), 400)
        return await http_exception_handler(request, exc)

    @app.exception_handler(UnicodeEncodeError)
    async def _not_unicode(_request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        """Valid JSON may hold \\ud800, which no database can store: a 422, not a 500."""
        if "surrogates not allowed" not in str(exc):
            raise exc
        return ErrorJSON(Invalid(NOT_UNICODE).body(), status_code=422)

    @app.exception_handler(DataError)
    async def _not_storable(_request: Request, exc: DataError) -> JSONResponse:
        """Valid JSON may hold \\u0000, which PostgreSQL text cannot: a 422, not a 500
        (nothing of the request was stored)."""
        if "NUL" not in str(exc.orig):
            raise exc
        return ErrorJSON(Invalid(NOT_STORABLE).body(), status_code=422)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # how many load balancers probe; one operation in the OpenAPI document
    app.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)

    # each API route documents the errors it can answer with (app.errors.documented)
    routers = (auth_api, users, catalog_api, sessions, grading, engines, exports, reviews)
    for module in (*routers, assignments, web, assignment_pages, chat_grading_pages, user_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
