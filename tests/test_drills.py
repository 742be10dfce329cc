"""`sparring drill`: shipped drills pass, failures turn CI red, JUnit parses, and the
in-process and --url paths agree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from live_server import LiveServer
from typer.testing import CliRunner

from app.catalog import Catalog
from app.cli import cli
from app.config import Settings
from app.drills import (
    DrillError,
    DrillRun,
    Expectations,
    check,
    load_drill,
    play_in_memory,
    play_remote,
)
from app.engines import build_engines

DRILLS = sorted((Path(__file__).parent.parent / "transcripts" / "drills").glob("*.yaml"))
runner = CliRunner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server (uvicorn on a free loopback port) with its own SQLite database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'sparring.db'}"
    with LiveServer(url, SPARRING_SESSIONS_PER_HOUR="1000") as live:
        yield live


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    from live_server import make_trainees

    return make_trainees(server.env["SPARRING_DATABASE_URL"], 1, prefix="drill")[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
persona: free-advice-seeker
language: en
difficulty: medium
seed: 1
engine: offline
title: "State the terms"
turns:
  - "Nice to meet you, I am Sara. Tell me about you: what do you expect?"
  - "If I understand correctly, you want more clients. What have you tried so far?"
  - "We have no contract yet: my hourly rate is 80 euro. Shall I send a proposal?"
"""


# ---------------------------------------------------------------- shipped drills


def test_drills_are_shipped_for_every_persona(catalog: Catalog) -> None:
    personas = {load_drill(path, catalog).persona for path in DRILLS}
    assert personas == set(catalog.personas)


@pytest.mark.parametrize("path", DRILLS, ids=[p.stem for p in DRILLS])
def test_every_shipped_drill_meets_its_expectations(path: Path, catalog: Catalog) -> None:
    drill = load_drill(path, catalog)
    run = play_in_memory(drill, catalog, build_engines(Settings(), catalog))
    assert check(drill.expect, run) == []
    assert run.turns_played >= 1 and run.messages[0][0] == "client"


def test_the_cli_runs_a_folder_of_drills_and_writes_junit(tmp_path: Path) -> None:
    report = tmp_path / "drills.xml"
    result = runner.invoke(cli, ["drill", str(DRILLS[0].parent), "--junit", str(report)])
    assert result.exit_code == 0, result.output
    assert f"{len(DRILLS)} drills: {len(DRILLS)} passed, 0 failed" in result.stdout
    assert f"[{len(DRILLS)}/{len(DRILLS)}]" in result.stderr  # progress
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(DRILLS)) and suite.get("failures") == "0"
    cases = suite.findall("testcase")
    assert {c.get("file") for c in cases} == {str(p) for p in DRILLS}
    assert all(c.find("system-out") is not None for c in cases)


# ---------------------------------------------------------------- failing expectations


def test_a_failing_expectation_turns_the_exit_code_red(tmp_path: Path) -> None:
    failing = write(
        tmp_path,
        "too-hopeful.yaml",
        GOOD
        + "expect:\n  max_score: 10\n  outcome: walked_away\n  walks_away: true\n"
        + "  verdicts: {state-terms: missed}\n",
    )
    passing = write(tmp_path, "good.yaml", GOOD + "expect: {min_score: 50, walks_away: false}\n")
    report = tmp_path / "junit.xml"
    result = runner.invoke(cli, ["drill", str(passing), str(failing), "--junit", str(report)])
    assert result.exit_code == 1
    assert "2 drills: 1 passed, 1 failed" in result.stdout
    assert "is above max_score 10" in result.stdout
    assert "the client should walk away" in result.stdout
    assert "state-terms: verdict applied, expected missed" in result.stdout
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("errors") == "0"
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["too-hopeful.yaml: State the terms"]
    failure = failed[0].find("failure")
    assert failure is not None and "max_score 10" in (failure.get("message") or "")
    assert "state-terms" in (failure.text or "")


def test_expectations_read_single_values_and_lists() -> None:
    run = DrillRun(
        turns_played=3,
        outcome="walked_away",
        score=20,
        passed=False,
        verdicts={"listen-first": "violated"},
        messages=[],
    )
    ok = Expectations.model_validate(
        {"max_score": 30, "outcome": "walked_away", "verdicts": {"listen-first": "violated"}}
    )
    assert check(ok, run) == []
    wrong = Expectations.model_validate(
        {
            "min_score": 70,
            "passed": True,
            "outcome": ["agreement", "dismissed"],
            "walks_away": False,
        }
    )
    assert check(wrong, run) == [
        "score 20 is below min_score 70",
        "passed is False, expected True",
        "outcome walked_away is not one of agreement, dismissed",
        "the client walked away",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("persona: [unclosed", "cannot read YAML"),
        ("- just a list", "expected a mapping"),
        (GOOD.replace("language: en", "language: fr"), "language: Input should be 'it' or 'en'"),
        (GOOD + "expect: {min_scor: 10}\n", "expect.min_scor: Extra inputs are not permitted"),
        (GOOD + "expect: {verdicts: {state-terms: great}}\n", "expect.verdicts.state-terms.0"),
        (GOOD + "expect: {verdicts: {adapt-style: applied}}\n", "not graded for free-advice"),
        (GOOD.replace("free-advice-seeker", "nobody"), "persona: unknown 'nobody'"),
        (GOOD.split("turns:")[0] + "turns: []\n", "turns: List should have at least 1 item"),
    ],
)
def test_a_bad_drill_file_names_the_file_and_the_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    result = runner.invoke(cli, ["drill", str(path)])
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and expected in result.stderr
    assert "nothing was played" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_drill_file_is_a_clear_error(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(DrillError, match="cannot read YAML"):
        load_drill(tmp_path / "nope.yaml", catalog)
    result = runner.invoke(cli, ["drill", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "Traceback" not in result.output


# ---------------------------------------------------------------- against a running server


def test_drills_run_against_a_real_server_with_a_token(
    server: LiveServer, token: str, tmp_path: Path
) -> None:
    chosen = [str(p) for p in DRILLS[:3]]
    report = tmp_path / "remote.xml"
    args = ["drill", *chosen, "--url", server.url, "--token", token, "--junit", str(report)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "3 drills: 3 passed, 0 failed" in result.stdout
    assert ET.parse(report).getroot().get("tests") == "3"
    sessions = httpx.get(
        f"{server.url}/api/sessions", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert sessions["total"] >= 3  # played and stored on the server


def test_in_process_and_server_give_the_same_result(
    server: LiveServer, token: str, catalog: Catalog
) -> None:
    engines = build_engines(Settings(), catalog)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        for path in DRILLS[::4]:
            drill = load_drill(path, catalog)
            here, there = play_in_memory(drill, catalog, engines), play_remote(drill, client)
            assert there.session_id is not None
            assert here.model_dump(exclude={"session_id"}) == there.model_dump(
                exclude={"session_id"}
            ), path.name


def test_a_server_refusal_is_reported_per_drill(server: LiveServer, tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    result = runner.invoke(cli, ["drill", str(path), "--url", server.url, "--token", "wrong"])
    assert result.exit_code == 1
    assert "ERROR" in result.stdout and "401" in result.stdout
    assert "Traceback" not in result.output


def test_url_needs_a_token_and_a_reachable_server(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    args = ["drill", str(path), "--url", "http://127.0.0.1:9"]
    result = runner.invoke(cli, args, env={"SPARRING_TOKEN": None})
    assert result.exit_code == 2 and "--token" in result.stderr
    result = runner.invoke(cli, [*args, "--token", "t"])
    assert result.exit_code == 1 and "cannot reach" in result.stdout
