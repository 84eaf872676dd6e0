"""Signing in and out of the HTML UI: CSRF, safe redirects, sessions that end everywhere."""
import pytest

from tests.helpers import csrf_token_from, login, make_company, make_user


def test_each_role_lands_on_its_own_home_page(client, ctx):
    company = make_company()
    for role in ("applicant", "reviewer", "auditor", "admin"):
        user = make_user(role, company=company if role == "applicant" else None)
        response = login(client, user.email)
        assert response.status_code == 302
        page = client.get("/home")
        assert page.status_code == 200
        assert role.capitalize() in page.get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_wrong_password_shows_the_same_message_as_unknown_user(client, ctx):
    make_user("auditor")
    wrong = login(client, "auditor@certify.test", "wrong password!").get_data(as_text=True)
    unknown = login(client, "nobody@certify.test", "wrong password!").get_data(as_text=True)
    assert "Wrong e-mail or password." in wrong and "Wrong e-mail or password." in unknown


def test_login_form_without_csrf_token_is_refused(client, ctx):
    make_user("auditor")
    response = client.post("/login", data={"email": "auditor@certify.test", "password": "correct horse battery staple"})
    assert response.status_code == 400
    assert client.get("/home").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, ctx, target):
    make_user("auditor")
    page = client.get(f"/login?next={target}")
    response = client.post(f"/login?next={target}", data={
        "email": "auditor@certify.test", "password": "correct horse battery staple",
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


def test_login_follows_a_local_next(client, ctx):
    make_user("auditor")
    page = client.get("/login?next=/home")
    response = client.post("/login?next=/home", data={
        "email": "auditor@certify.test", "password": "correct horse battery staple",
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/home"


def test_logout_ends_every_copy_of_the_session_cookie(app, ctx):
    make_user("auditor")
    browser = app.test_client()
    login(browser, "auditor@certify.test")
    saved_cookie = browser.get_cookie("session").value
    page = browser.get("/home")
    browser.post("/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    thief = app.test_client()
    thief.set_cookie("session", saved_cookie)
    assert thief.get("/home").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, ctx):
    make_user("auditor")
    response = login(client, "auditor@certify.test")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pre_login_session_is_not_carried_into_the_signed_in_session(app, ctx):
    make_user("auditor")
    browser = app.test_client()
    browser.get("/login")
    before = browser.get_cookie("session").value
    login(browser, "auditor@certify.test")
    replay = app.test_client()
    replay.set_cookie("session", before)
    assert replay.get("/home").status_code == 302


def test_the_language_switch_returns_to_the_same_page_and_is_remembered(client, ctx):
    user = make_user("auditor")
    login(client, user.email)
    page = client.get("/home")
    response = client.post("/language", data={"locale": "ko", "csrf_token": csrf_token_from(page.get_data(as_text=True))},
                           headers={"Referer": "http://localhost/home?x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/home?x=1"
    assert '<html lang="ko">' in client.get("/home").get_data(as_text=True)
    from certify.extensions import db
    db.session.refresh(user)
    assert user.locale == "ko"


def test_the_language_switch_never_sends_a_visitor_elsewhere(client):
    page = client.get("/login")
    response = client.post("/language", data={"locale": "en", "csrf_token": csrf_token_from(page.get_data(as_text=True))},
                           headers={"Referer": "https://evil.example/phish"})
    assert response.headers["Location"] == "/home"
