"""Real conversations into gradable lines: JSON, plain chat logs, WhatsApp exports; the
upload endpoint and `sparring grade` on top of them."""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.chat_grading import recent
from app.chatlog import ChatLogError, parse_chatlog, read_chatlog
from app.cli import cli
from app.config import Settings
from app.drills import error_text
from app.engine.grader import Role
from app.main import create_app
from app.models import MAX_GRADED_CHARS, MAX_LINE_CHARS

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


# ---------------------------------------------------------------- real exports

CHATS = Path(__file__).parent / "fixtures" / "chats"


def chat(name: str) -> str:
    return (CHATS / name).read_text(encoding="utf-8")


ADVISER_LINES = [
    (
        "client",
        "Buonasera dottoressa, scusi l'ora.\n"
        "Ho visto che il fondo ha perso il 4% in un mese: mi aveva detto che era prudente!",
    ),
    (
        "trainee",
        "Buonasera Mario, capisco la preoccupazione.\n"
        "Prima di tutto: cosa la preoccupa di più, la perdita di oggi o l'obiettivo a cinque anni?",
    ),
    ("client", 'Tutte e due. E non mi dica "è il mercato"\n21:30 domani? Prima non posso.'),
    (
        "trainee",
        "Va bene alle 21:30. Le preparo il confronto tra il fondo e il suo profilo di rischio ✅",
    ),
    ("client", "Ecco l'estratto. Ore 10:15 - ho chiamato la banca e non risponde nessuno"),
    (
        "trainee",
        "Buongiorno Mario. Le scrivo i punti per stasera:\n1) perdita attuale: -4,1%\n"
        "2) orizzonte: 5 anni\n3) costo della consulenza: 150 € l'ora, come da contratto",
    ),
    ("client", "150 l'ora?! Per dirmi di aspettare? 😡"),
]


def test_android_export_italian_24h() -> None:
    """Colons, times and a "10:15 - " inside messages; a document's name repeated below it."""
    log = parse_chatlog(chat("android_it_24h.txt"), trainee="Giulia Ferri")
    assert log.format == "whatsapp" and log.speakers == ["Mario Rossi", "Giulia Ferri"]
    assert log.lines == ADVISER_LINES
    assert log.skipped == 4  # encryption notice, media, deleted message, the bank statement


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: t,
        lambda t: t.replace(" PM - ", f"{NNBSP}PM - ").replace(" AM - ", f"{NNBSP}AM - "),
        lambda t: t.replace("/26, ", "/2026, "),  # four-digit year
    ],
    ids=["12h", "narrow-space-before-pm", "4-digit-year"],
)
def test_android_export_english_12h_with_a_phone_number_for_a_name(
    variant: Callable[[str], str],
) -> None:
    log = parse_chatlog(variant(chat("android_en_12h.txt")), trainee="dana whitfield")
    client = "+1 415 555 0134"
    assert log.speakers == [client, "Dana Whitfield"]
    assert [role for role, _ in log.lines] == ["client"] + ["client", "trainee"] * 3
    assert log.lines[3] == (
        "client",
        'That\'s the report. He wrote "carpet damage: $1,800" which is a lie',
    )
    assert log.lines[5] == ("client", "$200?? Can't you just tell me if I'll win 😤")
    assert log.lines[-1][1].endswith("- write a demand letter\nWould Thursday 10:00 AM work?")
    assert log.skipped == 4  # encryption notice, media, two deleted messages


def test_iphone_export_italian_with_documents_calls_and_gifs() -> None:
    log = parse_chatlog(chat("ios_it.txt"), trainee="Luca Marin")
    assert log.speakers == ["Franca Bianchi 🌸", "Luca Marin"]
    assert log.lines == [
        ("client", "Luca ho bisogno del piano marketing entro venerdì, il cda è lunedì"),
        (
            "trainee",
            "Buonasera Franca. Venerdì è stretto ma vediamo.\n"
            "Mi dice cosa deve decidere il cda: budget o canali?",
        ),
        ("client", "Tutti e due. Il preventivo che mi ha mandato: 4.800 € sono troppi"),
        (
            "trainee",
            "Questo è il dettaglio. Possiamo togliere la parte social e scendere a 3.200 €.",
        ),
        ("client", "Va bene ma i social mi servono"),
        (
            "trainee",
            "Allora facciamo così: social in una seconda fase, da gennaio.\n"
            "Le mando il calendario entro le 18:00.",
        ),
    ]
    # encryption, photo, missed call, attached photo, attached offer, deleted, contract, GIF
    assert log.skipped == 8


