"""The reviewer's forms: the queue's filters, a decision on a batch, a reason for a certificate's status change."""
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from certify.domain.workflow import CERTIFICATE_STATUSES
from certify.i18n import lazy_gettext as _l
from certify.web.admin_forms import strip
from certify.web.forms import FilterSelectField

# The API's bounds (certify/api/schemas.py DecisionRequest, ReasonRequest), so both doors accept the same text.
MAX_COMMENT_LENGTH = 4000
MAX_AGE_DAYS = 3650
DECISIONS_NEEDING_COMMENT = ("reject", "request_changes")

# Stored codes as people read them on the reviewer's and auditor's pages; the data itself never changes.
VALUE_LABELS = {
    "decision": {"approve": _l("approve"), "reject": _l("reject"), "request_changes": _l("request changes")},
    "certificate_status": {"valid": _l("valid"), "suspended": _l("suspended"), "revoked": _l("revoked")},
    "grade": {"battery": _l("battery grade"), "technical": _l("technical grade")},
    "category": {"post_consumer": _l("post-consumer"), "pre_consumer": _l("pre-consumer"),
                 "primary": _l("primary (not recycled)")},
    "form": {"battery_pack": _l("battery pack"), "module": _l("module"), "cell": _l("cell"),
             "black_mass": _l("black mass"), "electrode_scrap": _l("electrode scrap"), "other": _l("other")},
    "kind": {"assay_report": _l("assay report"), "feedstock_evidence": _l("feedstock evidence"),
             "production_record": _l("production record"), "mass_balance": _l("mass balance"),
             "other": _l("other")},
    "process": {"hydrometallurgy": _l("hydrometallurgy"), "pyrometallurgy": _l("pyrometallurgy"),
                "direct_recycling": _l("direct recycling"), "mechanical": _l("mechanical processing")},
    "chain_of_custody": {"mass_balance": _l("mass balance")},
}


def value_label(group: str, value: str | None) -> str:
    """The label of a stored code (a grade, a lot category, a document kind...); an unknown code as words."""
    if not value:
        return ""
    label = VALUE_LABELS.get(group, {}).get(value)
    return str(label) if label is not None else value.replace("_", " ")


DECISION_CHOICES = [SelectChoice("approve", _l("Approve")), SelectChoice("request_changes", _l("Request changes")),
                    SelectChoice("reject", _l("Reject"))]
CERTIFICATE_STATUS_CHOICES = [SelectChoice("", _l("any status"))] + [
    SelectChoice(status, VALUE_LABELS["certificate_status"][status]) for status in CERTIFICATE_STATUSES]


class QueueFilterForm(FlaskForm):
    """Read from the query string: a filter changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    material = FilterSelectField(_l("Material"), validators=[Optional()], validate_choice=False)
    company = FilterSelectField(_l("Company"), validators=[Optional()], validate_choice=False)
    older_than_days = IntegerField(_l("Waiting at least (days)"), validators=[
        Optional(), NumberRange(0, MAX_AGE_DAYS, message=_l("Enter a number of days from 0 to %(max)s."))])
    warnings = BooleanField(_l("Only with warnings"))

    def __init__(self, materials, companies, **kwargs):
        super().__init__(**kwargs)
        self.material.choices = [SelectChoice("", _("all materials"))] + [
            SelectChoice(m.code, f"{m.code} · {m.name}") for m in materials]
        self.company.choices = [SelectChoice("", _("all companies"))] + [
            SelectChoice(str(c.id), c.name) for c in companies]

    def company_id(self) -> int | None:
        try:
            return int(self.company.data) if self.company.data else None
        except ValueError:  # a hand-edited URL: no filter rather than an error page
            return None


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=DECISION_CHOICES,
                          validators=[InputRequired(_l("Choose a decision."))])
    comment = TextAreaField(
        _l("Comment"), filters=[strip],
        validators=[Length(max=MAX_COMMENT_LENGTH, message=_l("Keep the comment to %(max)d characters or fewer."))],
        description=_l("Required to reject or to request changes: the applicant reads it and acts on it."))
    # The batch version the reviewer saw: a decision on an older version is refused (optimistic concurrency).
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def validate_comment(self, field):
        if self.decision.data in DECISIONS_NEEDING_COMMENT and not field.data:
            if self.decision.data == "reject":
                raise ValidationError(_("Write a comment to reject the batch: say what is wrong and what to do "
                                        "about it."))
            raise ValidationError(_("Write a comment to request changes: say what is wrong and what to do about it."))


class ReasonForm(FlaskForm):
    """A reason for suspending, reinstating or revoking a certificate; it goes into the audit trail."""

    # DataRequired, not InputRequired: a reason of blanks only is no reason.
    reason = TextAreaField(_l("Reason"), filters=[strip], validators=[
        DataRequired(_l("Give the reason: it is kept in the audit trail.")),
        Length(max=MAX_COMMENT_LENGTH, message=_l("Keep the reason to %(max)d characters or fewer."))])


class NumberSearchForm(FlaskForm):
    class Meta:
        csrf = False

    number = StringField(_l("Certificate or batch number"), filters=[strip], validators=[
        Optional(), Length(max=20, message=_l("A number has at most %(max)d characters."))])
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False,
                         choices=CERTIFICATE_STATUS_CHOICES)
