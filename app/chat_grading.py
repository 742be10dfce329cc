"""Grading a conversation recorded elsewhere (a WhatsApp export, a chat log, JSON), for the
API's upload and the page: read the file, check it like `POST /api/grade`, grade it. Nothing
is stored but the records of the model calls."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel import Session

from app import grades
from app.catalog import Catalog, Language
from app.chatlog import ChatLogError, read_chatlog
from app.engine.grader import Role
from app.engines import Engines
from app.errors import Invalid
from app.models import (
    MAX_GRADED_CHARS,
    MAX_GRADED_MESSAGES,
    MAX_LINE_CHARS,
    GradeReport,
    GradeRequest,
    User,
)
from app.quota import HourlyQuota


class ChatGradeReport(GradeReport):
    """A grade of a chat file; a chat longer than a grade takes is graded on its last
    messages (a client relationship on WhatsApp runs to thousands)."""

    messages_read: int
    messages_graded: int


@dataclass
class GradedChat:
    result: GradeReport
    lines: list[tuple[Role, str]]  # the messages graded, oldest first
    read: int  # the messages in the file

    def report(self) -> ChatGradeReport:
        fields = self.result.model_dump() | {"messages_read": self.read}
        return ChatGradeReport.model_validate(fields | {"messages_graded": len(self.lines)})


def recent(lines: list[tuple[Role, str]]) -> list[tuple[Role, str]]:
    """The messages a grade covers: the last ones, when the chat has more than it takes (in
    messages, or in characters: a model prompt of 5 MB would cost a class's month)."""
    kept: list[tuple[Role, str]] = []
    total = 0
    for role, text in reversed(lines[-MAX_GRADED_MESSAGES:]):
        text = text[:MAX_LINE_CHARS]  # a message's point comes first
        total += len(text)
        if total > MAX_GRADED_CHARS and kept:
            break
        kept.append((role, text))
    return kept[::-1]


def grade_chat_file(
    *,
    db: Session,
    catalog: Catalog,
    engines: Engines,
    data: bytes,
    filename: str | None,
    persona_id: str,
    language: Language | None,
    trainee_name: str | None,
    engine_name: str | None,
    user: User,
    quota: HourlyQuota,
) -> GradedChat:
    shown = filename or "the file"
    try:
        log = read_chatlog(data, trainee=trainee_name)
        request = GradeRequest.model_validate(
            {
                "persona_id": persona_id,
                "language": language,
                "engine": engine_name,
                "messages": [{"role": r, "content": text} for r, text in recent(log.lines)],
            }
        )
    except ChatLogError as exc:
        if exc.speakers:  # readable, but which of them is the trainee?
            loc: tuple[str, ...] = ("body", "trainee_name")
            speakers = ", ".join(exc.speakers)
            raise Invalid(f"{shown}: {exc}", loc, code="chat_who", speakers=speakers) from exc
        raise Invalid(f"{shown}: {exc}", ("body", "file"), code="chat_unreadable") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        loc = ("body", "file") if first["loc"][0] == "messages" else ("body", *first["loc"])
        raise Invalid(f"{shown}: {where}: {first['msg']}", loc, code="chat_unreadable") from exc
    result = grades.grade_transcript(
        db=db, catalog=catalog, engines=engines, request=request, user=user, quota=quota
    )
    graded = [(m.role, m.content) for m in request.messages]
    return GradedChat(result=result, lines=graded, read=len(log.lines))
