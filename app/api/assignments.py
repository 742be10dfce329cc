"""Assignments: coaches ask their teams to practise with a client; trainees see theirs."""

from typing import Annotated

from fastapi import Path, Response, status

from app import assignments as service
from app.api.deps import CatalogDep, CurrentUser, SessionDep, api_router
from app.assignments import AssignmentCreate, AssignmentPublic
from app.errors import documented
from app.models import INT_MAX

router = api_router("/api/assignments", tags=["assignments"])
AssignmentId = Annotated[int, Path(ge=1, le=INT_MAX, description="an assignment's id")]


@router.get("", response_model=list[AssignmentPublic], responses=documented(401))
def list_assignments(user: CurrentUser, db: SessionDep) -> list[AssignmentPublic]:
    """Your teams' assignments, newest first, with each trainee's progress (a trainee sees
    their own)."""
    return service.listed(db=db, user=user)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentPublic,
    responses=documented(
        400,
        401,
        (403, "Not a coach or an admin (or a cookie login without its X-CSRF-Token header)."),
        (404, "No team with this name among the ones you coach."),
        413,
        415,
        422,
    ),
)
def create_assignment(
    body: AssignmentCreate, user: CurrentUser, catalog: CatalogDep, db: SessionDep
) -> AssignmentPublic:
    """Ask a team you coach to practise with a client (coaches and admins)."""
    return service.create(db=db, catalog=catalog, user=user, request=body)


@router.delete(
    "/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=documented(
        401,
        (403, "Not the coach who set it, nor an admin (or no X-CSRF-Token header)."),
        (404, "No assignment with this id among your teams'."),
        422,
    ),
)
def delete_assignment(assignment_id: AssignmentId, user: CurrentUser, db: SessionDep) -> Response:
    """Remove an assignment you set (admins: any); the sessions played for it stay."""
    service.delete(db=db, user=user, assignment_id=assignment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
