"""The administrator's forms: companies, facilities, users, labs and material thresholds."""
import re
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput, TextInput

from certify.i18n import lazy_gettext as _l
from certify.models.company import PROCESSES
from certify.models.user import ROLES
from certify.passwords import password_problems
from certify.services.rulesets import THRESHOLDS
from certify.web.formatting import plain_number

# The same bounds as the API's request schemas (certify/api/schemas.py), so both doors accept the same data.
ELEMENT_SYMBOL = re.compile(r"^(SO4|[A-Z][a-z]?)$")
MAX_PPM = Decimal(1_000_000)
MAX_DECIMAL_PLACES = 6
MAX_CAPACITY_KG = Decimal("1e12")
# The stored values stay as they are (the API and the database speak them); people read these labels.
PROCESS_LABELS = {"hydrometallurgy": _l("Hydrometallurgy"), "pyrometallurgy": _l("Pyrometallurgy"),
                  "direct_recycling": _l("Direct recycling"), "mechanical": _l("Mechanical")}
ROLE_LABELS = {"applicant": _l("Applicant"), "reviewer": _l("Reviewer"), "auditor": _l("Auditor"),
               "admin": _l("Admin")}
PROCESS_CHOICES = [SelectChoice(process, PROCESS_LABELS[process]) for process in PROCESSES]
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]
# email_validator explains in English; the usual mistakes are said in the page's language, the rest generally.
EMAIL_PROBLEMS = {
    "An email address must have an @-sign.": _l("An email address must have an @-sign."),
    "There must be something before the @-sign.": _l("There must be something before the @-sign."),
    "There must be something after the @-sign.": _l("There must be something after the @-sign."),
    "An email address cannot have two periods in a row.": _l("An email address cannot have two periods in a row."),
    "The part after the @-sign is not valid. It should have a period.":
        _l("The part after the @-sign is not valid. It should have a period."),
    "The email address contains invalid characters before the @-sign.":
        _l("The email address contains invalid characters before the @-sign."),
}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def sentence(message: str) -> str:
    """A service's field message ("must be ...") as the sentences the forms' own errors are."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def decimal_places(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)


class ExactNumberField(DecimalField):
    """A number read straight into Decimal (never float); thousands separators as in "5,000,000" are allowed."""

    # A text box, not type="number": browsers refuse the separators there and may round long decimals.
    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, places=None, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [valuelist[0].replace(",", "").replace(" ", "").replace("_", "")]
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return plain_number(self.data)


class Within:
    """Keeps a number inside bounds (each open or closed) and to at most six decimals, with a sentence saying so."""

    def __init__(self, low: Decimal, high: Decimal, *, low_open: bool = False, unit: str = ""):
        self.low, self.high, self.low_open, self.unit = low, high, low_open, unit

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            low, high = f"{self.low:,f}{self.unit}", f"{self.high:,f}{self.unit}"
            if self.low_open:
                raise ValidationError(_("Must be greater than %(low)s and at most %(high)s.", low=low, high=high))
            raise ValidationError(_("Must be at least %(low)s and at most %(high)s.", low=low, high=high))
        if decimal_places(value) > MAX_DECIMAL_PLACES:
            raise ValidationError(_("Use at most %(places)s decimals.", places=MAX_DECIMAL_PLACES))


def parse_impurity_lines(text: str) -> tuple[dict[str, Decimal], list[str]]:
    """Reads limits written one per line as "Fe = 10" (ppm); returns the limits and one problem per bad line."""
    limits: dict[str, Decimal] = {}
    problems: list[str] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        symbol, equals, amount = line.partition("=")
        symbol, amount = symbol.strip(), amount.strip()
        # People copy limits from specification sheets that print the unit after the number.
        if amount.lower().endswith("ppm"):
            amount = amount[:-3].strip()
        if not equals:
            problems.append(_('Line %(number)s ("%(line)s"): write it as an element, "=" and a number of ppm, '
                              'e.g. "Fe = 10".', number=number, line=line))
        elif not ELEMENT_SYMBOL.match(symbol):
            problems.append(_('Line %(number)s: "%(symbol)s" is not an element symbol such as Fe, Cu or SO4.',
                              number=number, symbol=symbol))
        elif symbol in limits:
            problems.append(_("Line %(number)s: %(symbol)s is listed twice; keep one line per element.",
                              number=number, symbol=symbol))
        else:
            try:
                ppm = Decimal(amount)
            except InvalidOperation:
                ppm = None
            if ppm is None or not ppm.is_finite():
                problems.append(_('Line %(number)s: "%(amount)s" is not a number of ppm for %(symbol)s.',
                                  number=number, amount=amount, symbol=symbol))
            elif not 0 <= ppm <= MAX_PPM:
                problems.append(_("Line %(number)s: the limit for %(symbol)s must lie between 0 and %(max)s ppm.",
                                  number=number, symbol=symbol, max=f"{MAX_PPM:,}"))
            elif decimal_places(ppm) > MAX_DECIMAL_PLACES:
                problems.append(_("Line %(number)s: use at most %(places)s decimals for %(symbol)s.",
                                  number=number, places=MAX_DECIMAL_PLACES, symbol=symbol))
            else:
                limits[symbol] = ppm
    return limits, problems


def format_impurity_lines(limits: dict[str, Decimal]) -> str:
    return "\n".join(f"{symbol} = {plain_number(ppm)}" for symbol, ppm in limits.items())


class ImpurityLimitsField(TextAreaField):
    """Impurity limits shown and typed as "Fe = 10" lines, held as {symbol: Decimal ppm}."""

    def process_formdata(self, valuelist):
        self.line_problems = []
        if valuelist:
            self.data, self.line_problems = parse_impurity_lines(valuelist[0])

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_impurity_lines(self.data or {})

    def pre_validate(self, form):
        # Every bad line gets its own message, so the admin can fix them all in one go.
        self.errors.extend(getattr(self, "line_problems", []))


class CompanyForm(FlaskForm):
    name = StringField(_l("Company name"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    business_registration_no = StringField(
        _l("Business registration no."), filters=[strip], validators=[DataRequired(), Length(max=40)],
        description=_l("As on the certificate of business registration, e.g. 124-81-00001."))
    submit = SubmitField(_l("Register company"))


def company_id_or_none(value):
    return int(value) if value not in (None, "") else None


class FacilityForm(FlaskForm):
    company_id = SelectField(_l("Company"), coerce=company_id_or_none, validators=[InputRequired()])
    name = StringField(_l("Facility name"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    permit_no = StringField(_l("Permit no."), filters=[strip], validators=[DataRequired(), Length(max=60)])
    permit_valid_until = DateField(_l("Permit valid until"), validators=[InputRequired()])
    # Not named `process`: that name is taken by the form's own method that reads the request.
    recycling_process = SelectField(_l("Process"), choices=PROCESS_CHOICES, validators=[InputRequired()])
    annual_capacity_kg = ExactNumberField(
        _l("Annual capacity (kg)"), validators=[InputRequired(), Within(Decimal(0), MAX_CAPACITY_KG, low_open=True)],
        description=_l("Permitted output per year in kilograms, e.g. 5,000,000."))
    submit = SubmitField(_l("Register facility"))

    def __init__(self, companies, **kwargs):
        super().__init__(**kwargs)
        self.has_companies = bool(companies)
        # No company is preselected: a facility filed under the wrong company is hard to notice later.
        self.company_id.choices = [SelectChoice("", _("Choose a company"))] + [
            SelectChoice(company.id, company.name) for company in companies]


def email_syntax(form, field):
    """The API's check (schemas.UserCreate): syntax only, private and .test domains allowed; normalised, lower case."""
    try:
        field.data = validate_email(field.data, check_deliverability=False, globally_deliverable=False,
                                    test_environment=True).normalized.lower()
    except EmailNotValidError as error:
        problem = EMAIL_PROBLEMS.get(str(error)) or _l("This is not a valid e-mail address.")
        raise ValidationError(str(problem)) from None


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[strip], validators=[DataRequired(), Length(max=254), email_syntax])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)],
                             description=_l("At least 10 characters; a phrase of several words is best."))
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[InputRequired()])
    company_id = SelectField(_l("Company"), coerce=company_id_or_none,
                             description=_l("Applicants only: the company the user files for. Leave empty for "
                                            "reviewers, auditors and admins."))
    submit = SubmitField(_l("Create user"))

    def __init__(self, companies, **kwargs):
        super().__init__(**kwargs)
        self.company_id.choices = [SelectChoice("", "—")] + [SelectChoice(company.id, company.name)
                                                              for company in companies]

    def validate_password(self, field):
        # The service checks again (with the company's name); checking here shows every problem in one round.
        problems = password_problems(field.data, email=self.email.data or "")
        field.errors.extend(sentence(problem) for problem in problems)

    def validate_company_id(self, field):
        # api.md: an applicant belongs to exactly one company, every other role to none.
        if self.role.data == "applicant" and field.data is None:
            raise ValidationError(_("An applicant must belong to a company: choose one."))
        if self.role.data != "applicant" and field.data is not None:
            raise ValidationError(_("Only applicants belong to a company: leave this empty for this role."))


