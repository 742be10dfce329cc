"""Real conversations into gradable lines: JSON, plain chat logs, WhatsApp exports; the
upload endpoint and `sparring grade` on top of them."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.chatlog import ChatLogError, parse_chatlog, read_chatlog
from app.cli import cli
from app.config import Settings
from app.drills import error_text
from app.main import create_app

runner = CliRunner()
LRM, NNBSP = "\u200e", "\u202f"

ENCRYPTED_EN = (
    "Messages and calls are end-to-end encrypted. "
    "No one outside of this chat, not even WhatsApp, can read or listen to them."
)
ENCRYPTED_IT = (
    "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa "
    "chat, nemmeno WhatsApp, può leggerli o ascoltarli. Tocca per saperne di più."
)
WHATSAPP_IOS_EN = f"""\
[3/12/24, 9:14:05{NNBSP}PM] Marco Rossi: {LRM}{ENCRYPTED_EN}
[3/12/24, 9:14:05{NNBSP}PM] Marco Rossi: Hi Sara, sorry for the hour!
Quick question about my profile.
{LRM}[3/12/24, 9:15:10{NNBSP}PM] Marco Rossi: {LRM}image omitted
[3/12/24, 9:16:00{NNBSP}PM] Sara: Hi Marco. Tell me about you: what do you expect from LinkedIn?
[3/12/24, 9:17:30{NNBSP}PM] Marco Rossi: More clients, obviously <This message was edited>
[3/12/24, 9:18:00{NNBSP}PM] Sara: We have no contract yet: my hourly rate is 80 euro.
"""

WHATSAPP_ANDROID_IT = f"""\
12/03/24, 21:14 - {ENCRYPTED_IT}
12/03/24, 21:14 - Marco Rossi: Ciao Sara, scusa l'ora!
Ti mando il profilo.
12/03/24, 21:15 - Marco Rossi: <Media omessi>
12/03/24, 21:15 - Marco Rossi: Questo messaggio è stato eliminato
12/03/24, 21:16 - Sara Bianchi: Ciao Marco. Raccontami: cosa ti aspetti?
Così capisco come aiutarti.
12/03/24, 21:20 - Marco Rossi: IMG-20240312-WA0001.jpg (file allegato)
Ecco lo screenshot
"""


def whatsapp_zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("_chat.txt", text)
        archive.writestr("IMG-0001.jpg", b"\xff\xd8 not really a photo")
    return buffer.getvalue()


# ---------------------------------------------------------------- WhatsApp


def test_whatsapp_iphone_export_in_english() -> None:
    log = parse_chatlog(WHATSAPP_IOS_EN, trainee="sara")
    assert log.format == "whatsapp"
    assert log.speakers == ["Marco Rossi", "Sara"]
    assert log.lines == [
        ("client", "Hi Sara, sorry for the hour!\nQuick question about my profile."),
        ("trainee", "Hi Marco. Tell me about you: what do you expect from LinkedIn?"),
        ("client", "More clients, obviously"),
        ("trainee", "We have no contract yet: my hourly rate is 80 euro."),
    ]
    assert log.skipped == 2  # the encryption notice and the photo


def test_whatsapp_android_export_in_italian() -> None:
    log = parse_chatlog(WHATSAPP_ANDROID_IT, trainee="Sara Bianchi")
    assert log.lines == [
        ("client", "Ciao Sara, scusa l'ora!\nTi mando il profilo."),
        ("trainee", "Ciao Marco. Raccontami: cosa ti aspetti?\nCosì capisco come aiutarti."),
        ("client", "Ecco lo screenshot"),  # the caption stays, the file name goes
    ]
    assert log.skipped == 3  # notice, media, deleted message


@pytest.mark.parametrize(
    "header",
    [
        "[12/03/24, 21:14:05] ",  # iPhone, Italian
        "[12.03.24, 21:14:05] ",  # iPhone, dotted dates
        "12/03/2024, 21:14 - ",  # Android, four-digit year
        "3/12/24, 9:14 PM - ",  # Android, US 12-hour clock
        "12/03/24 21:14 - ",  # Android, no comma
    ],
)
def test_whatsapp_date_styles(header: str) -> None:
    text = f"{header}Ada: Buongiorno, cosa le serve?\n{header}Luca: Un sito nuovo.\n"
    log = parse_chatlog(text, trainee="Ada")
    assert log.format == "whatsapp"
    assert log.lines == [("trainee", "Buongiorno, cosa le serve?"), ("client", "Un sito nuovo.")]


def test_a_whatsapp_zip_is_read_from_its_chat_file() -> None:
    log = read_chatlog(whatsapp_zip(WHATSAPP_ANDROID_IT), trainee="Sara Bianchi")
    assert log.format == "whatsapp" and len(log.lines) == 3


# ---------------------------------------------------------------- plain text and JSON


def test_plain_chat_log_with_continuation_lines() -> None:
    text = """\
