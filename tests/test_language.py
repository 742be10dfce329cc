"""A conversation recorded elsewhere is graded in the language it is written in, unless the
caller says otherwise: the offline grader reads each language with its own patterns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.language import guess_language

ITALIAN = [
    ("client", "Buongiorno, ho visto il suo profilo. Mi dà un parere veloce sul mio banner?"),
    ("trainee", "Piacere, sono Sara. Mi racconti: che cosa si aspetta da questo lavoro?"),
    ("client", "Clienti nuovi, ma non voglio spendere per ora."),
    ("trainee", "Capisco. Le dico subito le condizioni: la mia tariffa è 80 euro l'ora."),
]
ENGLISH = [
    ("client", "Hi, I saw your profile. Can you give me a quick opinion on my banner?"),
    ("trainee", "Nice to meet you, I am Sara. Tell me: what do you expect from this work?"),
    ("client", "New clients, but I do not want to spend anything for now."),
    ("trainee", "I understand. Here are my terms: my hourly rate is 80 euro."),
]


def messages(lines: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"role": role, "content": text} for role, text in lines]


def test_the_common_words_tell_the_two_languages_apart() -> None:
    assert guess_language(text for _, text in ITALIAN) == "it"
    assert guess_language(text for _, text in ENGLISH) == "en"
    assert guess_language(["ok", "👍", "10:30"]) == "it"  # nothing to go by: the default
    assert guess_language(["ok"], default="en") == "en"
    assert guess_language(["Sì, grazie: ci vediamo domani."]) == "it"
    assert guess_language(["Yes, thanks: see you tomorrow."]) == "en"


def test_the_api_grades_a_chat_in_its_own_language(client: TestClient) -> None:
    def graded(lines: list[tuple[str, str]], **extra: str) -> dict:  # type: ignore[type-arg]
        body = {"persona_id": "free-advice-seeker", "messages": messages(lines), **extra}
        response = client.post("/api/grade", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    italian, english = graded(ITALIAN), graded(ENGLISH)
    assert (italian["language"], english["language"]) == ("it", "en")
    # read with the other language's patterns, the same Italian chat shows far less
    applied = {c["technique_id"] for c in italian["criteria"] if c["verdict"] == "applied"}
    misread = graded(ITALIAN, language="en")
    assert misread["language"] == "en"  # the caller's word goes
    assert applied, italian["criteria"]
    assert applied - {c["technique_id"] for c in misread["criteria"] if c["verdict"] == "applied"}


def test_the_upload_and_the_cli_read_the_language_too(
    client: TestClient, tmp_path: Path, use_database: Callable[[str], None], database_url: str
) -> None:
    chat = "\n".join(f"{'Sara' if role == 'trainee' else 'Luca'}: {text}" for role, text in ITALIAN)
    upload = client.post(
        "/api/grade/upload",
        files={"file": ("chat.txt", chat.encode(), "text/plain")},
        data={"persona_id": "free-advice-seeker", "trainee_name": "Sara"},
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["language"] == "it"

    use_database(database_url)
    path = tmp_path / "chat.txt"
    path.write_text(chat, encoding="utf-8")
    args = ["grade", str(path), "--persona", "free-advice-seeker", "--trainee", "Sara"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert "in Italian (--lang to choose)" in result.stderr
    assert '"language": "it"' in result.stdout
    chosen = CliRunner().invoke(cli, [*args, "--lang", "en", "--json"])
    assert '"language": "en"' in chosen.stdout and "--lang to choose" not in chosen.stderr


@pytest.mark.parametrize("lang", ["fr", ""])
def test_a_language_that_is_not_offered_is_refused(client: TestClient, lang: str) -> None:
    body = {"persona_id": "free-advice-seeker", "messages": messages(ENGLISH), "language": lang}
    assert client.post("/api/grade", json=body).status_code == 422
