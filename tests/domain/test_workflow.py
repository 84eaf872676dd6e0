"""domain.md, Workflow: the transition table, four-eyes, certificate statuses."""
from decimal import Decimal

import pytest

from certify.domain import workflow
from certify.domain.workflow import TransitionRefused, approvals_required, next_certificate_status, next_status


@pytest.mark.parametrize("status", ["draft", "checks_failed", "changes_requested"])
def test_editable_statuses_can_be_edited_and_submitted(status):
    assert next_status("edit", status) == status
    assert next_status("submit", status) == "checking"


@pytest.mark.parametrize("status", ["checking", "awaiting_review", "approved", "rejected"])
def test_other_statuses_can_be_neither_edited_nor_submitted(status):
    for event in ("edit", "submit"):
        with pytest.raises(TransitionRefused):
            next_status(event, status)


def test_the_check_run_ends_in_failed_or_awaiting_review():
    assert next_status("checks_failed", "checking") == "checks_failed"
    assert next_status("checks_passed", "checking") == "awaiting_review"
    with pytest.raises(TransitionRefused):
        next_status("checks_passed", "draft")


@pytest.mark.parametrize("event, to", [("approve", "approved"), ("approve_partial", "awaiting_review"),
                                       ("reject", "rejected"), ("request_changes", "changes_requested")])
def test_decisions_apply_only_to_batches_awaiting_review(event, to):
    assert next_status(event, "awaiting_review") == to
    for status in set(workflow.BATCH_STATUSES) - {"awaiting_review"}:
        with pytest.raises(TransitionRefused):
            next_status(event, status)


def test_rejected_and_approved_are_final():
    for status in ("rejected", "approved"):
        assert not [event for event, source in workflow.TRANSITIONS if source == status]


def test_two_approvals_at_the_four_eyes_mass_or_with_a_warning():
    limit = Decimal(50000)
    assert approvals_required(Decimal("49999.9999"), False, limit) == 1
    assert approvals_required(Decimal(50000), False, limit) == 2
    assert approvals_required(Decimal(10), True, limit) == 2


def test_certificate_statuses():
    assert next_certificate_status("suspend", "valid") == "suspended"
    assert next_certificate_status("reinstate", "suspended") == "valid"
    assert next_certificate_status("revoke", "valid") == "revoked"
    assert next_certificate_status("revoke", "suspended") == "revoked"
    for event in ("suspend", "reinstate", "revoke"):
        with pytest.raises(TransitionRefused):
            next_certificate_status(event, "revoked")
    with pytest.raises(TransitionRefused):
        next_certificate_status("reinstate", "valid")
