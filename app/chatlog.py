"""Read conversations recorded elsewhere so the grader can mark real client chats.

Three formats, told apart by their shape:
- JSON: `{"messages": [{"role", "content"}, …]}` or the bare list (roles `trainee` and
  `client`; `user` and `assistant` are read as trainee and client, `system` is left out);
- WhatsApp exports ("[12/03/24, 21:14:05] Name: text" from iPhones, "12/03/24, 21:14 - Name:
  text" from Android; Italian and English date styles, 12- or 24-hour clocks), including the
  zip WhatsApp shares with `_chat.txt` inside, in UTF-8 or UTF-16;
- plain chat logs: "Name: text" lines, any other line continuing the message above (a copy
  from WhatsApp Web, "[21:14, 12/03/2024] Name: text", reads as one); so does a heading that
  only looks like a name ("Nota bene: …", "PS: …", "Step 2: …"), see `_plain_speakers`.
For named speakers the caller says which one is the trainee; everyone else is the client, in
a group chat too: every other participant's messages are graded as the client's.
System notices, deleted messages, calls, locations and media placeholders are left out:
there is nothing of the trainee's to grade in them, and a caption sent with a photo is kept.
An iPhone export files a group's notices under the group's own name, each marked with an
invisible U+200E: a "speaker" that only ever says such things is the chat, not a person.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections import Counter
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

# Direction marks and the BOM that WhatsApp puts before dates, notices and phone numbers.
_MARK_CHARS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_MARKS = f"[{_MARK_CHARS}]*"
_ANY_MARKS = re.compile(f"[{_MARK_CHARS}]+")
_LRM = "\u200e"  # an iPhone export starts WhatsApp's own words (notices, placeholders) with it
_DATE = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
_AMPM = r"[AaPp]\.?\s?[Mm]\.?"
_TIME = rf"\d{{1,2}}[:.]\d{{2}}(?:[:.]\d{{2}})?(?:[\s\u202f\u00a0]*{_AMPM})?"
_WHATSAPP = (
    re.compile(rf"^{_MARKS}\[(?P<stamp>{_DATE},?\s+{_TIME})\]\s*(?P<rest>.*)$"),  # iPhone
    re.compile(rf"^{_MARKS}(?P<stamp>{_DATE},?\s+{_TIME})\s*[-\u2013]\s(?P<rest>.*)$"),  # Android
)
_SNIFF_ROWS = 10  # a WhatsApp export is told by a dated line among its first rows
_WHATSAPP_SPEAKER = re.compile(r"^(?P<name>[^:]{1,60}?):\s?(?P<text>.*)$", re.DOTALL)
# An iPhone group's notices come under its name, which may hold a colon: "Pratica: Greco: ‎…"
_WHATSAPP_NOTICE_SPEAKER = re.compile(rf"^(?P<name>[^{_LRM}]{{1,60}}?):\s(?P<text>{_LRM}.*)$")
_QUOTES = '"“”«»'  # an odd number in a "name" is a notice quoting a group's subject
# "Name: text", optionally after a "[21:14]" stamp; a name starts with a letter, ≤ 4 words.
_PLAIN = re.compile(
    r"^\s*(?:\[[^\]]{1,30}\]\s*)?(?P<name>[^\W\d_][^:\n]{0,39}?)\s*:(?:\s+(?P<text>.*))?$"
)
_PHONE = re.compile(r"\+?[\d\s().-]{6,}")
# First words of headings written inside a message ("Nota bene:", "P.S.:", "Step 2:"), never a
# person's name; matched without dots, in any case. Role words (Cliente, Domanda) are not here.
_LABEL_WORD = re.compile(
    r"nota|note|nb|p?ps|attenzione|avviso|importante|promemoria|oggetto|ore|orario|data|link|re"
    r"|fwd?|allegat[oi]|esempio|riepilogo|riassunto|totale|prezzo|costo|scadenza|indirizzo|punto"
    r"|passo|fase|aggiornamento|edit|update|attention|warning|important|reminder|subject"
    r"|attachment|example|summary|total|price|cost|deadline|address|step|tip|tl;dr",
    re.IGNORECASE,
)
# Lowercase words a name may hold: "Maria de Luca", "Vincent van Gogh".
_PARTICLES = {"de", "di", "da", "dal", "del", "della", "dei", "degli", "van", "von", "der", "du"}
# Notices no one types as a whole message, left out wherever they appear.
_NOTICES = re.compile(
    "|".join(
        (
            r"messages and calls are end-to-end encrypted\b.*",
            r"messages (?:you send )?to this (?:chat|group)(?: and calls)? are now secured with"
            r" end-to-end encryption\b.*",
            r"your messages and calls are (?:now )?secured with end-to-end encryption\b.*",
            r"i messaggi e le chiamate sono crittografati end-to-end\b.*",
            r"i (?:tuoi )?messaggi (?:inviati )?(?:a|in) questa (?:chat|gruppo)(?: e le chiamate)?"
            r" sono ora protett[io] con la crittografia end-to-end\b.*",
            r"i tuoi messaggi e le tue chiamate sono protetti con la crittografia end-to-end\b.*",
            r".*security code .*changed\b.*",
            r".*codice di sicurezza .*cambiato\b.*",
            r"(?:this message was|you) deleted(?: this message)?(?: by (?:an )?admin\b.*)?\.?",
            r"questo messaggio è stato eliminato(?: da(?:ll'| un | )amministratore\b.*)?\.?",
            r"hai eliminato questo messaggio\.?",
            # a call, and what WhatsApp adds to it; "Missed call, sorry: …" is someone talking
            r"(?:missed )?(?:group )?(?:voice|video) call(?:[.,]?\s*(?:tap to call back|click to"
            r" call back|no answer|answered on other device|\d+\s*(?:sec|min|hr|h|s)\w*\.?"
            r"|\d{1,2}:\d{2}(?::\d{2})?))*\.?",
            r"(?:chiamata vocale|videochiamata|chiamata)(?: di gruppo)?(?: persa| senza risposta"
            r"| rifiutata)?(?:[.,]?\s*(?:tocca per richiamare|clicca per richiamare|nessuna"
            r" risposta|risposta su un altro dispositivo|\d+\s*(?:sec|min|h|or[ae])\w*\.?"
            r"|\d{1,2}:\d{2}(?::\d{2})?))*\.?",
            r"waiting for this message.*",
            r"in attesa di questo messaggio.*",
            r"null",
        )
    ),
    re.IGNORECASE,
)
# What WhatsApp says about the chat itself: left out where WhatsApp is the one talking (a line
# with no sender, or an iPhone line starting with U+200E), since people write such sentences
# too ("Paolo ha aggiunto una clausola"). "Who" never holds a colon, which tells "Anna added
# Luca" from "Anna: added Luca"; the subject quoted after it may.
_WHO = r"(?:[^:]{1,80}? )?"
_EVENTS = re.compile(
    "|".join(
        (
            rf"{_WHO}created (?:the |this )?group\b.*",
            rf"{_WHO}(?:added|removed) .+",
            rf"{_WHO}(?:left|joined(?: using| from| via)?\b.*)",
            rf"{_WHO}changed (?:the subject|the group name|the group description|the group"
            r" (?:icon|settings)|this group's (?:icon|settings|description)|their phone number"
            r"|to \+?[\d\s()-]+)\b.*",
            rf"{_WHO}deleted this group's icon\b.*",
            rf"(?:you're|you are|{_WHO}(?:is|are)) (?:now|no longer) an admin\b.*",
            rf"{_WHO}pinned a message\b.*",
            r"you were added\b.*",
            r"(?:you )?(?:blocked|unblocked) this contact\b.*",
            rf"{_WHO}turned (?:on|off) disappearing messages\b.*",
            r"disappearing messages (?:were|are) turned (?:on|off)\b.*",
            r".*\buses? a default timer for disappearing messages\b.*",
            r"this chat is with a business account\b.*",
            r"this business (?:uses|is using|works with) .*",
            rf"{_WHO}is a contact\.?",
            rf"{_WHO}ha(?:i)? creato (?:il |questo )?gruppo\b.*",
            rf"{_WHO}(?:ti )?ha(?:i)? (?:aggiunto|rimosso)\b.*",
            rf"{_WHO}(?:è uscit[oa]|sei uscit[oa]|ha abbandonato|hai abbandonato|ha lasciato"
            r" il gruppo)\b.*",
            rf"{_WHO}(?:si è unit[oa]|ti sei unit[oa])\b.*",
            rf"{_WHO}ha(?:i)? (?:cambiato|modificato) (?:l'oggetto|il nome del gruppo|l'immagine"
            r" del gruppo|la descrizione del gruppo|le impostazioni del gruppo|questo gruppo"
            r"|(?:il (?:suo )?)?numero(?: di telefono)?)\b.*",
            rf"{_WHO}ha(?:i)? eliminato l'immagine del gruppo\b.*",
            rf"(?:ora sei|sei ora|{_WHO}è ora|{_WHO}non è più) (?:un )?amministratore\b.*",
            rf"{_WHO}ha(?:i)? fissato un messaggio\b.*",
            r"sei stat[oa] aggiunt[oa]\b.*",
            r"hai (?:bloccato|sbloccato) questo contatto\b.*",
            rf"{_WHO}ha(?:i)? (?:attivato|disattivato) i messaggi effimeri\b.*",
            r"i messaggi effimeri sono (?:stati )?(?:attivati|disattivati)\b.*",
            r"questa chat è con un account business\b.*",
            r"questa azienda (?:utilizza|usa|collabora con) .*",
            rf"{_WHO}è un contatto\.?",
        )
    ),
    re.IGNORECASE,
)
_MEDIA = re.compile(
    "|".join(
        (
            r"<media omitted>",
            r"<media omess[io]>",
            r"(?:image|video|audio|sticker|gif|contact card|photo|video note|voice message)"
            r" omitted",
            r"(?:immagine|video|audio|sticker|gif|scheda contatto|foto|messaggio vocale"
            r"|videomessaggio) (?:omess[oa]|esclus[oa]|non inclus[oa])",
            # an iPhone document: "Offer • 3 pages document omitted", or the file attached
            r"(?:\S.* )?(?:document omitted|documento omesso)",
            r"(?:\S.* )?<(?:attached|allegato): [^>]*>",
        )
    ),
    re.IGNORECASE,
)
# Android: "IMG-….jpg (file attached)", a caption below it; a document's name is repeated there.
_ATTACHED = re.compile(r"(?P<file>\S.*) \((?:file attached|file allegato)\)", re.IGNORECASE)
_LOCATION = re.compile(
    r"(?:(?:location|posizione)|.+ \(.+\))\s*:\s*https?://maps\.google\.[a-z.]+/\?q=\S+"
    r"|live location shared|posizione (?:in tempo reale|live) condivisa",
    re.IGNORECASE,
)
_MAYBE_LOCATION = re.compile(r"maps\.google\.|condivisa|shared", re.IGNORECASE)
_EDITED = ("<this message was edited>", "<questo messaggio è stato modificato>")
# WhatsApp's own words are short: longer text is someone talking, and is not run through the
# notice patterns, whose `.*` would make a long message cost its length squared (a 160 KB
# message held the server for 40 s).
MAX_NOTICE_CHARS = 500


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
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ChatLogError(f"a broken zip file: {exc}") from exc
    texts = [i for i in members if i.filename.lower().endswith(".txt") and not _zip_junk(i)]
    if not texts:
        raise ChatLogError("the zip holds no .txt chat (WhatsApp puts it in _chat.txt)")
    chosen = min(texts, key=_zip_rank)  # the first of the best-named
    if chosen.file_size > MAX_BYTES:
        raise ChatLogError(f"{chosen.filename} is {chosen.file_size} bytes; limit {MAX_BYTES}")
    if chosen.flag_bits & 0x1:
        raise ChatLogError(f"{chosen.filename} is password-protected in the zip")
    try:
        # read in a bounded amount: the size a zip declares may lie (a "zip bomb" of 2 MB
        # that inflates to gigabytes), and read() would inflate all of it first
        with archive.open(chosen) as member:
            text = member.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error) as exc:
        raise ChatLogError(f"cannot read {chosen.filename} in the zip: {exc}") from exc
    if len(text) > MAX_BYTES:
        raise ChatLogError(f"{chosen.filename} inflates past {MAX_BYTES} bytes")
    return text


def _zip_junk(info: zipfile.ZipInfo) -> bool:
    """A folder, or the "._name" shadow files a Mac adds when it zips (in __MACOSX/)."""
    base = info.filename.rsplit("/", 1)[-1]
    return info.is_dir() or base.startswith("._") or "__MACOSX/" in info.filename


def _zip_rank(info: zipfile.ZipInfo) -> tuple[bool, bool, bool]:
    """iPhone's `_chat.txt`, Android's "WhatsApp Chat with …", then any chat, then the rest:
    a shared document can be a .txt too."""
    base = info.filename.rsplit("/", 1)[-1].lower()
    return base != "_chat.txt", "whatsapp" not in base, "chat" not in base


def _decode(data: bytes) -> str:
    bom = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if (encoding := "utf-16" if bom else _utf16_without_bom(data)) is not None:
        return data[: len(data) // 2 * 2].decode(encoding, errors="replace")  # even if cut short
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChatLogError(
            f"not UTF-8 text (byte {exc.start}): export the chat as plain text or JSON"
        ) from exc


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved with no byte-order mark: latin text has a zero in every other byte."""
    head = data[:4096]
    half = len(head) // 2
    if half < 8:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > half * 0.4 and even < odd / 10:
        return "utf-16-le"
    if even > half * 0.4 and odd < even / 10:
        return "utf-16-be"
    return None


