"""Security events (checklist 33): one structured record each, with CR/LF in user input encoded."""
import json
import logging

from tests.helpers import bearer, make_user, token_for


def records(caplog):
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "certify.security"]


def test_logins_denials_and_downloads_are_recorded(client, ctx, caplog):
    caplog.set_level(logging.INFO, logger="certify.security")
    make_user("auditor")
    client.post("/api/v1/auth/tokens", json={"email": "evil\r\nforged: line@x.test", "password": "nope"})
    headers = bearer(token_for(client, "auditor@certify.test"))
    client.post("/api/v1/companies", json={"name": "x", "business_registration_no": "1"}, headers=headers)
    events = records(caplog)
    failed = next(e for e in events if e["event"] == "login" and e["outcome"] == "failure")
    assert failed["email"] == "evil\r\nforged: line@x.test" and "at" in failed and failed["at"].endswith("Z")
    assert any(e["event"] == "login" and e["outcome"] == "success" for e in events)
    denied = next(e for e in events if e["event"] == "access")
    assert denied["outcome"] == "denied" and denied["role"] == "auditor" and denied["path"] == "/api/v1/companies"
    raw = [r.getMessage() for r in caplog.records if r.name == "certify.security"]
    assert all("\n" not in line and "\r" not in line for line in raw)


def test_proxy_hops_take_the_client_address_from_x_forwarded_for(tmp_path):
    from certify import create_app
    from config import TestConfig

    app = create_app(TestConfig, PROXY_HOPS=1, INSTANCE_DIR=str(tmp_path))

    @app.get("/whoami-test")
    def whoami():
        from flask import request

        return request.remote_addr

    response = app.test_client().get("/whoami-test", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.get_data(as_text=True) == "203.0.113.9"