def test_iphone_export_english_names_a_phone_number_as_people_read_it() -> None:
    """iPhones wrap an unsaved number in invisible U+202A…U+202C marks."""
    text = chat("ios_en_12h.txt")
    assert "\u202a+44 7700 900123\u202c" in text
    log = parse_chatlog(text, trainee="Priya Nair")
    assert log.speakers == ["+44 7700 900123", "Priya Nair"]
    assert log.lines == [
        (
            "client",
            "Hi Priya, got your number from Tom. Quick one: how do I get investors for my app?",
        ),
        (
            "trainee",
            "Hi! Happy to help. Before investors: who pays for the app today, "
            "and how many of them?",
        ),
        ("client", "Nobody yet lol. But it's like Uber for dog walkers 🐕"),
        (
            "trainee",
            "Then investors will ask the same question. My first session is £150: we work out "
            "who pays and what to test before you pitch.\nWant me to send times for next week?",
        ),
        ("client", "£150 just to talk??"),
        (
            "trainee",
            "It's a working session, not a chat: you leave with a plan. "
            "Options: Tue 10:00 AM or Thu 4:30 PM.",
        ),
    ]
    assert log.skipped == 6  # encryption, missed call, photo, deleted, pitch deck, location
    as_number = parse_chatlog(text, trainee="+447700900123")  # spaced as the user types it
    assert [role for role, _ in as_number.lines] == ["trainee", "client"] * 3
    assert parse_chatlog(text, trainee="priya\u00a0 NAIR").lines == log.lines  # any spacing


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode(),
        lambda t: ("\ufeff" + t).encode(),  # UTF-8 with a BOM
        lambda t: t.replace("\n", "\r\n").encode(),  # Windows line endings
        lambda t: ("\ufeff" + t.replace("\n", "\r\n")).encode(),
        lambda t: t.encode("utf-16"),  # with its byte-order mark
        lambda t: t.encode("utf-16-le"),  # saved by Windows tools with no mark
        lambda t: t.encode("utf-16-be"),
    ],
    ids=["utf8", "bom", "crlf", "bom-crlf", "utf16", "utf16le-no-bom", "utf16be-no-bom"],
)
def test_encodings_and_line_endings_read_the_same(encode: Callable[[str], bytes]) -> None:
    for name, trainee in (("android_it_24h.txt", "Giulia Ferri"), ("ios_it.txt", "Luca Marin")):
        expected = parse_chatlog(chat(name), trainee=trainee)
        assert read_chatlog(encode(chat(name)), trainee=trainee) == expected


def test_a_utf16_file_cut_short_is_read_not_crashed() -> None:
    data = "Ada: Buongiorno\nLuca: Salve".encode("utf-16")
    assert read_chatlog(data[:-1], trainee="Ada").lines[0] == ("trainee", "Buongiorno")


def zipped(*members: tuple[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "trainee"),
    [
        (  # an iPhone export re-zipped on a Mac: the "._" shadow file comes first
            [("__MACOSX/._chat.txt", b"\x00\x05\x16\x07\x00\x02Mac OS X"), ("_chat.txt", "ios_it")],
            "Luca Marin",
        ),
        (  # a document the client sent, also a .txt with "chat" in its name
            [("00000012-Appunti chat cda.txt", "Note: budget"), ("_chat.txt", "ios_it")],
            "Luca Marin",
        ),
        (  # Android, in a folder, in UTF-16
            [("Chat WhatsApp con Mario Rossi/Chat WhatsApp con Mario Rossi.txt", "utf16")],
            "Giulia Ferri",
        ),
    ],
    ids=["mac-shadow-file", "txt-attachment", "android-utf16"],
)
def test_whatsapp_zips(members: list[tuple[str, str | bytes]], trainee: str) -> None:
    files = {"ios_it": "ios_it.txt", "utf16": "android_it_24h.txt"}
    contents = {
        "ios_it": chat("ios_it.txt").encode(),
        "utf16": chat("android_it_24h.txt").encode("utf-16"),
    }
    data = zipped(*((name, contents.get(str(content), content)) for name, content in members))
    chosen = next(files[str(c)] for _, c in members if c in files)
    assert read_chatlog(data, trainee=trainee) == parse_chatlog(chat(chosen), trainee=trainee)


