"""Practice sessions: start, talk, end, read, list, export."""

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Header, Query, status
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlmodel import Session

from app import grades, reviews
from app import sessions as service
from app.api.deps import (
    NO_CSRF,
    CatalogDep,
    CurrentUser,
    EnginesDep,
    LimitsDep,
    SessionDep,
    SettingsDep,
    api_router,
)
from app.catalog import Catalog
from app.engines import Engines
from app.errors import ServiceError, documented
from app.export import session_markdown
from app.models import (
    GradePublic,
    MessageCreate,
    SessionCreate,
    SessionDetail,
    SessionPage,
    StartPublic,
    TurnPublic,
    User,
)

router = api_router("/api/sessions", tags=["sessions"])

NO_SESSION = (404, "No session with this id, or not one you may see.")
NOT_YOURS = (
    403,
    "Not the trainee who started the session (or, for a cookie login, no X-CSRF-Token header).",
)


def detail(catalog: Catalog, db: Session, user: User, session_id: str) -> SessionDetail:
    record, messages, grade = service.get(db=db, user=user, session_id=session_id)
    return SessionDetail(
        session=service.session_public(catalog, record),
        messages=[service.message_public(m) for m in messages],
        grade=grades.grade_public(*grade) if grade else None,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StartPublic,
    responses=documented(
        400,
        401,
        NO_CSRF,
        (404, "No persona with this id."),
        413,
        415,
        422,
        (429, "Too many sessions started in the last hour (`params.limit`)."),
        (502, "The model failed on the client's opening: nothing was stored, start again."),
    ),
)
def start_session(
    body: SessionCreate,
    user: CurrentUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    limits: LimitsDep,
) -> StartPublic:
    """Start practising: the client speaks first."""
    record, messages = service.start(
        db=db, catalog=catalog, engines=engines, user=user, request=body, limits=limits
    )
    return StartPublic(
        session=service.session_public(catalog, record),
        messages=[service.message_public(m) for m in messages],
    )


def _sse(event: str, data: Any) -> bytes:
    return format_sse_event(event=event, data_str=json.dumps(data, ensure_ascii=False))


def _stream(
    db: Session, catalog: Catalog, engines: Engines, turn: service.PendingTurn
) -> Iterator[bytes]:
    """trainee → delta… → message… → state; or error (the trainee message stays stored)."""
    yield _sse("trainee", service.message_public(turn.trainee).model_dump(mode="json"))
    try:
        for kind, value in service.play(db=db, catalog=catalog, engines=engines, turn=turn):
            if kind == "delta":
                yield _sse("delta", {"text": value})
            elif kind == "message":
                yield _sse("message", service.message_public(value).model_dump(mode="json"))
            else:
                yield _sse("state", service.session_public(catalog, value).model_dump(mode="json"))
    except ServiceError as exc:
        yield _sse("error", {"status": exc.status_code, **exc.body()})


TURN_RESPONSES: dict[int | str, dict[str, Any]] = {
    **documented(
        400,
        401,
        NOT_YOURS,
        NO_SESSION,
        (
            409,
            "The session has ended or reached its turn limit, or the previous message is "
            "still waiting for the client's reply (send the same text to retry it).",
        ),
        413,
        415,
        422,
        (502, "The model failed: the trainee message is stored; send the same text to retry."),
        (503, "The session's engine is not configured on this server."),
    ),
    200: {
        "description": "The turn as JSON, or as server-sent events when the request has "
        "`Accept: text/event-stream`: `trainee` (the stored message), `delta` ({text}) as "
        "the reply is written, `message` per stored client message, then `state` (the "
        "session); `error` ({status, detail}) if the model fails mid-way.",
        "content": {"text/event-stream": {}},
    },
}


@router.post("/{session_id}/messages", response_model=TurnPublic, responses=TURN_RESPONSES)
def send_message(
    session_id: str,
    body: MessageCreate,
    user: CurrentUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    limits: LimitsDep,
    accept: Annotated[str, Header()] = "application/json",
) -> Any:
    """Say something to the client; the answer may be several messages."""
    turn = service.accept(
        db=db,
        catalog=catalog,
        user=user,
        session_id=session_id,
        content=body.content,
        limits=limits,
    )
    if "text/event-stream" in accept:
        return EventSourceResponse(_stream(db, catalog, engines, turn))
    replies = [
        value
        for kind, value in service.play(db=db, catalog=catalog, engines=engines, turn=turn)
        if kind == "message"
    ]
    return TurnPublic(
        trainee_message=service.message_public(turn.trainee),
        replies=[service.message_public(m) for m in replies],
        session=service.session_public(catalog, turn.record),
    )


