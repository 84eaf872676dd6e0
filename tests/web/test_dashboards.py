"""Each role's home page: its charts and numbers from real data, one company's figures never on another's page."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, text

from certify.extensions import db
from certify.models import Batch, Certificate
from certify.services import dashboard as figures
from certify.timeutil import utcnow
from tests.helpers import (
    Applicant,
    bearer,
    checked_batch,
    decide,
    login,
    make_company,
    make_facility,
    make_user,
    seed_batch_rows,
    token_for,
)


def page_of(app, email) -> str:
    """The home page as this user sees it, in a browser of its own."""
    browser = app.test_client()
    assert login(browser, email).status_code == 302
    response = browser.get("/home")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def svg_with_id(html: str, chart_id: str) -> str:
    match = re.search(rf'<svg [^>]*id="{re.escape(chart_id)}".*?</svg>', html, re.DOTALL)
    assert match, f"no chart {chart_id} on the page"
    return match.group(0)


def table_rows(html: str) -> list[list[str]]:
    """Every table row on the page as the text of its cells (header cells included)."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells])
    return rows


def row_starting(html: str, first_cell: str, section: str | None = None) -> list[str]:
    if section:
        html = html[html.index(section):]
    for cells in table_rows(html):
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row starts with {first_cell!r}")


def reviewer_headers(client, name: str) -> tuple:
    user = make_user("reviewer", email=f"{name}@certify.test")
    return user, bearer(token_for(client, user.email))


def draft_batch(applicant) -> dict:
    """A draft on a lot of its own, never submitted."""
    return applicant.batch(lot_id=applicant.lot()["id"])


def failed_batch(applicant) -> dict:
    """A batch submitted without any evidence: DOC_REQUIRED fails it."""
    from tests.workers.test_check_runs import wait_for_status

    batch = draft_batch(applicant)
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    batch = wait_for_status(applicant, batch["id"])
    assert batch["status"] == "checks_failed"
    return batch


# Before there is anything to show


@pytest.mark.parametrize("role, chart_ids, empty_text", [
    ("applicant", ["batches-by-status"], "No batches yet"),
    ("reviewer", ["queue-age", "decisions-this-month"], "The queue is empty"),
    ("auditor", ["tonnage-by-month", "recycled-shares", "check-failures", "all-batches-by-status"],
     "No certificates in the last 12 months yet"),
    ("admin", ["tonnage-by-month", "recycled-shares", "check-failures", "all-batches-by-status"],
     "No failed checks in the last 90 days"),
])
def test_each_role_home_page_says_no_data_yet_in_its_charts(app, ctx, role, chart_ids, empty_text):
    user = make_user(role, company=make_company() if role == "applicant" else None)
    html = page_of(app, user.email)
    for chart_id in chart_ids:
        assert 'role="img"' in svg_with_id(html, chart_id)
    assert empty_text in html
    assert role.capitalize() in html


# The applicant


def test_applicant_home_charts_its_batches_and_lists_what_needs_action(app, client, ctx, worker):
    hanbit = Applicant(client)
    draft = draft_batch(hanbit)
    failed = failed_batch(hanbit)
    waiting = checked_batch(hanbit)  # reserves 11 t of its 12 t lot: that lot is nearly used up
    assert waiting["status"] == "awaiting_review"

    counts = figures.batch_counts_by_status(hanbit.user)
    assert (counts["draft"], counts["checks_failed"], counts["awaiting_review"], counts["approved"]) == (1, 1, 1, 0)
    needs_action = figures.batches_needing_action(hanbit.user)
    assert needs_action.total == 2
    assert [item.number for item in needs_action.items] == [failed["number"], draft["number"]]
    low = figures.lots_running_low(hanbit.user)
    assert [(lot.lot_no, lot.remaining_kg) for lot in low.items] == [(waiting["inputs"][0]["lot_no"], Decimal(1000))]

    html = page_of(app, hanbit.user.email)
    chart = svg_with_id(html, "batches-by-status")
    assert "3 batches" in chart and "checks failed" in chart
    assert row_starting(html, "draft")[1] == "1" and row_starting(html, "awaiting review")[1] == "1"
    needs = html[html.index("Needs your action"):html.index("Lots nearly used up")]
    assert failed["number"] in needs and draft["number"] in needs and waiting["number"] not in needs
    assert needs.index(failed["number"]) < needs.index(draft["number"])  # the most urgent first
    assert f"/batches/{failed['id']}" in needs
    assert waiting["inputs"][0]["lot_no"] in html[html.index("Lots nearly used up"):]