# ---------------------------------------------------------------- text to lines


def parse_chatlog(text: str, *, trainee: str | None = None) -> ChatLog:
    """Tell the format from the text's shape and read it."""
    stripped = text.strip()
    if not stripped:
        raise ChatLogError("the file is empty")
    if stripped[0] in "{[":
        try:
            data = json.loads(stripped)
        except RecursionError as exc:
            raise ChatLogError("JSON nested too deep to be a chat") from exc
        except json.JSONDecodeError as exc:
            if stripped[0] == "{":
                raise ChatLogError(f"invalid JSON: {exc}") from exc
        else:
            return _from_json(data)
    rows = text.splitlines()
    first = [row for row in rows if row.strip()][:_SNIFF_ROWS]
    if any(_header(row) for row in first):  # a title or a cut message may come first
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


def _header(row: str) -> tuple[int, re.Match[str]] | None:
    """Which WhatsApp layout the row starts a message in, if any."""
    for index, pattern in enumerate(_WHATSAPP):
        if found := pattern.match(row):
            return index, found
    return None


_YEAR, _NUMBER, _SPACES = re.compile(r"\d{3,}"), re.compile(r"\d{1,2}"), re.compile(r"\s+")
_MERIDIEM = re.compile(_AMPM)


def _style(header: tuple[int, re.Match[str]]) -> tuple[int, str]:
    """The layout of a date line: "12/03/24, 21:14" → (1, "9/9/9, 9:9"). One export writes
    every message's date the same way, so a line in another style ("15/03/2027 10:00 -
    hearing" in a list of dates) belongs to the message above it."""
    index, found = header
    shape = _NUMBER.sub("9", _YEAR.sub("Y", found.group("stamp")))
    return index, _SPACES.sub(" ", _MERIDIEM.sub("M", shape))


