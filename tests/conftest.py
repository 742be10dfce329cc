"""Fixtures: the catalogue, and an app per test on SQLite and (when configured) PostgreSQL.

Set SPARRING_TEST_DATABASE_URL to a PostgreSQL URL to run the storage and API tests there
too; each run works in a throwaway database created from that server and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.catalog import Catalog, load_catalog
from app.config import Settings
from app.db import get_engine
from app.main import create_app

PG_URL = os.environ.get("SPARRING_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not PG_URL:
        if os.environ.get("SPARRING_REQUIRE_POSTGRES"):
            pytest.fail("SPARRING_REQUIRE_POSTGRES is set but SPARRING_TEST_DATABASE_URL is not")
        pytest.skip("SPARRING_TEST_DATABASE_URL not set")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"sparring_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sparring.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = get_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
