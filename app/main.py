"""The FastAPI application: catalogue, database and engines ready at start-up, routers,
errors, limits and security headers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from app import auth
from app.api import auth as auth_api
from app.api import catalog as catalog_api
from app.api import engines, grading, sessions, users
from app.catalog import load_catalog
from app.config import Settings, get_settings
from app.db import get_engine, migrate
from app.engines import build_engines
from app.errors import ServiceError
from app.middleware import BodyLimit, SecurityHeaders

log = logging.getLogger("sparring")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.catalog = load_catalog(settings.personas_dir, settings.prompts_dir)
        app.state.engines = build_engines(settings, app.state.catalog)
        app.state.engine = get_engine(settings.database_url)
        migrate(app.state.engine)
        with Session(app.state.engine) as db:
            password = auth.ensure_admin(db=db)
        if password:
            # Printed once, on the console of the first start; only its hash is stored.
            print(
                f"\n  Sparring: created the admin account.\n"
                f"    username: admin\n    password: {password}\n"
                f"  Keep it safe: it is not shown again.\n",
                flush=True,
            )
        yield

    app = FastAPI(
        title="Sparring",
        summary="Practise with difficult clients; get graded against documented techniques.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=exc.headers)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for module in (auth_api, users, catalog_api, sessions, grading, engines):
        app.include_router(module.router)
    return app
