"""The batch workflow table of domain.md: which event may move a batch from which status, and to where."""
from dataclasses import dataclass

DRAFT = "draft"
CHECKING = "checking"
CHECKS_FAILED = "checks_failed"
AWAITING_REVIEW = "awaiting_review"
APPROVED = "approved"
REJECTED = "rejected"
CHANGES_REQUESTED = "changes_requested"

BATCH_STATUSES = (DRAFT, CHECKING, CHECKS_FAILED, AWAITING_REVIEW, APPROVED, REJECTED, CHANGES_REQUESTED)
EDITABLE_STATUSES = (DRAFT, CHECKS_FAILED, CHANGES_REQUESTED)
# LOT_ALLOCATION: a batch in these statuses holds the mass it reserved on its lots.
RESERVING_STATUSES = (CHECKING, AWAITING_REVIEW, APPROVED)

# (event, from) → to. Anything not listed is refused (409) and changes nothing.
TRANSITIONS: dict[tuple[str, str], str] = {
    **{("edit", s): s for s in EDITABLE_STATUSES},
    **{("submit", s): CHECKING for s in EDITABLE_STATUSES},
    ("checks_failed", CHECKING): CHECKS_FAILED,
    ("checks_passed", CHECKING): AWAITING_REVIEW,
    ("approve", AWAITING_REVIEW): APPROVED,
    ("approve_partial", AWAITING_REVIEW): AWAITING_REVIEW,
    ("reject", AWAITING_REVIEW): REJECTED,
    ("request_changes", AWAITING_REVIEW): CHANGES_REQUESTED,
}

CERTIFICATE_STATUSES = ("valid", "suspended", "revoked")
CERTIFICATE_TRANSITIONS: dict[tuple[str, str], str] = {
    ("suspend", "valid"): "suspended",
    ("reinstate", "suspended"): "valid",
    ("revoke", "valid"): "revoked",
    ("revoke", "suspended"): "revoked",
}


@dataclass(frozen=True)
class TransitionRefused(Exception):
    event: str
    status: str

    def __str__(self) -> str:
        return f"cannot {self.event.replace('_', ' ')} a batch that is {self.status.replace('_', ' ')}"


def next_status(event: str, status: str) -> str:
    """The status a batch moves to on this event; TransitionRefused when the table does not allow it."""
    try:
        return TRANSITIONS[(event, status)]
    except KeyError:
        raise TransitionRefused(event, status) from None


def next_certificate_status(event: str, status: str) -> str:
    try:
        return CERTIFICATE_TRANSITIONS[(event, status)]
    except KeyError:
        raise TransitionRefused(event, status) from None


def approvals_required(quantity_kg, any_warning: bool, four_eyes_kg) -> int:
    """Two different reviewers for large batches or any warning (domain.md, Workflow); else one."""
    return 2 if quantity_kg >= four_eyes_kg or any_warning else 1
