"""Who is asking, for pages: the same access check as the API (`current_user`), with the
CSRF token of a form post standing in for the X-CSRF-Token header, and a redirect to the
login page instead of a 401."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from app.api.deps import (
    CSRF_HEADER,
    SAFE_METHODS,
    SessionDep,
    bearer_scheme,
    cookie_scheme,
    current_user,
)
from app.errors import Forbidden, Unauthorized
from app.models import User

CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def login_location(request: Request) -> str:
    target = request.url.path if request.method in SAFE_METHODS else "/"
    if request.method in SAFE_METHODS and request.url.query:
        target += f"?{request.url.query}"
    return f"/login?next={quote(target, safe='')}"


async def form_csrf(request: Request) -> str | None:
    """The `csrf_token` field of a posted form, if any."""
    if request.method in SAFE_METHODS:
        return None
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def page_user(
    request: Request,
    db: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
    form_token: Annotated[str | None, Depends(form_csrf)],
) -> User:
    """The logged-in user (a 303 to /login when there is none); on a form post the form's
    CSRF token is checked exactly as the header is for the API."""
    checked = request
    if form_token is not None and CSRF_HEADER not in request.headers:
        header = (CSRF_HEADER.lower().encode(), form_token.encode())
        checked = Request({**request.scope, "headers": [*request.scope["headers"], header]})
    try:
        user = current_user(checked, db, bearer, cookie)
    except Unauthorized:
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, headers={"Location": login_location(request)}
        ) from None
    finally:
        # the page shows the nav and embeds the token even when the check failed (403 page)
        found = getattr(checked.state, "csrf_token", None)
        if found:
            request.state.csrf_token = found
    request.state.page_user = user
    return user


PageUser = Annotated[User, Depends(page_user)]


def reviewer(user: PageUser) -> User:
    if user.role not in ("coach", "admin"):
        raise Forbidden("this page is for coaches", code="coaches_only")
    return user


def admin(user: PageUser) -> User:
    if user.role != "admin":
        raise Forbidden("this page is for admins", code="admins_only")
    return user


ReviewerPage = Annotated[User, Depends(reviewer)]
AdminPage = Annotated[User, Depends(admin)]
