"""The CLI's --lang default: one setting, SPARRING_LANGUAGE (Italian unless set), for every
command that picks the language of a session, an assignment, a card or a check; an explicit
--lang wins, and a bad setting is one `error:` line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from llm_stub import StubLLM
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import get_settings

runner = CliRunner()
ENGLISH_ROLE, ITALIAN_ROLE = "\nYour role: ", "\nIl tuo ruolo: "
THIRD_PARTY = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {"name": "Greta Holm", "description": "Owns a bakery chain.", "first_mes": "Hi."},
}


@pytest.fixture
def language(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    """Set SPARRING_LANGUAGE (None: unset) as a shell would, for the CLI's settings."""

    def use(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("SPARRING_LANGUAGE", raising=False)
        else:
            monkeypatch.setenv("SPARRING_LANGUAGE", value)
        get_settings.cache_clear()

    use(None)
    yield use
    get_settings.cache_clear()


def invoke(*args: str, said: str | None = None) -> Result:
    result = runner.invoke(cli, list(args), input=said)
    assert result.exit_code == 0, result.output
    return result


def practise(*args: str) -> str:
    return invoke("practise", "disorganized", "--seed", "1", *args, said="/end\n").stdout


def export(*args: str) -> dict[str, Any]:
    return json.loads(invoke("personas", "export", "yes-then-sells", *args).stdout)


# ---------------------------------------------------------------- practise


def test_practise_is_italian_unless_set(language: Callable[[str | None], None]) -> None:
    assert ITALIAN_ROLE in practise()


def test_practise_follows_the_setting(language: Callable[[str | None], None]) -> None:
    language("en")
    out = practise()
    assert ENGLISH_ROLE in out and ITALIAN_ROLE not in out


def test_practise_lang_wins_over_the_setting(language: Callable[[str | None], None]) -> None:
    language("en")
    assert ITALIAN_ROLE in practise("--lang", "it")
    language("it")
    assert ENGLISH_ROLE in practise("--lang", "en")


def test_the_persona_list_follows_the_setting(language: Callable[[str | None], None]) -> None:
    language("en")
    english = invoke("practise").stdout
    language("it")
    italian = invoke("practise").stdout
    assert english != italian
    assert invoke("practise", "--lang", "en").stdout == english


# ---------------------------------------------------------------- personas export and import


def test_export_is_italian_unless_set(language: Callable[[str | None], None]) -> None:
    assert export()["data"]["scenario"].startswith("{{user}} è: ")


def test_export_follows_the_setting_and_lang_wins(
    language: Callable[[str | None], None],
) -> None:
    language("en")
    english = export()["data"]["scenario"]
    assert english.startswith("{{user}} is: ")
    assert export("--lang", "it")["data"]["scenario"].startswith("{{user}} è: ")
    language("it")
    assert export("--lang", "en")["data"]["scenario"] == english


@pytest.mark.parametrize(
    ("setting", "args", "filled"),
    [(None, (), "it"), ("en", (), "en"), ("it", (), "it"), ("it", ("--lang", "en"), "en")],
)
def test_import_fills_the_cards_language(
    language: Callable[[str | None], None],
    tmp_path: Path,
    setting: str | None,
    args: tuple[str, ...],
    filled: str,
) -> None:
    language(setting)
    source = tmp_path / "greta.json"
    source.write_text(json.dumps(THIRD_PARTY), encoding="utf-8")
    target = tmp_path / "greta-holm.yaml"
    invoke("personas", "import", str(source), "-o", str(target), *args)
    card = yaml.safe_load(target.read_text("utf-8"))
    other = "en" if filled == "it" else "it"
    assert card["name"] == {filled: "Greta Holm", other: ""}


# ---------------------------------------------------------------- assignments set


@pytest.mark.usefixtures("quick_hashing")
def test_an_assignment_follows_the_setting_and_lang_wins(
    language: Callable[[str | None], None],
    use_database: Callable[[str], None],
    tmp_path: Path,
) -> None:
    use_database(f"sqlite:///{tmp_path / 'cli.db'}")
    invoke("users", "create", "carla", "--role", "coach", "--team", "blue")
    invoke("users", "create", "ada", "--team", "blue")
    as_carla = ("--as", "carla")
    invoke("assignments", "set", "blue", "disorganized", *as_carla)
    language("en")
    invoke("assignments", "set", "blue", "loyal-debtor", *as_carla)
    invoke("assignments", "set", "blue", "yes-then-sells", "--lang", "it", *as_carla)
    listed = json.loads(invoke("assignments", "list", "--json", *as_carla).stdout)
    assert {a["persona_id"]: a["language"] for a in listed} == {
        "disorganized": "it",
        "loyal-debtor": "en",
        "yes-then-sells": "it",
    }


# ---------------------------------------------------------------- llm-check


def grader_or_client(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "# Techniques" not in system:
        return "Fine, but I want it all by Monday."
    ids = system.rsplit("one entry per technique id: ", 1)[1].strip().rstrip(".").split(", ")
    verdicts = [{"technique_id": t, "verdict": "missed", "evidence": []} for t in ids]
    return json.dumps({"criteria": verdicts})


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubLLM]:
    with StubLLM(grader_or_client) as stub:
        monkeypatch.setenv("SPARRING_LLM_BASE_URL", stub.base_url)
        monkeypatch.setenv("SPARRING_LLM_MAX_RETRIES", "0")
        get_settings.cache_clear()
        yield stub


def check_says(stub: StubLLM, *args: str) -> str:
    """What `sparring llm-check` said to the client, in the language it chose."""
    stub.reset()
    stub.responder = grader_or_client
    invoke("llm-check", *args)
    actor = [b for b in stub.requests if "# Techniques" not in b["messages"][0]["content"]]
    return str(actor[-1]["messages"][-1]["content"])


def test_llm_check_follows_the_setting_and_lang_wins(
    language: Callable[[str | None], None], endpoint: StubLLM
) -> None:
    italian = "Buongiorno, sono la sua consulente."
    assert check_says(endpoint).startswith(italian)
    language("en")
    english = check_says(endpoint)
    assert not english.startswith(italian)
    assert check_says(endpoint, "--lang", "it").startswith(italian)
    language("it")
    assert check_says(endpoint, "--lang", "en") == english


# ---------------------------------------------------------------- a bad setting


@pytest.mark.parametrize(
    "command",
    [["practise"], ["personas", "export", "yes-then-sells"], ["llm-check"], ["users", "list"]],
)
def test_a_bad_language_setting_is_one_line(
    language: Callable[[str | None], None], command: list[str]
) -> None:
    language("fr")
    result = runner.invoke(cli, command)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: SPARRING_LANGUAGE=fr: Input should be 'it' or 'en'")


def test_a_bad_lang_is_still_refused(language: Callable[[str | None], None]) -> None:
    language("en")
    result = runner.invoke(cli, ["personas", "export", "yes-then-sells", "--lang", "fr"])
    assert result.exit_code == 2 and "--lang must be it or en, not 'fr'" in result.stderr
