"""The helpers list pages use on every row: they must draw exactly what url_for and the badge macro drew."""
import pytest
from flask import url_for

from certify.i18n import status_badge
from certify.routing import id_links


def test_id_links_build_what_url_for_builds(app):
    with app.test_request_context("/"):
        for endpoint in ("review.batch_page", "audit.batch_page", "applicant.batch_page"):
            link = id_links(endpoint, "batch_id")
            for batch_id in (1, 7, 42, 2_147_483_647):
                assert link(batch_id) == url_for(endpoint, batch_id=batch_id)


def test_id_links_take_only_integers(app):
    with app.test_request_context("/"):
        link = id_links("review.batch_page", "batch_id")
        assert link("12") == url_for("review.batch_page", batch_id=12)
        with pytest.raises(ValueError):
            link("12/../../admin")


def test_status_badge_escapes_and_labels(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        badge = '<span class="badge status-awaiting_review">awaiting review</span>'
        assert str(status_badge("awaiting_review")) == badge
        assert "<script>" not in str(status_badge('<script>"x"'))
