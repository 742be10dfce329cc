"""Users, roles, teams, API tokens, browser logins, and who may see which session.

Everything lives in the database (no process memory), so several replicas can share it.
Passwords are hashed with argon2; tokens and cookies are random and stored only as sha256.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select

from app.errors import Conflict, NotFound, TooMany, Unauthorized
from app.models import (
    INT_MAX,
    ApiToken,
    LoginFailure,
    PracticeSession,
    Team,
    TeamMember,
    TrustedDevice,
    User,
    UserCreate,
    UserPublic,
    UserUpdate,
    WebSession,
    as_utc,
    utcnow,
)

_hasher = PasswordHasher()
TOKEN_PREFIX = "spr_"
LOCK_AFTER = 5  # failed logins in a row, for one name from one address
LOCK_FOR = timedelta(minutes=15)
FAILED_DELAY = 0.5  # seconds every failed login waits, whoever's it is
WEB_SESSION_TTL = timedelta(hours=12)
DEVICE_TTL = timedelta(days=365)
DEVICES_KEPT = 10  # per account, the newest: an older browser is counted by its address again


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_dummy: tuple[PasswordHasher, str] | None = None


def new_password() -> str:
    """A random password for a new or reset account, shown once to whoever made it."""
    return secrets.token_urlsafe(15)


def _dummy_hash() -> str:
    """A hash of a random secret with the current hasher's parameters (so verifying it costs
    what verifying a real password does), made once per hasher."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(32)))
    return _dummy[1]


# ---------------------------------------------------------------- users and teams


def find_team(db: Session, name: str) -> Team | None:
    """A team by name in any case, as usernames are: "Blue" and "blue" are one team, spelt
    as it was first made (the oldest, should an older database hold both)."""
    same = func.lower(Team.name) == name.lower()
    return db.exec(select(Team).where(same).order_by(col(Team.id))).first()


def _set_teams(db: Session, user: User, teams: list[str]) -> None:
    db.exec(delete(TeamMember).where(col(TeamMember.user_id) == user.id))
    spelt: dict[str, str] = {}  # the first spelling of each name
    for name in teams:
        spelt.setdefault(name.lower(), name)
    for name in spelt.values():
        team = find_team(db, name)
        if team is None:
            team = Team(name=name)
            db.add(team)
            db.flush()
        db.add(TeamMember(team_id=team.id, user_id=user.id))  # type: ignore[arg-type]


def teams_of(db: Session, user_id: int) -> list[str]:
    query = (
        select(Team.name)
        .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
        .where(TeamMember.user_id == user_id)
        .order_by(col(Team.name))
    )
    return list(db.exec(query))


def user_public(db: Session, user: User) -> UserPublic:
    return UserPublic.model_validate(user, update={"teams": teams_of(db, user.id)})  # type: ignore[arg-type]


def create_user(*, db: Session, request: UserCreate) -> User:
    """A new account; a name that differs from an existing one only in case is refused too
    (eve1 and EVE1 would be two people a coach cannot tell apart)."""
    same = func.lower(User.username) == request.username.lower()
    if found := db.exec(select(User.username).where(same)).first():
        raise Conflict(f"a user named '{found}' already exists", code="user_exists", name=found)
    user = User(
        username=request.username, role=request.role, password_hash=hash_password(request.password)
    )
    db.add(user)
    db.flush()
    _set_teams(db, user, request.teams)
    db.commit()
    return user


def get_user(*, db: Session, user_id: int) -> User:
    user = db.get(User, user_id) if 1 <= user_id <= INT_MAX else None
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def update_user(*, db: Session, user_id: int, request: UserUpdate) -> User:
    """Change an account; refused (409) when it would leave no active admin."""
    user = get_user(db=db, user_id=user_id)
    demoted = request.role is not None and request.role != "admin"
    if user.role == "admin" and user.active and (demoted or request.active is False):
        _keep_an_admin(db, user)
    if request.role is not None:
        user.role = request.role
    if request.active is not None:
        user.active = request.active
    if request.password is not None:
        user.password_hash = hash_password(request.password)
        forget_failed_logins(db, user.username)
        # whoever logged in with the old one (a stolen cookie) is logged out, and their browser
        # is no longer trusted; API tokens are credentials of their own, revoked on their own
        db.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))
        db.exec(delete(TrustedDevice).where(col(TrustedDevice.user_id) == user.id))
    if request.teams is not None:
        _set_teams(db, user, request.teams)
    db.add(user)
    db.commit()
    return user


