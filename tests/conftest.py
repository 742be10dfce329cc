"""Fixtures: the catalogue, and an app per test on SQLite and (when configured) PostgreSQL.

Set SPARRING_TEST_DATABASE_URL to a PostgreSQL URL to run the storage and API tests there
too; each run works in a throwaway database created from that server and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select

from app import auth
from app.catalog import Catalog, load_catalog
from app.config import Settings, get_settings
from app.db import get_engine, migrate
from app.main import create_app
from app.models import User, UserCreate

PG_URL = os.environ.get("SPARRING_TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple"


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
    empty_postgres(url)
    yield url


def empty_postgres(url: str) -> None:
    """Each test starts on empty tables (the schema stays: migrations ran once)."""
    engine = get_engine(url)
    migrate(engine)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def anonymous(settings: Settings) -> Iterator[TestClient]:
    """A client with no credentials; the app (and its database) is started once per test."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


UserFactory = Callable[..., TestClient]


@pytest.fixture
def login_as(anonymous: TestClient) -> UserFactory:
    """login_as("ada", role="trainee", teams=["blue"]) → a client sending ada's API token."""
    app = anonymous.app

    def make(username: str, role: str = "trainee", teams: list[str] | None = None) -> TestClient:
        with Session(app.state.engine) as db:  # type: ignore[attr-defined]
            user = db.exec(select(User).where(User.username == username)).first()
            if user is None:
                request = UserCreate(
                    username=username, password=PASSWORD, role=role, teams=teams or []
                )
                user = auth.create_user(db=db, request=request)
            _, secret = auth.create_token(db=db, user=user, name="tests")
        client = TestClient(app)
        client.headers["Authorization"] = f"Bearer {secret}"
        return client

    return make


@pytest.fixture
def client(login_as: UserFactory) -> TestClient:
    """A trainee's client: most API tests play as a trainee."""
    return login_as("ada", role="trainee", teams=["blue"])


@pytest.fixture
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that set accounts up by the dozen: full-strength argon2 would dominate."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Point the CLI's settings at a database, as SPARRING_DATABASE_URL would."""

    def use(url: str) -> None:
        monkeypatch.setenv("SPARRING_DATABASE_URL", url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()
