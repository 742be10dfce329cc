"""Accounts and teams, for admins."""

from typing import Annotated

from fastapi import Path, status

from app import auth
from app.api.deps import AdminUser, SessionDep, api_router
from app.errors import documented
from app.models import INT_MAX, UserCreate, UserPublic, UserUpdate

router = api_router("/api/users", tags=["users"], access_per_route=True)
UserId = Annotated[int, Path(ge=1, le=INT_MAX, description="a user's id")]
NOT_ADMIN = (403, "Not an admin (or a cookie login without its X-CSRF-Token header on a write).")


@router.get("", response_model=list[UserPublic], responses=documented(401, NOT_ADMIN))
def list_users(admin: AdminUser, db: SessionDep) -> list[UserPublic]:
    """Every account with its role and teams."""
    return [auth.user_public(db, u) for u in auth.list_users(db=db)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=documented(
        400, 401, NOT_ADMIN, (409, "A user with this name already exists."), 413, 415, 422
    ),
)
def create_user(body: UserCreate, admin: AdminUser, db: SessionDep) -> UserPublic:
    """Create an account; teams are created on first use."""
    return auth.user_public(db, auth.create_user(db=db, request=body))


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses=documented(
        400,
        401,
        NOT_ADMIN,
        (404, "No user with this id."),
        (409, "The change would leave no active admin."),
        413,
        415,
        422,
    ),
)
def update_user(user_id: UserId, body: UserUpdate, admin: AdminUser, db: SessionDep) -> UserPublic:
    """Change role, teams or password, or deactivate an account; 409 when the change would
    leave no active admin."""
    return auth.user_public(db, auth.update_user(db=db, user_id=user_id, request=body))
