"""The Italian texts that speak to or about the trainee do not assume a man.

Trainees are men and women: the pages, the technique catalogue and the parts of a persona card
shown to the trainee say "hai chiarito", not "sei stato chiaro"; "Ti diamo il benvenuto", not
"Benvenuto". This test scans those texts for a short list of masculine-only forms that address
the trainee, so they do not come back.

Out of scope, on purpose: what the client says (`lines`, which speaks in the client's own voice
and gender, set by the card).

The example sentences the trainee is told to say (`better_phrasing` in the technique catalogue,
`phrasings` in the cards) speak in the trainee's own voice: agreements that follow the client
("ti senti scoperto" to a male client) are fine, but the trainee's own gender is not assumed
("non mi sono spiegata", "ne sono convinto") and the trainee is given no name ("Piacere, sono
Giulia", "I'm Elena"). Those are checked in both languages by FIRST_PERSON below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# Masculine-only forms addressed to "tu" (the trainee) or naming the trainee.
FORBIDDEN = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(?<!\bil )(?<!\bun )\bben(?:venut|tornat)[oi]\b",  # "il benvenuto", the noun, is fine
        r"\bsei (?:stato|pronto|sicuro|convinto|bravo|libero|tranquillo|calmo)\b",
        r"\bsei (?:preparato|riuscito|arrivato)\b",
        r"\bsarai \w+(?:at|ut|it)o\b",
        r"\bti sei \w+(?:at|ut|it)o\b",
        r"\b(?:resti|rimani|sii|stai) (?:calmo|tranquillo|sereno|fermo)\b",
        r"\balliev[oi]\b",
    )
]


# In the trainee's own voice (suggested phrasings): a gendered first person, or a first name.
FIRST_PERSON = [
    re.compile(p, re.IGNORECASE)
    for p in (
        # "mi sono spiegata", "mi sono confuso": reflexive past participles agree with the speaker
        r"\bmi sono (?:\w+(?:at|ut|it)[oa]|confus[oa]|pers[oa]|mess[oa])\b",
        # "sono stata chiara", "ero andato": participles with essere
        r"\b(?:sono|ero|sarò|fossi) (?:stat|andat|venut|arrivat|riuscit|partit|tornat)[oa]\b",
        # "ne sono convinto", "sono sicura", "mi sento pronto"
        r"\b(?:ne )?(?:sono|ero|sarò|resto|rimango|mi sento) (?:\w+ )?(?:sicur|convint|cert|"
        r"content|pront|dispiaciut|liet|preoccupat|stanc|soddisfatt|obbligat|costrett|dispost|"
        r"arrabbiat|offes)[oa]\b",
        # "sono la sua consulente", "sono il tuo nuovo consulente"
        r"\bsono (?:il|la|un|una) (?:(?:tu|su|vostr)[oa] )?(?:nuov[oa] )?(?:consulent|"
        r"professionist|avvocat|commercialist|architett|sviluppat|grafic|referent)\w*",
        # a first name: "Piacere, sono Giulia", "I'm Giulia", "mi chiamo", "my name is"
        r"\b(?:piacere,? )?sono (?-i:[A-Z][a-zàèéìòù]+)\b",
        r"\bI(?:.m| am) (?-i:[A-Z][a-z]+)\b(?!-)",
        r"\bmi chiamo\b|\bmy name is\b|(?-i:\b[A-Z][a-z]+) here(?=[,.!:])",
    )
]


# The fields of a persona card that describe the situation to the trainee or speak to them.
CARD_FIELDS = (
    "title", "situation", "trainee_role", "personality", "goal",
    "signature_behaviours", "softened_by", "hardened_by", "walk_away_rules",
)  # fmt: skip


def _italian(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string under an `it` key below `node`, with its dotted path."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            if key == "it":
                values = value if isinstance(value, list) else [value]
                for i, text in enumerate(values):
                    if isinstance(text, str):
                        yield (sub if len(values) == 1 else f"{sub}.{i}"), text
            else:
                yield from _italian(value, sub)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _italian(value, f"{path}.{i}")


def _load(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def trainee_facing_texts() -> Iterator[tuple[str, str, str]]:
    for relative in ("app/templates/i18n.yaml", "prompts/texts.yaml"):
        for path, text in _italian(_load(relative), ""):
            yield relative, path, text
    for technique in _load("prompts/techniques.yaml"):
        where = f"{technique['id']}"
        for field in ("name", "description"):
            for path, text in _italian({field: technique[field]}, where):
                yield "prompts/techniques.yaml", path, text
        for field in ("cues", "anti_patterns"):
            for path, text in _italian({field: technique[field]["text"]}, where):
                yield "prompts/techniques.yaml", path, text
    for card_file in sorted((ROOT / "personas").glob("*.yaml")):
        relative = f"personas/{card_file.name}"
        card = _load(relative)
        for field in CARD_FIELDS:
            if field in card:
                for path, text in _italian({field: card[field]}, ""):
                    yield relative, path, text
        for level, spec in (card.get("difficulty") or {}).items():
            for path, text in _italian({"description": spec["description"]}, f"difficulty.{level}"):
                yield relative, path, text


@pytest.mark.parametrize(
    "text",
    ["Sei stato chiaro.", "Benvenuto!", "Su che cosa sarai valutato", "ti sei liberato di lui",
     "Se resti calmo", "Nota per gli allievi", "Bentornato"],
)  # fmt: skip
def test_the_patterns_catch_the_masculine_forms(text: str) -> None:
    assert any(p.search(text) for p in FORBIDDEN)


@pytest.mark.parametrize(
    "text",
    ["Hai chiarito il punto.", "Ti diamo il benvenuto!", "Un benvenuto a tutti",
     "Che cosa conta nella valutazione", "hai evitato un cattivo cliente", "Se mantieni la calma",
     "trattate da allieve"],
)  # fmt: skip
def test_the_patterns_leave_neutral_forms_alone(text: str) -> None:
    assert not any(p.search(text) for p in FORBIDDEN)


def _offending(texts: list[tuple[str, str, str]], patterns: list[re.Pattern[str]]) -> list[str]:
    """Where each text matches a pattern: its file, its place in the file, the words."""
    return [
        f"{relative} {path}: {found.group(0)!r} in {text!r}"
        for relative, path, text in texts
        for pattern in patterns
        if (found := pattern.search(text))
    ]


def test_trainee_facing_italian_is_gender_neutral() -> None:
    texts = list(trainee_facing_texts())
    assert len(texts) > 300, "the scan found too few texts: has the layout of the files changed?"
    found = _offending(texts, FORBIDDEN)
    assert not found, "masculine-only forms addressed to the trainee:\n" + "\n".join(found)


def suggested_phrasings() -> Iterator[tuple[str, str, str]]:
    """What the trainee is told to say, both languages: the techniques' `better_phrasing` and
    the cards' `phrasings`."""
    for technique in _load("prompts/techniques.yaml"):
        for lang in ("it", "en"):
            text = technique["better_phrasing"][lang]
            yield "prompts/techniques.yaml", f"{technique['id']}.better_phrasing.{lang}", text
    for card_file in sorted((ROOT / "personas").glob("*.yaml")):
        relative = f"personas/{card_file.name}"
        for technique, texts in (_load(relative).get("phrasings") or {}).items():
            for lang in ("it", "en"):
                yield relative, f"phrasings.{technique}.{lang}", texts[lang]


