"""Coach reviews: verdicts and comments beside the grader's, the desk, and agreement."""

from datetime import date
from typing import Annotated, Literal

from fastapi import Query

from app import reviews as service
from app.api.deps import (
    CurrentUser,
    SessionDep,
    SettingsDep,
    api_router,
    require_role,
)
from app.errors import documented
from app.models import User
from app.reviews import AgreementReport, DeskFilters, DeskPage, ReviewCreate, SessionReviews

router = api_router("/api", tags=["reviews"])
ReviewerUser = Annotated[User, require_role("coach", "admin")]
NOT_REVIEWER = (403, "Not a coach or an admin.")
NO_SESSION = (404, "No session with this id, or not one you may see.")


@router.get(
    "/sessions/{session_id}/reviews",
    response_model=SessionReviews,
    responses=documented(401, NO_SESSION, 422),
)
def get_reviews(session_id: str, user: CurrentUser, db: SessionDep) -> SessionReviews:
    """Coaches' current verdicts and comments on the session's latest grade (its trainee
    sees them too)."""
    return service.session_reviews(db=db, user=user, session_id=session_id)


@router.post(
    "/sessions/{session_id}/reviews",
    response_model=SessionReviews,
    responses=documented(
        400,
        401,
        (
            403,
            "Not a coach or an admin, or your own session (or a cookie login without its "
            "X-CSRF-Token header).",
        ),
        NO_SESSION,
        (409, "The session has no finished grade to review yet."),
        413,
        415,
        422,
    ),
)
def post_review(
    session_id: str, body: ReviewCreate, user: ReviewerUser, db: SessionDep
) -> SessionReviews:
    """Give your verdict on any criterion (the grader's stays stored beside it) and comment
    on criteria or messages. Coaches and admins, on sessions they can see."""
    return service.save_review(db=db, user=user, session_id=session_id, request=body)


@router.get(
    "/reviews/sessions", response_model=DeskPage, responses=documented(401, NOT_REVIEWER, 422)
)
def desk(
    user: ReviewerUser,
    db: SessionDep,
    settings: SettingsDep,
    trainee: str | None = None,
    persona: str | None = None,
    status: Literal["active", "ended"] | None = None,
    reviewed: bool | None = None,
    score_min: Annotated[int | None, Query(ge=0, le=100)] = None,
    score_max: Annotated[int | None, Query(ge=0, le=100)] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=200)] = None,
) -> DeskPage:
    """The coaches' desk: sessions you can see, newest first, with how much each was
    reviewed; filter by trainee, persona, status, reviewed or not, score and date (UTC)."""
    filters = DeskFilters(
        trainee=trainee,
        persona_id=persona,
        status=status,
        reviewed=reviewed,
        score_min=score_min,
        score_max=score_max,
        date_from=date_from,
        date_to=date_to,
    )
    size = page_size or settings.default_page_size
    return service.desk(db=db, user=user, filters=filters, page=page, page_size=size)


@router.get(
    "/reviews/agreement",
    response_model=AgreementReport,
    responses=documented(401, NOT_REVIEWER, 422),
)
def agreement(user: ReviewerUser, db: SessionDep, mine: bool = False) -> AgreementReport:
    """How often coaches agree with the grader, per technique and overall: agreement rate
    and Cohen's kappa over every reviewed criterion you can see (`mine`: your reviews only)."""
    return service.agreement(db=db, user=user, reviewer_id=user.id if mine else None)
