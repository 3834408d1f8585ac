"""Users, their roles and passwords, their sessions and API tokens: the rules and the
transactions."""

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY
from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import OperationalError

from ...extensions import db
from ...models import ROLES, ApiToken, User, UserSession, is_valid_id, utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 64
TOKEN_PREFIX = "tok_"
TOKEN_USE_PRECISION = timedelta(minutes=5)
# Wrong passwords for one account, in a row and from anywhere, before it waits: 30 s, then
# twice as long after each further failure, at most 5 minutes. Attempts made while it waits
# are refused unchecked and not counted, so nobody can keep a user out for longer than that.
SIGNIN_FAILURES_ALLOWED = 5
SIGNIN_WAIT = timedelta(seconds=30)
SIGNIN_WAIT_MAX = timedelta(minutes=5)
_hashers: dict[str, PasswordHasher] = {}
# A verification against a throwaway hash takes as long as a real one, so an unknown name and a
# wrong password cannot be told apart by timing.
_dummy_hashes: dict[str, str] = {}


class AccountError(ValueError):
    """A request about users or tokens that cannot be done; the message says why."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class SignInLocked(AccountError):
    """Too many wrong passwords for this account lately: it waits `retry_after` seconds."""

    def __init__(self, retry_after: int, field: str = "password"):
        super().__init__(
            "too many wrong passwords for this account; try again in "
            f"{retry_after} second{'s' if retry_after != 1 else ''}",
            field,
        )
        self.retry_after = retry_after


def role_rank(role: str) -> int:
    """Position of a role in viewer < analyst < admin; -1 for an unknown role."""
    return ROLES.index(role) if role in ROLES else -1


def has_role(user, role: str) -> bool:
    """Whether `user` has `role` or a higher one."""
    return user is not None and role_rank(getattr(user, "role", "")) >= role_rank(role)


def hasher() -> PasswordHasher:
    """Argon2id with RFC 9106's low-memory profile; tests may choose the cheapest parameters."""
    name = current_app.config.get("TOKER_PASSWORD_HASHING", "rfc9106")
    if name not in _hashers:
        profile = CHEAPEST if name == "cheapest" else RFC_9106_LOW_MEMORY
        _hashers[name] = PasswordHasher.from_parameters(profile)
    return _hashers[name]


def _dummy_hash() -> str:
    name = current_app.config.get("TOKER_PASSWORD_HASHING", "rfc9106")
    if name not in _dummy_hashes:
        _dummy_hashes[name] = hasher().hash(secrets.token_urlsafe(16))
    return _dummy_hashes[name]


def check_name(name: str) -> str:
    """A user name: 1-64 letters, digits, dots, dashes or underscores."""
    name = (name or "").strip()
    if not name:
        raise AccountError("a user name is required", "name")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(
            f"a user name has at most {MAX_NAME_LENGTH} characters ({len(name)} given)", "name"
        )
    if not all(c.isascii() and (c.isalnum() or c in "._-") for c in name):
        raise AccountError(
            "a user name may hold only letters, digits, dots, dashes and underscores", "name"
        )
    return name


def check_role(role: str) -> str:
    """One of the three roles."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", "role")
    return role


def check_password(password: str) -> str:
    """A password of at least MIN_PASSWORD_LENGTH characters."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters ({len(password)} given)",
            "password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password has at most {MAX_PASSWORD_LENGTH} characters", "password")
    return password


def find_user(name: str) -> User | None:
    """The user called `name`, or None."""
    return db.session.scalar(select(User).where(User.name == name))


def get_user(name: str) -> User:
    """The user called `name`; AccountError when there is none."""
    user = find_user(name)
    if user is None:
        raise AccountError(f"there is no user called {name!r}", "name")
    return user


def list_users() -> list[User]:
    """Every user, by name."""
    return list(db.session.scalars(select(User).order_by(User.name)))


