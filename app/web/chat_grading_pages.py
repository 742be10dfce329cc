"""Grading a real conversation on the pages: upload a WhatsApp export or a chat log, choose
the client it resembles, read the grade with the evidence marked in the chat. For trainees
checking a conversation they had and for coaches checking one a trainee brings."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from app.api.deps import CatalogDep, EnginesDep, ModelGradesDep, SessionDep, SettingsDep
from app.catalog import LANGUAGES, Catalog
from app.chat_grading import grade_chat_file
from app.chatlog import MAX_BYTES
from app.config import Settings
from app.engine.grader import TranscriptMessage
from app.engines import Engines
from app.errors import Invalid, TooMany, Upstream
from app.models import User
from app.web.deps import PageUser
from app.web.i18n import Translator, chosen_language
from app.web.pages import criteria_view, transcript_view
from app.web.render import PageRoute, error_text, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/grade-chat"


def _page(
    request: Request,
    user: User,
    catalog: Catalog,
    engines: Engines,
    settings: Settings,
    *,
    chosen: dict[str, str],
    status_code: int = 200,
    **shown: Any,
) -> Response:
    lang = chosen_language(request)[0]
    return render(
        request,
        "grade_chat.html",
        user=user,
        status_code=status_code,
        personas=[(p.id, p.name(lang)) for p in catalog.persona_list],
        languages=LANGUAGES,
        engines=sorted(engines.available),
        default_engine=engines.default,
        # what the server takes in one request (the form's fields are small beside the file)
        max_bytes=min(MAX_BYTES, settings.max_upload_bytes),
        chosen={"persona_id": "", "language": "", "trainee_name": "", "engine": ""} | chosen,
        **shown,
    )


@router.get(PATH)
def grade_chat_form(
    request: Request,
    user: PageUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    settings: SettingsDep,
) -> Response:
    return _page(request, user, catalog, engines, settings, chosen={})


@router.post(PATH)
def grade_chat(
    request: Request,
    user: PageUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    settings: SettingsDep,
    db: SessionDep,
    quota: ModelGradesDep,
    persona_id: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile | None, File()] = None,
    language: Annotated[str, Form(max_length=2)] = "",  # "": the chat's own
    trainee_name: Annotated[str, Form(max_length=100)] = "",
    engine: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    chosen = {
        "persona_id": persona_id,
        "language": language,
        "trainee_name": trainee_name,
        "engine": engine,
    }
    lang = chosen_language(request)[0]
    # the form again, as it was sent (but the file, which a browser cannot be given back)
    page = partial(_page, request, user, catalog, engines, settings, chosen=chosen)
    data = file.file.read() if file is not None else b""
    try:
        if not data:
            raise Invalid("choose a file", ("body", "file"), code="chat_no_file")
        graded = grade_chat_file(
            db=db,
            catalog=catalog,
            engines=engines,
            data=data,
            filename=file.filename if file is not None else None,
            persona_id=persona_id,
            language=language or None,  # type: ignore[arg-type]  # checked there, as the API's
            trainee_name=trainee_name.strip() or None,
            engine_name=engine or None,
            user=user,
            quota=quota,
        )
    except (Invalid, TooMany, Upstream) as exc:
        detail = str(exc) if exc.code in (None, "chat_unreadable") else None
        return page(
            status_code=exc.status_code,
            error=error_text(exc, lang),
            error_detail=detail,
        )
    persona = catalog.personas[persona_id]
    result = graded.result
    messages = [
        TranscriptMessage(seq=i, role=role, content=text)
        for i, (role, text) in enumerate(graded.lines, start=1)
    ]
    t = Translator(lang)
    return page(
        result=result,
        messages_read=graded.read,
        messages_graded=len(graded.lines),
        persona_name=persona.name(lang),
        filename=file.filename if file is not None else "",
        # what the report card's body needs
        criteria=criteria_view(catalog, result.criteria, lang),
        summary=result.summary,
        grader=result.grader,
        language=result.language,
        transcript=transcript_view(messages, result.criteria),
        trainee_label=trainee_name.strip() or t("grade_chat.trainee"),
        coach_verdicts={},
        technique_comments={},
        message_comments={},
    )
