"""api.md, Authentication: tokens issued, refused, expired and revoked."""
import datetime as dt

from certify.extensions import db
from certify.models import ApiToken
from tests.helpers import PASSWORD, bearer, make_user, token_for


def test_token_for_right_credentials_and_me(client, ctx):
    user = make_user("auditor")
    response = client.post("/api/v1/auth/tokens", json={"email": "AUDITOR@certify.test", "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "expires_at"} and body["expires_at"].endswith("Z")
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json() == {"id": user.id, "email": "auditor@certify.test", "role": "auditor", "company_id": None}


def test_unknown_email_and_wrong_password_get_the_same_answer(client, ctx):
    make_user("auditor")
    wrong_password = client.post("/api/v1/auth/tokens", json={"email": "auditor@certify.test", "password": "nope"})
    unknown_user = client.post("/api/v1/auth/tokens", json={"email": "nobody@certify.test", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.get_json() == unknown_user.get_json()


def test_token_is_stored_hashed(client, ctx):
    make_user("auditor")
    token = token_for(client, "auditor@certify.test")
    stored = db.session.scalars(db.select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_revoked_token_no_longer_works(client, ctx):
    make_user("auditor")
    token = token_for(client, "auditor@certify.test")
    assert client.delete("/api/v1/auth/tokens/current", headers=bearer(token)).status_code == 204
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_expired_token_no_longer_works(client, ctx):
    make_user("auditor")
    token = token_for(client, "auditor@certify.test")
    db.session.execute(db.update(ApiToken).values(
        expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_disabled_user_token_no_longer_works(client, ctx):
    user = make_user("auditor")
    token = token_for(client, "auditor@certify.test")
    user.is_enabled = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_api_ignores_session_cookies(client, ctx):
    """The API authenticates by Bearer token only: a signed-in browser session is not enough."""
    from tests.helpers import login

    make_user("auditor")
    login(client, "auditor@certify.test")
    assert client.get("/home").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_malformed_json_is_400_and_invalid_data_422(client, ctx):
    malformed = client.post("/api/v1/auth/tokens", data="{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.get_json()["error"]["code"] == "bad_request"
    invalid = client.post("/api/v1/auth/tokens", json={"email": "a@b.c"})
    assert invalid.status_code == 422
    assert invalid.get_json()["error"]["fields"] == {"password": ["is required"]}


def test_repeated_failed_logins_for_one_account_are_throttled(client, ctx):
    make_user("auditor")
    statuses = [client.post("/api/v1/auth/tokens", json={"email": "auditor@certify.test", "password": "x"}
                            ).status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
    limited = client.post("/api/v1/auth/tokens", json={"email": "auditor@certify.test", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["error"]["code"] == "too_many_requests"
