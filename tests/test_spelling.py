"""Typos and chat shorthand: a move typed the quick way is seen as if spelt out, quoted as
typed, and real words, however rare, are read as written."""

from __future__ import annotations

import pytest

from app.catalog import Catalog, Language
from app.engine.detectors import detect, move_ids
from app.engine.spelling import Speller

# (language, as typed, as spelt out, the move the spelt-out message shows)
TYPED: list[tuple[Language, str, str, str]] = [
    (
        "en",
        "whats really worrying you here, beyond the numbers?",
        "what's really worrying you here, beyond the numbers?",
        "need_question",
    ),
    ("en", "im sure about this one, dont sell.", "I'm sure about this one, don't sell.", "firm"),
    ("en", "dont worry, we've got it covered", "don't worry, we've got it covered", "reassurance"),
    ("en", "what do u think?", "what do you think?", "invite_discussion"),
    ("en", "thats on me, sorry", "that's on me, sorry", "self_examine"),
    (
        "it",
        "Capsico benissimo, è un periodo durissimo.",
        "Capisco benissimo, è un periodo durissimo.",
        "empathy",
    ),
    (
        "it",
        "Ti mando un promemria la sera prima.",
        "Ti mando un promemoria la sera prima.",
        "organization",
    ),
    ("it", "Le sugerisco di tenere i titoli.", "Le suggerisco di tenere i titoli.", "advice"),
    ("it", "cmq nn ti preoccupare", "comunque non ti preoccupare", "reassurance"),
    ("it", "xke hai deciso di vendere?", "perché hai deciso di vendere?", "open_question"),
    (
        "it",
        "Ci sentiamo lunedi alle 9, ti mando il riepilogo.",
        "Ci sentiamo lunedì alle 9, ti mando il riepilogo.",
        "commitment",
    ),
    ("it", "Mi raconti come è andata?", "Mi racconti come è andata?", "open_question"),
]


@pytest.mark.parametrize(("language", "typed", "spelt", "move"), TYPED)
def test_a_move_typed_the_quick_way_is_seen(
    catalog: Catalog, language: Language, typed: str, spelt: str, move: str
) -> None:
    assert move in move_ids(detect(spelt, language, catalog.moves))
    found = detect(typed, language, catalog.moves)
    assert move in move_ids(found)
    for detection in found:  # the evidence is the trainee's own words, as typed
        assert detection.quote == typed[detection.start : detection.end]
        assert detection.quote in typed


def test_a_negation_typed_the_quick_way_still_negates(catalog: Catalog) -> None:
    # "nn" is "non": not the cold e-mail about money, but the refusal of it
    assert "email_channel" not in move_ids(
        detect("nn mi va di mandarti una mail", "it", catalog.moves)
    )


def test_quotes_after_a_mended_word_keep_their_place(catalog: Catalog) -> None:
    # "u" → "you", "r" → "are", "whats" → "what's" move every later offset in the mended text
    typed = "ok u r right, thx. whats the plan for the fair?"
    found = {d.move: d for d in detect(typed, "en", catalog.moves)}
    assert found["open_question"].quote == "whats the plan for the fair?"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # real words, rare in any corpus and one letter from a common one
        ("it", "Potrebbe vendermi la casa di Seriate, o venderle entrambe."),
        ("it", "Sistemalo tu, che spiegavo male; partano pure."),
        ("it", "Inoltro la mail delle consulenze a cinquant'anni dalla fondazione."),
        ("en", "He recommended we apologize to the team."),
    ],
)
def test_real_words_are_read_as_written(language: Language, text: str) -> None:
    every_word_needed = Speller(language, lambda word: True, {})
    assert every_word_needed.mend(text) is None


def test_a_typo_is_mended_only_towards_a_word_a_move_needs() -> None:
    typo = "ti mando un promemria"
    assert Speller("it", lambda word: False, {}).mend(typo) is None
    mended = Speller("it", lambda word: word == "promemoria", {}).mend(typo)
    assert mended is not None and mended.text == "ti mando un promemoria"
