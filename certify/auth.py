"""Who is asking: session users for the HTML UI, Bearer tokens for the API, one `current_user` for both."""
import datetime as dt

from flask import Flask, g, request, session
from flask_login import AnonymousUserMixin, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from certify.extensions import db, login_manager
from certify.models import ApiToken, User
from certify.models.user import hash_token
from certify.timeutil import as_utc, utcnow


def init_auth(app: Flask) -> None:
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @app.before_request
    def enforce_absolute_session_lifetime():
        started = session.get("auth_at")
        if started is not None and utcnow().timestamp() - started > app.config[
                "SESSION_ABSOLUTE_LIFETIME"].total_seconds():
            logout_user()
            session.clear()


@login_manager.user_loader
def load_session_user(session_id: str) -> User | None:
    """Session cookies carry "<user id>:<session version>"; a bumped version ends every old cookie."""
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.is_enabled:
        return None
    return user


def issue_token(user: User, ttl: dt.timedelta) -> tuple[str, ApiToken]:
    secret = ApiToken.new_secret()
    token = ApiToken(user_id=user.id, token_hash=hash_token(secret), expires_at=utcnow() + ttl)
    db.session.add(token)
    return secret, token


def token_from_request() -> ApiToken | None:
    """The live token named by the Authorization header, or None (missing, unknown, expired, revoked)."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret.strip()))
                              .options(joinedload(ApiToken.user)))  # the user in the same statement
    if token is None or token.revoked_at is not None or as_utc(token.expires_at) <= utcnow():
        return None
    if not token.user.is_enabled:
        return None
    return token


def authenticate_api_request() -> None:
    """Makes the Bearer token's user the current user for this request; a session cookie never counts."""
    token = token_from_request()
    g.api_token = token
    g._login_user = token.user if token else AnonymousUserMixin()
