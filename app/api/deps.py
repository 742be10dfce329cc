"""Dependencies shared by the routers: the catalogue, a database session, the limits."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.catalog import Catalog
from app.config import Settings
from app.engines import Engines
from app.sessions import Limits


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engines(request: Request) -> Engines:
    return request.app.state.engines


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_limits(settings: Annotated[Settings, Depends(get_settings)]) -> Limits:
    return Limits(
        max_message_chars=settings.max_message_chars,
        max_turns_per_session=settings.max_turns_per_session,
    )


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EnginesDep = Annotated[Engines, Depends(get_engines)]
SessionDep = Annotated[Session, Depends(get_db)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