def _keep_an_admin(db: Session, admin: User) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could administer then.
    The active admins' rows stay locked until the change commits (PostgreSQL), so two
    admins demoting each other at once cannot both succeed."""
    admins = db.exec(
        select(User.id).where(User.role == "admin", col(User.active).is_(True)).with_for_update()
    ).all()
    if not set(admins) - {admin.id}:
        db.rollback()
        raise Conflict(
            f"'{admin.username}' is the only active admin: make another account an admin "
            "before demoting or deactivating this one",
            code="last_admin",
            name=admin.username,
        )


def list_users(*, db: Session) -> list[User]:
    return list(db.exec(select(User).order_by(col(User.username))))


def ensure_admin(*, db: Session) -> str | None:
    """On a database without an admin, create `admin` with a random password and return it
    (once). Accounts made with `sparring users create` before the first start are no admins,
    and without one nobody could manage them from the pages."""
    if db.exec(select(func.count()).select_from(User).where(User.role == "admin")).one():
        return None
    password = new_password()
    try:
        create_user(db=db, request=UserCreate(username="admin", password=password, role="admin"))
    except Conflict:  # another replica created it first
        db.rollback()
        return None
    return password


# ---------------------------------------------------------------- logging in


def authenticate(
    *, db: Session, username: str, password: str, address: str, device: str | None = None
) -> User:
    """Check a password; after LOCK_AFTER failures in a row for a name from one address,
    refuse that name from that address for LOCK_FOR. A browser that logged in to the account
    before (its `device` cookie, see `trust_device`) is counted on its own instead, so
    nobody else's guesses from its address lock it out. Every answer (an unknown name, a
    wrong password, a locked name) takes the same time and reads the same for a name that
    exists as for one that does not."""
    user = db.exec(select(User).where(User.username == username)).first()
    now = utcnow()
    known = _device(db, device)
    trusted = known is not None and user is not None and known.user_id == user.id
    origin = f"device {known.token_hash[:32]}" if trusted and known else address[:64]
    key = (username.lower(), origin)
    failed = db.get(LoginFailure, key)
    if failed is not None and (locked := as_utc(failed.locked_until)) and locked > now:
        db.commit()  # the read ends: no connection held while waiting
        time.sleep(FAILED_DELAY)
        where = "this browser" if trusted else "your address"
        raise TooMany(
            f"too many failed logins: this name is locked from {where} until {locked:%H:%M} UTC"
        )
    # An unknown or inactive account is checked against a dummy hash, and every failure waits
    # FAILED_DELAY: how long a login takes never tells who exists.
    usable = user is not None and user.active
    stored = user.password_hash if user is not None and usable else _dummy_hash()
    try:
        ok = _hasher.verify(stored, password) and usable
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and user is not None:
        if failed is not None:
            db.delete(failed)
            db.commit()
        return user
    _count_failure(db, key, now)
    time.sleep(FAILED_DELAY)
    raise Unauthorized("wrong username or password")


def _device(db: Session, cookie: str | None) -> TrustedDevice | None:
    """The trusted browser a device cookie names, unless it has expired."""
    if not cookie:
        return None
    known = db.get(TrustedDevice, _digest(cookie))
    if known is None or (as_utc(known.created_at) or utcnow()) < utcnow() - DEVICE_TTL:
        return None
    return known


def trust_device(*, db: Session, user: User, device: str | None) -> str | None:
    """After a successful login: a new device cookie for the browser, or None when the one it
    sent already names this account. Each account keeps its newest DEVICES_KEPT."""
    known = _device(db, device)
    if known is not None and known.user_id == user.id:
        return None
    cookie = secrets.token_urlsafe(32)
    db.exec(delete(TrustedDevice).where(col(TrustedDevice.created_at) < utcnow() - DEVICE_TTL))
    db.add(TrustedDevice(token_hash=_digest(cookie), user_id=user.id))  # type: ignore[arg-type]
    db.flush()
    newest = (
        select(TrustedDevice.token_hash)
        .where(TrustedDevice.user_id == user.id)
        .order_by(col(TrustedDevice.created_at).desc(), col(TrustedDevice.token_hash))
        .limit(DEVICES_KEPT)
    )
    db.exec(
        delete(TrustedDevice).where(
            col(TrustedDevice.user_id) == user.id, col(TrustedDevice.token_hash).not_in(newest)
        )
    )
    db.commit()
    return cookie


def _count_failure(db: Session, key: tuple[str, str], now: datetime) -> None:
    """Counted in one statement, not read-add-write: 40 guesses at once all count. Failures
    older than LOCK_FOR are forgotten first (so are the locks they set)."""
    db.exec(delete(LoginFailure).where(col(LoginFailure.last_failed_at) < now - LOCK_FOR))
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else postgresql_insert
    row = {"username": key[0], "address": key[1], "failures": 1, "last_failed_at": now}
    counted = insert(LoginFailure).values(row)
    failures = db.exec(  # type: ignore[call-overload]
        counted.on_conflict_do_update(
            index_elements=["username", "address"],
            set_={"failures": LoginFailure.failures + 1, "last_failed_at": now},
        ).returning(LoginFailure.failures)
    ).one()[0]
    if failures >= LOCK_AFTER:
        locked = update(LoginFailure).where(
            col(LoginFailure.username) == key[0], col(LoginFailure.address) == key[1]
        )
        db.exec(locked.values(locked_until=now + LOCK_FOR))
    db.commit()


def forget_failed_logins(db: Session, username: str) -> None:
    """Lift every lock on a name: its password was just reset by an admin."""
    db.exec(delete(LoginFailure).where(col(LoginFailure.username) == username.lower()))


def open_web_session(*, db: Session, user: User) -> tuple[str, str]:
    """A new browser login: returns the cookie value and the CSRF token for forms."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.exec(delete(WebSession).where(col(WebSession.expires_at) < utcnow()))
    db.add(
        WebSession(
            id_hash=_digest(cookie),
            user_id=user.id,  # type: ignore[arg-type]
            csrf_token=csrf,
            expires_at=utcnow() + WEB_SESSION_TTL,
        )
    )
    db.commit()
    return cookie, csrf


