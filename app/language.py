"""Which of the two languages a conversation recorded elsewhere is written in, when its sender
does not say. The offline grader reads a message with the move patterns of one language, so
an Italian chat graded as English would find almost nothing; and the grader's notes follow
the conversation's language."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.catalog import Language

# Short words every chat is full of, and that the other language does not use ("a", "i",
# "me", "so" and "do" are words in both).
_ITALIAN = (
    "il lo la gli le un una che non di del della per con sono sei è ho hai ha mi ti ci si ma "
    "se come cosa questo questa anche perché perche più già grazie buongiorno ciao sì allora "
    "quindi lei io tu noi voi molto bene oggi domani dopo poi"
)
_ENGLISH = (
    "the an and you your to is are of it that this my we our not what with have has be does "
    "for can will would could should but thanks hello hi yes just about there they them very "
    "well today tomorrow then"
)
_WORDS: dict[Language, frozenset[str]] = {
    "it": frozenset(_ITALIAN.split()),
    "en": frozenset(_ENGLISH.split()),
}
_WORD = re.compile(r"[^\W\d_]+")


def guess_language(texts: Iterable[str], default: Language = "it") -> Language:
    """The language whose common words the texts use more; `default` on a tie (no words)."""
    hits: dict[Language, int] = dict.fromkeys(_WORDS, 0)
    for text in texts:
        for word in _WORD.findall(text.lower()):
            for language, words in _WORDS.items():
                hits[language] += word in words
    best = max(hits, key=lambda language: hits[language])
    return best if hits[best] > hits[default] else default
