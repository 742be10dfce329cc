"""Typo tolerance for the detectors: a trainee typing fast writes "promemria", "capsico" or
"whats the goal?", and a move its regex would have seen is lost, so the client misreads the
message and the report card misses it.

Chat shorthand ("whats", "ill", "u", "nn", "perche") is read as the words it stands for (a
table in `prompts/shorthand.yaml`). A longer word is mended when it is rare or unknown in the
language (wordfreq's word frequencies, drawn from subtitles, books, news and the web; see
MEANT), one edit (a letter dropped, added, changed or two swapped) makes it a word at least
MORE_LIKELY times as common, the likeliest such word is one a move needs, and the word as
written is needed by none. So a mended message can only gain the move its author meant; the
evidence quotes the words as typed. Real but rare words stay as they are: "vendermi" is not
"vedermi", nor "Seriate" (a town) "serate", nor "sistemalo" "sistemato".
"""

from __future__ import annotations

import re
import string
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import get_frequency_dict

from app.catalog import Language

MIN_LETTERS = 6  # shorter words have too many neighbours one edit away to guess from
COMMON = 1e-6  # a word met once in a million words or more: a mended word must be as common
MORE_LIKELY = 50  # how much commoner the mended word must be than the word as written
# A word met this often is taken as meant: Italian has many forms (a verb's tenses and persons,
# pronouns joined to it) that are rare in any corpus and one letter from a common word
# ("spiegavo", "partano", "venderle"), so only a word rarer still is mended.
MEANT = {"it": 1e-7, "en": COMMON}
# Pronouns joined to an Italian verb ("sistemalo", "mandameli"): the word is meant when the
# verb is a known word (or an infinitive without its final e: "vender-le").
_ENCLITICS = re.compile(r"(?:glie|me|te|ce|ve|se)?(?:lo|la|li|le|ne)$|(?:mi|ti|ci|vi|si|gli)$")
MAX_LETTERS = 24  # a longer run of letters is no typo (and its edits would cost its square)
# a whole word of letters, not an elided one ("cinquant'anni")
_WORD = re.compile(rf"\b[^\W\d_]{{{MIN_LETTERS},{MAX_LETTERS}}}\b(?!['’])")
_LETTERS = {"it": string.ascii_lowercase + "àèéìíòóù", "en": string.ascii_lowercase}


def one_edit(word: str, letters: str) -> set[str]:
    """Every string one letter dropped, swapped with the next, changed or added away."""
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in cuts if b}
        | {a + b[1] + b[0] + b[2:] for a, b in cuts if len(b) > 1}
        | {a + c + b[1:] for a, b in cuts if b for c in letters}
        | {a + c + b for a, b in cuts for c in letters}
    )


@dataclass(frozen=True, slots=True)
class Mended:
    """A text with its typos mended, and a way back to the text as written."""

    text: str
    edits: tuple[tuple[int, int, int, int], ...]  # (start, end) as written, (start, end) mended

    def written(self, offset: int) -> int:
        """The offset in the text as written of an offset in the mended text (a word's start
        or anything outside a mended word; one inside it is taken to the word's end)."""
        i = bisect_right(self.edits, offset, key=lambda edit: edit[2]) - 1
        if i < 0:
            return offset
        start, end, mended_start, mended_end = self.edits[i]
        if offset == mended_start:
            return start
        return end if offset < mended_end else end + offset - mended_end


class Speller:
    """Mends the typos that matter to one language's moves, and reads its chat shorthand
    (`prompts/shorthand.yaml`) as the words the patterns are written for."""

    def __init__(
        self, language: Language, needed: Callable[[str], bool], shorthand: dict[str, str]
    ) -> None:
        self.language = language
        self.frequency = get_frequency_dict(language, wordlist="large")  # cached by wordfreq
        self.meant = MEANT[language]
        self.letters = _LETTERS[language]
        self.needed = needed  # does a move need this (lowercase) word?
        self.shorthand = {short.lower(): meant for short, meant in shorthand.items()}
        shorts = "|".join(map(re.escape, sorted(self.shorthand, key=len, reverse=True)))
        self.words = re.compile(
            rf"(?<![\w'’])(?:{shorts})(?![\w'’])|{_WORD.pattern}" if shorts else _WORD.pattern,
            re.IGNORECASE,
        )
        self.word = lru_cache(maxsize=65536)(self._word)

    def mend(self, text: str) -> Mended | None:
        """`text` mended, or None when no word in it needs mending (nearly always)."""
        parts: list[str] = []
        edits: list[tuple[int, int, int, int]] = []
        last = length = 0  # where the text as written is read to; the mended text's length
        for match in self.words.finditer(text):
            written = match.group()
            fixed = self.shorthand.get(written.lower()) or self.word(written)
            if fixed is None:
                continue
            parts += [text[last : match.start()], fixed]
            length += match.start() - last
            edits.append((match.start(), match.end(), length, length + len(fixed)))
            length += len(fixed)
            last = match.end()
        if not edits:
            return None
        return Mended("".join([*parts, text[last:]]), tuple(edits))

    def _verb_with_pronoun(self, word: str) -> bool:
        if self.language != "it" or not (pronoun := _ENCLITICS.search(word)):
            return False
        verb = word[: pronoun.start()]
        return any(self.frequency.get(form, 0.0) >= self.meant for form in (verb, verb + "e"))

    def _word(self, word: str) -> str | None:
        lower = word.lower()
        seen = self.frequency.get(lower, 0.0)
        if seen >= self.meant or self.needed(lower) or self._verb_with_pronoun(lower):
            return None
        likelier = max(COMMON, seen * MORE_LIKELY)
        found = [
            (frequency, other)
            for other in one_edit(lower, self.letters)
            if (frequency := self.frequency.get(other, 0.0)) >= likelier
        ]
        if not found:
            return None
        likeliest = max(found)[1]
        if not self.needed(likeliest):
            return None
        if word.isupper():
            return likeliest.upper()
        return likeliest.capitalize() if word[0].isupper() else likeliest