def _whatsapp_entries(rows: list[str]) -> tuple[list[_Entry], int]:
    """Messages by sender; a row with no date header continues the message above."""
    headers = [_header(row) for row in rows]
    styles = [_style(h) if h is not None else None for h in headers]
    style = Counter(s for s in styles if s is not None).most_common(1)[0][0]
    entries: list[_Entry] = []
    for row, header, row_style in zip(rows, headers, styles, strict=True):
        if header is None or row_style != style:
            if entries:
                entries[-1].text.append(row)
            continue
        speaker, text = _speaker(header[1].group("rest"))
        entries.append(_Entry(speaker, [text]))
    # An iPhone group's notices come under the group's name, each starting with U+200E.
    raw = [(e.speaker, "\n".join(e.text)) for e in entries]
    said: dict[str | None, list[bool]] = {}
    for speaker, text in raw:
        said.setdefault(speaker, []).append(text.lstrip().startswith(_LRM))
    the_chat = {s for s, marks in said.items() if s is not None and all(marks)}
    kept: list[_Entry] = []
    for speaker, text in raw:
        if speaker is None or speaker in the_chat:
            continue
        if cleaned := _clean_whatsapp(text):
            kept.append(_Entry(speaker, [cleaned]))
    return kept, len(entries) - len(kept)