@pytest.mark.parametrize(
    "text",
    ["Forse non mi sono spiegata bene su come procediamo.",
     "Forse non mi sono spiegato bene.",
     "Sono stata poco chiara, scusami.",
     "Ho fatto i conti e ne sono convinto.",
     "Sono sicura che sia la scelta giusta.",
     "Buongiorno, sono la sua nuova consulente.",
     "Piacere, sono Giulia: aiuto professionisti con LinkedIn.",
     "Piacere, sono Elena e mi occupo di comunicazione.",
     "Nice to meet you, I'm Giulia and I help professionals.",
     "Hi, I am Elena: I handle communication.",
     "Mi chiamo Marco e mi occupo di siti.",
     "Laura here, writing for Chiara too."],
)  # fmt: skip
def test_the_patterns_catch_a_gendered_or_named_trainee(text: str) -> None:
    assert any(p.search(text) for p in FIRST_PERSON), text


@pytest.mark.parametrize(
    "text",
    ["Credo che la mia spiegazione su come procediamo non fosse abbastanza chiara.",
     "Forse la mia spiegazione non era chiara.",
     "Forse non le ho spiegato bene il mio ragionamento.",
     "Ho fatto i conti e non ho dubbi.",
     "Capisco che tu abbia paura e che ti senta scoperto.",
     "Piacere! Mi occupo di comunicazione per aziende come la sua.",
     "Sono qui per aiutarla, e sono d'accordo con lei.",
     "Davide, per seguirti bene facciamo così.",
     "Nice to meet you! I help companies like yours with their communication.",
     "I'm sure of it: I'm not going to change my advice.",
     "Maybe I didn't explain well how we're proceeding.",
     "From here on, though, we're into real consultancy."],
)  # fmt: skip
def test_the_patterns_leave_neutral_phrasings_alone(text: str) -> None:
    assert not any(p.search(text) for p in FIRST_PERSON), text


def test_suggested_phrasings_assume_no_gender_and_no_name_for_the_trainee() -> None:
    texts = list(suggested_phrasings())
    assert len(texts) > 100, "the scan found too few phrasings: has the layout changed?"
    found = _offending(texts, FIRST_PERSON)
    assert not found, "a gender or a name given to the trainee:\n" + "\n".join(found)