def close_web_session(*, db: Session, cookie: str) -> None:
    db.exec(delete(WebSession).where(col(WebSession.id_hash) == _digest(cookie)))
    db.commit()


def user_from_cookie(*, db: Session, cookie: str) -> tuple[User, WebSession] | None:
    web = db.get(WebSession, _digest(cookie))
    if web is None or (as_utc(web.expires_at) or utcnow()) < utcnow():
        return None
    user = db.get(User, web.user_id)
    return (user, web) if user is not None and user.active else None


# ---------------------------------------------------------------- API tokens


def create_token(*, db: Session, user: User, name: str) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,  # type: ignore[arg-type]
        name=name,
        prefix=secret[:10],
        token_hash=_digest(secret),
    )
    db.add(token)
    db.commit()
    return token, secret


def list_tokens(*, db: Session, user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id))
    return list(db.exec(query))


def revoke_token(*, db: Session, user: User, token_id: int) -> ApiToken:
    token = db.get(ApiToken, token_id) if 1 <= token_id <= INT_MAX else None
    if token is None or (token.user_id != user.id and user.role != "admin"):
        raise NotFound(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.add(token)
        db.commit()
    return token


def user_from_token(*, db: Session, secret: str) -> User | None:
    found = db.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == ApiToken.user_id)
        .where(ApiToken.token_hash == _digest(secret))
    ).first()
    if found is None:
        return None
    token, user = found
    if token.revoked_at is not None or not user.active:
        return None
    now = utcnow()
    last = as_utc(token.last_used_at)
    if last is None or now - last > timedelta(minutes=5):  # not a write on every request
        token.last_used_at = now
        db.add(token)
        db.commit()
    return user


# ---------------------------------------------------------------- who sees what


def visible_user_ids(*, db: Session, user: User) -> set[int] | None:
    """None means every user (admins); coaches see their teams' trainees; trainees themselves."""
    if user.role == "admin":
        return None
    if user.role == "coach":
        # the trainees of their teams, not fellow coaches (or an admin) who practise too
        my_teams = select(TeamMember.team_id).where(TeamMember.user_id == user.id)
        members = (
            select(TeamMember.user_id)
            .join(User, col(User.id) == TeamMember.user_id)
            .where(col(TeamMember.team_id).in_(my_teams), User.role == "trainee")
        )
        return {user.id, *db.exec(members)}  # type: ignore[arg-type]
    return {user.id}  # type: ignore[arg-type]


def can_see(*, db: Session, user: User, record: PracticeSession) -> bool:
    visible = visible_user_ids(db=db, user=user)
    return visible is None or record.user_id in visible
