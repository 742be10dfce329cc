"""`sparring users …` hardened: team names and token names checked like the API's, and a
database URL that cannot work ends with a one-line error, not a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import Session
from typer.testing import CliRunner, Result

from app import auth
from app.cli import cli
from app.config import get_settings
from app.db import get_engine
from app.errors import TooMany, Unauthorized

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("quick_hashing")


@pytest.fixture
def sqlite(tmp_path: Path, use_database: Callable[[str], None]) -> None:
    use_database(f"sqlite:///{tmp_path / 'cli.db'}")


def one_line_error(result: Result) -> str:
    """The command failed cleanly: exit 1, one `error:` line, no exception escaping."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("team", "words"),
    [("", "cannot be empty"), ("a\x00b", "control"), ("x" * 65, "at most 64 characters")],
)
def test_bad_team_names_are_refused(sqlite: None, team: str, words: str) -> None:
    error = one_line_error(runner.invoke(cli, ["users", "create", "zed3", "--team", team]))
    assert error.startswith("error: --team: ") and words in error
    assert "zed3" not in runner.invoke(cli, ["users", "list"]).stdout


def test_team_names_are_trimmed(sqlite: None) -> None:
    created = runner.invoke(cli, ["users", "create", "zed3", "--team", "  blue  "])
    assert created.exit_code == 0, created.output
    assert created.stdout.startswith("created trainee 'zed3' in blue\n")
    listed = runner.invoke(cli, ["users", "list"]).stdout
    assert any(line.split() == ["zed3", "trainee", "blue"] for line in listed.splitlines())


def test_a_token_name_has_the_apis_limit(sqlite: None) -> None:
    runner.invoke(cli, ["users", "create", "ada"])
    error = one_line_error(runner.invoke(cli, ["users", "token", "ada", "--name", "n" * 65]))
    assert "--name" in error and "at most 64 characters" in error
    made = runner.invoke(cli, ["users", "token", "ada", "--name", "n" * 64])
    assert made.exit_code == 0 and made.stdout.startswith(auth.TOKEN_PREFIX)


def test_an_account_is_changed_from_the_terminal_as_on_the_users_page(
    sqlite: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.invoke(cli, ["users", "create", "boss", "--role", "admin"])
    runner.invoke(cli, ["users", "create", "dan", "--team", "blue"])
    moved = runner.invoke(cli, ["users", "update", "dan", "--role", "coach", "--team", "red"])
    assert moved.exit_code == 0 and moved.stdout == "dan: coach, red, active\n", moved.output
    off = runner.invoke(cli, ["users", "update", "dan", "--inactive", "--no-teams"])
    assert off.stdout == "dan: coach, no team, inactive\n"
    # a token for an account that may not log in would only ever get 401s
    refused = one_line_error(runner.invoke(cli, ["users", "token", "dan"]))
    assert "'dan' is deactivated" in refused and "--active" in refused
    assert "nothing to change" in one_line_error(runner.invoke(cli, ["users", "update", "dan"]))
    assert "no user named 'eve'" in one_line_error(
        runner.invoke(cli, ["users", "update", "eve", "--active"])
    )
    last = one_line_error(runner.invoke(cli, ["users", "update", "boss", "--role", "trainee"]))
    assert "only active admin" in last

    # an admin who forgot the password gets a new one, and the lock from failed logins goes
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=lambda _seconds: None))
    engine = get_engine(get_settings().database_url)
    with Session(engine) as db:
        for error in [Unauthorized] * auth.LOCK_AFTER + [TooMany]:
            with pytest.raises(error):
                auth.authenticate(db=db, username="boss", password="a guess", address="::1")
    fresh = runner.invoke(cli, ["users", "password", "boss"])
    assert fresh.exit_code == 0 and "new password for 'boss' (shown once): " in fresh.stdout
    chosen = fresh.stdout.rsplit(": ", 1)[1].strip()
    with Session(engine) as db:
        assert (
            auth.authenticate(db=db, username="boss", password=chosen, address="::1").username
            == "boss"
        )
    engine.dispose()
    short = one_line_error(runner.invoke(cli, ["users", "password", "boss", "--password", "x"]))
    assert "password" in short and "at least 10 characters" in short


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("bogus://x", "Can't load plugin"),
        ("not a url", "Could not parse"),
        ("mysql://someone:s3cret@db.example/sparring", "No module named"),
    ],
)
@pytest.mark.parametrize(
    "command", [["users", "list"], ["users", "create", "ada"], ["export"], ["serve"]]
)
def test_a_database_url_that_cannot_work_is_one_line(
    use_database: Callable[[str], None], url: str, words: str, command: list[str]
) -> None:
    use_database(url)
    error = one_line_error(runner.invoke(cli, command))
    assert "SPARRING_DATABASE_URL" in error and words in error
    assert "s3cret" not in error  # a password in the URL is not printed


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SPARRING_MAX_MESSAGE_CHARS", "abc", "SPARRING_MAX_MESSAGE_CHARS=abc: Input should be"),
        ("SPARRING_PORT", "99999", "SPARRING_PORT=99999: Input should be less than or equal"),
        ("SPARRING_SESSIONS_PER_HOUR", "0", "SPARRING_SESSIONS_PER_HOUR=0: Input should be"),
    ],
)
@pytest.mark.parametrize("command", [["users", "list"], ["serve"]])
def test_a_bad_setting_is_named_in_one_line(
    sqlite: None,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    words: str,
    command: list[str],
) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    assert words in one_line_error(runner.invoke(cli, command))


def test_serve_names_a_persona_card_that_does_not_validate(
    sqlite: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cards = tmp_path / "personas"
    cards.mkdir()
    (cards / "half-written.yaml").write_text("id: half-written\n", encoding="utf-8")
    monkeypatch.setenv("SPARRING_PERSONAS_DIR", str(cards))
    get_settings.cache_clear()
    assert "half-written.yaml" in one_line_error(runner.invoke(cli, ["serve"]))


def test_a_database_that_refuses_connections_is_one_line(
    use_database: Callable[[str], None],
) -> None:
    use_database("postgresql+psycopg://someone:s3cret@127.0.0.1:1/sparring")
    error = one_line_error(runner.invoke(cli, ["users", "list"]))
    assert "cannot use the database postgresql+psycopg://someone:***@127.0.0.1:1" in error


def test_accounts_made_before_the_first_start_still_get_an_admin(
    sqlite: None, tmp_path: Path
) -> None:
    """README's order is start, then accounts; the other order must not leave the pages with
    nobody to manage them."""
    runner.invoke(cli, ["users", "create", "early", "--team", "blue"])
    engine = get_engine(get_settings().database_url)
    with Session(engine) as db:
        password = auth.ensure_admin(db=db)
        assert password is not None
        assert (
            auth.authenticate(db=db, username="admin", password=password, address="::1").role
            == "admin"
        )
        assert auth.ensure_admin(db=db) is None  # once
    engine.dispose()
