"""People and their credentials: users with one role each, and API tokens stored hashed."""
import datetime as dt
import hashlib
import secrets

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.extensions import db
from certify.models.company import Company
from certify.models.types import UtcDateTime, one_of
from certify.timeutil import utcnow

ROLES = ("applicant", "reviewer", "auditor", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role_known"),
        # api.md: applicants belong to one company; other roles to none.
        CheckConstraint("(role = 'applicant') = (company_id IS NOT NULL)", name="company_iff_applicant"),
        CheckConstraint("totp_enabled_at IS NULL OR totp_secret IS NOT NULL", name="totp_enabled_has_secret"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # Bumped at logout and password change: every session cookie carrying an older value stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Two-step sign-in (services/mfa.py). The TOTP secret is kept encrypted under the app's secret key, so a copy
    # of the database alone cannot make codes; it is shown only while enrolling, before totp_enabled_at is set.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The 30-second step of the last code accepted: a code of this step or an earlier one is refused (single use).
    totp_last_step: Mapped[int | None] = mapped_column()

    company: Mapped[Company | None] = relationship()

    def get_id(self) -> str:
        # Flask-Login keeps this in the session; the version makes old cookies fail to load a user.
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def has_totp(self) -> bool:
        """Signs in with a TOTP code after the password: enrolment was confirmed with a valid code."""
        return self.totp_enabled_at is not None and self.totp_secret is not None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)
