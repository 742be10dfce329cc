"""Literal strings a case-insensitive regex cannot match without: a cheap test that rules a
regex out before it is run.

Most of a message's move regexes find nothing, and a search that finds nothing still tries
every alternative at every position; looking for a few literal strings in the folded text is
much cheaper. The test is exact: it only skips a regex whose every match would contain one of
its needles, and a text where folding is not one character for one character (Turkish İ)
runs every regex.

The needles come from the parsed regex (`re._parser`, CPython's own); a pattern it cannot
read gets no needles and is always run.
"""

from __future__ import annotations

import _sre
import re
from re import _casefix, _constants, _parser  # type: ignore[attr-defined]
from typing import Any

Needles = frozenset[str]

MAX_NEEDLES = 128  # a few µs to look for them all; a move's search that finds nothing, 20-60 µs
# The needles of a move's alternatives joined (a move of many patterns, each with a few dozen
# verbs): a little more, so that one more pattern does not cost the move its prefilter.
MAX_UNION = 160
_LITERAL, _IN, _BRANCH = _constants.LITERAL, _constants.IN, _constants.BRANCH
_SUBPATTERN, _ATOMIC_GROUP = _constants.SUBPATTERN, _constants.ATOMIC_GROUP
_REPEATS = {_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT}


def _case_classes() -> dict[int, str]:
    """Each lowercase character that IGNORECASE equates with others (s and ſ, σ and ς, …) →
    one representative of its class, so that both sides fold to the same string."""
    classes: dict[int, set[int]] = {}
    for code, others in _casefix._EXTRA_CASES.items():
        merged = {code, *others}
        for member in list(merged):
            merged |= classes.get(member, set())
        for member in merged:
            classes[member] = merged
    return {code: chr(min(members)) for code, members in classes.items()}


_CANON = _case_classes()


def _fold_code(code: int) -> str:
    lower = _sre.unicode_tolower(code)
    return _CANON.get(lower, chr(lower))


def fold(text: str) -> str | None:
    """`text` as the needles are written, or None where folding changes its length."""
    lowered = text.lower()
    return lowered.translate(_CANON) if len(lowered) == len(text) else None


def needles(pattern: str) -> Needles | None:
    """Strings one of which is in the folded text wherever `pattern` (IGNORECASE) matches;
    None when no such set is known."""
    try:
        parsed = _parser.parse(pattern, re.IGNORECASE)
    except re.error:
        return None
    found = _best(_candidates(parsed))
    return _minimal(found) if found else None


def _best(candidates: list[Needles]) -> Needles | None:
    """Longer needles rule out more (up to a point); then fewer of them are cheaper to test."""
    return max(candidates, key=lambda n: (min(6, *map(len, n)), -len(n)), default=None)


def _exact(op: object, av: Any) -> set[str] | None:
    """Every folded string one pattern item can match, if it matches only literal strings
    (a letter, a small set of letters, a group of alternative words) and not too many."""
    if op is _LITERAL:
        return {_fold_code(av)}
    if op is _IN and all(kind is _LITERAL for kind, _ in av):
        return {_fold_code(code) for _, code in av}
    if op is _SUBPATTERN:
        return _exact_sequence(av[3])
    if op is _BRANCH:
        found: set[str] = set()
        for branch in av[1]:
            strings = _exact_sequence(branch)
            if strings is None:
                return None
            found |= strings
        return found if len(found) <= MAX_NEEDLES else None
    return None


def _exact_sequence(items: Any) -> set[str] | None:
    strings = {""}
    for op, av in items:
        part = _exact(op, av)
        if part is None or len(strings) * len(part) > MAX_NEEDLES:
            return None
        strings = {prefix + suffix for prefix in strings for suffix in part}
    return strings


def _candidates(items: Any) -> list[Needles]:
    """Needle sets for a sequence, each enough on its own: its runs of literal strings, each
    item of those, and what its required groups hold."""
    found: list[Needles] = []
    run = {""}
    for op, av in items:
        strings = _exact(op, av)
        if strings is not None:
            found += _run(strings)  # on its own too: fewer needles, where the run has too many
            if len(run) * len(strings) <= MAX_NEEDLES:
                run = {prefix + suffix for prefix in run for suffix in strings}
                continue
        found += _run(run)
        run = strings if strings is not None else {""}
        if op is _SUBPATTERN:
            found += _candidates(av[3])
        elif op is _ATOMIC_GROUP:
            found += _candidates(av)
        elif op in _REPEATS and av[0] >= 1:
            found += _candidates(av[2])
        elif op is _BRANCH:
            found += _branch([_candidates(branch) for branch in av[1]])
    return found + _run(run)


def _branch(alternatives: list[list[Needles]]) -> list[Needles]:
    """One needle set per alternative, joined: the best of each, or if that makes too many,
    the best of each within an equal share of MAX_UNION."""
    share = MAX_UNION // max(1, len(alternatives))
    for limit in (MAX_NEEDLES, share):
        picks = [_best([n for n in c if len(n) <= limit]) for c in alternatives]
        if all(picks):
            union = frozenset().union(*picks)  # type: ignore[arg-type]
            if len(union) <= MAX_UNION:
                return [union]
    return []


def _run(strings: set[str]) -> list[Needles]:
    """A run of literals is a requirement only if none of its strings is empty."""
    return [frozenset(strings)] if all(strings) else []


def _minimal(found: Needles) -> Needles:
    """Drop needles that contain another: the shorter one is found wherever they are."""
    return frozenset(n for n in found if not any(m != n and m in n for m in found))
