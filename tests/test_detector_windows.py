"""Texts longer than a chat message are read in windows of whole sentences: the quotes stay
where they are, and hostile repetitions cannot hold the server."""

from __future__ import annotations

import time

import pytest

from app.catalog import Catalog
from app.engine.detectors import WHOLE_CHARS, WINDOW_CHARS, detect, move_ids, windows


def test_a_long_text_is_read_in_windows_with_its_quotes_in_place(catalog: Catalog) -> None:
    filler = "The weather was fine and the train was on time. " * 120  # ~5,800 characters
    text = filler + "I understand how worrying this is. What matters most to you?"
    assert len(text) > WHOLE_CHARS
    found = detect(text, "en", catalog.moves)
    assert {"empathy", "question"} <= move_ids(found)  # found past the first window
    assert all(text[d.start : d.end] == d.quote for d in found)
    assert all(end - start <= WINDOW_CHARS for start, end in windows(text))
    assert windows("x" * 2500) == [(0, 1000), (1000, 2000), (2000, 2500)]  # no sentence end


@pytest.mark.parametrize("unit", ["do you mean or ", "defer ", "rinvi ", "x?", "Mi scusi, "])
def test_hostile_repetition_does_not_stall_the_server(catalog: Catalog, unit: str) -> None:
    """20,000 characters of a pattern's favourite words took 20 s before the windows."""
    text = (unit * (20_000 // len(unit)))[:20_000]
    for lang in ("en", "it"):
        started = time.perf_counter()
        detect(text, lang, catalog.moves)  # type: ignore[arg-type]
        assert time.perf_counter() - started < 2.0, (unit, lang)