def test_a_damaged_or_locked_zip_says_why() -> None:
    damaged = bytearray(zipped(("_chat.txt", "12/03/24, 21:16 - Ada: Buongiorno\n" * 50)))
    damaged[60] ^= 0xFF  # inside the compressed text: the checksum fails
    locked = bytearray(zipped(("_chat.txt", "12/03/24, 21:16 - Ada: Buongiorno\n")))
    locked[6] |= 1  # the "encrypted" flag, in the file's header and the directory
    locked[locked.find(b"PK\x01\x02") + 8] |= 1
    for data, message in ((damaged, "cannot read _chat.txt"), (locked, "password-protected")):
        with pytest.raises(ChatLogError, match=message):
            read_chatlog(bytes(data), trainee="Ada")


def test_group_chat_on_android_italian() -> None:
    """A lawyer with two heirs: group notices (one quoting a subject with a colon) are left
    out, and the dates she lists stay in her message though they look like message headers."""
    log = parse_chatlog(chat("group_android_it.txt"), trainee="Avv. Elena Conti")
    assert log.speakers == ["Avv. Elena Conti", "Paolo Greco", "Marta Greco"]
    assert log.lines == [
        (
            "trainee",
            "Buongiorno a entrambi. Ho creato il gruppo per avere tutto in un posto.\n"
            "Le prossime date sono:\n20/01/2027 10:00 - incontro in studio\n"
            "03/02/2027 15:30 - Agenzia delle Entrate: scadenza per la dichiarazione",
        ),
        ("client", "Avvocato, la casa al mare deve restare a me, mia sorella lo sa"),
        ("client", "Non è vero!! Papà non ha mai detto questo"),
        (
            "trainee",
            "Capisco che sia un momento difficile. Assisto entrambi come eredi: non posso "
            "prendere le parti di uno dei due.\nNe parliamo il 20 con le carte davanti?",
        ),
    ]
    assert log.skipped == 6  # created, added, joined, encrypted, subject changed, left


def test_group_chat_on_iphone_files_notices_under_the_groups_name() -> None:
    log = parse_chatlog(chat("group_ios_en.txt"), trainee="James Okafor")
    assert log.speakers == ["James Okafor", "Simon Harper", "Ruth Harper"]  # not the group
    assert [role for role, _ in log.lines] == ["trainee", "client", "client", "trainee"]
    assert log.lines[1] == ("client", "Why is Ruth getting the house? This was never agreed.")
    assert log.skipped == 7


def test_a_group_chat_grades_every_other_participant_as_the_client() -> None:
    """The rule for a group: the trainee is named, all the others are the client."""
    text = chat("group_android_it.txt")
    with pytest.raises(ChatLogError) as caught:
        parse_chatlog(text)
    assert str(caught.value) == (
        "say which speaker is the trainee (everyone else is read as the client); "
        "speakers in the log: Avv. Elena Conti, Paolo Greco, Marta Greco"
    )
    assert caught.value.speakers == ["Avv. Elena Conti", "Paolo Greco", "Marta Greco"]
    as_heir = parse_chatlog(text, trainee="Marta Greco")
    assert [role for role, _ in as_heir.lines] == ["client", "client", "trainee", "client"]


ANDROID, IPHONE = "12/03/24, 21:15 - ", "[12/03/24, 21:15:00] "


