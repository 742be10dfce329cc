"""The admins' users page: every account, a form to add one (its password shown once), and
per account its role, teams and whether it may log in, or a new password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from app import auth
from app.api.deps import SessionDep
from app.api.users import UserId
from app.errors import Invalid, ServiceError
from app.models import ROLES, UserCreate, UserUpdate
from app.web.deps import AdminPage
from app.web.i18n import chosen_language
from app.web.pages import redirect
from app.web.render import PageRoute, error_text, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _teams(text: str) -> list[str]:
    """A comma-separated list as typed in the form; blanks between commas are dropped."""
    return [name for name in (part.strip() for part in text.split(",")) if name]


def _checked(model: type[UserCreate] | type[UserUpdate], fields: dict[str, Any]) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = str(error["loc"][0]) if error["loc"] else "account"
        raise Invalid(
            f"the account is not valid: {where}: {error['msg']}",
            code=f"account_{where}" if where in ("username", "teams") else None,
        ) from exc


def _page(request: Request, user: AdminPage, db: SessionDep, **shown: Any) -> Response:
    accounts = [auth.user_public(db, u) for u in auth.list_users(db=db)]
    shown = {"saved": False, "error": None, "typed": {}} | shown
    return render(request, "users.html", user=user, accounts=accounts, roles=ROLES, **shown)


def _refused(
    request: Request, user: AdminPage, db: SessionDep, exc: ServiceError, typed: dict[str, str]
) -> Response:
    """The page again with the reason on it and the new account's fields as typed, not an
    error page that loses them."""
    db.rollback()
    error = error_text(exc, chosen_language(request)[0])
    return _page(request, user, db, error=error, typed=typed, status_code=exc.status_code)


@router.get("/users")
def users_page(request: Request, user: AdminPage, db: SessionDep, saved: int = 0) -> Response:
    return _page(request, user, db, saved=bool(saved))


@router.post("/users")
def create_account(
    request: Request,
    user: AdminPage,
    db: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)] = "trainee",
    teams: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    # answered with the page itself, not a redirect: the password must not land in a URL
    password = auth.new_password()
    fields = {"username": username.strip(), "password": password, "role": role}
    try:
        created = auth.create_user(
            db=db, request=_checked(UserCreate, fields | {"teams": _teams(teams)})
        )
    except ServiceError as exc:
        typed = {"username": username, "role": role, "teams": teams}
        return _refused(request, user, db, exc, typed)
    return _page(request, user, db, password_for=(created.username, password))


@router.post("/users/{user_id}")
def update_account(
    request: Request,
    user_id: UserId,
    user: AdminPage,
    db: SessionDep,
    role: Annotated[str, Form(max_length=16)],
    teams: Annotated[str, Form(max_length=2000)] = "",
    active: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    fields = {"role": role, "teams": _teams(teams), "active": active == "on"}
    try:
        auth.update_user(db=db, user_id=user_id, request=_checked(UserUpdate, fields))
    except ServiceError as exc:
        return _refused(request, user, db, exc, {})
    return redirect("/users?saved=1")


@router.post("/users/{user_id}/password")
def reset_password(request: Request, user_id: UserId, user: AdminPage, db: SessionDep) -> Response:
    password = auth.new_password()
    account = auth.update_user(db=db, user_id=user_id, request=UserUpdate(password=password))
    return _page(request, user, db, password_for=(account.username, password))
