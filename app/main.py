"""The FastAPI application: catalogue and database ready at start-up, routers, errors."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.api import catalog as catalog_api
from app.api import engines, grading, sessions
from app.catalog import load_catalog
from app.config import Settings, get_settings
from app.db import get_engine, migrate
from app.engines import build_engines
from app.sessions import ServiceError


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.catalog = load_catalog(settings.personas_dir, settings.prompts_dir)
        app.state.engines = build_engines(settings, app.state.catalog)
        app.state.engine = get_engine(settings.database_url)
        migrate(app.state.engine)
        yield

    app = FastAPI(
        title="Sparring",
        summary="Practise with difficult clients; get graded against documented techniques.",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(catalog_api.router)
    app.include_router(sessions.router)
    app.include_router(grading.router)
    app.include_router(engines.router)
    return app