def user_count() -> int:
    """How many users there are."""
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def create_user(name: str, password: str, role: str, must_change_password: bool = False) -> User:
    """Create a user with a hashed password; AccountError for a taken name or a bad field."""
    name = check_name(name)
    check_role(role)
    check_password(password)
    if find_user(name) is not None:
        raise AccountError(f"a user called {name!r} already exists", "name")
    user = User(
        name=name,
        password_hash=hasher().hash(password),
        role=role,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.commit()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, (password or "")[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _as_utc(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; every stored one is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _check_not_locked(user: User, field: str) -> None:
    """Raise SignInLocked while the account waits after too many wrong passwords."""
    until = _as_utc(user.signin_locked_until)
    if until is not None:
        left = (until - utcnow()).total_seconds()
        if left > 0:
            raise SignInLocked(math.ceil(left), field)


_users = User.__table__
_tokens = ApiToken.__table__
_sessions = UserSession.__table__


def _count_failure(user: User) -> None:
    """One more wrong password for `user`, counted in the database (one atomic increment, so
    every worker's failures add up); from SIGNIN_FAILURES_ALLOWED on, the account waits."""
    failures = db.session.execute(
        update(_users)
        .where(_users.c.id == user.id)
        .values(failed_signins=_users.c.failed_signins + 1)
        .returning(_users.c.failed_signins)
    ).scalar_one()
    if failures >= SIGNIN_FAILURES_ALLOWED:
        doublings = min(failures - SIGNIN_FAILURES_ALLOWED, 16)
        wait = min(SIGNIN_WAIT * 2**doublings, SIGNIN_WAIT_MAX)
        db.session.execute(
            update(_users).where(_users.c.id == user.id).values(signin_locked_until=utcnow() + wait)
        )
    db.session.commit()
    db.session.expire(user, ["failed_signins", "signin_locked_until"])


def _verify_counted(user: User, password: str, field: str) -> bool:
    """Check `user`'s password unless the account waits (SignInLocked); a wrong one counts."""
    _check_not_locked(user, field)
    if _verify(user.password_hash, password):
        return True
    _count_failure(user)
    return False


def authenticate(name: str, password: str) -> User | None:
    """The user if the name and password match, else None; takes as long either way.
    Raises SignInLocked while the account waits after too many wrong passwords."""
    user = find_user((name or "").strip()) if len(name or "") <= MAX_NAME_LENGTH else None
    if user is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify_counted(user, password, "password"):
        return None
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hasher().hash((password or "")[:MAX_PASSWORD_LENGTH])
    user.failed_signins = 0
    user.signin_locked_until = None
    user.last_signed_in_at = utcnow()
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password and end every session signed in with the old one."""
    check_password(password)
    user.password_hash = hasher().hash(password)
    user.must_change_password = False
    _end_sessions(user.id)
    db.session.commit()


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """A user's own password change: the current one, then the new one twice and different.

    AccountError names the form field at fault: current_password, confirm_password or
    new_password. A wrong current password counts as a failed sign-in of the account, and
    SignInLocked says the account waits.
    """
    if not _verify_counted(user, current, "current_password"):
        raise AccountError("this is not your current password", "current_password")
    if new != confirm:
        raise AccountError("the two new passwords differ", "confirm_password")
    if new == current:
        raise AccountError("choose a password different from the current one", "new_password")
    try:
        set_password(user, new)
    except AccountError as error:
        raise AccountError(str(error), "new_password") from None


def set_role(user: User, role: str) -> None:
    """Change a user's role; the last admin cannot stop being one."""
    check_role(role)
    if user.role == "admin" and role != "admin" and _admin_count() <= 1:
        raise AccountError("this is the only admin; make another user admin first", "role")
    if role != user.role:
        _end_sessions(user.id)  # pages signed in with the old role are signed out
    user.role = role
    db.session.commit()


def delete_user(user: User) -> None:
    """Delete a user and their tokens; the last admin cannot be deleted."""
    if user.role == "admin" and _admin_count() <= 1:
        raise AccountError("this is the only admin; make another user admin first", "name")
    db.session.delete(user)
    db.session.commit()


def _admin_count() -> int:
    return db.session.scalar(select(func.count()).where(User.role == "admin")) or 0


@dataclass
class FirstAdmin:
    """The admin made on the very first start, with its one-time password."""

    name: str
    password: str


def ensure_first_admin(name: str = "admin") -> FirstAdmin | None:
    """With no user at all, create an admin with a one-time password; else do nothing."""
    if user_count():
        return None
    password = secrets.token_urlsafe(15)
    create_user(name, password, "admin", must_change_password=True)
    return FirstAdmin(name, password)


def get_user_by_id(user_id: int) -> User | None:
    """The user with this id, or None."""
    return db.session.get(User, user_id) if is_valid_id(user_id) else None


@dataclass(frozen=True)
class SignedInUser:
    """Who a request acts for, as the sign-in check read them from the database just now.

    The gate runs on every request, so it reads only these columns with one indexed Core
    SELECT instead of loading an ORM `User`; a view that changes the user loads that with
    `get_user_by_id(current_user.id)`. A page session carries its session key; a token, none.
    """

    id: int
    name: str
    role: str
    must_change_password: bool
    session_key: str | None = None

    # Flask-Login's user protocol.
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the session cookie: the session's key."""
        return self.session_key


_USER_COLUMNS = (
    _users.c.id,
    _users.c.name,
    _users.c.role,
    _users.c.must_change_password,
)
# Built once: the sign-in check runs them on every request, and a statement made once is
# compiled once (its cache key, too, is computed from a statement object each call).
# An ended or expired session, or a deleted user (its sessions go with it), finds no row.
_SESSION_USER = (
    select(*_USER_COLUMNS)
    .join_from(_sessions, _users, _sessions.c.user_id == _users.c.id)
    .where(
        _sessions.c.key_hash == bindparam("digest"),
        _sessions.c.ended_at.is_(None),
        _sessions.c.expires_at > bindparam("now"),
    )
)
# A revoked token or a deleted user (its tokens go with it) finds no row.
_TOKEN_USER = (
    select(_tokens.c.id, _tokens.c.last_used_at, *_USER_COLUMNS)
    .join_from(_tokens, _users, _tokens.c.user_id == _users.c.id)
    .where(_tokens.c.token_hash == bindparam("digest"), _tokens.c.revoked_at.is_(None))
)
_TOKEN_USED = (
    update(_tokens)
    .where(_tokens.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now"))
)
MAX_SESSION_KEY_LENGTH = 64


def open_session(user: User, address: str = "") -> SignedInUser:
    """Start a session for `user`, lasting the app's session lifetime; the user to sign in
    with Flask-Login, whose cookie then carries the session key. Sessions past their end are
    removed on the way."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(UserSession).where(UserSession.expires_at < now))
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_token_hash(key),
            created_at=now,
            expires_at=now + current_app.permanent_session_lifetime,
            address=(address or "")[:64],
        )
    )
    db.session.commit()
    return SignedInUser(user.id, user.name, user.role, user.must_change_password, key)


def load_session_user(reference: str | None) -> SignedInUser | None:
    """The user of the session whose key the cookie carries, if that session is still open."""
    if not reference or len(reference) > MAX_SESSION_KEY_LENGTH:
        return None
    params = {"digest": _token_hash(reference), "now": utcnow()}
    row = db.session.connection().execute(_SESSION_USER, params).first()
    return SignedInUser(*row, session_key=reference) if row is not None else None


def end_session(reference: str | None) -> None:
    """End the session with this key (signing out): its cookie no longer signs anyone in."""
    if not reference or len(reference) > MAX_SESSION_KEY_LENGTH:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.key_hash == _token_hash(reference), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    db.session.commit()


def _end_sessions(user_id: int) -> int:
    """End every open session of a user, in the caller's transaction; how many were open."""
    now = utcnow()
    result = db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.expires_at > now,
        )
        .values(ended_at=now)
    )
    return result.rowcount


def end_sessions(user: User) -> int:
    """End every session of `user` at once (an admin's action); how many were open."""
    ended = _end_sessions(user.id)
    db.session.commit()
    return ended


def open_session_counts() -> dict[int, int]:
    """Per user id, how many sessions are open now (users without one are left out)."""
    rows = db.session.execute(
        select(UserSession.user_id, func.count())
        .where(UserSession.ended_at.is_(None), UserSession.expires_at > utcnow())
        .group_by(UserSession.user_id)
    )
    return dict(rows.all())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for `user`; returns the record and the token, shown only this once."""
    name = (name or "").strip() or "token"
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"a token name has at most {MAX_NAME_LENGTH} characters", "name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user=user, name=name, token_hash=_token_hash(token), prefix=token[: len(TOKEN_PREFIX) + 6]
    )
    db.session.add(record)
    db.session.commit()
    return record, token


def list_tokens(user: User | None = None) -> list[ApiToken]:
    """Every token (or one user's), newest first, revoked ones included."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query))


def get_token(token_id: int) -> ApiToken:
    """The token with this id; AccountError when there is none."""
    record = db.session.get(ApiToken, token_id) if is_valid_id(token_id) else None
    if record is None:
        raise AccountError(f"there is no token with id {token_id}", "token")
    return record


def revoke_token(record: ApiToken) -> None:
    """Revoke a token: it stops working at once."""
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()


def user_for_token(token: str) -> SignedInUser | None:
    """The user a live bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    # The token and its user in one indexed SELECT: this runs on every API request.
    row = db.session.connection().execute(_TOKEN_USER, {"digest": _token_hash(token)}).first()
    if row is None:
        return None
    token_id, last, *user = row
    now = utcnow()
    last = _as_utc(last)
    if last is None or now - last > TOKEN_USE_PRECISION:
        # Written at most every few minutes, and best effort: a busy database must not turn
        # a read into an error.
        try:
            db.session.connection().execute(_TOKEN_USED, {"token_id": token_id, "now": now})
            db.session.commit()
        except OperationalError:
            db.session.rollback()
    return SignedInUser(*user)