class ResetTwoStepForm(FlaskForm):
    submit = SubmitField(_l("Reset two-step sign-in"))


class LabForm(FlaskForm):
    accreditation_no = StringField(_l("Accreditation no."), filters=[strip],
                                   validators=[DataRequired(), Length(max=60)],
                                   description=_l("The ISO/IEC 17025 accreditation, e.g. KOLAS-T-0417."))
    name = StringField(_l("Laboratory name"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Add lab"))


class MaterialThresholdsForm(FlaskForm):
    # The version the admin started from: saving over a newer one would undo someone else's change.
    based_on_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    min_purity_pct = ExactNumberField(_l("Minimum purity (%)"),
                                      validators=[InputRequired(), Within(Decimal(0), Decimal(100), unit=" %")])
    max_impurities_ppm = ImpurityLimitsField(
        _l("Maximum impurities (ppm)"), render_kw={"rows": 12, "spellcheck": "false"},
        description=_l('One element per line, e.g. "Fe = 10". An element not listed is not limited.'))
    min_recovery_pct = ExactNumberField(_l("Minimum recovery (%)"),
                                        validators=[InputRequired(), Within(Decimal(0), Decimal(200), unit=" %")])
    typical_max_recovery_pct = ExactNumberField(
        _l("Typical maximum recovery (%)"),
        validators=[InputRequired(), Within(Decimal(0), Decimal(200), low_open=True, unit=" %")],
        description=_l("Above this the mass balance is flagged for a closer look."))
    max_recovery_pct = ExactNumberField(
        _l("Maximum recovery (%)"),
        validators=[InputRequired(), Within(Decimal(0), Decimal(200), low_open=True, unit=" %")],
        description=_l("More metal out than in is impossible; the allowance covers sampling and assay error."))
    submit = SubmitField(_l("Save as a new ruleset version"))

    def validate_typical_max_recovery_pct(self, field):
        # The service refuses this too, but in the API's field names; here it is said in the form's words.
        low, high = self.min_recovery_pct.data, self.max_recovery_pct.data
        if None not in (low, high, field.data) and not low <= field.data <= high:
            raise ValidationError(_("Must lie between the minimum recovery (%(low)s) and the maximum recovery "
                                    "(%(high)s).", low=f"{plain_number(low)} %", high=f"{plain_number(high)} %"))

    def changes_from(self, current) -> dict:
        """The thresholds whose submitted value differs from the current version's."""
        return {name: getattr(self, name).data for name in THRESHOLDS
                if getattr(self, name).data != getattr(current, name)}
