"""Two-step sign-in on the HTML pages: enrolment, the code after the password, single use, staleness, throttling,
the pending step that opens nothing, the enrolment gate for ministry roles, and the administrator's reset."""
import html
import re
import time

import pyotp
import pytest
from flask import url_for
from sqlalchemy import select

from certify import create_app
from certify.extensions import db
from certify.models import AuditEvent, User
from certify.services import mfa
from config import TestConfig
from tests.helpers import PASSWORD, csrf_token_from, login, make_company, make_user
from tests.test_access_matrix import concrete_path, routes

MINISTRY_ROLES = ("reviewer", "auditor", "admin")


def clear_of_step_end() -> None:
    """Waits out the last second of a 30-second step, so a code made now is still of the step it was made for."""
    remaining = mfa.STEP_SECONDS - time.time() % mfa.STEP_SECONDS
    if remaining < 1.5:
        time.sleep(remaining + 0.1)


def enrol(user: User) -> pyotp.TOTP:
    """Turns two-step sign-in on through the service, confirmed with the previous step's code, so that the
    code of the current step is still unused."""
    totp = pyotp.TOTP(mfa.begin_enrolment(user).secret)
    clear_of_step_end()
    assert mfa.confirm_enrolment(user, totp.at(time.time() - mfa.STEP_SECONDS))
    return totp


def enrolled_user(role="reviewer", **kwargs) -> tuple[User, pyotp.TOTP]:
    user = make_user(role, **kwargs)
    return user, enrol(user)


