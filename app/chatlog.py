"""Read conversations recorded elsewhere so the grader can mark real client chats.

Three formats, told apart by their shape:
- JSON: `{"messages": [{"role", "content"}, …]}` or the bare list (roles `trainee` and
  `client`; `user` and `assistant` are read as trainee and client, `system` is left out);
- WhatsApp exports ("[12/03/24, 21:14:05] Name: text" from iPhones, "12/03/24, 21:14 - Name:
  text" from Android; Italian and English date styles, 12- or 24-hour clocks), including the
  zip WhatsApp shares with `_chat.txt` inside;
- plain chat logs: "Name: text" lines, any other line continuing the message above.
For named speakers the caller says which one is the trainee; everyone else is the client.
System notices, deleted messages and media placeholders are left out: there is nothing of
the trainee's to grade in them, and a caption sent with a photo is kept.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Literal

Role = Literal["trainee", "client"]
MAX_BYTES = 5 * 1024 * 1024  # a larger file is refused; a long chat is graded on its last messages
ROLE_ALIASES: dict[str, Role | None] = {
    "trainee": "trainee",
    "client": "client",
    "user": "trainee",
    "assistant": "client",
    "system": None,
}

# Direction marks and the BOM that WhatsApp puts before dates and notices.
_MARKS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]*"
_DATE = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
_TIME = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[\s\u202f\u00a0]*[AaPp]\.?\s?[Mm]\.?)?"
_WHATSAPP = (
    re.compile(rf"^{_MARKS}\[{_DATE},?\s+{_TIME}\]\s*(?P<rest>.*)$"),  # iPhone
    re.compile(rf"^{_MARKS}{_DATE},?\s+{_TIME}\s*[-\u2013]\s(?P<rest>.*)$"),  # Android
)
_WHATSAPP_SPEAKER = re.compile(r"^(?P<name>[^:]{1,60}?):\s?(?P<text>.*)$", re.DOTALL)
# "Name: text", optionally after a "[21:14]" stamp; a name starts with a letter, ≤ 4 words.
_PLAIN = re.compile(
    r"^\s*(?:\[[^\]]{1,30}\]\s*)?(?P<name>[^\W\d_][^:\n]{0,39}?)\s*:(?:\s+(?P<text>.*))?$"
)
_NOTICES = re.compile(
    "|".join(
        (
            r"messages and calls are end-to-end encrypted\b.*",
            r"i messaggi e le chiamate sono crittografati end-to-end\b.*",
            r".*security code .*changed\b.*",
            r".*codice di sicurezza .*cambiato\b.*",
            r"(?:this message was|you) deleted(?: this message)?\.?",
            r"questo messaggio è stato eliminato\.?",
            r"hai eliminato questo messaggio\.?",
            r"(?:missed )?(?:voice|video) call(?: missed)?\b.*",
            r"(?:chiamata vocale|videochiamata|chiamata) (?:persa|senza risposta)\b.*",
            r"waiting for this message.*",
            r"in attesa di questo messaggio.*",
            r"null",
        )
    ),
    re.IGNORECASE,
)
_MEDIA = re.compile(
    "|".join(
        (
            r"<media omitted>",
            r"<media omess[io]>",
            r"(?:image|video|audio|sticker|gif|document|contact card|photo) omitted",
            r"(?:immagine|video|audio|sticker|gif|documento|scheda contatto|foto) omess[oa]",
            r"<(?:attached|allegato): [^>]*>",
            r"\S.* \((?:file attached|file allegato)\)",
        )
    ),
    re.IGNORECASE,
)
_EDITED = re.compile(
    r"\s*<(?:this message was edited|questo messaggio è stato modificato)>\s*$", re.IGNORECASE
)


class ChatLogError(ValueError):
    """The file is not a conversation we can read; the message says what was expected.
    `speakers`: set when the log is readable but the trainee is not named among them."""

    def __init__(self, message: str, speakers: list[str] | None = None) -> None:
        super().__init__(message)
        self.speakers = speakers


@dataclass(frozen=True)
class ChatLog:
    format: Literal["json", "whatsapp", "text"]
    lines: list[tuple[Role, str]]
    speakers: list[str]  # the names in a WhatsApp or plain log, in order of appearance
    skipped: int  # notices, deleted messages and media left out


@dataclass
class _Entry:
    speaker: str | None  # None: a WhatsApp notice with no sender
    text: list[str]


# ---------------------------------------------------------------- bytes to text


def read_chatlog(data: bytes, *, trainee: str | None = None) -> ChatLog:
    """Parse an uploaded or local file: JSON, a WhatsApp export (text or zip), a chat log."""
    if len(data) > MAX_BYTES:
        raise ChatLogError(f"the file is {len(data)} bytes; the limit is {MAX_BYTES}")
    if data.startswith(b"PK\x03\x04"):
        data = _from_zip(data)
    return parse_chatlog(_decode(data), trainee=trainee)


def _from_zip(data: bytes) -> bytes:
    """The chat text inside a WhatsApp "export with media" zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ChatLogError(f"a broken zip file: {exc}") from exc
    texts = [i for i in archive.infolist() if i.filename.lower().endswith(".txt")]
    if not texts:
        raise ChatLogError("the zip holds no .txt chat (WhatsApp puts it in _chat.txt)")
    chosen = next((i for i in texts if "chat" in i.filename.lower()), texts[0])
    if chosen.file_size > MAX_BYTES:
        raise ChatLogError(f"{chosen.filename} is {chosen.file_size} bytes; limit {MAX_BYTES}")
    return archive.read(chosen)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChatLogError(
            f"not UTF-8 text (byte {exc.start}): export the chat as plain text or JSON"
        ) from exc


