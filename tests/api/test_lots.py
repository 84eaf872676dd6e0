"""api.md, Feedstock lots: registered by the owning applicant, read by the ministry, hidden from other companies."""
from tests.helpers import Applicant, bearer, lot_body, make_user, token_for


def test_applicant_registers_a_lot_with_its_remaining_mass(client, ctx):
    applicant = Applicant(client)
    lot = applicant.lot()
    assert lot["allocated_kg"] == 0 and lot["remaining_kg"] == 12000
    assert lot["element_content_pct"] == {"Li": 3.4, "Ni": 21.5, "Co": 6.8, "Mn": 6.1}
    assert applicant.get(f"/api/v1/feedstock-lots/{lot['id']}").get_json() == lot


def test_the_same_lot_no_twice_in_one_company_is_a_conflict(client, ctx):
    applicant = Applicant(client)
    applicant.lot()
    response = applicant.post("/api/v1/feedstock-lots", json=lot_body(applicant.facility))
    assert response.status_code == 409


def test_invalid_lots_are_refused_field_by_field(client, ctx):
    applicant = Applicant(client)
    response = applicant.post("/api/v1/feedstock-lots", json=lot_body(
        applicant.facility, mass_kg=-5, category="recycled", form="powder", element_content_pct={"Ni": 120}))
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) >= {"mass_kg", "category", "form", "element_content_pct.Ni"}


def test_a_lot_at_another_companys_facility_is_refused(client, ctx):
    mine, theirs = Applicant(client), Applicant(client, "Other Co", "999-99-99999")
    response = mine.post("/api/v1/feedstock-lots", json=lot_body(theirs.facility))
    assert response.status_code == 422
    assert "facility_id" in response.get_json()["error"]["fields"]


def test_another_companys_lot_is_not_found(client, ctx):
    mine, theirs = Applicant(client), Applicant(client, "Other Co", "999-99-99999")
    lot = theirs.lot()
    hidden = mine.get(f"/api/v1/feedstock-lots/{lot['id']}")
    missing = mine.get("/api/v1/feedstock-lots/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["error"]["code"] == missing.get_json()["error"]["code"] == "not_found"
    assert mine.get("/api/v1/feedstock-lots").get_json()["items"] == []


def test_reviewer_reads_every_lot_with_keyset_pages(client, ctx):
    applicant = Applicant(client)
    for number in range(5):
        applicant.lot(lot_no=f"IN-{number}")
    make_user("reviewer")
    headers = bearer(token_for(client, "reviewer@certify.test"))
    first = client.get("/api/v1/feedstock-lots?limit=2", headers=headers).get_json()
    assert [lot["lot_no"] for lot in first["items"]] == ["IN-4", "IN-3"]
    applicant.lot(lot_no="IN-new")  # inserts do not shift the pages already handed out
    second = client.get(f"/api/v1/feedstock-lots?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [lot["lot_no"] for lot in second["items"]] == ["IN-2", "IN-1"]
    third = client.get(f"/api/v1/feedstock-lots?limit=2&cursor={second['next_cursor']}", headers=headers).get_json()
    assert [lot["lot_no"] for lot in third["items"]] == ["IN-0"] and third["next_cursor"] is None


def test_bad_cursor_and_limit_are_refused(client, ctx):
    applicant = Applicant(client)
    assert applicant.get("/api/v1/feedstock-lots?cursor=garbage").status_code == 422
    assert applicant.get("/api/v1/feedstock-lots?limit=0").status_code == 422
    assert applicant.get("/api/v1/feedstock-lots?limit=201").status_code == 422


def test_auditor_cannot_register_a_lot(client, ctx):
    applicant = Applicant(client)
    make_user("auditor")
    response = client.post("/api/v1/feedstock-lots", json=lot_body(applicant.facility),
                           headers=bearer(token_for(client, "auditor@certify.test")))
    assert response.status_code == 403
