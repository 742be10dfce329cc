"""Stateless grading of recorded conversations, and scripted drills."""

from app import sessions as service
from app.api.deps import (
    CatalogDep,
    CurrentUser,
    EnginesDep,
    LimitsDep,
    ModelGradesDep,
    SessionDep,
    api_router,
)
from app.errors import Invalid
from app.models import DrillRequest, DrillResult, GradeReport, GradeRequest, SessionCreate

router = api_router("/api", tags=["grading"])


@router.post("/grade", response_model=GradeReport)
def grade(
    body: GradeRequest,
    user: CurrentUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    quota: ModelGradesDep,
) -> GradeReport:
    """Grade a conversation recorded elsewhere against a persona's techniques; not stored.
    Without `language`, the one the messages are written in. With the `llm` engine, at most
    SPARRING_MODEL_GRADES_PER_HOUR a user (429 past it)."""
    return service.grade_transcript(
        db=db, catalog=catalog, engines=engines, request=body, user=user, quota=quota
    )


@router.post("/drills", response_model=DrillResult)
def drill(
    body: DrillRequest,
    user: CurrentUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    limits: LimitsDep,
) -> DrillResult:
    """Play scripted trainee turns, end the session, return the transcript and the grade."""
    for turn in body.turns:
        if not turn.strip():
            raise Invalid("a drill turn is empty", ("body", "turns"))
        if len(turn) > limits.max_message_chars:
            raise Invalid(
                f"a drill turn is {len(turn)} characters long; "
                f"the limit is {limits.max_message_chars}",
                ("body", "turns"),
            )
    request = SessionCreate.model_validate(body.model_dump(exclude={"turns"}))
    record, _ = service.start(
        db=db, catalog=catalog, engines=engines, user=user, request=request, limits=limits
    )
    played = 0
    for turn in body.turns:
        if record.status != "active":
            break
        service.say(
            db=db,
            catalog=catalog,
            engines=engines,
            user=user,
            session_id=record.id,
            content=turn,
            limits=limits,
        )
        played += 1
    grade, criteria = service.end(
        db=db, catalog=catalog, engines=engines, user=user, session_id=record.id
    )
    record, messages, _ = service.get(db=db, user=user, session_id=record.id)
    return DrillResult(
        turns_played=played,
        session=service.session_public(catalog, record),
        messages=[service.message_public(m) for m in messages],
        grade=service.grade_public(grade, criteria),
    )
