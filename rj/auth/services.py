"""Accounts: creating them, signing in and out, passwords, and server-side sessions."""
from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from rj.audit.services import record
from rj.auth.models import AccountToken, User, UserSession
from rj.core.errors import DomainError
from rj.core.permissions import Role
from rj.core.time import now_utc
from rj.core.tokens import hash_token, new_token
from rj.extensions import db

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a failed log-in takes the same time either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

LOGIN_FAILED = "Enter a correct email address and password"
MIN_PASSWORD = 12


class LoginFailed(DomainError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(f"Password must be {MIN_PASSWORD} characters or more", field="password")
    if len(password) > 200:
        raise DomainError("Password must be 200 characters or fewer", field="password")


def create_user(*, email: str, name: str, role: Role, actor=None, password: str | None = None,
                now: datetime | None = None) -> User:
    """Create an account. Email addresses are unique regardless of case."""
    now = now or now_utc()
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise DomainError("An account with this email address already exists", field="email")
    user = User(email=email, name=name, role=role, active=True, failed_logins=0, created_at=now)
    if password is not None:
        validate_password(password)
        user.password_hash = _hasher.hash(password)
    db.session.add(user)
    db.session.flush()
    record("user.created", user, actor=actor, detail={"role": role.value}, now=now)
    return user


def authenticate(email: str, password: str, *, config: dict, now: datetime | None = None) -> User:
    """Check a log-in. One generic message for every failure; lock after repeated failures."""
    now = now or now_utc()
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.password_hash:
        try:
            _hasher.verify(_DUMMY_HASH, password or "x")
        except VerificationError:
            pass
        raise LoginFailed(LOGIN_FAILED)
    if user.locked_until and user.locked_until > now:
        raise LoginFailed(LOGIN_FAILED)
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
            user.failed_logins = 0
            record("user.locked", user, actor=None, now=now)
        raise LoginFailed(LOGIN_FAILED) from None
    if not user.active:
        raise LoginFailed(LOGIN_FAILED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def start_session(user: User, *, now: datetime | None = None) -> str:
    """Open a server-side session; returns the raw token that goes in the signed cookie."""
    now = now or now_utc()
    token, token_hash = new_token()
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash, created_at=now, last_seen_at=now))
    user.current_session_token = token
    record("user.signed_in", user, actor=user, now=now)
    return token


def load_session_user(token: str, *, idle_minutes: int, now: datetime | None = None) -> User | None:
    """The user behind a session token, or None if it ended, went idle or the account is off."""
    now = now or now_utc()
    sess = db.session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token or "")))
    if sess is None or sess.ended_at is not None:
        return None
    if sess.last_seen_at < now - timedelta(minutes=idle_minutes):
        sess.ended_at = now
        return None
    user = sess.user
    if not user.active:
        return None
    # Touch at most once a minute so reading a page is not a write each time.
    if now - sess.last_seen_at > timedelta(minutes=1):
        sess.last_seen_at = now
    user.current_session_token = token
    return user


def end_session(token: str, *, actor=None, now: datetime | None = None) -> None:
    now = now or now_utc()
    db.session.execute(
        update(UserSession).where(UserSession.token_hash == hash_token(token or ""), UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    if actor is not None:
        record("user.signed_out", actor, actor=actor, now=now)


def end_all_sessions(user: User, *, except_token: str | None = None, now: datetime | None = None) -> None:
    now = now or now_utc()
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if except_token:
        stmt = stmt.where(UserSession.token_hash != hash_token(except_token))
    db.session.execute(stmt.values(ended_at=now))


def change_password(user: User, *, current: str, new: str, now: datetime | None = None) -> str:
    """Change one's own password. Every session ends, and a fresh one is returned."""
    now = now or now_utc()
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, current or "")
    except (VerificationError, InvalidHashError):
        raise DomainError("Your current password is not correct", field="current_password") from None
    validate_password(new)
    user.password_hash = _hasher.hash(new)
    end_all_sessions(user, now=now)
    record("user.password_changed", user, actor=user, now=now)
    return start_session(user, now=now)


def issue_account_token(user: User, *, actor, hours: int, now: datetime | None = None) -> str:
    """A single-use set-password link; any earlier unused link for the user stops working."""
    now = now or now_utc()
    db.session.execute(
        update(AccountToken).where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None)).values(used_at=now)
    )
    token, token_hash = new_token()
    db.session.add(AccountToken(user_id=user.id, token_hash=token_hash, purpose="set_password",
                                created_at=now, expires_at=now + timedelta(hours=hours)))
    record("user.invitation_issued", user, actor=actor, now=now)
    return token


def find_account_token(token: str, *, now: datetime | None = None) -> AccountToken | None:
    now = now or now_utc()
    row = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == hash_token(token or "")))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def set_password_with_token(token: str, password: str, *, now: datetime | None = None) -> User:
    now = now or now_utc()
    row = find_account_token(token, now=now)
    if row is None:
        raise DomainError("This link has expired or has already been used. Ask your coordinator for a new one.")
    validate_password(password)
    user = row.user
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    row.used_at = now
    end_all_sessions(user, now=now)
    record("user.password_set", user, actor=user, now=now)
    return user


def set_active(user: User, active: bool, *, actor, now: datetime | None = None) -> None:
    """Disable or re-enable an account. Disabling ends every session at once."""
    now = now or now_utc()
    if actor is not None and actor.id == user.id and not active:
        raise DomainError("You cannot disable your own account")
    user.active = active
    if not active:
        end_all_sessions(user, now=now)
    record("user.enabled" if active else "user.disabled", user, actor=actor, fields=["active"], now=now)
