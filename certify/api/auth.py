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
from certify.services import accounts, mfa


def login_account_key() -> str:
    """Throttles by the account asked for, whoever asks: stops guessing one password from many addresses."""
    data = request.get_json(silent=True) if request.is_json else None
    email = data.get("email") if isinstance(data, dict) else None
    return f"account:{str(email or request.form.get('email', '')).strip().lower()}"


def sends_code() -> bool:
    data = request.get_json(silent=True) if request.is_json else None
    return isinstance(data, dict) and bool(data.get("otp"))


@api.post("/auth/tokens")
@operation(body=TokenRequest, responses={201: Token}, public=True, errors=(401,))
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=login_account_key)
@limiter.shared_limit(mfa.CODE_ATTEMPT_LIMIT, scope=mfa.CODE_LIMIT_SCOPE, key_func=login_account_key,
                      exempt_when=lambda: not sends_code(), deduct_when=mfa.code_refused)
def create_token():
    """Exchanges e-mail and password (and, for users with two-step sign-in, the current TOTP code as `otp`)
    for a Bearer token that expires.

    A wrong e-mail or password is 401 `invalid_credentials`. For a user with two-step sign-in, a right password
    with a missing, wrong or already used code is 401 `mfa_required`: that answer tells the password was right, as
    the sign-in page does by asking for the code; the login limits bound password guesses either way, and refused
    codes have a limit of their own.
    """
    body = parse_body(TokenRequest)
    user = accounts.authenticate(body.email, body.password, channel="api")
    if user is None:
        raise ApiError(401, "Wrong e-mail or password.", code="invalid_credentials")
    if user.has_totp and not (body.otp and mfa.verify_sign_in(user, body.otp, channel="api")):
        raise ApiError(401, "Send the current 6-digit code of your authenticator app as otp; each code works once.",
                       code="mfa_required")
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
