"""The Italian texts that speak to or about the trainee do not assume a man.

Trainees are men and women: the pages, the technique catalogue and the parts of a persona card
shown to the trainee say "hai chiarito", not "sei stato chiaro"; "Ti diamo il benvenuto", not
"Benvenuto". This test scans those texts for a short list of masculine-only forms that address
the trainee, so they do not come back.

Out of scope, on purpose: what the client says (`lines`, which speaks in the client's own voice
and gender, set by the card) and the example sentences the trainee could say to the client
(`better_phrasing`, `phrasings`), whose agreements follow the client.
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


def test_trainee_facing_italian_is_gender_neutral() -> None:
    texts = list(trainee_facing_texts())
    assert len(texts) > 300, "the scan found too few texts: has the layout of the files changed?"
    found = [
        f"{relative} {path}: {pattern.search(text).group(0)!r} in {text!r}"  # type: ignore[union-attr]
        for relative, path, text in texts
        for pattern in FORBIDDEN
        if pattern.search(text)
    ]
    assert not found, "masculine-only forms addressed to the trainee:\n" + "\n".join(found)