def test_applicant_home_never_shows_another_companys_numbers(app, client, ctx, worker):
    hanbit = Applicant(client)
    saemangeum = Applicant(client, "Saemangeum Materials", "451-86-00002")
    hanbit_draft = draft_batch(hanbit)
    others = [draft_batch(saemangeum) for _ in range(3)] + [failed_batch(saemangeum), checked_batch(saemangeum)]

    assert figures.batch_counts_by_status(hanbit.user)["draft"] == 1
    assert figures.batch_counts_by_status(saemangeum.user)["draft"] == 3
    assert figures.record_counts(hanbit.user) == {"lots": 1, "certificates": 0}
    assert figures.lots_running_low(hanbit.user).total == 0
    assert figures.lots_running_low(saemangeum.user).total == 1

    html = page_of(app, hanbit.user.email)
    assert hanbit_draft["number"] in html
    for batch in others:
        assert batch["number"] not in html and batch["inputs"][0]["lot_no"] not in html
    assert row_starting(html, "draft")[1] == "1" and row_starting(html, "checks failed")[1] == "0"
    assert row_starting(html, "All", "Your batches by status")[1] == "1"
    assert "1 batch: 1 draft." in svg_with_id(html, "batches-by-status")


# The reviewer


def test_reviewer_home_shows_queue_age_decisions_and_half_approved_batches(app, client, ctx, worker):
    hanbit = Applicant(client)
    kim, kim_headers = reviewer_headers(client, "kim")
    lee, lee_headers = reviewer_headers(client, "lee")
    half_approved = checked_batch(hanbit)
    assert half_approved["approvals_required"] == 2  # the lab is not on the accredited list: a warning
    decide(client, kim_headers, half_approved)
    untouched = checked_batch(hanbit)
    sent_back = decide(client, lee_headers, checked_batch(hanbit), "request_changes", "assay report missing page 2")
    assert sent_back["status"] == "changes_requested"

    now = utcnow()
    age = figures.review_queue_age(kim, now)
    assert age.total == 2 and age.buckets["under_1_day"] == 2
    assert figures.review_queue_age(kim, now + dt.timedelta(days=3)).buckets["1_to_7_days"] == 2
    assert figures.review_queue_age(kim, now + dt.timedelta(days=10)).buckets["7_to_30_days"] == 2
    assert figures.review_queue_age(kim, now + dt.timedelta(days=31)).buckets["over_30_days"] == 2
    assert figures.oldest_waiting_batch(kim).number == half_approved["number"]
    assert figures.decisions_this_month(kim, now)["approve"] == {"me": 1, "others": 0}
    assert figures.decisions_this_month(kim, now)["request_changes"] == {"me": 0, "others": 1}
    second = figures.awaiting_second_approval(kim)
    assert second.total == 1 and second.items[0].number == half_approved["number"] and second.items[0].approved_by_me
    assert not figures.awaiting_second_approval(lee).items[0].approved_by_me

    kim_page = page_of(app, kim.email)
    assert "2 batches awaiting review" in svg_with_id(kim_page, "queue-age")
    assert row_starting(kim_page, "under 1 day")[1] == "2"
    assert "approved: 1 by you, 0 by other reviewers" in svg_with_id(kim_page, "decisions-this-month")
    assert row_starting(kim_page, "changes requested", "Decisions this month")[1:] == ["0", "1", "1"]
    four_eyes = kim_page[kim_page.index("Waiting for a second approval"):]
    assert half_approved["number"] in four_eyes and untouched["number"] not in four_eyes
    assert "You approved it: another reviewer must approve." in four_eyes
    lee_page = page_of(app, lee.email)
    assert "You can give the second approval." in lee_page
    assert row_starting(lee_page, "changes requested", "Decisions this month")[1:] == ["1", "0", "1"]


# The auditor and the admin


