"""Rendered rows kept by what they show (certify/web/fragments.py): reused for the same rows, never stale."""
import datetime as dt
from decimal import Decimal

import jinja2
import pytest
from markupsafe import Markup

from certify.web.fragments import FRAGMENTS_KEPT, KeptHtml, forget_fragments, kept_fragments, rendered_fragment
from certify.web.review import QueueEntry

QUEUE_ROWS = "review/_queue_rows.html"
MATERIALS = (("LCE", "Lithium carbonate"), ("NISO4", "Nickel sulphate"))


def entry(**changes) -> QueueEntry:
    values = {"id": 7, "number": "B-2026-000007", "material_code": "LCE", "grade": "battery",
              "quantity_kg": Decimal("10000"), "submitted_at": dt.datetime(2026, 3, 10, 14, 5, tzinfo=dt.timezone.utc),
              "approvals_required": 1, "company_name": "Hanbit Recycling", "facility_name": "Pohang plant",
              "warnings": 0, "approvals": 0, "days": 3}
    return QueueEntry(**{**values, **changes})


@pytest.fixture(autouse=True)
def no_kept_fragments():
    forget_fragments()
    yield
    forget_fragments()


def queue_rows(*entries: QueueEntry):
    return rendered_fragment(QUEUE_ROWS, entries=entries, materials=MATERIALS)


def test_the_same_rows_are_rendered_once(app):
    with app.test_request_context("/review/", headers={"Accept-Language": "en"}):
        first = queue_rows(entry(), entry(id=8, number="B-2026-000008"))
        assert queue_rows(entry(), entry(id=8, number="B-2026-000008")) is first
    assert 'href="/review/batches/7">B-2026-000007</a>' in first and "Lithium carbonate" in first
    assert "10,000 kg" in first and "3 days" in first


@pytest.mark.parametrize("change", [{"warnings": 2}, {"approvals": 1}, {"days": 14}, {"company_name": "Saemangeum"},
                                    {"quantity_kg": Decimal("10000.5")}, {"grade": "technical"}])
def test_a_changed_value_renders_anew(app, change):
    with app.test_request_context("/review/", headers={"Accept-Language": "en"}):
        before, after = queue_rows(entry()), queue_rows(entry(**change))
    assert after is not before and after != before


def test_each_language_has_its_own_rows(app):
    with app.test_request_context("/review/", headers={"Accept-Language": "en"}):
        english = queue_rows(entry(days=1))
    with app.test_request_context("/review/", headers={"Accept-Language": "ko"}):
        korean = queue_rows(entry(days=1))
    assert "1 day" in english and "2026-03-10 14:05 UTC" in english
    assert korean != english and "1 day" not in korean and "2026. 3. 10. 23:05 KST" in korean


def test_rows_of_a_page_under_another_root_link_under_it(app):
    with app.test_request_context("/review/", headers={"Accept-Language": "en"}):
        at_root = queue_rows(entry())
    with app.test_request_context("/review/", base_url="http://localhost/certify", headers={"Accept-Language": "en"}):
        under_prefix = queue_rows(entry())
    assert 'href="/review/batches/7"' in at_root and 'href="/certify/review/batches/7"' in under_prefix


def test_values_are_escaped_as_in_any_template(app):
    with app.test_request_context("/review/", headers={"Accept-Language": "en"}):
        rows = queue_rows(entry(company_name='<script>alert("x")</script>'))
    assert "<script>" not in rows and "&lt;script&gt;" in rows


def test_what_is_kept_is_bounded(app):
    with app.test_request_context("/review/", headers={"Accept-Language": "en"}):
        for number in range(FRAGMENTS_KEPT + 20):
            queue_rows(entry(id=number + 1))
        first_again = queue_rows(entry(id=1))
        assert queue_rows(entry(id=FRAGMENTS_KEPT + 20)) is queue_rows(entry(id=FRAGMENTS_KEPT + 20))
    assert kept_fragments() == FRAGMENTS_KEPT and '"/review/batches/1"' in first_again


def test_a_fragment_is_rendered_without_the_signed_in_user(app, monkeypatch):
    # No context processors: the user page templates are given is not there to leak into rows readers share.
    probe = jinja2.DictLoader({"probe.html": "[{{ current_user }}]{{ rows | length }}"})
    monkeypatch.setattr(app.jinja_env, "loader", jinja2.ChoiceLoader([probe, app.jinja_env.loader]))
    with app.test_request_context("/review/", headers={"Accept-Language": "en"}):
        assert rendered_fragment("probe.html", rows=(1, 2)) == "[]2"


def test_kept_html_renders_once_a_key_drops_the_oldest_and_renders_what_cannot_be_a_key_each_time():
    kept, renders = KeptHtml(2), []

    def render(text):
        return lambda: renders.append(text) or Markup(text)

    assert kept.get(("a",), render("A")) == "A" and kept.get(("a",), render("again")) == "A"
    kept.get(("b",), render("B"))
    kept.get(("c",), render("C"))  # a third: the oldest, a, goes
    assert len(kept) == 2 and kept.get(("a",), render("A2")) == "A2"
    assert kept.get((["unhashable"],), render("L")) == "L" and kept.get((["unhashable"],), render("L")) == "L"
    assert renders == ["A", "B", "C", "A2", "L", "L"]