def send_code(client, code: str, path: str = "/login"):
    page = client.get(path)
    return client.post(path, data={"code": code, "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def signed_in_pages(app) -> list[str]:
    """Every HTML page that needs a signed-in user (from url_map, ids that name nothing)."""
    with app.test_request_context():
        return sorted({concrete_path(rule) for rule, method in routes(app)
                       if method == "GET" and not rule.rule.startswith("/api/")
                       and getattr(app.view_functions[rule.endpoint], "allowed_roles", None)})


def shown_key(response) -> str:
    """The key the enrolment page shows as text (in groups of four)."""
    return re.search(r'<code class="totp-key">([A-Z2-7 ]+)</code>', page_text(response)).group(1).replace(" ", "")


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()


@pytest.fixture()
def mfa_required(app, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", MINISTRY_ROLES)


def test_enrolment_shows_the_key_until_a_valid_code_turns_it_on(client, ctx):
    user = make_user("reviewer")
    login(client, user.email)
    page = client.get("/account/two-step")
    assert page.status_code == 200
    text = page_text(page)
    assert 'src="data:image/svg+xml' in text and "Scan this QR code" in text
    key = shown_key(page)
    assert shown_key(client.get("/account/two-step")) == key, "a reload keeps the key already scanned"

    refused = send_code(client, "000000" if pyotp.TOTP(key).now() != "000000" else "111111", "/account/two-step")
    assert refused.status_code == 422
    assert "This code is not right" in page_text(refused)
    assert not fresh(user).has_totp

    clear_of_step_end()
    accepted = send_code(client, pyotp.TOTP(key).now(), "/account/two-step")
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/home"
    assert fresh(user).has_totp
    assert client.get("/home").status_code == 200, "the enrolling session goes on"
    status = page_text(client.get("/account/two-step"))
    assert "Two-step sign-in is on since" in status
    assert key[:8] not in status.replace(" ", "") and "data:image/svg" not in status, "the key is never shown again"
    assert [event.actor_id for event in events("auth.two_step_enabled")] == [user.id]


def test_the_key_is_stored_encrypted(ctx):
    user = make_user("auditor")
    secret = mfa.begin_enrolment(user).secret
    stored = fresh(user).totp_secret
    assert secret not in stored and len(stored) > len(secret)


def test_enrolling_ends_the_sessions_that_began_with_the_password_alone(app, client, ctx):
    user = make_user("reviewer")
    other_browser = app.test_client()
    login(other_browser, user.email)
    assert other_browser.get("/home").status_code == 200
    login(client, user.email)
    totp = pyotp.TOTP(shown_key(client.get("/account/two-step")))
    clear_of_step_end()
    assert send_code(client, totp.now(), "/account/two-step").status_code == 302
    assert other_browser.get("/home").status_code == 302
    assert client.get("/home").status_code == 200


def test_sign_in_asks_for_the_code_after_the_password(client, ctx):
    user, totp = enrolled_user("auditor")
    after_password = login(client, user.email)
    assert after_password.status_code == 302 and after_password.headers["Location"] == "/login"
    assert "6-digit code" in page_text(client.get("/login"))
    clear_of_step_end()
    signed_in = send_code(client, totp.now())
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/home"
    assert client.get("/home").status_code == 200
    assert [event.data["channel"] for event in events("auth.two_step_verified")] == ["web"]
    # The password alone is not a sign-in: the trail says so, and the sign-in is recorded with the code.
    assert [event.data["channel"] for event in events("auth.password_verified")] == ["web"]
    assert len(events("auth.login")) == 1 and fresh(user).last_login_at is not None


def test_the_command_line_resets_a_lost_key(app, runner, ctx):
    user, _totp = enrolled_user("admin")
    result = runner.invoke(args=["reset-two-step", user.email.upper()])
    assert result.exit_code == 0, result.output
    assert not fresh(user).has_totp
    assert [event.actor_id for event in events("user.two_step_reset")] == [None]
    assert runner.invoke(args=["reset-two-step", "nobody@certify.test"]).exit_code != 0


def test_the_code_step_keeps_a_local_next_and_refuses_others(client, ctx):
    user, totp = enrolled_user("auditor")
    page = client.get("/login?next=/audit/trail")
    client.post("/login?next=/audit/trail", data={"email": user.email, "password": PASSWORD,
                                                  "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    clear_of_step_end()
    assert send_code(client, totp.now()).headers["Location"] == "/audit/trail"


def test_the_pending_step_opens_no_page(app, client, ctx):
    user, _totp = enrolled_user("admin")
    login(client, user.email)
    paths = signed_in_pages(app)
    assert "/home" in paths and "/account/two-step" in paths
    reached = {path: client.get(path) for path in paths}
    assert {path for path, response in reached.items() if response.status_code != 302
            or not response.headers["Location"].startswith("/login")} == set()
    assert client.get("/api/v1/me").status_code == 401
    assert "6-digit code" in page_text(client.get("/login")), "the pending step is still there"


def test_the_session_is_rotated_when_the_code_is_right(app, client, ctx):
    user, totp = enrolled_user("reviewer")
    login(client, user.email)
    pending_cookie = client.get_cookie("session").value
    clear_of_step_end()
    send_code(client, totp.now())
    assert client.get("/home").status_code == 200
    replay = app.test_client()
    replay.set_cookie("session", pending_cookie)
    assert replay.get("/home").status_code == 302


def test_a_code_works_once(client, ctx):
    user, totp = enrolled_user("reviewer")
    clear_of_step_end()
    code = totp.now()
    login(client, user.email)
    assert send_code(client, code).status_code == 302
    page = client.get("/home")
    client.post("/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    login(client, user.email)
    reused = send_code(client, code)
    assert reused.status_code == 200
    assert "This code is not right or was used already" in page_text(reused)
    assert client.get("/home").status_code == 302
    assert events("auth.two_step_failed")[-1].data == {"channel": "web", "reason": "code_reused"}


def test_the_previous_step_is_refused_once_a_later_one_was_used(client, ctx):
    user, totp = enrolled_user("reviewer")
    clear_of_step_end()
    login(client, user.email)
    assert send_code(client, totp.at(time.time() + mfa.STEP_SECONDS)).status_code == 302
    page = client.get("/home")
    client.post("/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    login(client, user.email)
    assert send_code(client, totp.now()).status_code == 200
    assert client.get("/home").status_code == 302


@pytest.mark.parametrize("age_seconds", [60, 90, 600])
def test_a_stale_code_is_refused(client, ctx, age_seconds):
    user, totp = enrolled_user("reviewer")
    login(client, user.email)
    stale = send_code(client, totp.at(time.time() - age_seconds))
    assert stale.status_code == 200 and "This code is not right" in page_text(stale)
    assert client.get("/home").status_code == 302
    assert events("auth.two_step_failed")[-1].data == {"channel": "web", "reason": "wrong_code"}


def test_wrong_codes_are_throttled_per_account_long_before_a_thousand(client, ctx):
    user, totp = enrolled_user("admin")
    login(client, user.email)
    right = totp.now()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    statuses = [send_code(client, wrong).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = send_code(client, right)
    assert limited.status_code == 429, "once throttled, even the right code waits"
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/home").status_code == 302
    assert client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD, "otp": right}
                       ).status_code == 429, "the API shares the account's count"


def test_the_code_limit_allows_no_more_than_twenty_guesses_a_day():
    from limits import parse_many

    per_day = [limit for limit in parse_many(mfa.CODE_ATTEMPT_LIMIT) if limit.get_expiry() == 86400]
    assert per_day and per_day[0].amount <= 20, "1,000 guesses must take at least 50 days"


def test_a_pending_step_expires(client, ctx, monkeypatch):
    import datetime as dt

    from certify.web import auth as web_auth

    user, totp = enrolled_user("reviewer")
    login(client, user.email)
    later = web_auth.utcnow() + dt.timedelta(seconds=mfa.PENDING_SECONDS + 1)
    monkeypatch.setattr(web_auth, "utcnow", lambda: later)
    page = page_text(client.get("/login"))
    assert "The sign-in took too long" in page and 'name="password"' in page
    send_code(client, totp.now())
    assert client.get("/home").status_code == 302


def test_start_over_drops_the_pending_step(client, ctx):
    user, _totp = enrolled_user("reviewer")
    login(client, user.email)
    page = client.get("/login")
    response = client.post("/login", data={"start_over": "Sign in as someone else",
                                           "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert 'name="password"' in client.get("/login").get_data(as_text=True)


def test_a_ministry_user_without_a_key_is_sent_to_enrol_first(app, client, ctx, mfa_required):
    user = make_user("reviewer")
    assert login(client, user.email).headers["Location"] == "/home"
    gated = {path: client.get(path) for path in signed_in_pages(app) if path != "/account/two-step"}
    assert {path for path, response in gated.items()
            if response.status_code != 302 or response.headers["Location"] != "/account/two-step"} == set()
    page = client.get("/account/two-step")
    assert page.status_code == 200 and "Your role signs in with a code" in page_text(page)
    assert client.get("/verify/KR-RM-2000-999999").status_code == 404, "public pages stay as they are"
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post("/language", data={"locale": "en", "csrf_token": token}).status_code == 302

    key = shown_key(page)
    clear_of_step_end()
    assert send_code(client, pyotp.TOTP(key).now(), "/account/two-step").headers["Location"] == "/home"
    assert client.get("/home").status_code == 200
    assert client.get("/review/").status_code == 200


def test_a_gated_user_can_still_sign_out(client, ctx, mfa_required):
    user = make_user("auditor")
    login(client, user.email)
    page = client.get("/account/two-step")
    response = client.post("/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/account/two-step").status_code == 302


def test_an_applicant_is_not_required_to_enrol(client, ctx, mfa_required):
    applicant = make_user("applicant", company=make_company())
    login(client, applicant.email)
    assert client.get("/home").status_code == 200
    assert client.get("/lots").status_code == 200


def test_an_unknown_role_in_the_setting_stops_the_start(tmp_path):
    with pytest.raises(RuntimeError, match="reviewers"):
        create_app(TestConfig, MFA_REQUIRED_ROLES=("reviewers",), INSTANCE_DIR=str(tmp_path))


def test_an_admin_resets_a_lost_key(app, client, ctx, mfa_required):
    user, totp = enrolled_user("reviewer")
    victim_browser = app.test_client()
    login(victim_browser, user.email)
    clear_of_step_end()
    send_code(victim_browser, totp.now())
    assert victim_browser.get("/home").status_code == 200
    admin_user, admin_totp = enrolled_user("admin")
    login(client, admin_user.email)
    send_code(client, admin_totp.now())

    page = client.get(f"/admin/users/{user.id}/two-step")
    assert page.status_code == 200 and "on since" in page_text(page)
    reset = client.post(f"/admin/users/{user.id}/two-step",
                        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert reset.status_code == 302 and reset.headers["Location"] == "/admin/users"
    assert "is reset" in page_text(client.get("/admin/users"))

    after = fresh(user)
    assert not after.has_totp and after.totp_secret is None and after.totp_last_step is None
    [event] = events("user.two_step_reset")
    assert event.actor_id == admin_user.id and event.object_id == str(user.id)
    assert victim_browser.get("/home").status_code == 302, "the user's sessions ended"
    assert login(victim_browser, user.email).headers["Location"] == "/home"
    assert victim_browser.get("/home").headers["Location"] == "/account/two-step", "and enrols again"


def test_only_an_admin_resets(app, client, ctx):
    user, _totp = enrolled_user("auditor")
    reviewer = make_user("reviewer")
    login(client, reviewer.email)
    page = client.get("/home")
    response = client.post(f"/admin/users/{user.id}/two-step",
                           data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 403
    assert fresh(user).has_totp


def test_the_nav_links_to_two_step_sign_in(app, client, ctx):
    user = make_user("auditor")
    login(client, user.email)
    with app.test_request_context():
        link = url_for("auth.two_step")
    assert f'href="{link}"' in client.get("/home").get_data(as_text=True)