@router.post(
    "/{session_id}/end",
    response_model=GradePublic,
    responses=documented(
        401,
        NOT_YOURS,
        NO_SESSION,
        (409, "The trainee has not written in the session yet: there is nothing to grade."),
        422,
        (502, "The grader failed: the session is ended; grade it again (POST …/grade)."),
        (503, "The session's engine is not configured here and it already has a grade."),
    ),
)
def end_session(
    session_id: str, user: CurrentUser, catalog: CatalogDep, engines: EnginesDep, db: SessionDep
) -> GradePublic:
    """End the session (if the client has not already) and return its grade. A request that
    arrives while another one is grading the session gets that grade with `status: pending`
    (and no score yet): read it again with GET /api/sessions/{id}. 409 before the trainee's
    first message: there is nothing to grade (DELETE discards such a session)."""
    grade = service.end(db=db, catalog=catalog, engines=engines, user=user, session_id=session_id)
    return grades.grade_public(*grade)


@router.post(
    "/{session_id}/grade",
    response_model=GradePublic,
    responses=documented(
        401,
        NO_CSRF,
        NO_SESSION,
        (
            409,
            "The session is still active, or (for its trainee) already graded: only a coach "
            "or an admin grades it again.",
        ),
        422,
        (502, "The grader failed: the failure is stored; grade it again."),
        (503, "The session's engine is not configured here and it already has a grade."),
    ),
)
def grade_session(
    session_id: str, user: CurrentUser, catalog: CatalogDep, engines: EnginesDep, db: SessionDep
) -> GradePublic:
    """Grade an ended session again, e.g. after a failed grade; the old grades are kept."""
    grade = grades.regrade(
        db=db, catalog=catalog, engines=engines, user=user, session_id=session_id
    )
    return grades.grade_public(*grade)


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=documented(
        401,
        NOT_YOURS,
        NO_SESSION,
        (409, "The trainee has written in the session (or it has a grade): it is kept."),
        422,
    ),
)
def discard_session(session_id: str, user: CurrentUser, db: SessionDep) -> Response:
    """Delete a session you have not written in yet (409 once you have: end it instead)."""
    service.discard(db=db, user=user, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{session_id}", response_model=SessionDetail, responses=documented(401, NO_SESSION, 422)
)
def get_session(
    session_id: str, user: CurrentUser, catalog: CatalogDep, db: SessionDep
) -> SessionDetail:
    """The transcript, the client's state and the latest grade."""
    return detail(catalog, db, user, session_id)


@router.get("", response_model=SessionPage, responses=documented(401, 422))
def list_sessions(
    user: CurrentUser,
    catalog: CatalogDep,
    db: SessionDep,
    settings: SettingsDep,
    persona: str | None = None,
    status: Literal["active", "ended"] | None = None,
    trainee: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=200)] = None,
) -> SessionPage:
    """Sessions you may see, newest first, filtered by persona, status and trainee
    (trainees see their own, coaches their teams', admins all)."""
    size = page_size or settings.default_page_size
    records, total = service.list_sessions(
        db=db,
        user=user,
        persona_id=persona,
        status=status,
        trainee=trainee,
        page=page,
        page_size=size,
    )
    return SessionPage(
        items=[service.session_public(catalog, r) for r in records],
        total=total,
        page=page,
        page_size=size,
    )


@router.get(
    "/{session_id}/export",
    responses={
        200: {"content": {"application/json": {}, "text/markdown": {}}},
        **documented(401, NO_SESSION, 422),
    },
)
def export_session(
    session_id: str,
    user: CurrentUser,
    catalog: CatalogDep,
    db: SessionDep,
    format: Literal["json", "md"] = "json",
) -> Response:
    """Download the session as JSON (the shape of GET, plus the coaches' `reviews`) or as a
    Markdown report with the coaches' verdicts and comments."""
    data = detail(catalog, db, user, session_id)
    review = reviews.session_reviews(db=db, user=user, session_id=session_id)
    filename = f"sparring-{session_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "md":
        text = session_markdown(catalog, data, review)
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8", headers=headers)
    body = data.model_dump(mode="json") | {"reviews": review.model_dump(mode="json")}
    return JSONResponse(body, headers=headers)
