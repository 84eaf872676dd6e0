"""Two-step sign-in at the token endpoint: `otp` beside e-mail and password once a user has enrolled."""
import time

import pytest
from sqlalchemy import select

from certify.extensions import db
from certify.models import AuditEvent, User
from certify.services import mfa
from tests.helpers import PASSWORD, bearer, login, make_user, token_for
from tests.web.test_mfa import MINISTRY_ROLES, clear_of_step_end, enrol, enrolled_user, send_code


@pytest.fixture()
def mfa_required(app, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", MINISTRY_ROLES)


def ask_token(client, email, password=PASSWORD, **extra):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password, **extra})


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def test_a_user_without_two_step_sign_in_gets_a_token_as_before(client, ctx, mfa_required):
    # Even where the role requires it: enrolment happens on the sign-in pages, and API clients keep working.
    user = make_user("admin")
    assert ask_token(client, user.email).status_code == 201
    assert ask_token(client, user.email, otp="123456").status_code == 201, "a code is not asked, and not in the way"


def test_an_enrolled_user_needs_the_current_code(client, ctx):
    user, totp = enrolled_user("auditor")
    missing = ask_token(client, user.email)
    assert missing.status_code == 401 and error_code(missing) == "mfa_required"
    assert set(missing.get_json()["error"]) == {"code", "message"}
    clear_of_step_end()
    granted = ask_token(client, user.email, otp=totp.now())
    assert granted.status_code == 201
    assert client.get("/api/v1/me", headers=bearer(granted.get_json()["token"])).get_json()["email"] == user.email
    db.session.expire_all()
    assert db.session.scalars(select(AuditEvent.data).where(AuditEvent.action == "auth.two_step_verified")
                              ).all() == [{"channel": "api"}]


def test_a_wrong_password_says_nothing_about_the_code(client, ctx):
    user, totp = enrolled_user("auditor")
    unknown = ask_token(client, "nobody@certify.test", "wrong password!", otp=totp.now())
    wrong = ask_token(client, user.email, "wrong password!", otp=totp.now())
    wrong_without_code = ask_token(client, user.email, "wrong password!")
    assert unknown.status_code == wrong.status_code == wrong_without_code.status_code == 401
    assert unknown.get_json() == wrong.get_json() == wrong_without_code.get_json()
    assert error_code(wrong) == "invalid_credentials"


def test_a_code_gives_one_token_only(client, ctx):
    user, totp = enrolled_user("reviewer")
    clear_of_step_end()
    code = totp.now()
    assert ask_token(client, user.email, otp=code).status_code == 201
    again = ask_token(client, user.email, otp=code)
    assert again.status_code == 401 and error_code(again) == "mfa_required"


def test_a_code_used_on_the_sign_in_page_does_not_also_give_a_token(client, ctx):
    user, totp = enrolled_user("reviewer")
    clear_of_step_end()
    code = totp.now()
    login(client, user.email)
    assert send_code(client, code).status_code == 302
    assert ask_token(client, user.email, otp=code).status_code == 401


def test_a_stale_code_is_refused(client, ctx):
    user, totp = enrolled_user("reviewer")
    stale = ask_token(client, user.email, otp=totp.at(time.time() - 90))
    assert stale.status_code == 401 and error_code(stale) == "mfa_required"


def test_wrong_codes_are_throttled_with_retry_after(client, ctx):
    user, totp = enrolled_user("admin")
    right = totp.now()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    statuses = [ask_token(client, user.email, otp=wrong).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    limited = ask_token(client, user.email, otp=right)
    assert limited.status_code == 429 and error_code(limited) == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0


def test_asking_without_a_code_is_not_counted_as_a_guess(client, ctx):
    user, totp = enrolled_user("admin")
    assert [ask_token(client, user.email).status_code for _ in range(6)] == [401] * 6
    clear_of_step_end()
    assert ask_token(client, user.email, otp=totp.now()).status_code == 201


def test_enrolling_and_resetting_end_the_tokens_issued_before(client, ctx):
    user = make_user("reviewer")
    before = bearer(token_for(client, user.email))
    totp = enrol(user)
    assert client.get("/api/v1/me", headers=before).status_code == 401
    clear_of_step_end()
    after = bearer(ask_token(client, user.email, otp=totp.now()).get_json()["token"])
    assert client.get("/api/v1/me", headers=after).status_code == 200
    mfa.reset(make_user("admin").id, db.session.get(User, user.id))
    assert client.get("/api/v1/me", headers=after).status_code == 401
    assert ask_token(client, user.email).status_code == 201, "after a reset the password alone works again"


def test_the_code_is_documented_and_unknown_members_still_refused(client, ctx):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["TokenRequest"]
    assert "otp" in schema["properties"] and "otp" not in schema.get("required", [])
    user = make_user("admin")
    assert ask_token(client, user.email, role="admin").status_code == 422
    assert ask_token(client, user.email, otp="1" * 17).status_code == 422
