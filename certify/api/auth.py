"""API authentication: tokens for e-mail and password, revocation, and who am I."""
from flask import current_app, g, jsonify, request
from flask_login import current_user

from certify.api import api
from certify.api.openapi import operation
from certify.api.parsing import parse_body
from certify.api.responses import Token, UserOut
from certify.api.schemas import TokenRequest
from certify.api.serializers import user_json
from certify.errors import ApiError
from certify.extensions import limiter
from certify.models.user import ROLES
from certify.security import roles_required
from certify.services import accounts


def login_account_key() -> str:
    """Throttles by the account asked for, whoever asks: stops guessing one password from many addresses."""
    data = request.get_json(silent=True) if request.is_json else None
    email = data.get("email") if isinstance(data, dict) else None
    return f"account:{str(email or request.form.get('email', '')).strip().lower()}"


@api.post("/auth/tokens")
@operation(body=TokenRequest, responses={201: Token}, public=True)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=login_account_key)
def create_token():
    """Exchanges e-mail and password for a Bearer token that expires."""
    body = parse_body(TokenRequest)
    user = accounts.authenticate(body.email, body.password, channel="api")
    if user is None:
        raise ApiError(401, "Wrong e-mail or password.", code="invalid_credentials")
    secret, token = accounts.issue_api_token(user, current_app.config["TOKEN_TTL"])
    return jsonify({"token": secret, "expires_at": token.expires_at}), 201


@api.delete("/auth/tokens/current")
@operation(responses={204: None})
@roles_required(*ROLES)
def revoke_current_token():
    """Revokes the token that made this request."""
    accounts.revoke_api_token(current_user, g.api_token)
    return "", 204


@api.get("/me")
@operation(responses={200: UserOut})
@roles_required(*ROLES)
def me():
    """The signed-in user."""
    return jsonify(user_json(current_user))
