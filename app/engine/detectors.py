"""Find the trainee's moves in a message, with the exact sentence that shows each one.

Patterns live in `prompts/moves.yaml` (Italian and English); the director uses the moves to
update the client's meters and the heuristic grader quotes the sentences as evidence.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache

import yaml

from app.catalog import LANGUAGES, PROMPTS_DIR, Language, Move, alternation
from app.engine.needles import Needles, fold, needles
from app.engine.spelling import Speller

# A sentence ends at . ! ? … or a line break; the delimiter stays with its sentence.
_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+|$)", re.MULTILINE)
# A text longer than a chat message (a pasted e-mail, an uploaded chat's longest lines) is
# read in windows of whole sentences: some patterns cost a sentence's length squared or
# cubed, and 20,000 hostile characters held the server for 20 s. Shorter texts are read
# whole, as they always were.
WHOLE_CHARS = 4000
# a question that only checks the sentence before it: quoted with that sentence
_CHECK_TAG = re.compile(
    r"(?:(?:e|ok|allora|and|so),? )?(?:è così|e' così|giusto|vero|ho capito bene|dico bene|"
    r"corretto|is that right|is that correct|right|correct|am I right|is that it|"
    r"have I got that right|did I get that right|do I have that right)\s*\?",
    re.IGNORECASE,
)
WINDOW_CHARS = 1000


MoveSet = tuple[tuple[str, tuple[str, ...]], ...]  # (move id, its patterns in one language)


@dataclass(frozen=True, slots=True)
class Detection:
    move: str
    quote: str  # the sentence holding the match: an exact substring of the message
    start: int
    end: int


@lru_cache(maxsize=256)
def _compiled(
    patterns: tuple[str, ...],
) -> tuple[re.Pattern[str], re.Pattern[str] | None, Needles | None]:
    """A move's patterns as one regex (a search per sentence, not a scan per pattern), a
    search for its needles in the folded text (without one of them it cannot match), and
    the needles."""
    regex = alternation(patterns)
    found = needles(regex)
    prefilter = re.compile("|".join(map(re.escape, sorted(found)))) if found else None
    return re.compile(regex, re.IGNORECASE), prefilter, found


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences in `text`, stripped of surrounding blanks."""
    spans = []
    for match in _SENTENCE.finditer(text):
        raw = match.group()
        lead = len(raw) - len(raw.lstrip())
        start, end = match.start() + lead, match.start() + len(raw.rstrip())
        if end > start:
            spans.append((start, end))
    return spans


def detect(text: str, lang: Language, moves: dict[str, Move]) -> list[Detection]:
    """Every move found in `text`, at most one detection per move and sentence, read with
    its typos mended (see `spelling`) and quoted as written.

    Remembered for recent messages: the grader reads again each message the director read
    during the session, and the regexes are the costliest part of a turn."""
    catalog = _moveset(lang, moves)
    mended = _speller(lang, catalog).mend(text)
    if mended is None:
        return _read(text, catalog)
    found = []
    for d in _read(mended.text, catalog):
        start, end = mended.written(d.start), mended.written(d.end)
        found.append(Detection(d.move, text[start:end], start, end))
    return found


def _moveset(lang: Language, moves: dict[str, Move]) -> MoveSet:
    key = tuple((move.id, tuple(move.patterns[lang])) for move in moves.values())
    return _catalogs.setdefault(key, key)


@lru_cache(maxsize=16)
def _speller(lang: Language, moves: MoveSet) -> Speller:
    """Mends the words a move needs: the letter runs of its needles ("racconti" of
    "mi racconti"), four letters or more."""
    pieces = {
        piece
        for _, patterns in moves
        for needle in _compiled(patterns)[2] or ()
        for piece in re.findall(r"[^\W\d_]{4,}", needle)
    }
    wanted = re.compile("|".join(map(re.escape, sorted(pieces, key=len, reverse=True))))
    return Speller(
        lang, lambda word: wanted.search(fold(word) or word) is not None, _shorthand()[lang]
    )


@cache
def _shorthand() -> dict[str, dict[str, str]]:
    """How trainees write in a chat: the same for every catalogue, so read here once."""
    return yaml.safe_load((PROMPTS_DIR / "shorthand.yaml").read_text(encoding="utf-8"))


def _read(text: str, catalog: MoveSet) -> list[Detection]:
    if len(text) <= WHOLE_CHARS:
        return list(_detect(text, catalog))
    found: list[Detection] = []
    for start, end in windows(text):
        for d in _detect(text[start:end], catalog):
            found.append(Detection(d.move, d.quote, d.start + start, d.end + start))
    return found


def windows(text: str) -> list[tuple[int, int]]:
    """Spans of at most WINDOW_CHARS, cut between sentences (inside one only if it is
    longer than a window), covering `text`."""
    cuts = [end for _, end in sentences(text)]
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        limit = start + WINDOW_CHARS
        end = cuts[bisect_right(cuts, limit) - 1] if cuts and cuts[0] <= limit else limit
        end = min(end if end > start else limit, len(text))
        spans.append((start, end))
        start = end
    return spans


# One instance of each set of patterns seen (a handful), so remembered messages share it.
_catalogs: dict[MoveSet, MoveSet] = {}


@lru_cache(maxsize=4096)
def _detect(text: str, moves: MoveSet) -> tuple[Detection, ...]:
    spans = sentences(text)
    starts = [s for s, _ in spans]
    folded = fold(text)
    found: list[Detection] = []
    for move_id, patterns in moves:
        pattern, prefilter, _ = _compiled(patterns)
        if folded is not None and prefilter is not None and not prefilter.search(folded):
            continue  # most moves: none of the needles, no search for the move
        seen: set[int] = set()
        pos = 0
        while match := pattern.search(text, pos):
            at = match.start()
            i = bisect_right(starts, at) - 1
            span = spans[i] if i >= 0 and at < spans[i][1] else None
            start, end = span or (0, len(text))
            if start not in seen:
                seen.add(start)
                quoted = start
                if i > 0 and span and _CHECK_TAG.fullmatch(text, start, end):
                    # "Is that right?", "È così?": the sentence it checks is the evidence
                    quoted = spans[i - 1][0]
                found.append(Detection(move_id, text[quoted:end], quoted, end))
            pos = end if span else at + 1  # one detection per sentence: on to the next one
    found.sort(key=lambda d: (d.start, d.move))
    return tuple(found)


def prepare(moves: dict[str, Move]) -> None:
    """Compile every move's regex and needles, and load the dictionaries, at start-up (about
    0.2 s a language) rather than on the first trainee message."""
    for lang in LANGUAGES:
        for move in moves.values():
            _compiled(tuple(move.patterns[lang]))
        _speller(lang, _moveset(lang, moves))


def move_ids(detections: list[Detection]) -> set[str]:
    return {d.move for d in detections}


def matches(combo: str, present: set[str]) -> bool:
    """`a+b` holds when every listed move is present in the same message."""
    return all(part in present for part in combo.split("+"))