def test_auditor_and_admin_homes_chart_tonnage_recycled_shares_and_failures(app, client, ctx, worker):
    hanbit = Applicant(client)
    saemangeum = Applicant(client, "Saemangeum Materials", "451-86-00002")
    _, kim_headers = reviewer_headers(client, "kim")
    _, lee_headers = reviewer_headers(client, "lee")

    def certified(applicant, lot_overrides=None, **overrides):
        batch = checked_batch(applicant, lot_overrides, **overrides)
        assert batch["status"] == "awaiting_review", batch["checks"]
        for headers in (kim_headers, lee_headers)[:batch["approvals_required"]]:
            batch = decide(client, headers, batch)
        assert batch["status"] == "approved"
        return batch

    certified(hanbit)  # NISO4, 10 t, all post-consumer
    certified(hanbit, material_code="COSO4", quantity_kg=3500)  # 100 % post-consumer cobalt
    # 5 t of nickel sulfate from manufacturing scrap: pre-consumer
    pre_consumer = certified(saemangeum, {"category": "pre_consumer", "mass_kg": 5500}, quantity_kg=5000,
                             mass_kg=5500)
    failed_batch(hanbit)

    now = utcnow()
    auditor = make_user("auditor")
    tonnage = figures.certified_tonnage_by_month(auditor, now)
    this_month = tonnage.months[-1]
    assert len(tonnage.months) == 12 and this_month == now.date().replace(day=1)
    assert tonnage.kg == {(this_month, "COSO4"): Decimal(3500), (this_month, "NISO4"): Decimal(15000)}
    shares = {share.material_code: share for share in figures.recycled_shares(auditor, tonnage.months[0])}
    nickel = shares["NISO4"]
    assert nickel.quantity_kg == Decimal(15000)
    assert nickel.post_consumer_pct == pytest.approx(Decimal("66.6667"), abs=Decimal("0.001"))
    assert nickel.pre_consumer_pct == pytest.approx(Decimal("33.3333"), abs=Decimal("0.001"))
    assert (nickel.eu_minimum_2031_pct, nickel.eu_minimum_2036_pct, nickel.meets) == (6, 15, "2036")
    assert (shares["COSO4"].eu_minimum_2031_pct, shares["COSO4"].eu_minimum_2036_pct) == (16, 26)
    failures = figures.frequent_check_failures(auditor, now)
    assert failures.counts == [("DOC_REQUIRED", 1)] and failures.batches_checked == 4

    html = page_of(app, auditor.email)
    tonnage_svg = svg_with_id(html, "tonnage-by-month")
    assert ">NISO4<" in tonnage_svg and ">COSO4<" in tonnage_svg and "18.5 t certified" in tonnage_svg
    assert row_starting(html, now.strftime("%Y-%m"))[1:] == ["3.5", "15", "18.5"]
    shares_svg = svg_with_id(html, "recycled-shares")
    assert "meets 2036 minimum" in shares_svg and "chart-marker-2031" in shares_svg
    assert row_starting(html, "NISO4 Ni")[1:] == ["15 t", "66.67 %", "33.33 %", "100 %", "6 %", "15 %"]
    assert "MNSO4 (Mn): the EU sets no minimum recycled share" in html
    assert "Required documents" in svg_with_id(html, "check-failures")
    assert row_starting(html, "Required documents DOC_REQUIRED")[1:] == ["1", "25 %"]
    assert "companies" not in html.split("Certified tonnage by month")[0]

    admin_user = make_user("admin")
    admin_page = page_of(app, admin_user.email)
    assert svg_with_id(admin_page, "tonnage-by-month") and svg_with_id(admin_page, "recycled-shares")
    cards = admin_page.split("Certified tonnage by month")[0]
    assert re.search(r'>2</a>\s*<span>companies</span>', cards)
    assert re.search(r'>6</a>\s*<span>users</span>', cards)  # two applicants, two reviewers, auditor, admin

    # A revoked certificate certifies nothing any more: its tonnes and shares drop out.
    revoked = client.post(f"/api/v1/certificates/{pre_consumer['certificate_number']}/revoke",
                          headers=bearer(token_for(client, admin_user.email)), json={"reason": "fraud"})
    assert revoked.status_code == 200
    assert figures.certified_tonnage_by_month(auditor, now).kg[(this_month, "NISO4")] == Decimal(10000)
    assert figures.recycled_shares(auditor, tonnage.months[0])[1].pre_consumer_pct == 0


def test_months_are_utc_months_whatever_the_database_session_time_zone(app, ctx):
    company = make_company()
    seed_batch_rows(company, make_facility(company), make_user("reviewer"), 1, statuses=("approved",))
    now = utcnow()
    last_of_previous_month = now.replace(day=1, hour=23, minute=30, second=0, microsecond=0) - dt.timedelta(days=1)
    db.session.execute(db.update(Certificate).values(issued_at=last_of_previous_month))
    db.session.commit()
    auditor = make_user("auditor")
    # In Seoul it is already the next day, and the next month; the chart counts by UTC, as every date shown does.
    db.session.execute(text("SET LOCAL TIME ZONE 'Asia/Seoul'"))
    tonnage = figures.certified_tonnage_by_month(auditor, now)
    db.session.rollback()
    assert tonnage.kg == {(tonnage.months[-2], "NISO4"): Decimal(10000)}


# Queries


@pytest.mark.parametrize("role", ["applicant", "reviewer", "auditor", "admin"])
def test_home_page_statement_count_does_not_grow_with_the_number_of_batches(app, ctx, role):
    company = make_company()
    facility = make_facility(company)
    reviewer = make_user("reviewer")
    user = reviewer if role == "reviewer" else make_user(role, company=company if role == "applicant" else None)
    browser = app.test_client()
    login(browser, user.email)

    def statements_for_home_page() -> int:
        executed = []

        def count(conn, cursor, statement, parameters, context, executemany):
            executed.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert browser.get("/home").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(executed)

    # Two, then twenty batches in each status (seed_batch_rows cycles through five).
    seed_batch_rows(company, facility, reviewer, 2 * 5)
    with_few = statements_for_home_page()
    seed_batch_rows(company, facility, reviewer, 18 * 5)
    assert db.session.scalar(db.select(db.func.count(Batch.id))) == 20 * 5
    assert statements_for_home_page() == with_few
    assert with_few <= 12
