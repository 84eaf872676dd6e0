"""Signing in and out: credentials checked once, tokens issued and revoked, sessions ended everywhere."""
import datetime as dt

from sqlalchemy import select

from certify.auth import issue_token
from certify.extensions import db
from certify.models import ApiToken, User
from certify.passwords import hash_password, needs_rehash, verify_password
from certify.security_log import security_event
from certify.services import audit
from certify.timeutil import utcnow


def authenticate(email: str, password: str, *, channel: str) -> User | None:
    """The user for these credentials, or None; an unknown e-mail and a wrong password look and cost the same."""
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not verify_password(user.password_hash, password) or not user.is_enabled:
        if user is None:
            verify_password(None, password)
        audit.record(None, "auth.login_failed", "user", user.id if user else "-", {"email": email[:254],
                                                                                   "channel": channel})
        security_event("login", "failure", email=email[:254], channel=channel)
        db.session.commit()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.has_totp:  # signed in only once the code is right too (services/mfa.py records it then)
        audit.record(user.id, "auth.password_verified", "user", user.id, {"channel": channel})
        security_event("login", "password_verified", user_id=user.id, channel=channel)
    else:
        record_sign_in(user, channel)
    db.session.commit()
    return user


def record_sign_in(user: User, channel: str) -> None:
    user.last_login_at = utcnow()
    audit.record(user.id, "auth.login", "user", user.id, {"channel": channel})
    security_event("login", "success", user_id=user.id, channel=channel)


def issue_api_token(user: User, ttl: dt.timedelta) -> tuple[str, ApiToken]:
    secret, token = issue_token(user, ttl)
    db.session.commit()
    return secret, token


def revoke_api_token(user: User, token: ApiToken) -> None:
    token.revoked_at = utcnow()
    audit.record(user.id, "auth.token_revoked", "user", user.id)
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Logout: every copy of every session cookie of this user stops working (notes.md, Flask-Login)."""
    user.session_version += 1
    audit.record(user.id, "auth.logout", "user", user.id)
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    """Remembers the user's language for every later page."""
    user.locale = locale
    db.session.commit()