@pytest.mark.parametrize(
    "row",
    [
        ANDROID + "Messages and calls are end-to-end encrypted. Only people in this chat can "
        "read, listen to, or share them. Learn more.",
        ANDROID + "I messaggi e le chiamate sono crittografati end-to-end. Solo le persone in "
        "questa chat possono leggerli, ascoltarli o condividerli.",
        ANDROID + "Luca Neri joined using this group's invite link",
        ANDROID + "Luca Neri si è unito tramite il link di invito al gruppo",
        ANDROID + "Marco Rossi: <Media omitted>",
        ANDROID + "Marco Rossi: <Media omessi>",
        ANDROID + "Marco Rossi: This message was deleted",
        ANDROID + "Marco Rossi: Questo messaggio è stato eliminato",
        ANDROID + "Marco Rossi: This message was deleted by admin Sara Bianchi",
        ANDROID + "Marco Rossi: Questo messaggio è stato eliminato da un amministratore",
        ANDROID + "Marco Rossi: Mutuo_Rossi.pdf (file allegato)\nMutuo_Rossi",
        ANDROID
        + "Marco Rossi: Studio Bianchi\nMilano\nposizione: https://maps.google.com/?q=45.46,9.19",
        ANDROID + 'Sara Bianchi changed the subject to "Rossi: mutuo"',
        ANDROID + "Sara Bianchi ha cambiato l'oggetto in “Rossi: mutuo”",
        ANDROID + "Your security code with Marco Rossi changed. Tap to learn more.",
        IPHONE + f"Marco Rossi: {LRM}{ENCRYPTED_EN}",
        IPHONE + f"Marco Rossi: {LRM}{ENCRYPTED_IT}",
        IPHONE + f"Marco Rossi: {LRM}Messages to this chat and calls are now secured with "
        "end-to-end encryption. Tap for more info.",
        IPHONE + f"Marco Rossi: {LRM}image omitted",
        IPHONE + f"Marco Rossi: {LRM}immagine omessa",
        IPHONE + f"Marco Rossi: {LRM}GIF esclusa",
        IPHONE + f"Marco Rossi: {LRM}sticker non incluso",
        IPHONE + f"Marco Rossi: {LRM}<allegato: 00000012-PHOTO-2024-03-12-21-15-00.jpg>",
        IPHONE + f"Marco Rossi: Mutuo • {LRM}2 pagine {LRM}<allegato: 00000013-Mutuo.pdf>",
        IPHONE + f"Marco Rossi: Mutuo • {LRM}2 pagine {LRM}documento omesso",
        IPHONE + f"Marco Rossi: Mutuo • {LRM}2 pages {LRM}document omitted",
        IPHONE + f"Marco Rossi: {LRM}Missed voice call. {LRM}Tap to call back",
        IPHONE + f"Marco Rossi: {LRM}Chiamata vocale persa. {LRM}Tocca per richiamare",
        IPHONE + f"Marco Rossi: {LRM}Videochiamata persa",
        IPHONE + f"Marco Rossi: {LRM}This message was deleted.",
        IPHONE + f"Marco Rossi: {LRM}Location: https://maps.google.com/?q=45.46,9.19",
        IPHONE + f"Marco Rossi: {LRM}This business uses a secure service from Meta to manage "
        "this chat. Tap to learn more.",
        IPHONE + f"Marco Rossi: {LRM}Marco Rossi ha attivato i messaggi effimeri. I nuovi "
        "messaggi scompariranno da questa chat 7 giorni dopo l'invio.",
        IPHONE + f"{LRM}Sara Bianchi added Luca Neri",  # an older iPhone: no sender
        IPHONE + f"Pratica Rossi: {LRM}Sara Bianchi added Luca Neri",  # the group's name
        IPHONE + f"Pratica: Rossi: {LRM}Luca Neri joined using this group's invite link",
    ],
    ids=lambda row: row.removeprefix(ANDROID).removeprefix(IPHONE).replace(LRM, "")[:50],
)
def test_system_lines_are_left_out(row: str) -> None:
    stamp = ANDROID if row.startswith(ANDROID) else IPHONE
    text = (
        f"{stamp}Marco Rossi: Ciao Sara, una domanda veloce sul mutuo\n{row}\n"
        f"{stamp}Sara Bianchi: Ciao Marco, dimmi pure\n"
    )
    log = parse_chatlog(text, trainee="Sara Bianchi")
    assert log.speakers == ["Marco Rossi", "Sara Bianchi"]
    assert log.lines == [
        ("client", "Ciao Sara, una domanda veloce sul mutuo"),
        ("trainee", "Ciao Marco, dimmi pure"),
    ]
    assert log.skipped == 1