def _speaker(rest: str) -> tuple[str | None, str]:
    """The sender and the text of a WhatsApp line; no sender for a notice, even one quoting a
    subject with a colon: 'Anna changed the subject to "Greco: eredità"'."""
    said = _WHATSAPP_SPEAKER.match(rest)
    if said is None or sum(said.group("name").count(q) for q in _QUOTES) % 2:
        return None, rest
    name, text = said.group("name"), said.group("text")
    if len(name.split()) > 2 and _EVENTS.fullmatch(_unmarked(rest)):  # a sentence, no name
        return None, rest
    if _LRM in text and not text.startswith(_LRM):  # an iPhone group "Pratica: Greco"
        notice = _WHATSAPP_NOTICE_SPEAKER.match(rest)
        if notice and _is_notice(notice.group("text")):
            name, text = notice.group("name"), notice.group("text")
    return _name(name), text


def _name(raw: str) -> str:
    """A sender as people read it: iPhones wrap phone numbers in invisible direction marks."""
    return " ".join(_unmarked(raw).split())


def _unmarked(text: str) -> str:
    return _ANY_MARKS.sub("", text)


def _is_notice(text: str) -> bool:
    plain = _unmarked(text).strip()
    if len(plain) > MAX_NOTICE_CHARS:
        return False
    return bool(_NOTICES.fullmatch(plain) or _EVENTS.fullmatch(plain) or _MEDIA.fullmatch(plain))


