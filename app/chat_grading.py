"""Grading a conversation recorded elsewhere (a WhatsApp export, a chat log, JSON), for the
API's upload and the page: read the file, check it like `POST /api/grade`, grade it. Nothing
is stored but the records of the model calls."""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel import Session

from app import sessions as service
from app.catalog import Catalog, Language
from app.chatlog import ChatLogError, read_chatlog
from app.engine.grader import GradeResult, Role
from app.engines import Engines
from app.errors import Invalid
from app.models import GradeRequest


def grade_chat_file(
    *,
    db: Session,
    catalog: Catalog,
    engines: Engines,
    data: bytes,
    filename: str | None,
    persona_id: str,
    language: Language,
    trainee_name: str | None,
    engine_name: str | None,
) -> tuple[GradeResult, list[tuple[Role, str]]]:
    """The grade and the lines it marks (for showing the evidence in place)."""
    shown = filename or "the file"
    try:
        log = read_chatlog(data, trainee=trainee_name)
        request = GradeRequest.model_validate(
            {
                "persona_id": persona_id,
                "language": language,
                "engine": engine_name,
                "messages": [{"role": role, "content": text} for role, text in log.lines],
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
    result = service.grade_transcript(db=db, catalog=catalog, engines=engines, request=request)
    return result, [(m.role, m.content) for m in request.messages]
