"""The detectors' prefilter: a move's regex is skipped only where it could not have matched,
so the moves found are exactly those the plain regexes find, whatever the text (as read:
typos and shorthand are mended before, see test_spelling)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from app.catalog import LANGUAGES, Language, Move, alternation, load_catalog
from app.config import Settings
from app.engine.detectors import _compiled, _moveset, _read
from app.engine.needles import fold, needles
from app.main import create_app
from tests.test_detectors import CASES

MOVES: dict[str, Move] = load_catalog().moves
EXAMPLES = [t for by_lang in CASES.values() for good, bad in by_lang.values() for t in good + bad]
# Characters IGNORECASE equates with others (ſ/s, K/k, ı/i, ς/σ) or whose lowercase is longer
ODD = ["ſ", "K", "ı", "İ", "Σ", "ς", "ß", "ﬆ", "É", "’"]
WORDS = sorted({w for text in EXAMPLES for w in re.findall(r"\w+|[^\w\s]", text)}) + ODD


def found(text: str, lang: Language) -> set[str]:
    """What the detectors find in the text as read, through the prefilter."""
    return {d.move for d in _read(text, _moveset(lang, MOVES))}


def plain(text: str, lang: str) -> set[str]:
    """What the moves' regexes find with no prefilter."""
    return {
        move.id
        for move in MOVES.values()
        if re.search(alternation(move.patterns[lang]), text, re.IGNORECASE)
    }


def odd_case(text: str) -> str:
    """The same text as a client might type it in caps, or with look-alike letters."""
    return text.upper().replace("S", "ſ", 1).replace("K", "K", 1).replace("I", "ı", 1)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_examples_find_what_the_plain_regexes_find(lang: Language) -> None:
    for text in EXAMPLES + [odd_case(t) for t in EXAMPLES]:
        assert found(text, lang) == plain(text, lang), text


@examples(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=25),
    glue=st.sampled_from([" ", "  ", ", ", ". ", "\n", "? ", ""]),
    lang=st.sampled_from(LANGUAGES),
)
def test_any_text_finds_what_the_plain_regexes_find(
    words: list[str], glue: str, lang: Language
) -> None:
    text = glue.join(words)
    assert found(text, lang) == plain(text, lang)


def test_every_move_gets_a_prefilter() -> None:
    # without one (a Python whose regex parser changed), every move's regex runs on every
    # message again: still right, but the detectors' cost per message doubles or more
    for move in MOVES.values():
        for lang in LANGUAGES:
            assert _compiled(tuple(move.patterns[lang]))[1] is not None, (move.id, lang)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bmi (?:racconti|parli)\b", {"mi racconti", "mi parli"}),
        (r"perch[eé]", {"perche", "perché"}),
        (r"STRASSE", {"strasse"}),
        (r"I.m sorry", {"m sorry"}),  # the longer run wins
        (r"\b(?:a|b)\w+ colour", {" colour"}),
        (r"x|yz", {"x", "yz"}),
        (r"(?:please )?sorry|apologi[sz]e", {"sorry", "apologise", "apologize"}),
    ],
)
def test_needles(pattern: str, expected: set[str]) -> None:
    assert needles(pattern) == expected


@pytest.mark.parametrize("pattern", [r"a?", r"\w+", r"(?:x|)", r"[^a]", r"(", r"x|\d"])
def test_no_needles_where_a_match_needs_no_literal(pattern: str) -> None:
    assert needles(pattern) is None


def test_fold_matches_ignorecase() -> None:
    assert fold("ſORRY") == fold("sorry") == "sorry"
    assert fold("ΣΟΦΟΣ") == fold("σοφος")
    assert fold("İstanbul") is None  # lowercase is one letter longer: every regex runs


def test_start_up_compiles_the_detectors(settings: Settings) -> None:
    # so that the first trainee message after a start does not wait ~70 ms a language for it
    _compiled.cache_clear()
    with TestClient(create_app(settings)):
        assert _compiled.cache_info().currsize == len(
            {tuple(move.patterns[lang]) for move in MOVES.values() for lang in LANGUAGES}
        )
