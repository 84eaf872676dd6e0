"""Two-step sign-in with TOTP (RFC 6238): enrolment, the code after the password, and the administrator's reset.

A code is a 6-digit HMAC of the current 30-second step. One step either side is accepted, because phone clocks
drift; a code is used once: the step of the last accepted code is stored, and that step or an earlier one is
refused. Wrong codes are rate-limited per account (CODE_ATTEMPT_LIMIT, shared by the sign-in form and the API).
"""
import base64
import hmac
from dataclasses import dataclass

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, g, has_request_context
from sqlalchemy import or_, update

from certify.extensions import db
from certify.models import ApiToken, User
from certify.security_log import security_event
from certify.services import accounts, audit
from certify.timeutil import utcnow

ISSUER = "certify"
STEP_SECONDS = 30
DIGITS = 6
# Steps accepted either side of the server's own: one, so a code lives at most 90 s and never longer.
VALID_WINDOW = 1
# Refused codes per account, counted only once the password was right. 1,000 guesses take at least 50 days,
# and each guess has a 3 in 1,000,000 chance; a person who mistypes a few times is not locked out for long.
CODE_ATTEMPT_LIMIT = "5 per 5 minutes;20 per day"
# The limiter's bucket for code attempts: one for the sign-in form and the API together.
CODE_LIMIT_SCOPE = "two-step-code"
# How long the password step holds for the code step: enough to open the app, too short to leave lying about.
PENDING_SECONDS = 300


@dataclass(frozen=True)
class Enrolment:
    """What a user needs to add the account to an authenticator app: the key as text and as a QR code."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The key in groups of four, as authenticator apps show and accept it."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))

    @property
    def qr_code(self) -> str:
        """The URI as a QR code: an SVG in a data: URI, so the page embeds it without any markup of ours."""
        return segno.make(self.uri, error="m", micro=False).svg_data_uri(scale=4, border=4, dark="#000",
                                                                          light="#fff")


def _cipher() -> MultiFernet:
    """Encrypts secrets under a key derived from SECRET_KEY; retired keys (SECRET_KEY_FALLBACKS) still decrypt."""
    keys = [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(base64.urlsafe_b64encode(
        HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"certify totp secret").derive(
            key.encode("utf-8")))) for key in keys])


def _totp(user: User) -> pyotp.TOTP | None:
    """The user's TOTP generator, or None when the stored secret cannot be read (SECRET_KEY changed without
    keeping the old one as a fallback): then only an administrator's reset helps."""
    if user.totp_secret is None:
        return None
    try:
        secret = _cipher().decrypt(user.totp_secret.encode("ascii")).decode("ascii")
    except InvalidToken:
        security_event("two_step", "error", user_id=user.id, reason="secret_unreadable")
        return None
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def _matching_step(totp: pyotp.TOTP | None, code: str | None) -> int | None:
    """The time step whose code this is, within one step of now, or None."""
    code = "".join((code or "").split())
    if totp is None or len(code) != DIGITS or not code.isdigit():
        return None
    now_step = totp.timecode(utcnow().timestamp())
    matched = None
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    return matched


def _claim_step(user: User, step: int) -> bool:
    """Records the step as used unless it or a later one already was: one conditional UPDATE, so two requests
    racing with the same code cannot both win."""
    claimed = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    return claimed.rowcount == 1


def _end_sessions_and_tokens(user: User) -> None:
    """Sessions and tokens that began with the password alone stop working when the second factor changes."""
    user.session_version += 1
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def _note_refused_code() -> None:
    if has_request_context():
        g.two_step_code_refused = True


def code_refused(_response) -> bool:
    """For the limiter: only refused codes count against CODE_ATTEMPT_LIMIT, never a right one."""
    return bool(g.get("two_step_code_refused"))


def required_for(user: User) -> bool:
    """Whether this user's role must use two-step sign-in (MFA_REQUIRED_ROLES)."""
    return user.role in current_app.config["MFA_REQUIRED_ROLES"]


def must_enrol(user: User) -> bool:
    return required_for(user) and not user.has_totp


def begin_enrolment(user: User) -> Enrolment:
    """A new key for a user who has none confirmed; the same one again until it is confirmed, so a reload of the
    page does not undo a scan already made."""
    if user.has_totp:
        raise ValueError("two-step sign-in is already on; an administrator's reset comes first")
    totp = _totp(user)
    if totp is None:
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        user.totp_secret = _cipher().encrypt(secret.encode("ascii")).decode("ascii")
        user.totp_last_step = None
        db.session.commit()
        totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    return Enrolment(totp.secret, totp.provisioning_uri(name=user.email, issuer_name=ISSUER))


def confirm_enrolment(user: User, code: str) -> bool:
    """Turns two-step sign-in on once a code from the new key is right. From then on the key is never shown."""
    if user.has_totp:
        return False
    step = _matching_step(_totp(user), code)
    if step is None or not _claim_step(user, step):
        security_event("two_step_enrolment", "failure", user_id=user.id)
        db.session.commit()
        _note_refused_code()
        return False
    user.totp_enabled_at = utcnow()
    _end_sessions_and_tokens(user)
    audit.record(user.id, "auth.two_step_enabled", "user", user.id)
    security_event("two_step_enrolment", "success", user_id=user.id)
    db.session.commit()
    return True


def verify_sign_in(user: User, code: str | None, *, channel: str) -> bool:
    """The second step of signing in: the code is right, of the current step (± one), and not used before."""
    step = _matching_step(_totp(user), code)
    if step is not None and _claim_step(user, step):
        audit.record(user.id, "auth.two_step_verified", "user", user.id, {"channel": channel})
        security_event("two_step", "success", user_id=user.id, channel=channel)
        accounts.record_sign_in(user, channel)
        db.session.commit()
        return True
    reason = "wrong_code" if step is None else "code_reused"
    audit.record(None, "auth.two_step_failed", "user", user.id, {"channel": channel, "reason": reason})
    security_event("two_step", "failure", user_id=user.id, channel=channel, reason=reason)
    db.session.commit()
    _note_refused_code()
    return False


def reset(actor_id: int | None, user: User) -> None:
    """An administrator turns a user's two-step sign-in off (a lost phone): the user signs in again and, if the
    role requires it, enrols a new key before anything else."""
    had_totp = user.has_totp
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    _end_sessions_and_tokens(user)
    audit.record(actor_id, "user.two_step_reset", "user", user.id, {"email": user.email, "was_enabled": had_totp})
    security_event("two_step_reset", "success", target_user_id=user.id)
    db.session.commit()