def _without_edited_mark(text: str) -> str:
    """The text without WhatsApp's trailing "<This message was edited>"."""
    text = text.strip()
    tail = text[-len(max(_EDITED, key=len)) :].casefold()
    mark = next((m for m in _EDITED if tail.endswith(m)), None)
    return text[: -len(mark)].rstrip() if mark else text


def _clean_whatsapp(text: str) -> str:
    """The message without notices, media placeholders and the 'edited' mark."""
    spoken_by_whatsapp = text.lstrip().startswith(_LRM)
    text = _without_edited_mark(_unmarked(text))
    short = len(text) <= MAX_NOTICE_CHARS
    if short and (_NOTICES.fullmatch(text) or (spoken_by_whatsapp and _EVENTS.fullmatch(text))):
        return ""
    rows = text.splitlines()
    if _MAYBE_LOCATION.search(text) and any(
        len(r) <= MAX_NOTICE_CHARS and _LOCATION.fullmatch(r.strip()) for r in rows
    ):
        return ""  # a shared place: its name, the area, the map link
    kept: list[str] = []
    document: set[str] = set()  # Android repeats a document's name under it
    for row in rows:
        line = row.strip()
        if len(line) > MAX_NOTICE_CHARS:  # no placeholder is this long
            document = set()
            kept.append(row)
            continue
        if attached := _ATTACHED.fullmatch(line):
            name = attached.group("file").casefold()
            document = {name, name.rsplit(".", 1)[0]}
            continue
        if _MEDIA.fullmatch(line) or (document and line.casefold() in document):
            document = set()
            continue
        document = set()
        kept.append(row)
    return "\n".join(kept).strip()


