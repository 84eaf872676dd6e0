"""The reviewer's forms: the queue's filters, a decision on a batch, a reason for a certificate's status change."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from certify.domain.workflow import CERTIFICATE_STATUSES
from certify.web.admin_forms import strip

# The API's bounds (certify/api/schemas.py DecisionRequest, ReasonRequest), so both doors accept the same text.
MAX_COMMENT_LENGTH = 4000
MAX_AGE_DAYS = 3650
DECISION_CHOICES = [SelectChoice("approve", "Approve"), SelectChoice("request_changes", "Request changes"),
                    SelectChoice("reject", "Reject")]
CERTIFICATE_STATUS_CHOICES = [SelectChoice("", "any status")] + [
    SelectChoice(status, status) for status in CERTIFICATE_STATUSES]
DECISIONS_NEEDING_COMMENT = ("reject", "request_changes")


class QueueFilterForm(FlaskForm):
    """Read from the query string: a filter changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    material = SelectField("Material", validators=[Optional()], validate_choice=False)
    company = SelectField("Company", validators=[Optional()], validate_choice=False)
    older_than_days = IntegerField("Waiting at least (days)", validators=[Optional(), NumberRange(0, MAX_AGE_DAYS)])
    warnings = BooleanField("Only with warnings")

    def __init__(self, materials, companies, **kwargs):
        super().__init__(**kwargs)
        self.material.choices = [SelectChoice("", "all materials")] + [
            SelectChoice(m.code, f"{m.code} · {m.name}") for m in materials]
        self.company.choices = [SelectChoice("", "all companies")] + [
            SelectChoice(str(c.id), c.name) for c in companies]

    def company_id(self) -> int | None:
        try:
            return int(self.company.data) if self.company.data else None
        except ValueError:  # a hand-edited URL: no filter rather than an error page
            return None


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=DECISION_CHOICES, validators=[InputRequired("Choose a decision.")])
    comment = TextAreaField(
        "Comment", filters=[strip], validators=[Length(max=MAX_COMMENT_LENGTH)],
        description="Required to reject or to request changes: the applicant reads it and acts on it.")
    # The batch version the reviewer saw: a decision on an older version is refused (optimistic concurrency).
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def validate_comment(self, field):
        if self.decision.data in DECISIONS_NEEDING_COMMENT and not field.data:
            action = "reject the batch" if self.decision.data == "reject" else "request changes"
            raise ValidationError(f"Write a comment to {action}: say what is wrong and what to do about it.")


class ReasonForm(FlaskForm):
    """A reason for suspending, reinstating or revoking a certificate; it goes into the audit trail."""

    # DataRequired, not InputRequired: a reason of blanks only is no reason.
    reason = TextAreaField("Reason", filters=[strip], validators=[
        DataRequired("Give the reason: it is kept in the audit trail."), Length(max=MAX_COMMENT_LENGTH)])


class NumberSearchForm(FlaskForm):
    class Meta:
        csrf = False

    number = StringField("Certificate or batch number", filters=[strip], validators=[Optional(), Length(max=20)])
    status = SelectField("Status", validators=[Optional()], validate_choice=False, choices=CERTIFICATE_STATUS_CHOICES)
