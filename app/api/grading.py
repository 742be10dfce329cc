"""Stateless grading of recorded conversations, and scripted drills."""

from app import grades
from app.api.deps import (
    NO_CSRF,
    CatalogDep,
    CurrentUser,
    EnginesDep,
    LimitsDep,
    ModelGradesDep,
    SessionDep,
    api_router,
)
from app.drilling import play_drill
from app.errors import documented
from app.models import DrillRequest, DrillResult, GradeReport, GradeRequest

router = api_router("/api", tags=["grading"])

NO_PERSONA = (404, "No persona with this id.")


@router.post(
    "/grade",
    response_model=GradeReport,
    responses=documented(
        400,
        401,
        NO_CSRF,
        NO_PERSONA,
        413,
        415,
        422,
        (429, "Too many conversations graded by the model in the last hour (`params.limit`)."),
        (502, "The model failed to grade the conversation: try again."),
    ),
)
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
    return grades.grade_transcript(
        db=db, catalog=catalog, engines=engines, request=body, user=user, quota=quota
    )


@router.post(
    "/drills",
    response_model=DrillResult,
    responses=documented(
        400,
        401,
        NO_CSRF,
        NO_PERSONA,
        (
            409,
            "Another request wrote to the drill's session while it was being played: the "
            "drill stopped there, and its session is ended.",
        ),
        413,
        415,
        422,
        (429, "Too many sessions started in the last hour (`params.limit`)."),
        (
            502,
            "The model failed: on the opening (nothing stored), or mid-drill (`code` "
            "`drill_cut_short`): a drill cannot be resumed, the session named in "
            "`params.session_id` is ended with what was played, as `cut_short` and not "
            "graded (POST /api/sessions/{id}/end grades it); play the drill again. Or, "
            "once every turn was played, the grader failed: grade the session again.",
        ),
    ),
)
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
