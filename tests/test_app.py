"""The app as a whole: configuration it refuses, health probe, error shapes, headers, CLI."""
import json

import pytest

from certify import create_app
from certify.extensions import db
from certify.models import User
from config import Config, TestConfig
from tests.helpers import (
    Applicant,
    bearer,
    make_user,
    tamper_with_audit_trail,
    token_for,
)


@pytest.mark.parametrize("secret", [None, "", "dev", "short-secret"])
def test_refuses_to_start_in_production_without_a_strong_secret(secret, tmp_path):
    with pytest.raises(RuntimeError, match="CERTIFY_SECRET_KEY"):
        create_app(Config, ENV="production", SECRET_KEY=secret, INSTANCE_DIR=str(tmp_path))


def test_development_generates_and_keeps_a_secret(tmp_path):
    first = create_app(Config, ENV="development", SECRET_KEY=None, INSTANCE_DIR=str(tmp_path))
    second = create_app(Config, ENV="development", SECRET_KEY=None, INSTANCE_DIR=str(tmp_path))
    assert len(first.secret_key) == 64 and first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_degraded_when_the_database_is_down(app_settings, tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none",
                     BROKER_URL="redis://127.0.0.1:1/0", INSTANCE_DIR=str(tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "down", "broker": "down"}


def test_api_errors_share_one_shape(client, ctx):
    make_user("auditor")
    headers = bearer(token_for(client, "auditor@certify.test"))
    not_found = client.get("/api/v1/nothing-here", headers=headers)
    assert not_found.status_code == 404 and set(not_found.get_json()["error"]) == {"code", "message"}
    wrong_method = client.put("/api/v1/me", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    unauthorized = client.get("/api/v1/me")
    assert unauthorized.status_code == 401 and unauthorized.headers["WWW-Authenticate"] == "Bearer"


def test_html_errors_are_friendly_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "text/html" in response.content_type
    assert "Back to the start page" in response.get_data(as_text=True)


def test_an_unexpected_error_is_500_without_a_trace(app, client, ctx, monkeypatch):
    applicant = Applicant(client)
    batch_id = applicant.batch()["id"]
    from certify.api import batches as batch_api

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(batch_api, "one_batch_json", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = applicant.get(f"/api/v1/batches/{batch_id}")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    for path in ("/login", "/healthz", "/api/v1/me", "/no-such-page"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "object-src 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_cli_create_user_reads_a_piped_password(runner, ctx):
    result = runner.invoke(args=["create-user", "Reviewer@Certify.test", "--role", "reviewer"],
                           input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(db.select(User).where(User.email == "reviewer@certify.test"))
    assert user.role == "reviewer" and user.password_hash.startswith("$argon2id$")


def test_cli_create_user_refuses_weak_passwords_and_missing_company(runner, ctx):
    weak = runner.invoke(args=["create-user", "a@certify.test", "--role", "auditor"], input="password\n")
    assert weak.exit_code != 0 and "password" in weak.output
    no_company = runner.invoke(args=["create-user", "b@certify.test", "--role", "applicant"], input="x" * 20 + "\n")
    assert no_company.exit_code != 0 and "--company-id" in no_company.output


def test_cli_seed_demo_makes_every_role_once(runner, ctx):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "applicant@hanbit.example" in first.output
    roles = sorted(db.session.scalars(db.select(User.role)).all())
    assert roles == ["admin", "applicant", "applicant", "auditor", "reviewer", "reviewer"]
    assert "already present" in runner.invoke(args=["seed-demo"]).output


def test_cli_audit_verify(runner, ctx):
    make_user("auditor")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 1 events" in result.output
    tamper_with_audit_trail("UPDATE audit_events SET action = 'forged'")
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "seq 1" in broken.output


def test_cli_certificates_verify_checks_a_file_offline(runner, ctx, tmp_path):
    from certify.services.certificates import keyring

    certificate = {"number": "KR-RM-2026-000001", "quantity_kg": 10000}
    key_id, signature = keyring().sign(certificate)
    from certify.signing import verification_code

    document = {"certificate": certificate, "status": "valid", "key_id": key_id, "signature": signature,
                "verification_code": verification_code(signature)}
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document))
    assert runner.invoke(args=["certificates", "verify", str(good)]).exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**document, "certificate": {**certificate, "quantity_kg": 20000}}))
    result = runner.invoke(args=["certificates", "verify", str(bad)])
    assert result.exit_code == 1 and "INVALID" in result.output


def test_a_uniqueness_race_lost_in_the_database_is_409(client, ctx, monkeypatch):
    """Two admins adding the same company at once: the loser hits the unique constraint, and gets 409."""
    from sqlalchemy import select as real_select

    from certify.services import admin as admin_service

    make_user("admin")
    headers = bearer(token_for(client, "admin@certify.test"))
    body = {"name": "Twin", "business_registration_no": "111-11-11111"}
    assert client.post("/api/v1/companies", json=body, headers=headers).status_code == 201
    # The loser's pre-check ran before the winner committed: it saw no company yet.
    monkeypatch.setattr(admin_service, "select", lambda *a: real_select(*a).where(False))
    response = client.post("/api/v1/companies", json=body, headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
