"""Logging in and out, who am I, and personal API tokens."""

from typing import Annotated

from fastapi import Cookie, Path, Request, Response, status

from app import auth
from app.api.deps import (
    COOKIE_NAME,
    DEVICE_COOKIE,
    NO_CSRF,
    CurrentUser,
    SessionDep,
    SettingsDep,
    api_router,
    client_address,
    logged_in,
)
from app.errors import documented
from app.models import (
    INT_MAX,
    LoginPublic,
    LoginRequest,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserPublic,
)

router = api_router("/api", tags=["auth"], access_per_route=True)
TokenId = Annotated[int, Path(ge=1, le=INT_MAX, description="a token's id")]


@router.post(
    "/auth/login",
    response_model=LoginPublic,
    responses=documented(
        400,
        (401, "Wrong username or password (or the account is deactivated)."),
        413,
        415,
        422,
        (429, "Too many failed logins for this name: it is locked for a while."),
    ),
)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: SessionDep,
    settings: SettingsDep,
) -> LoginPublic:
    """Start a browser session: sets an HttpOnly cookie and returns the CSRF token to send
    back as `X-CSRF-Token` on writes. Five failures in a row for a name lock that name, from
    the address they came from, for 15 minutes; a browser that logged in to the account
    before (its `sparring_device` cookie) is counted on its own."""
    user = auth.authenticate(
        db=db,
        username=body.username,
        password=body.password,
        address=client_address(request),
        device=request.cookies.get(DEVICE_COOKIE),
    )
    csrf = logged_in(request, response, db, user, settings)
    return LoginPublic(user=auth.user_public(db, user), csrf_token=csrf)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=documented(401, NO_CSRF, 422),
)
def logout(
    user: CurrentUser,
    response: Response,
    db: SessionDep,
    cookie: Annotated[str | None, Cookie(alias=COOKIE_NAME)] = None,
) -> None:
    """End the browser session."""
    if cookie:
        auth.close_web_session(db=db, cookie=cookie)
    response.delete_cookie(COOKIE_NAME)


@router.get("/me", response_model=UserPublic, responses=documented(401))
def me(user: CurrentUser, db: SessionDep) -> UserPublic:
    """The account making the request."""
    return auth.user_public(db, user)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    responses=documented(400, 401, NO_CSRF, 413, 415, 422),
)
def create_token(
    user: CurrentUser, db: SessionDep, body: TokenCreate | None = None
) -> TokenCreated:
    """A new API token for scripts and the CLI; the token is shown only in this answer. The
    body is optional (the name defaults to `api`)."""
    token, secret = auth.create_token(db=db, user=user, name=(body or TokenCreate()).name)
    return TokenCreated.model_validate(token, update={"token": secret})


@router.get("/tokens", response_model=list[TokenPublic], responses=documented(401))
def list_tokens(user: CurrentUser, db: SessionDep) -> list[TokenPublic]:
    """Your tokens (never the secrets)."""
    return [TokenPublic.model_validate(t) for t in auth.list_tokens(db=db, user=user)]


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenPublic,
    responses=documented(401, NO_CSRF, (404, "No token of yours with this id."), 422),
)
def revoke_token(token_id: TokenId, user: CurrentUser, db: SessionDep) -> TokenPublic:
    """Revoke a token at once."""
    return TokenPublic.model_validate(auth.revoke_token(db=db, user=user, token_id=token_id))
