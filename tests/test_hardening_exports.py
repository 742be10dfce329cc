"""Markdown exports hardened: what a trainee or a coach wrote shows as text and cannot add
headings, quotes or lists to the report; verdicts, outcomes and difficulties read in the
session's language as on the pages; the coaches' verdicts and comments are in the report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.export import md_inline, md_text
from app.web.i18n import strings

markdown_it = pytest.importorskip("markdown_it")  # rich's Markdown parser, CommonMark + tables

FAKE_GRADE = "ok\n\n## Grade\n\n### Listen first: applied\n\nScore **100/100**"
NASTY = [
    "# heading",
    "   ### indented heading",
    "        an indented code block",
    "> a quote",
    "- a list",
    "+ a list",
    "* a list",
    "1. a list",
    "12) a list",
    "---",
    "***",
    "___",
    "paragraph\n===",
    "paragraph\n---",
    "```\ncode\n```",
    "~~~\ncode\n~~~",
    "| a | b |\n|---|---|\n| c | d |",
    "a | b\n:-|-:",
    "<div>html block</div>",
    "[ref]: https://example.com",
    "text\n\n\n# after blank lines",
]
TURNS = ["Come sta? Come va il lavoro?", "Capisco. Mi dica di più: cosa la preoccupa?"]


def blocks(text: str) -> list[str]:
    parser = markdown_it.MarkdownIt("commonmark").enable("table")
    return [t.type for t in parser.parse(text) if t.nesting == 1]


def headings(text: str) -> int:
    return blocks(text).count("heading_open")


pytestmark = pytest.mark.usefixtures("quick_hashing")


@pytest.mark.parametrize("text", NASTY)
def test_block_syntax_in_text_stays_text(text: str) -> None:
    assert set(blocks(md_text(text))) <= {"paragraph_open"}, md_text(text)
    assert set(blocks(md_inline(text))) <= {"paragraph_open"}, md_inline(text)
    # inline HTML is left to the renderer (as GitHub's sanitiser would): render it as text
    rendered = markdown_it.MarkdownIt("commonmark", {"html": False}).render(md_inline(text))
    plain = " ".join(text.split()).replace("<", "&lt;").replace(">", "&gt;")
    assert rendered.strip() == f"<p>{plain}</p>"  # shown literally


def drill(client: TestClient, first_turn: str, language: str = "it") -> str:
    body = {
        "persona_id": "loyal-debtor",
        "language": language,
        "seed": 3,
        "turns": [first_turn, *TURNS],
    }
    response = client.post("/api/drills", json=body)
    assert response.status_code == 200, response.text
    return response.json()["session"]["id"]


def markdown(client: TestClient, sid: str) -> str:
    response = client.get(f"/api/sessions/{sid}/export", params={"format": "md"})
    assert response.status_code == 200
    return response.text


def test_a_message_cannot_fake_a_grade_section(client: TestClient) -> None:
    plain = markdown(client, drill(client, "ok"))
    faked = markdown(client, drill(client, FAKE_GRADE))
    assert headings(faked) == headings(plain)
    assert blocks(faked).count("blockquote_open") == blocks(plain).count("blockquote_open")
    assert "100/100" not in {line for line in faked.splitlines() if line.startswith("#")}
    assert "Score \\*\\*100/100\\*\\*" in faked  # the words are still there, as text


def test_an_italian_report_shows_the_pages_words_not_enum_values(client: TestClient) -> None:
    sid = drill(client, "Le dico subito: le parcelle vanno pagate.")
    text = markdown(client, sid)
    it = {key: value["it"] for key, value in strings().items()}
    record = client.get(f"/api/sessions/{sid}").json()
    assert f"| Difficoltà | {it['difficulty.medium']} |" in text
    assert f"| Esito | {it['outcome.' + record['session']['outcome']]} |" in text
    verdicts = [c["verdict"] for c in record["grade"]["criteria"]]
    for criterion in record["grade"]["criteria"]:
        assert f"### {criterion['name']}: {it['verdict.' + criterion['verdict']]}\n" in text
    raw = {"medium", "walked_away", "ended_by_trainee", "not_applicable", *verdicts}
    words = set(text.replace("|", " ").replace(":", " ").split())
    assert not raw & words


# ---------------------------------------------------------------- coaches in the report


@pytest.fixture
def reviewed(login_as: Callable[..., TestClient]) -> dict[str, Any]:
    """carla (coach of blue) overrides a verdict and comments a criterion and a message of
    one of ada's sessions; a comment tries to add a heading."""
    ada = login_as("ada", "trainee", ["blue"])
    carla = login_as("carla", "coach", ["blue"])
    sid = drill(ada, "ok")
    criterion = ada.get(f"/api/sessions/{sid}").json()["grade"]["criteria"][0]
    technique = criterion["technique_id"]
    verdict = "violated" if criterion["verdict"] != "violated" else "applied"
    body = {
        "verdicts": {technique: verdict},
        "criterion_comments": {technique: "Too quick.\n# Not a heading"},
        "message_comments": {"2": "Say more than ok."},
    }
    assert carla.post(f"/api/sessions/{sid}/reviews", json=body).status_code == 200
    return {"ada": ada, "sid": sid, "verdict": verdict, "name": criterion["name"]}


def coach_lines(text: str, reviewed: dict[str, Any]) -> None:
    it = {key: value["it"] for key, value in strings().items()}
    section = text.split(f"### {reviewed['name']}:")[1].split("\n### ")[0]
    assert f"Coach carla: **{it['verdict.' + reviewed['verdict']]}**" in section
    assert "Coach carla: Too quick.  \n\\# Not a heading" in section
    transcript = text.split("\n**3. ")[0]
    assert transcript.endswith("**2. Partecipante**: ok\n\n> Coach carla: Say more than ok.\n")


def test_the_session_export_carries_the_coaches_verdicts_and_comments(
    reviewed: dict[str, Any],
) -> None:
    """What the report's Export buttons download (GET …/export), as the trainee."""
    ada, sid = reviewed["ada"], reviewed["sid"]
    coach_lines(markdown(ada, sid), reviewed)
    exported = ada.get(f"/api/sessions/{sid}/export").json()
    verdicts = exported["reviews"]["verdicts"]
    assert [(v["reviewer"], v["coach_verdict"]) for v in verdicts] == [
        ("carla", reviewed["verdict"])
    ]
    comments = {c["comment"] for c in exported["reviews"]["comments"]}
    assert comments == {"Too quick.\n# Not a heading", "Say more than ok."}
    assert exported["messages"] and exported["grade"]["criteria"]  # still the shape of GET


def test_the_cli_markdown_export_carries_them_too(
    reviewed: dict[str, Any], settings: Settings, use_database: Callable[[str], None]
) -> None:
    use_database(settings.database_url)
    result = CliRunner().invoke(cli, ["export", "--format", "md", "--session", reviewed["sid"]])
    assert result.exit_code == 0, result.output
    coach_lines(result.stdout, reviewed)
