"""Stateless grading of recorded conversations, and scripted drills."""

from typing import Any

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
from app.drilling import play_drill
from app.errors import ErrorMessage
from app.models import DrillRequest, DrillResult, GradeReport, GradeRequest

router = api_router("/api", tags=["grading"])

DRILL_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: {
        "model": ErrorMessage,
        "description": "The model failed mid-drill. A drill cannot be resumed: the session "
        "named in the message (and in `params.session_id`) is ended with what was played; "
        "play the drill again.",
    }
}


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


@router.post("/drills", response_model=DrillResult, responses=DRILL_RESPONSES)
def drill(
    body: DrillRequest,
    user: CurrentUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    limits: LimitsDep,
) -> DrillResult:
    """Play scripted trainee turns, end the session, return the transcript and the grade.
    Every turn is checked before the session starts (422 naming it); a failure once it has
    started ends the session with what was played, and the error names it."""
    return play_drill(db=db, catalog=catalog, engines=engines, user=user, body=body, limits=limits)
