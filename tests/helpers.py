"""Plain functions that build the objects tests talk about, through the same services the app uses."""
import datetime as dt
import re
from decimal import Decimal

from certify.services import admin

PASSWORD = "correct horse battery staple"
TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def make_company(name="Hanbit Battery Recycling", registration_no="124-81-00001"):
    return admin.create_company(None, name, registration_no)


def make_facility(company, name="Pohang Plant", capacity=Decimal("5000000"), permit_valid_until=None):
    return admin.create_facility(None, company_id=company.id, name=name, permit_no=f"P-{company.id}-{name[:8]}",
                                 permit_valid_until=permit_valid_until or TODAY + dt.timedelta(days=800),
                                 process="hydrometallurgy", annual_capacity_kg=capacity)


def make_user(role, email=None, company=None, password=PASSWORD):
    email = email or f"{role}{'-' + str(company.id) if company else ''}@certify.test"
    return admin.create_user(None, email, password, role, company.id if company else None)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email, password=PASSWORD):
    """Signs in through the real form, CSRF token and all."""
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def token_for(client, email, password=PASSWORD) -> str:
    response = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