# ---------------------------------------------------------------- text to lines


def parse_chatlog(text: str, *, trainee: str | None = None) -> ChatLog:
    """Tell the format from the text's shape and read it."""
    stripped = text.strip()
    if not stripped:
        raise ChatLogError("the file is empty")
    if stripped[0] in "{[":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            if stripped[0] == "{":
                raise ChatLogError(f"invalid JSON: {exc}") from exc
        else:
            return _from_json(data)
    rows = text.splitlines()
    first = next(row for row in rows if row.strip())
    if any(p.match(first) for p in _WHATSAPP):
        entries, skipped = _whatsapp_entries(rows)
        return _with_roles("whatsapp", entries, skipped, trainee)
    entries = _plain_entries(rows)
    if not entries:
        raise ChatLogError(
            "no messages found: expected JSON ({messages: [{role, content}]}), a WhatsApp "
            "export, or 'Name: text' lines"
        )
    return _with_roles("text", entries, 0, trainee)


def _from_json(data: object) -> ChatLog:
    items = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ChatLogError('expected {"messages": [{"role", "content"}, …]} or a list of them')
    lines: list[tuple[Role, str]] = []
    skipped = 0
    for index, item in enumerate(items):
        where = f"messages[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise ChatLogError(f"{where}: expected an object with a 'role' and a text 'content'")
        raw_role = str(item.get("role", "")).strip().lower()
        if raw_role not in ROLE_ALIASES:
            raise ChatLogError(
                f"{where}.role: '{item.get('role')}' is not one of trainee, client "
                "(or user, assistant, system)"
            )
        role = ROLE_ALIASES[raw_role]
        content = item["content"].strip()
        if role is None or not content:
            skipped += 1
            continue
        lines.append((role, content))
    return _checked(ChatLog("json", lines, [], skipped))


def _whatsapp_entries(rows: list[str]) -> tuple[list[_Entry], int]:
    """Messages by sender; a row with no date header continues the message above."""
    entries: list[_Entry] = []
    for row in rows:
        header = next((m for p in _WHATSAPP if (m := p.match(row))), None)
        if header is None:
            if entries:
                entries[-1].text.append(row)
            continue
        said = _WHATSAPP_SPEAKER.match(header.group("rest"))
        if said is None:
            entries.append(_Entry(None, [header.group("rest")]))
        else:
            entries.append(_Entry(said.group("name").strip(), [said.group("text")]))
    kept: list[_Entry] = []
    for entry in entries:
        text = _clean_whatsapp("\n".join(entry.text))
        if entry.speaker is not None and text:
            kept.append(_Entry(entry.speaker, [text]))
    return kept, len(entries) - len(kept)


def _clean_whatsapp(text: str) -> str:
    """The message without notices, media placeholders and the 'edited' mark."""
    text = _EDITED.sub("", re.sub(_MARKS, "", text)).strip()
    if _NOTICES.fullmatch(text):
        return ""
    rows = [row for row in text.splitlines() if not _MEDIA.fullmatch(row.strip())]
    return "\n".join(rows).strip()


def _plain_entries(rows: list[str]) -> list[_Entry]:
    entries: list[_Entry] = []
    for row in rows:
        said = _PLAIN.match(row)
        if said and len(said.group("name").split()) <= 4:
            entries.append(_Entry(said.group("name").strip(), [said.group("text") or ""]))
        elif entries and row.strip():
            entries[-1].text.append(row.strip())
    for entry in entries:
        entry.text = ["\n".join(t for t in entry.text if t.strip())]
    return [e for e in entries if e.text[0]]


def _with_roles(
    format: Literal["whatsapp", "text"], entries: list[_Entry], skipped: int, trainee: str | None
) -> ChatLog:
    """The trainee is the speaker the caller named (any case); all others are the client."""
    speakers = list(dict.fromkeys(e.speaker for e in entries if e.speaker))
    listed = ", ".join(speakers) or "none"
    if not trainee or not trainee.strip():
        raise ChatLogError(
            f"say which speaker is the trainee; speakers in the log: {listed}", speakers
        )
    wanted = trainee.strip().casefold()
    if wanted not in {s.casefold() for s in speakers}:
        raise ChatLogError(f"'{trainee}' never speaks in the log; speakers: {listed}", speakers)
    lines: list[tuple[Role, str]] = [
        ("trainee" if (e.speaker or "").casefold() == wanted else "client", e.text[0])
        for e in entries
    ]
    return _checked(ChatLog(format, lines, speakers, skipped))


def _checked(log: ChatLog) -> ChatLog:
    if not log.lines:
        raise ChatLogError("the conversation has no messages")
    if not any(role == "trainee" for role, _ in log.lines):
        raise ChatLogError("the conversation has no trainee message to grade")
    return log
