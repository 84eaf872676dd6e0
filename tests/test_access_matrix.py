"""Every route × every role (and anonymous), generated from app.url_map: a new route cannot slip through."""
import pytest
from flask import url_for

from certify.routing import DatabaseIdConverter

from certify.models.user import ROLES
from tests.helpers import bearer, login, make_company, make_user, token_for

# Routes anyone may call without signing in; every other route must declare its roles with roles_required.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.choose_language", "home.index", "public.healthz", "public.published_keys",
                    "public.verify_page", "api.create_token", "api.public_certificate", "api.public_verify",
                    "api.openapi_document", "apidocs.reference"}

# These end the caller's session or token, so they are called last.
SIGN_OUT_ENDPOINTS = {"auth.logout", "api.revoke_current_token"}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def concrete_path(rule) -> str:
    """The rule with ids no object has: the role check must answer before any look-up."""
    values = {name: 999999 if isinstance(converter, DatabaseIdConverter) else "KR-RM-2000-999999"
              for name, converter in rule._converters.items()}
    return url_for(rule.endpoint, **values)


def test_every_route_declares_who_may_call_it(app):
    undeclared = sorted({rule.endpoint for rule, _ in routes(app)
                         if rule.endpoint not in PUBLIC_ENDPOINTS
                         and not getattr(app.view_functions[rule.endpoint], "allowed_roles", None)})
    assert undeclared == [], f"routes without roles_required and not listed as public: {undeclared}"


@pytest.fixture()
def callers(app, client, ctx):
    """A signed-in browser and an API token for each role."""
    company = make_company()
    browsers, tokens = {}, {}
    for role in ROLES:
        user = make_user(role, company=company if role == "applicant" else None)
        browser = app.test_client()
        login(browser, user.email)
        browsers[role] = browser
        tokens[role] = bearer(token_for(client, user.email))
    return browsers, tokens


def test_each_role_gets_exactly_what_api_md_allows(app, client, callers):
    browsers, tokens = callers
    app.config["WTF_CSRF_ENABLED"] = False  # this test is about roles; CSRF has tests of its own
    problems = []
    try:
        with app.test_request_context():
            cases = sorted(((rule, method, concrete_path(rule)) for rule, method in routes(app)
                            if rule.endpoint not in PUBLIC_ENDPOINTS),
                           key=lambda case: case[0].endpoint in SIGN_OUT_ENDPOINTS)
        for rule, method, path in cases:
            allowed = app.view_functions[rule.endpoint].allowed_roles
            is_api = path.startswith("/api/")
            anonymous = client.open(path, method=method)
            expected_anonymous = 401 if is_api else 302
            if anonymous.status_code != expected_anonymous:
                problems.append(f"anonymous {method} {path}: {anonymous.status_code}, not {expected_anonymous}")
            for role in ROLES:
                response = (client.open(path, method=method, headers=tokens[role]) if is_api
                            else browsers[role].open(path, method=method))
                if role in allowed and response.status_code in (401, 403):
                    problems.append(f"{role} {method} {path}: {response.status_code}, should be allowed")
                if role not in allowed and response.status_code != 403:
                    problems.append(f"{role} {method} {path}: {response.status_code}, not 403")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert problems == []