def _plain_entries(rows: list[str]) -> list[_Entry]:
    """Messages by speaker; any other line, a heading too, continues the message above."""
    heads = [_plain_head(row) for row in rows]
    speakers = _plain_speakers([name for name, _ in filter(None, heads)])
    entries: list[_Entry] = []
    for row, head in zip(rows, heads, strict=True):
        if head and head[0] in speakers:
            entries.append(_Entry(head[0], [head[1]]))
        elif entries and row.strip():
            entries[-1].text.append(row.strip())
    for entry in entries:
        entry.text = ["\n".join(t for t in entry.text if t.strip())]
    return [e for e in entries if e.text[0]]


def _plain_head(row: str) -> tuple[str, str] | None:
    """The "Name" and text of a row shaped like "Name: text", a name of at most 4 words."""
    said = _PLAIN.match(row)
    if said is None or len(said.group("name").split()) > 4:
        return None
    return said.group("name").strip(), said.group("text") or ""


def _plain_speakers(names: list[str]) -> set[str]:
    """Which "Name:" prefixes are people. A label word ("Nota bene", "PS") never is. A prefix
    that reads like a heading ("Step 2", "Per esempio") is one only if it recurs, or if without
    such prefixes the log would have fewer than two speakers ("Cliente 1" answering once). Any
    other prefix is a name even if said once: the other person in a chat may answer once."""
    seen = Counter(_key(name) for name in names)
    people = {name for name in names if not _is_label(name)}
    sure = {name for name in people if seen[_key(name)] > 1 or not _reads_like_heading(name)}
    return sure if len({_key(name) for name in sure}) >= 2 else people


def _is_label(name: str) -> bool:
    """A heading people put inside a message ("Nota bene", "P.S.", "Oggetto"), not a name."""
    return _LABEL_WORD.fullmatch(name.split()[0].replace(".", "")) is not None


def _reads_like_heading(name: str) -> bool:
    """A number in it ("Punto 3", "Ore 18"), or a lowercase word after a capitalised one ("Per
    esempio", "Last thing"; not "Maria de Luca"): more often a heading than a name."""
    if any(char.isdigit() for char in name):
        return True
    first, *rest = name.split()
    return first[:1].isupper() and any(
        word[:1].islower() and word.casefold() not in _PARTICLES for word in rest
    )


def _key(name: str) -> str:
    """How names are compared: any case and spacing; a phone number by its digits."""
    name = _name(name)
    if _PHONE.fullmatch(name):
        return "tel:" + re.sub(r"\D", "", name)
    return name.casefold()


def _with_roles(
    format: Literal["whatsapp", "text"], entries: list[_Entry], skipped: int, trainee: str | None
) -> ChatLog:
    """The trainee is the speaker the caller named (any case); all others are the client,
    however many there are: a group's other participants are all graded as the client."""
    speakers = list(dict.fromkeys(e.speaker for e in entries if e.speaker))
    listed = ", ".join(speakers) or "none"
    if not trainee or not trainee.strip():
        others = " (everyone else is read as the client)" if len(speakers) > 2 else ""
        raise ChatLogError(
            f"say which speaker is the trainee{others}; speakers in the log: {listed}", speakers
        )
    wanted = _key(trainee)
    if wanted not in {_key(s) for s in speakers}:
        raise ChatLogError(f"'{trainee}' never speaks in the log; speakers: {listed}", speakers)
    lines: list[tuple[Role, str]] = [
        ("trainee" if _key(e.speaker or "") == wanted else "client", e.text[0]) for e in entries
    ]
    return _checked(ChatLog(format, lines, speakers, skipped))


def _checked(log: ChatLog) -> ChatLog:
    if not log.lines:
        raise ChatLogError("the conversation has no messages")
    if not any(role == "trainee" for role, _ in log.lines):
        raise ChatLogError("the conversation has no trainee message to grade")
    return log
