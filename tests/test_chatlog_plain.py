"""Plain "Name: text" logs: a line inside a message that starts like "Nota bene:" or "PS:"
continues the message; it is not a new speaker."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chatlog import parse_chatlog

CHATS = Path(__file__).parent / "fixtures" / "chats"


def test_italian_labels_inside_messages_continue_them() -> None:
    text = (CHATS / "plain_it_labels.txt").read_text(encoding="utf-8")
    log = parse_chatlog(text, trainee="Giulia Ferri")
    assert log.format == "text" and log.speakers == ["Giulia Ferri", "Mario Rossi"]
    assert log.lines == [
        (
            "trainee",
            "Buonasera signor Rossi, le riassumo quello che ci siamo detti al telefono.\n"
            "Oggetto: revisione del portafoglio\n"
            "Punto 1: per ora non vendiamo nulla\n"
            "Punto 2: giovedì mi porta gli estratti conto",
        ),
        (
            "client",
            "Va bene, ma sono preoccupato. Ho perso il 10% in un mese!\n"
            "Attenzione: non voglio altri rischi, sia chiaro.",
        ),
        (
            "trainee",
            "La capisco. Prima di decidere: a cosa le servono questi soldi, e quando?\n"
            "Nota bene: domani lo studio è chiuso, ci vediamo giovedì alle 18.",
        ),
        ("client", "Per la pensione, tra dieci anni.\nPS: ci sentiamo giovedì allora."),
    ]


def test_english_labels_inside_messages_continue_them() -> None:
    text = """\
Ada: Thanks for the call. Next steps:
Step 1: you send me the brief
Step 2: we agree on a budget
Note: I'm away on Friday.
Luca: Fine, Monday then.
P.S.: my partner wants to join the next call.
Ada: Of course, bring them along.
"""
    log = parse_chatlog(text, trainee="Ada")
    assert log.speakers == ["Ada", "Luca"]
    assert [role for role, _ in log.lines] == ["trainee", "client", "trainee"]
    assert log.lines[0][1].endswith("Step 2: we agree on a budget\nNote: I'm away on Friday.")
    assert log.lines[1] == (
        "client",
        "Fine, Monday then.\nP.S.: my partner wants to join the next call.",
    )


@pytest.mark.parametrize(
    "label",
    [
        "Nota bene",
        "Nota",
        "NB",
        "N.B.",
        "PS",
        "P.S.",
        "Attenzione",
        "Note",
        "Step 3",
        "Ore 18",
        "Oggetto",
        "Link",
        "Re",
        "Importante",
        "Warning",
        "Per esempio",
        "Last thing",
    ],
)
def test_a_label_said_once_is_not_a_speaker(label: str) -> None:
    text = f"Ada: Ci vediamo domani?\nLuca: Sì, alle 10.\n{label}: porto io i documenti.\nAda: Ok."
    log = parse_chatlog(text, trainee="Ada")
    assert log.speakers == ["Ada", "Luca"]
    assert log.lines[1] == ("client", f"Sì, alle 10.\n{label}: porto io i documenti.")


def test_a_label_word_stays_a_label_when_used_in_several_messages() -> None:
    text = "Ada: Ciao.\nPS: domani?\nLuca: Sì.\nPS: alle 10.\nAda: Perfetto.\nPS: a domani."
    log = parse_chatlog(text, trainee="Ada")
    assert log.speakers == ["Ada", "Luca"]
    assert log.lines == [
        ("trainee", "Ciao.\nPS: domani?"),
        ("client", "Sì.\nPS: alle 10."),
        ("trainee", "Perfetto.\nPS: a domani."),
    ]


def test_a_heading_before_the_first_message_is_left_out() -> None:
    text = "Oggetto: preventivo sito\n\nAda: Buongiorno, le mando il preventivo.\nLuca: Grazie."
    log = parse_chatlog(text, trainee="Ada")
    assert log.speakers == ["Ada", "Luca"]
    assert log.lines == [("trainee", "Buongiorno, le mando il preventivo."), ("client", "Grazie.")]


# ---------------------------------------------------------------- real speakers stay speakers


def test_a_two_person_log_where_one_speaks_once_has_both_speakers() -> None:
    text = """\
Ada: Buongiorno Luca, ho visto la sua richiesta.
Ada: Prima di fare un prezzo: cosa le serve davvero, e per quando?
Luca: Un sito semplice, entro marzo.
"""
    log = parse_chatlog(text, trainee="Ada")
    assert log.speakers == ["Ada", "Luca"]
    assert log.lines[-1] == ("client", "Un sito semplice, entro marzo.")


def test_a_two_person_log_where_a_numbered_speaker_speaks_once_has_both() -> None:
    text = "Operatore: Buongiorno, come posso aiutarla?\nOperatore: Mi dica pure.\nCliente 1: Ok."
    log = parse_chatlog(text, trainee="Operatore")
    assert log.speakers == ["Operatore", "Cliente 1"]
    assert log.lines[-1] == ("client", "Ok.")


def test_a_third_person_who_speaks_once_in_a_group_is_a_speaker() -> None:
    text = "Ada: Ciao a tutti.\nLuca: Ciao.\nAda: Partiamo?\nLuca: Sì.\nMarta Greco: Ci sono."
    log = parse_chatlog(text, trainee="Ada")
    assert log.speakers == ["Ada", "Luca", "Marta Greco"]


def test_numbered_speakers_who_recur_are_speakers() -> None:
    text = """\
Cliente 1: Vorrei un preventivo.
Operatore: Certo: per quando?
Cliente 2: Anche io!
Cliente 1: Entro venerdì.
Operatore: Va bene.
Cliente 2: Per me lunedì.
"""
    log = parse_chatlog(text, trainee="Operatore")
    assert log.speakers == ["Cliente 1", "Operatore", "Cliente 2"]
    assert [role for role, _ in log.lines] == ["client", "trainee", "client"] * 2


def test_names_with_particles_are_names() -> None:
    text = "Maria de Luca: Buongiorno.\nAda: Buongiorno, mi dica.\nAda: La ascolto."
    assert parse_chatlog(text, trainee="Ada").speakers == ["Maria de Luca", "Ada"]
