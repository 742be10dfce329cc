"""Render a stored session for people: a Markdown report from a Jinja2 template.

Everything people wrote (messages, quotes, coaches' comments) and everything a model wrote
(rationales, suggestions) is escaped, so a message that looks like Markdown shows as the
text it is and cannot add headings, quotes or lists to the report (a fake grade section).
Verdicts, outcomes, statuses and difficulties read as the pages show them, in the
session's language.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel

from app.catalog import Catalog, Language
from app.models import SessionDetail
from app.web.i18n import Translator

if TYPE_CHECKING:
    from app.reviews import SessionReviews

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,  # a line holding only a {% tag %} leaves nothing behind
    lstrip_blocks=True,
)

# What makes a line a block in CommonMark/GFM when it starts it: headings, quotes, lists,
# thematic breaks and setext underlines, fences, tables, HTML blocks, link definitions.
_BLOCK_START = re.compile(r"^(?:[#>+*=|:_<\[-]|~{3}|\d{1,9}[.)])")
_INLINE = re.compile(r"([\\`*])")  # a backslash, code spans and fences, emphasis
_IN_CELL = re.compile(r"([\\`*|])")  # and, in a table cell, the column separator


class CoachNote(BaseModel):
    """A coach's current verdict on a criterion, or a comment on a criterion or a message."""

    reviewer: str
    technique_id: str | None = None
    message_seq: int | None = None
    verdict: str | None = None
    comment: str = ""


def md_line(text: str, inline: re.Pattern[str] = _INLINE) -> str:
    """One line of text as literal Markdown: backslashes, backticks and asterisks escaped,
    and a start that would open a block (heading, quote, list, fence, table, HTML block, …)
    backslash-escaped. Inline HTML is left to the renderer's sanitiser, as before."""
    line = inline.sub(r"\\\1", text.lstrip(" \t"))  # leading spaces could open a code block
    if match := _BLOCK_START.match(line):
        start = match.group()
        # escape the character that makes it a block: the first, or a number's . or )
        line = f"{start[:-1]}\\{line[len(start) - 1 :]}" if start[0].isdigit() else f"\\{line}"
    return line


def md_text(text: str) -> str:
    """Text of several lines, each escaped, kept as lines (hard breaks) and paragraphs."""
    lines = [md_line(line) for line in text.splitlines()]
    return "  \n".join(lines) if lines else ""


def md_inline(text: str) -> str:
    """Text made one line (a quote, a table cell): its line breaks become spaces."""
    return md_line(" ".join(text.split()), _IN_CELL)


_env.filters["md_text"] = md_text
_env.filters["md_inline"] = md_inline


def notes_from_reviews(reviews: SessionReviews) -> list[CoachNote]:
    """What app.reviews.session_reviews gives, as the report's coach notes."""
    notes = [
        CoachNote(reviewer=v.reviewer, technique_id=v.technique_id, verdict=v.coach_verdict)
        for v in reviews.verdicts
    ]
    notes += [
        CoachNote(
            reviewer=c.reviewer,
            technique_id=c.technique_id,
            message_seq=c.message_seq,
            comment=c.comment,
        )
        for c in reviews.comments
    ]
    return notes


def session_markdown(
    catalog: Catalog, data: SessionDetail, reviews: SessionReviews | None = None
) -> str:
    """The Markdown report: summary, transcript and grade, with the coaches' current
    verdicts and comments (app.reviews.session_reviews) beside the grader's."""
    return render_markdown(catalog, data, notes_from_reviews(reviews) if reviews else [])


def render_markdown(catalog: Catalog, data: SessionDetail, notes: list[CoachNote]) -> str:
    persona = catalog.personas[data.session.persona_id]
    lang: Language = data.session.language  # type: ignore[assignment]
    t = Translator(lang)
    s = data.session
    outcome = f"outcome.{s.outcome}" if s.outcome else f"status.{s.status}"
    return _env.get_template("export.md.j2").render(
        s=s,
        persona_name=persona.name(lang),
        persona_title=persona.title(lang),
        messages=data.messages,
        grade=data.grade,
        labels={k: v(lang) for k, v in catalog.texts["export"].items()},  # type: ignore[arg-type]
        difficulty=t.maybe(f"difficulty.{s.difficulty}", s.difficulty),
        outcome=t.maybe(outcome, s.outcome or s.status),
        verdict=lambda value: t.maybe(f"verdict.{value}", value),
        coach_says=lambda name: t("report.coach_says", coach=name),
        coach_verdicts=[n for n in notes if n.verdict],
        comments=[n for n in notes if n.comment],
    )
