"""`sparring practise`: a conversation in the terminal, in memory or on a real server (with
the llm engine against the stub server), then the report card."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from live_server import LiveServer, make_trainees
from llm_stub import Reply, Status, StubLLM
from typer.testing import CliRunner

from app.cli import cli
from app.cli_practise import OnServer, converse
from app.config import get_settings

runner = CliRunner()
DRILLS = Path(__file__).parent.parent / "transcripts" / "drills"
REPLY = "Fine, but I still want it all by Monday, and at the price we said."


def responder(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "# Techniques" not in system:
        return REPLY
    ids = system.rsplit("one entry per technique id: ", 1)[1].strip().rstrip(".").split(", ")
    verdicts = [{"technique_id": t, "verdict": "missed", "evidence": []} for t in ids]
    return json.dumps({"criteria": verdicts})


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLLM]:
    with StubLLM(responder) as server:
        yield server


@pytest.fixture(scope="module")
def server(stub: StubLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('practise') / 'sparring.db'}"
    env = {"SPARRING_LLM_BASE_URL": stub.base_url, "SPARRING_LLM_MAX_RETRIES": "0"}
    with LiveServer(url, **env) as live:
        yield live


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return make_trainees(server.env["SPARRING_DATABASE_URL"], 1, prefix="practise")[0]


def lines(*said: str) -> str:
    return "".join(f"{line}\n" for line in said)


def sessions(server: LiveServer, token: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{server.url}/api/sessions", headers=headers).json()["items"]


# ---------------------------------------------------------------- in memory


def test_a_conversation_in_memory_ends_with_the_report_card() -> None:
    args = ["practise", "yes-then-sells", "--lang", "en", "--seed", "3"]
    said = lines(
        "Nice to meet you. Tell me about your project: what do you expect?",
        "I understand the deadline matters. What would change for you?",
        "/end",
    )
    result = runner.invoke(cli, args, input=said)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Roberto Valsecchi: The investor who says yes, then sells\nYour role: ")
    assert "\nYour goal: " in out
    assert out.count("client> ") >= 3  # the opening and one answer per message
    assert "[trust " in out and "patience" in out  # the meters after each message
    assert "Score " in out and "/100" in out and "Look for the extended need" in out
    assert '#4 "What would change for you?"' in out  # the trainee's own words
    again = runner.invoke(cli, args, input=said)
    assert again.stdout == out, "the same seed plays the same offline client"


def test_the_labels_follow_the_conversation_s_language() -> None:
    args = ["practise", "disorganized", "--lang", "it", "--seed", "1"]
    result = runner.invoke(
        cli, args, input=lines("Mi racconti: che cosa si aspetta da me?", "/end")
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\nIl tuo ruolo: " in out and "\nIl tuo obiettivo: " in out
    assert "cliente> " in out and "tu> " in out and "Punteggio " in out
    assert any(f"  {v} " in out for v in ("applicata", "parziale", "mancata", "violata"))
    assert "(correttore offline)" in out and "offline-heuristic" not in out


def test_a_better_phrasing_says_which_message_it_replaces() -> None:
    # beside the hesitant advice it is meant to replace, not as advice to say what was said
    args = ["practise", "yes-then-sells", "--lang", "en", "--difficulty", "hard", "--seed", "2"]
    hesitant = "I'm not sure, maybe it would be better to hold the shares for a while."
    result = runner.invoke(cli, args, input=lines(hesitant, "/end"))
    assert result.exit_code == 0, result.output
    assert f'#2 "{hesitant}"' in result.stdout
    assert "A better way to say it (instead of #2): " in result.stdout
    assert "it reads words, not tone" in result.stdout  # what the offline grade is worth


def test_the_client_can_end_the_conversation() -> None:
    drill = yaml.safe_load((DRILLS / "after-hours-caller-en-poor.yaml").read_text())
    args = ["practise", drill["persona"], "--lang", "en", "--seed", str(drill["seed"])]
    result = runner.invoke(cli, args, input=lines(*drill["turns"], "never read"))
    assert result.exit_code == 0, result.output
    assert "Outcome: the client walked away" in result.stdout
    assert re.search(r"\n  violated +Set the rules from the start\n", result.stdout)


def test_in_memory_with_the_llm_engine(stub: StubLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    stub.reset()
    monkeypatch.setenv("SPARRING_LLM_BASE_URL", stub.base_url)
    get_settings.cache_clear()
    try:
        args = ["practise", "impossible-idea", "--lang", "en", "--engine", "llm"]
        said = lines("Tell me more: what matters most to you about the new site?", "/end")
        result = runner.invoke(cli, args, input=said)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.stdout.count(f"client> {REPLY}\n") == 2
    assert "Score 0/100 · Not passed (llm:" in result.stdout
    assert len(stub.requests) == 3  # the opening, the answer, the grade


def test_in_memory_the_server_s_message_rules_apply() -> None:
    args = ["practise", "disorganized", "--lang", "en", "--seed", "1"]
    said = lines("x" * 4001, "\u200b\u200b", "What would a good week look like for you?", "/end")
    result = runner.invoke(cli, args, input=said)
    assert result.exit_code == 0, result.output
    assert "error: the message is 4001 characters long; the limit is 4000" in result.stderr
    assert "error: the message is empty (only blanks or invisible characters)" in result.stderr
    assert result.stdout.count("        [trust ") == 1  # only the third message was played
    assert "Score " in result.stdout


def test_the_terminal_speaks_the_conversations_language() -> None:
    """The key hint and the notices too, not only the labels."""
    result = runner.invoke(cli, ["practise", "disorganized", "--lang", "it"], input="/end\n")
    assert result.exit_code == 0, result.output
    assert "(Invio invia; /end o Ctrl-D chiude e valuta; Ctrl-C esce)" in result.stdout
    assert "Enter sends" not in result.stdout
    assert "Non hai scritto niente: niente da valutare." in result.stderr


def test_nothing_said_is_nothing_to_grade() -> None:
    result = runner.invoke(cli, ["practise", "disorganized", "--lang", "en"], input="/end\n")
    assert result.exit_code == 0, result.output
    assert "Nothing said, nothing to grade." in result.stderr and "Score" not in result.stdout


def test_without_a_persona_it_lists_them(server: LiveServer, token: str) -> None:
    here = runner.invoke(cli, ["practise", "--lang", "en"])
    assert here.exit_code == 0, here.output
    assert (
        "yes-then-sells" in here.stdout and "The investor who says yes, then sells" in here.stdout
    )
    there = runner.invoke(cli, ["practise", "--lang", "en", "--url", server.url, "--token", token])
    assert there.exit_code == 0, there.output
    assert there.stdout == here.stdout


def test_bad_choices_are_clear_errors() -> None:
    result = runner.invoke(cli, ["practise", "nobody"])
    assert result.exit_code == 2 and "no persona 'nobody' (known: after-hours-caller" in (
        result.output
    )
    result = runner.invoke(cli, ["practise", "disorganized", "--difficulty", "brutal"])
    assert result.exit_code == 2 and "--difficulty must be one of easy, medium, hard" in (
        result.output
    )
    result = runner.invoke(cli, ["practise", "disorganized", "--lang", "fr"])
    assert result.exit_code == 2 and "--lang must be it or en" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- on a server


def test_on_a_server_the_reply_streams_and_the_session_is_stored(
    server: LiveServer, token: str
) -> None:
    args = ["practise", "impossible-idea", "--lang", "en", "--engine", "llm"]
    args += ["--url", server.url, "--token", token]
    before = len(sessions(server, token))
    said = lines("Tell me more: what matters most to you about the new site?", "/end")
    result = runner.invoke(cli, args, input=said)
    assert result.exit_code == 0, result.output
    assert result.stdout.count(f"client> {REPLY}\n") == 2  # the opening and the answer
    assert "Score 0/100 · Not passed (llm:" in result.stdout
    stored = sessions(server, token)
    assert len(stored) == before + 1
    assert stored[0]["status"] == "ended" and stored[0]["engine"] == "llm"
    assert stored[0]["score"] == 0 and stored[0]["message_count"] == 3


def test_on_a_server_a_refused_message_does_not_end_the_conversation(
    server: LiveServer, token: str
) -> None:
    args = ["practise", "disorganized", "--lang", "en", "--url", server.url, "--token", token]
    said = lines("x" * 5000, "What would a good week look like for you?", "/end")
    result = runner.invoke(cli, args, input=said)
    assert result.exit_code == 0, result.output
    assert "error: the server answered 422: body.content: the message is 5000 characters" in (
        result.stderr
    )
    assert "Score " in result.stdout
    assert sessions(server, token)[0]["message_count"] >= 3  # the long one was not stored


def test_on_a_server_a_line_that_is_not_utf8_is_refused_and_the_talk_goes_on(
    server: LiveServer, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # a terminal set to Latin-1: Python reads the byte 0xe9 as a lone surrogate
    said = iter(["caf\udce9 bene", "What would a good week look like for you?", "/end"])
    body = {"persona_id": "disorganized", "language": "en", "difficulty": "medium"}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        assert converse(OnServer(client, body), lambda _prompt: next(said)) == 0
    assert "error: that line is not valid UTF-8 text; say it again" in capsys.readouterr().err
    stored = sessions(server, token)[0]
    assert stored["status"] == "ended" and stored["message_count"] >= 3


def test_on_a_server_a_model_failure_keeps_the_message_for_a_retry(
    server: LiveServer, token: str, stub: StubLLM
) -> None:
    stub.reset()
    stub.script(Reply(REPLY), Status(500, "the model is down"))  # the opening, then the answer
    args = ["practise", "disorganized", "--lang", "en", "--engine", "llm"]
    args += ["--url", server.url, "--token", token]
    text = "What would a good week look like for you?"
    result = runner.invoke(cli, args, input=lines(text, text, "/end"))
    assert result.exit_code == 0, result.output
    assert "your message 2 is stored: send the same text again to retry" in result.stderr
    assert result.stdout.count(f"client> {REPLY}\n") == 2  # the opening and the retried answer
    assert "Score " in result.stdout
    stored = sessions(server, token)[0]
    assert stored["message_count"] == 3, "the retried message is stored once"


def test_leaving_before_a_word_on_a_server_discards_the_session(
    server: LiveServer, token: str
) -> None:
    args = ["practise", "needs-approval", "--lang", "it", "--url", server.url, "--token", token]
    before = len(sessions(server, token))
    result = runner.invoke(cli, args, input="/end\n")
    assert result.exit_code == 0, result.output
    assert "Non hai scritto niente: niente da valutare." in result.stderr  # the session's language
    assert len(sessions(server, token)) == before


def test_a_wrong_token_or_no_server_is_one_line(server: LiveServer) -> None:
    result = runner.invoke(cli, ["practise", "disorganized", "--url", server.url, "--token", "no"])
    assert result.exit_code == 1 and "error: the server answered 401" in result.stderr
    args = ["practise", "disorganized", "--url", "http://127.0.0.1:9", "--token", "t"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and "error: cannot reach http://127.0.0.1:9" in result.stderr


def test_ctrl_c_leaves_the_session_open_on_the_server(
    server: LiveServer, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    said = iter(["What would a good week look like for you?"])

    def read(prompt: str) -> str:
        assert prompt == "you> "
        line = next(said, None)
        if line is None:
            raise KeyboardInterrupt
        return line

    body = {"persona_id": "disorganized", "language": "en", "difficulty": "medium"}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        assert converse(OnServer(client, body), read) == 130
    stored = sessions(server, token)[0]
    assert stored["status"] == "active" and stored["message_count"] == 3
    left = capsys.readouterr().err
    assert f"The session stays open on the server: {server.url}/sessions/{stored['id']}" in left


def test_a_client_sent_away_leaves_the_unreached_techniques_out() -> None:
    # The prospect vanishes once the terms are stated: a success (article 004), so what the
    # talk never reached is not applicable, not missed, and the card passes.
    args = ["practise", "free-advice-seeker", "--lang", "it", "--difficulty", "medium"]
    said = lines(
        "Grazie per i messaggi, vedo che le sta molto a cuore il suo profilo.",
        "Le faccio presente però che finora non abbiamo firmato nessun contratto: la mia "
        "tariffa è 80 euro l'ora.",
        "Se vuole le mando un preventivo per un pacchetto di tre sessioni entro domani.",
        "Per le domande ci sentiamo nelle sessioni.",
    )
    result = runner.invoke(cli, [*args, "--seed", "44"], input=said)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Esito: congedato (un successo)" in out
    assert "Superato" in out and "Non superato" not in out
    assert re.search(
        r"non pertinente +Stabilire regole da subito\n +Il cliente è stato congedato", out
    )
    assert re.search(r"applicata +Dichiarare le condizioni", out)
