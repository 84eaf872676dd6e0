"""How long a browser session lives, with the clock moved rather than waited for: 30 minutes idle, 12 hours in
all, no remember-me cookie, and a rotated secret key that keeps sessions only while the old key is a fallback."""
import datetime as dt

import pytest
from itsdangerous import TimestampSigner

from certify import timeutil
from tests.helpers import login, make_user


@pytest.fixture()
def clock(monkeypatch):
    """Moves the server's clock forward: the cookie signer's timestamps and the app's own `utcnow`."""
    offset = dt.timedelta()
    real_timestamp = TimestampSigner.get_timestamp
    real_utcnow = timeutil.utcnow

    class Clock:
        def advance(self, **delta):
            nonlocal offset
            offset += dt.timedelta(**delta)

    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: real_timestamp(self) + int(offset.total_seconds()))
    monkeypatch.setattr("certify.auth.utcnow", lambda: real_utcnow() + offset)
    return Clock()


@pytest.fixture()
def browser(app, ctx):
    make_user("auditor")
    signed_in = app.test_client()
    login(signed_in, "auditor@certify.test")
    assert signed_in.get("/home").status_code == 200
    return signed_in


def signed_in(browser) -> bool:
    response = browser.get("/home")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_session_idle_for_more_than_30_minutes_is_over(browser, clock):
    clock.advance(minutes=29)
    assert signed_in(browser)
    clock.advance(minutes=29)  # 29 minutes since the last request, 58 since sign-in: still in
    assert signed_in(browser)
    clock.advance(minutes=31)
    assert not signed_in(browser)


def test_a_busy_session_still_ends_12_hours_after_sign_in(browser, clock):
    for _ in range(11 * 3 + 2):  # a request every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert signed_in(browser)
    clock.advance(minutes=21)
    assert not signed_in(browser)
    assert browser.get("/home").headers["Location"].startswith("/login")


def test_sign_in_sets_no_remember_me_cookie(app, ctx):
    make_user("auditor")
    browser = app.test_client()
    response = login(browser, "auditor@certify.test")
    assert browser.get_cookie("remember_token") is None
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_a_rotated_secret_key_keeps_sessions_only_while_the_old_key_is_a_fallback(app, browser):
    old_key = app.config["SECRET_KEY"]
    try:
        app.config.update(SECRET_KEY="a-new-secret-key-of-the-operator-rotating-keys-0123456789",
                          SECRET_KEY_FALLBACKS=[old_key])
        assert signed_in(browser)  # and the cookie is now re-signed with the new key
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert signed_in(browser)
        app.config["SECRET_KEY"] = "yet-another-secret-key-after-a-second-rotation-0123456789"
        assert not signed_in(browser)
    finally:
        app.config.update(SECRET_KEY=old_key, SECRET_KEY_FALLBACKS=[])
