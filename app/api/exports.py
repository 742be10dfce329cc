"""Moving sessions in and out (JSON bundle, CSV of verdicts) and grading an uploaded chat."""

from typing import Annotated, Literal

from fastapi import Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from app import transfer
from app.api.deps import (
    NO_CSRF,
    CatalogDep,
    CurrentUser,
    EnginesDep,
    ModelGradesDep,
    SessionDep,
    api_router,
    require_role,
)
from app.catalog import Language
from app.chat_grading import ChatGradeReport, grade_chat_file
from app.errors import documented
from app.models import User

router = api_router()
CoachUser = Annotated[User, require_role("coach", "admin")]
StatusFilter = Literal["active", "ended"]


def _bundle(
    db: SessionDep,
    user: CurrentUser,
    persona: str | None = None,
    status: StatusFilter | None = None,
    trainee: str | None = None,
    session: str | None = None,
) -> transfer.ExportBundle:
    """The sessions the caller may see, filtered like GET /api/sessions (or one by id)."""
    return transfer.export_sessions(
        db=db, user=user, persona_id=persona, status=status, trainee=trainee, session_id=session
    )


BundleDep = Annotated[transfer.ExportBundle, Depends(_bundle)]


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/api/exports/sessions.json",
    tags=["exports"],
    response_model=transfer.ExportBundle,
    responses=documented(401, 422),
)
def export_sessions(bundle: BundleDep) -> JSONResponse:
    """Sessions with messages and every grade, as JSON that POST /api/imports/sessions takes."""
    return JSONResponse(bundle.model_dump(mode="json"), headers=_download("sparring-sessions.json"))


@router.get(
    "/api/exports/grades.csv",
    tags=["exports"],
    responses={200: {"content": {"text/csv": {}}}, **documented(401, 422)},
)
def export_grades(bundle: BundleDep) -> Response:
    """One row per criterion of each session's latest grade, for spreadsheets."""
    return Response(
        transfer.grades_csv(bundle),
        media_type="text/csv; charset=utf-8",
        headers=_download("sparring-grades.csv"),
    )


@router.post(
    "/api/imports/sessions",
    tags=["exports"],
    response_model=transfer.ImportCounts,
    responses=documented(
        400,
        401,
        (403, "Not a coach or an admin (or a cookie login without its X-CSRF-Token header)."),
        (409, "Some of these sessions were imported by another request meanwhile: import again."),
        413,
        415,
        422,
    ),
)
def import_sessions(
    body: transfer.ExportBundle, user: CoachUser, catalog: CatalogDep, db: SessionDep
) -> transfer.ImportCounts:
    """Recreate exported sessions (coaches and admins); sessions already here are skipped."""
    return transfer.import_sessions(db=db, catalog=catalog, user=user, bundle=body)


@router.post(
    "/api/grade/upload",
    tags=["grading"],
    response_model=ChatGradeReport,
    responses=documented(
        (400, "The form could not be read: send it as multipart/form-data."),
        401,
        NO_CSRF,
        (404, "No persona with this id."),
        413,
        (422, "A field is missing or wrong, or the file is not a chat log this reads."),
        (429, "Too many conversations graded by the model in the last hour (`params.limit`)."),
        (502, "The model failed to grade the chat: try again."),
    ),
)
def grade_upload(
    file: Annotated[UploadFile, File(description="JSON, a plain chat log or a WhatsApp export")],
    persona_id: Annotated[str, Form()],
    user: CurrentUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    quota: ModelGradesDep,
    language: Annotated[
        Language | None, Form(description="default: the language the chat is written in")
    ] = None,
    trainee_name: Annotated[
        str | None, Form(description="the trainee's name in the log; the others are the client")
    ] = None,
    engine: Annotated[Literal["offline", "llm"] | None, Form()] = None,
) -> ChatGradeReport:
    """Grade a conversation file against a persona's techniques, like POST /api/grade; a chat
    of more than 500 messages is graded on its last 500."""
    return grade_chat_file(
        db=db,
        catalog=catalog,
        engines=engines,
        data=file.file.read(),
        filename=file.filename,
        persona_id=persona_id,
        language=language,
        trainee_name=trainee_name,
        engine_name=engine,
        user=user,
        quota=quota,
    ).report()
