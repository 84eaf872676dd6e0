"""Every page in Korean and in English: the language a browser asks for, and the switch on every page."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import make_company, make_user


@pytest.fixture()
def applicant_email(app):
    with app.app_context():
        return make_user("applicant", company=make_company()).email


def expect_language(page, code: str) -> None:
    """The page says it is in `code`, and the switch shows that language as the chosen one."""
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator(f".language-switch button[value={code}]")).to_have_attribute("aria-pressed", "true")
    other = "en" if code == "ko" else "ko"
    expect(page.locator(f".language-switch button[value={other}]")).to_have_attribute("aria-pressed", "false")


def test_login_page_in_korean_then_english(new_page, step):
    step("a browser asking for Korean gets the login page in Korean")
    page = new_page("visitor", locale="ko-KR")
    page.goto("/login")
    expect_language(page, "ko")
    expect(page.locator(".language-switch button[value=ko]")).to_have_text("한국어")
    expect(page.locator(".language-switch button[value=en]")).to_have_text("English")
    expect(page.locator("h1")).to_have_text("로그인")
    expect(page.locator("form [name=submit]")).to_have_value("로그인")
    expect(page.locator("label[for=password]")).to_have_text("비밀번호")

    step("the switch turns the login page to English")
    page.locator(".language-switch button[value=en]").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect_language(page, "en")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("form [name=submit]")).to_have_value("Sign in")
    expect(page.locator("label[for=password]")).to_have_text("Password")


def test_signed_in_page_in_english_then_korean(applicant_email, page_for, step):
    step("a signed-in page in English")
    page = page_for(applicant_email)
    expect_language(page, "en")
    expect(page.locator("nav a[href$='/home']")).to_have_text("Home")
    expect(page.locator(".who button")).to_have_text("Sign out")

    step("the switch turns the same page to Korean")
    page.locator(".language-switch button[value=ko]").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    expect_language(page, "ko")
    expect(page.locator("nav a[href$='/home']")).to_have_text("홈")
    expect(page.locator(".who button")).to_have_text("로그아웃")
