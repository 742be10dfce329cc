"""Dependencies shared by the routers: the catalogue, a database session, the limits, and
the one access check every route goes through (`current_user`)."""

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app import auth
from app.catalog import Catalog
from app.config import Settings
from app.engines import Engines
from app.errors import Forbidden, Unauthorized
from app.models import User
from app.quota import HourlyQuota
from app.sessions import Limits

COOKIE_NAME = "sparring_session"
DEVICE_COOKIE = "sparring_device"  # outlives the login: see auth.trust_device
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# the 403 of a write whose only refusal is current_user's (for app.errors.documented)
NO_CSRF = (403, f"A cookie login without its {CSRF_HEADER} header: writes need it.")

bearer_scheme = HTTPBearer(
    auto_error=False, description="An API token (`sparring users token NAME` or POST /api/tokens)."
)
cookie_scheme = APIKeyCookie(
    name=COOKIE_NAME,
    auto_error=False,
    description=f"The browser login cookie; unsafe requests also need the {CSRF_HEADER} header.",
)


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engines(request: Request) -> Engines:
    return request.app.state.engines


async def get_db(request: Request) -> AsyncIterator[Session]:
    """`async`, so not a thread hop each way: a Session does no I/O until it is used. One
    still in a transaction (a route that only read) is closed, a rollback, in a thread of
    its own pool: closing releases a connection, so it must not wait behind requests that
    are waiting for one (every worker thread could be)."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close, limiter=request.app.state.closers)
        else:
            session.close()


class SessionRoute(APIRoute):
    """A route whose database session is closed in its own worker thread, as `get_db` would
    close it later (what the route did not commit is not written; what it loaded stays
    readable). FastAPI checks a sync route's response model in another thread hop, and a
    request waiting for that hop with its connection could wait for ever: every worker
    thread could be waiting for a connection (100 requests at once did, on either database).
    A streamed reply's generator may use the session again: it checks a connection out."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _ending_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)


def api_router(
    prefix: str = "", *, tags: list[str] | None = None, access_per_route: bool = False
) -> APIRouter:
    """A router of the API: its routes close their own sessions (SessionRoute) and go
    through `current_user`, unless each route checks access itself (logging in; the
    admin-only routes, whose AdminUser does the check)."""
    return APIRouter(
        route_class=SessionRoute,
        prefix=prefix,
        tags=list(tags or []),
        dependencies=[] if access_per_route else [Depends(current_user)],
    )


def _ending_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters through the wrapper
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()

    return run


async def get_model_grades(request: Request) -> HourlyQuota:
    return request.app.state.model_grades


async def get_limits(settings: Annotated[Settings, Depends(get_settings)]) -> Limits:
    return Limits(
        max_message_chars=settings.max_message_chars,
        max_turns_per_session=settings.max_turns_per_session,
        sessions_per_hour=settings.sessions_per_hour,
    )


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EnginesDep = Annotated[Engines, Depends(get_engines)]
SessionDep = Annotated[Session, Depends(get_db)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
ModelGradesDep = Annotated[HourlyQuota, Depends(get_model_grades)]


def current_user(
    request: Request,
    db: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> User:
    """Who is asking: an API token, or a browser login (with its CSRF token on writes).

    The read ends here, so the connection goes back to the pool before the route waits
    for a worker thread: held across that wait, a crowd of requests could hold every
    connection while the threads that would release them wait for one (30 s, then 500)."""
    user = _authenticate(request, db, bearer, cookie)
    db.commit()
    return user


def _authenticate(
    request: Request,
    db: Session,
    bearer: HTTPAuthorizationCredentials | None,
    cookie: str | None,
) -> User:
    if bearer is not None:
        user = auth.user_from_token(db=db, secret=bearer.credentials)
        if user is None:
            raise Unauthorized("the API token is unknown or revoked, or its account deactivated")
        return user
    if cookie:
        found = auth.user_from_cookie(db=db, cookie=cookie)
        if found is not None:
            user, web = found
            if (
                request.method not in SAFE_METHODS
                and request.headers.get(CSRF_HEADER) != web.csrf_token
            ):
                raise Forbidden(f"missing or wrong {CSRF_HEADER} header for a cookie login")
            request.state.csrf_token = web.csrf_token
            return user
    raise Unauthorized("log in (POST /api/auth/login) or send an API token as a Bearer header")


CurrentUser = Annotated[User, Depends(current_user)]


def client_address(request: Request) -> str:
    """Whom failed logins are counted against, with the name tried. Behind a reverse proxy
    this is the proxy's forwarded address (uvicorn trusts it from FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def logged_in(
    request: Request, response: Response, db: Session, user: User, settings: Settings
) -> str:
    """After a successful login, API or page: the login cookie, and a device cookie if the
    browser has none for this account yet. Returns the CSRF token for the new login."""
    cookie, csrf = auth.open_web_session(db=db, user=user)
    cookies = [(COOKIE_NAME, cookie, auth.WEB_SESSION_TTL)]
    device = auth.trust_device(db=db, user=user, device=request.cookies.get(DEVICE_COOKIE))
    if device is not None:
        cookies.append((DEVICE_COOKIE, device, auth.DEVICE_TTL))
    for name, value, ttl in cookies:
        response.set_cookie(
            name,
            value,
            max_age=int(ttl.total_seconds()),
            httponly=True,
            secure=settings.cookie_secure,
            samesite="lax",
        )
    return csrf


def require_role(*roles: str):  # type: ignore[no-untyped-def]
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role")
        return user

    return Depends(check)


AdminUser = Annotated[User, require_role("admin")]