@pytest.mark.parametrize(
    "said",
    [
        "Videochiamata persa, scusa: ero in udienza. Ti richiamo alle 18?",
        "Voice call me back when you can, I'm free after 6",
        "Paolo ha aggiunto una clausola al contratto, la guardiamo insieme?",
        "Marco left the papers at reception",
        "Ho visto la tua posizione: https://maps.google.com/?q=45.46,9.19 ci vediamo lì",
    ],
)
def test_messages_that_only_sound_like_notices_are_kept(said: str) -> None:
    text = f"12/03/24, 21:14 - Marco Rossi: Mi richiami?\n12/03/24, 21:15 - Sara Bianchi: {said}\n"
    log = parse_chatlog(text, trainee="Sara Bianchi")
    assert log.lines == [("client", "Mi richiami?"), ("trainee", said)] and log.skipped == 0


def test_an_export_after_a_title_or_a_cut_message_is_still_whatsapp() -> None:
    for before in ("Chat WhatsApp con Mario Rossi", "...e quindi niente, ci sentiamo"):
        log = parse_chatlog(f"{before}\n{chat('android_it_24h.txt')}", trainee="Giulia Ferri")
        assert log.format == "whatsapp" and log.lines == ADVISER_LINES


def test_a_copy_from_whatsapp_web_reads_as_a_plain_log() -> None:
    log = parse_chatlog(chat("web_copy_it.txt"), trainee="Giulia Ferri")
    assert log.format == "text" and log.speakers == ["Mario Rossi", "Giulia Ferri"]
    assert [role for role, _ in log.lines] == ["client", "trainee"] * 2
    assert log.lines[2] == ("client", "Tra 10 anni, per la pensione.\nMa intanto perdo!")


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
    assert "fewer than half of the verdicts" in result.stderr  # the offline grader's caveat
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


# ---------------------------------------------------------------- hostile files


def test_a_long_message_costs_its_length_not_its_length_squared() -> None:
    """One message of 200,000 blanks (or of a notice's words repeated) used to hold the
    server for 40 s: WhatsApp's notice patterns ran on it, and they backtrack."""
    stamp = "[12/03/24, 21:14:05]"
    for filler in (" " * 200_000, "security code " * 15_000, "Location: (x) " * 15_000):
        data = f"{stamp} Ada: hello\n{stamp} Bob: {filler}x\n".encode()
        started = time.perf_counter()
        log = read_chatlog(data, trainee="Ada")
        assert time.perf_counter() - started < 2.0, filler[:20]
        assert len(log.lines) == 2


def test_a_zip_that_lies_about_its_size_is_not_inflated() -> None:
    """A "zip bomb": the chat declares 100 bytes and inflates to 50 MB."""
    real = 50 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_chat.txt", b"\0" * real)
    bomb = buffer.getvalue().replace(struct.pack("<I", real), struct.pack("<I", 100))
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(ChatLogError):
            read_chatlog(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"{peak / 1e6:.0f} MB allocated"


def test_json_nested_too_deep_is_a_clear_refusal() -> None:
    with pytest.raises(ChatLogError, match="nested too deep"):
        read_chatlog(b"[" * 100_000 + b"]" * 100_000)


def test_a_grade_reads_at_most_so_many_characters_of_a_chat() -> None:
    """A chat of long messages is graded on its last ones that fit, each cut to the length a
    transcript line takes: the model is never sent megabytes."""
    long = "Let me explain the whole plan in detail. " * 1000  # 41,000 characters
    lines: list[tuple[Role, str]] = [("trainee", long), ("client", "ok")] * 20
    graded = recent(lines)
    assert 0 < len(graded) < len(lines) and graded[-1] == ("client", "ok")
    assert all(len(text) <= MAX_LINE_CHARS for _, text in graded)
    assert sum(len(text) for _, text in graded) <= MAX_GRADED_CHARS
    assert recent([("trainee", "x" * 300_000)]) == [("trainee", "x" * MAX_LINE_CHARS)]