Ada: Good evening. Before anything: what would you like to achieve?
Luca: A site like Amazon. By Friday.
  And cheap.

Ada: We could do it, but given time and cost I suggest a simple shop first.
It gets you selling sooner. What do you think?
"""
    log = parse_chatlog(text, trainee="ADA")
    assert log.format == "text" and log.speakers == ["Ada", "Luca"]
    assert log.lines == [
        ("trainee", "Good evening. Before anything: what would you like to achieve?"),
        ("client", "A site like Amazon. By Friday.\nAnd cheap."),
        (
            "trainee",
            "We could do it, but given time and cost I suggest a simple shop first.\n"
            "It gets you selling sooner. What do you think?",
        ),
    ]


def test_json_in_both_shapes_with_role_aliases() -> None:
    messages = [
        {"role": "system", "content": "You play a client."},
        {"role": "assistant", "content": "I want it all by Friday."},
        {"role": "user", "content": "What matters most to you?"},
        {"role": "client", "content": "Speed."},
        {"role": "trainee", "content": "  "},
    ]
    wrapped = parse_chatlog(json.dumps({"messages": messages}))
    bare = parse_chatlog(json.dumps(messages))
    assert wrapped == bare
    assert wrapped.format == "json" and wrapped.skipped == 2
    assert wrapped.lines == [
        ("client", "I want it all by Friday."),
        ("trainee", "What matters most to you?"),
        ("client", "Speed."),
    ]


def test_a_session_export_can_be_graded_again() -> None:
    export = {"session": {"id": "x"}, "messages": [{"seq": 1, "role": "trainee", "content": "Hi"}]}
    assert parse_chatlog(json.dumps(export)).lines == [("trainee", "Hi")]


@pytest.mark.parametrize(
    ("data", "trainee", "message"),
    [
        (b"", None, "the file is empty"),
        (b"{not json", None, "invalid JSON"),
        (b'{"messages": "hi"}', None, "expected {"),
        (b'[{"role": "boss", "content": "hi"}]', None, "messages[0].role: 'boss'"),
        (b'[{"role": "client"}]', None, "messages[0]: expected an object"),
        (b'[{"role": "client", "content": "hi"}]', None, "no trainee message"),
        (b"just some words\nwith no speakers", None, "no messages found"),
        (b"Ada: hi\nLuca: hello", None, "speakers in the log: Ada, Luca"),
        (b"Ada: hi\nLuca: hello", "Sara", "'Sara' never speaks in the log; speakers: Ada, Luca"),
        (b"\xc3\x28 broken", None, "not UTF-8 text (byte 0)"),
        (b"Ada: caf\xe9", "Ada", "not UTF-8"),
        (b"PK\x03\x04 broken zip", None, "broken zip"),
    ],
)
def test_unreadable_files_say_why(data: bytes, trainee: str | None, message: str) -> None:
    with pytest.raises(ChatLogError) as caught:
        read_chatlog(data, trainee=trainee)
    assert message in str(caught.value)


# ---------------------------------------------------------------- the upload endpoint


def upload(client: TestClient, content: bytes, name: str = "chat.txt", **fields: str):  # type: ignore[no-untyped-def]
    form = {"persona_id": "free-advice-seeker", "language": "en", **fields}
    return client.post("/api/grade/upload", files={"file": (name, content)}, data=form)


def test_a_chat_file_may_be_larger_than_any_other_request(client: TestClient) -> None:
    """A WhatsApp export soon outgrows the 256 KB a message or a form may send."""
    lines = [
        f"[12/03/24, 21:{i // 60:02d}:{i % 60:02d}] {'Sara' if i % 2 else 'Marco'}: "
        + "una parola " * 70
        for i in range(400)
    ]
    content = "\n".join(lines).encode()
    assert len(content) > 300 * 1024
    response = upload(client, content, trainee_name="Marco")
    assert response.status_code == 200, response.text[:300]
    assert client.post("/api/grade", content=content).status_code == 413  # not an upload


def test_a_file_over_the_upload_limit_is_refused_naming_the_limit(
    settings: Settings, client: TestClient
) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 20_000})
    with TestClient(create_app(small)) as strict:
        strict.headers.update(client.headers)
        answer = upload(strict, b"x" * 30_000)
        assert answer.status_code == 413
        assert answer.json() == {
            "detail": "the request body is too large; the limit is 20000 bytes",
            "code": "body_too_large",
            "params": {"limit": 20000},
        }
        assert upload(strict, WHATSAPP_IOS_EN.encode(), trainee_name="Sara").status_code == 200


def test_upload_grades_like_the_json_endpoint(client: TestClient) -> None:
    response = upload(client, WHATSAPP_IOS_EN.encode(), trainee_name="Sara")
    assert response.status_code == 200, response.text
    log = parse_chatlog(WHATSAPP_IOS_EN, trainee="Sara")
    body = {
        "persona_id": "free-advice-seeker",
        "language": "en",
        "messages": [{"role": r, "content": c} for r, c in log.lines],
    }
    report = response.json()
    assert report.pop("messages_read") == report.pop("messages_graded") == len(log.lines)
    assert report == client.post("/api/grade", json=body).json()
    verdicts = {c["technique_id"]: c["verdict"] for c in response.json()["criteria"]}
    assert verdicts["state-terms"] in ("applied", "partial")


def test_upload_takes_a_whatsapp_zip_and_json(client: TestClient) -> None:
    zipped = upload(
        client, whatsapp_zip(WHATSAPP_ANDROID_IT), "chat.zip", trainee_name="Sara Bianchi"
    )
    assert zipped.status_code == 200, zipped.text
    data = json.dumps([{"role": "trainee", "content": "What do you expect?"}]).encode()
    assert upload(client, data, "chat.json").status_code == 200


def test_a_chat_longer_than_a_grade_takes_is_graded_on_its_last_messages(
    client: TestClient,
) -> None:
    """Months of WhatsApp with one client: the grade covers the most recent 500 messages."""
    early = [{"role": "trainee", "content": "Mi racconti: cosa si aspetta da me?"}] * 300
    late = [
        {"role": "client", "content": "Mi dai un consiglio gratis?"},
        {"role": "trainee", "content": "La prima ora costa 80 euro: le mando una proposta."},
    ] * 250
    response = upload(client, json.dumps(early + late).encode(), "chat.json", language="it")
    assert response.status_code == 200, response.text[:300]
    report = response.json()
    assert (report["messages_read"], report["messages_graded"]) == (800, 500)
    quotes = [e["quote"] for c in report["criteria"] for e in c["evidence"]]
    assert any("80 euro" in quote for quote in quotes)
    assert not any("cosa si aspetta" in quote for quote in quotes)  # before the last 500


def test_upload_errors_are_4xx_with_a_reason(client: TestClient, anonymous: TestClient) -> None:
    no_name = upload(client, b"Ada: hi\nLuca: hello")
    assert no_name.status_code == 422
    assert "chat.txt: say which speaker is the trainee; speakers in the log: Ada, Luca" in (
        error_text(no_name)
    )
    assert upload(client, b"\x00\xff binary", "x.bin").status_code == 422
    unknown = upload(client, b"Ada: hi", trainee_name="Ada", persona_id="nobody")
    assert unknown.status_code == 404 and "unknown persona" in error_text(unknown)
    assert upload(anonymous, b"Ada: hi", trainee_name="Ada").status_code == 401


# ---------------------------------------------------------------- sparring grade


def test_cli_grades_a_whatsapp_export(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(WHATSAPP_IOS_EN, encoding="utf-8")
    args = ["grade", str(path), "--persona", "free-advice-seeker", "--trainee", "Sara"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "whatsapp, 4 messages (2 left out)" in result.stderr
    assert "state-terms" in result.stdout and "/100" in result.stdout
    assert "about two verdicts in five" in result.stderr  # the offline grader's caveat
    as_json = runner.invoke(cli, [*args, "--json"])
    report = json.loads(as_json.stdout)
    assert {c["technique_id"] for c in report["criteria"]} >= {"state-terms", "listen-first"}


def test_cli_grades_a_long_chat_on_its_last_messages(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("Marco: Mi racconti.\nSara: Un consiglio gratis?\n" * 300, encoding="utf-8")
    args = ["grade", str(path), "--persona", "free-advice-seeker", "--trainee", "Marco", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "text, 600 messages" in result.stderr and "grading the last 500 of them" in result.stderr
    assert json.loads(result.stdout)["criteria"]


def test_cli_grade_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("Ada: hi\nLuca: hello\n", encoding="utf-8")
    base = ["grade", str(path), "--persona", "free-advice-seeker"]
    no_name = runner.invoke(cli, base)
    assert no_name.exit_code == 1
    assert no_name.stderr.strip() == (
        f"error: {path}: say which speaker is the trainee; speakers in the log: Ada, Luca"
    )
    missing = runner.invoke(cli, ["grade", str(tmp_path / "nope.txt"), "--persona", "x"])
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    unknown = runner.invoke(cli, ["grade", str(path), "--persona", "nobody", "--trainee", "Ada"])
    assert unknown.exit_code == 1 and "unknown persona 'nobody'" in unknown.stderr
    for result in (no_name, missing, unknown):
        assert "Traceback" not in result.output
