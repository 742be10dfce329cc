"""UI strings in Italian and English (app/templates/i18n.yaml, loaded once) and the
choice of language: `?lang=` (remembered in a cookie), the cookie, then Accept-Language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request

from app.catalog import LANGUAGES, Language, counted

STRINGS_FILE = Path(__file__).resolve().parent.parent / "templates" / "i18n.yaml"
LANG_COOKIE = "lang"
FALLBACK: Language = "en"


def _flatten(prefix: str, node: Any, into: dict[str, dict[str, str]]) -> None:
    leaf = isinstance(node, dict) and all(isinstance(v, str) for v in node.values())
    if leaf and set(node) == set(LANGUAGES):
        into[prefix] = {lang: node[lang] for lang in LANGUAGES}
        return
    if not isinstance(node, dict) or leaf:
        raise ValueError(f"{STRINGS_FILE}: '{prefix}' needs a text per language {LANGUAGES}")
    for key, child in node.items():
        _flatten(f"{prefix}.{key}" if prefix else str(key), child, into)


@lru_cache
def strings() -> dict[str, dict[str, str]]:
    """Every UI string, as 'section.key' → {it, en}; a missing language fails at load."""
    into: dict[str, dict[str, str]] = {}
    _flatten("", yaml.safe_load(STRINGS_FILE.read_text(encoding="utf-8")), into)
    return into


class Translator:
    """t('section.key', name=value) in the page's language; an unknown key raises KeyError."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang

    def __call__(self, key: str, **values: object) -> str:
        text = strings()[counted(key, values.get("count"), strings())][self.lang]
        return text.format(**values) if values else text

    def maybe(self, key: str, default: str) -> str:
        """The string if the key exists (e.g. a persona's own meter), else `default`."""
        entry = strings().get(key)
        return entry[self.lang] if entry else default


def _valid(value: str | None) -> Language | None:
    return value if value in LANGUAGES else None  # type: ignore[return-value]


def from_accept_language(header: str | None) -> Language | None:
    """The first supported language in an Accept-Language header, by preference."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            choices.append((-quality, index, tag.split("-")[0].lower()))
    for _, _, primary in sorted(choices):
        if lang := _valid(primary):
            return lang
    return None


def chosen_language(request: Request) -> tuple[Language, bool]:
    """The page's language, and whether it was asked for now (to remember it in a cookie)."""
    if asked := _valid(request.query_params.get("lang")):
        return asked, True
    if remembered := _valid(request.cookies.get(LANG_COOKIE)):
        return remembered, False
    return from_accept_language(request.headers.get("accept-language")) or FALLBACK, False
