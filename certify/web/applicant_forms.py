"""The applicant's forms: feedstock lots, batches with their input rows, evidence uploads; validated by the API's schemas."""
import re
from decimal import Decimal, InvalidOperation

from flask import request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from certify.api.parsing import field_errors
from certify.api.schemas import BatchCreate, LotCreate
from certify.domain.facts import DOCUMENT_KINDS, GRADES, LOT_CATEGORIES
from certify.errors import ApiError, Conflict
from certify.i18n import lazy_gettext as _l
from certify.models.lot import CHEMISTRIES, LOT_FORMS
from certify.web.admin_forms import ExactNumberField, strip
from certify.web.formatting import kg, plain_number, words

ELEMENT_SYMBOL = re.compile(r"^(SO4|[A-Z][a-z]?)$")
# "Ni = 21.5", "Ni: 21.5 %", "Fe 4 ppm": people copy these from lab sheets in every shape.
ELEMENT_LINE = re.compile(r"^(?P<symbol>[A-Za-z][A-Za-z0-9]*)\s*(?:[=:]\s*|\s+)(?P<amount>[^=:\s][^=:]*?)$")
# A comma is read only between thousands (12,000); "6,2" is refused, never silently taken for 62.
THOUSANDS_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
DECIMAL_COMMA_PROBLEM = _l("Write decimals with a point (6.2); a comma may only separate thousands (12,000).")
MAX_INPUT_ROWS = 200
# People read these labels; the stored values (the keys) never change.
KIND_LABELS = {"assay_report": _l("Assay report"),
               "feedstock_evidence": _l("Feedstock evidence (transfer record, weighing)"),
               "production_record": _l("Production record"), "mass_balance": _l("Mass balance sheet"),
               "other": _l("Other")}
CATEGORY_LABELS = {"post_consumer": _l("Post-consumer"), "pre_consumer": _l("Pre-consumer"),
                   "primary": _l("Primary")}
FORM_LABELS = {"battery_pack": _l("Battery pack"), "module": _l("Module"), "cell": _l("Cell"),
               "black_mass": _l("Black mass"), "electrode_scrap": _l("Electrode scrap"), "other": _l("Other")}
GRADE_LABELS = {"battery": _l("Battery grade"), "technical": _l("Technical grade")}
DECISION_LABELS = {"approve": _l("approved"), "reject": _l("rejected"), "request_changes": _l("changes requested")}


def label_of(labels: dict, value: str | None) -> str:
    """The label of a stored value; an unknown value shows as words rather than failing."""
    if not value:
        return ""
    return str(labels[value]) if value in labels else words(value)


def optional_int(value):
    """Select values: "" (nothing chosen) is None, anything else an int; junk is None, never a 500."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def comma_misread(text: str) -> bool:
    return "," in text and not THOUSANDS_GROUPED.match(text.strip())


class NumberField(ExactNumberField):
    """An exact number as people type it: "12,000" or "99.3"; a decimal comma is refused, not misread."""

    def process_formdata(self, valuelist):
        if valuelist and comma_misread(valuelist[0]):
            self.data = None
            raise ValueError(str(DECIMAL_COMMA_PROBLEM))
        super().process_formdata(valuelist)


def humanize(message: str) -> str:
    """An API field message as a sentence beside an input: "must be greater than 0" → "Must be greater than 0."."""
    if message == "is required":
        return _("This is required.")
    # API names such as production_start read as words on a page.
    message = re.sub(r"\b([a-z]+(?:_[a-z]+)+)\b", lambda m: m.group(1).replace("_", " "), message)
    message = message[0].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def without_blanks(value):
    """Drops members left empty, so the schema says "is required" exactly as the API would for a missing member."""
    if isinstance(value, dict):
        return {key: without_blanks(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_blanks(item) for item in value]
    return value


class ElementAmountsField(TextAreaField):
    """Amounts per element typed one per line ("Ni = 21.5"), held as {symbol: Decimal}; ranges are the schema's."""

    def __init__(self, label=None, validators=None, unit: str = "", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.unit = unit

    def process_formdata(self, valuelist):
        self.line_problems = []
        if valuelist:
            self.data, self.line_problems = self.parse(valuelist[0])

    def parse(self, text: str) -> tuple[dict[str, Decimal], list[str]]:
        amounts: dict[str, Decimal] = {}
        problems: list[str] = []
        example = '"Ni = 21.5"' if self.unit == "%" else '"Fe = 4"'
        for number_, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line:
                continue
            match = ELEMENT_LINE.match(line)
            amount = match.group("amount").strip() if match else ""
            if self.unit and amount.lower().endswith(self.unit):
                amount = amount[: -len(self.unit)].strip()
            if match is None:
                problems.append(_('Line %(line)s ("%(text)s"): write an element, "=" and a number, e.g. %(example)s.',
                                  line=number_, text=line, example=example))
                continue
            symbol = match.group("symbol")
            if not ELEMENT_SYMBOL.match(symbol):
                problems.append(_('Line %(line)s: "%(symbol)s" is not an element symbol such as Ni, Fe or SO4.',
                                  line=number_, symbol=symbol))
            elif symbol in amounts:
                problems.append(_("Line %(line)s: %(symbol)s is listed twice; keep one line per element.",
                                  line=number_, symbol=symbol))
            elif comma_misread(amount):
                problems.append(_("Line %(line)s: %(problem)s", line=number_, problem=DECIMAL_COMMA_PROBLEM))
            else:
                try:
                    value = Decimal(amount.replace(",", ""))
                except InvalidOperation:
                    value = None
                if value is None or not value.is_finite():
                    problems.append(_('Line %(line)s: "%(amount)s" is not a number for %(symbol)s.',
                                      line=number_, amount=amount, symbol=symbol))
                else:
                    amounts[symbol] = value
        return amounts, problems

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "\n".join(f"{symbol} = {plain_number(amount)}" for symbol, amount in (self.data or {}).items())

    def pre_validate(self, form):
        # Every bad line gets its own message, so all can be fixed in one go.
        self.errors.extend(getattr(self, "line_problems", []))


class InputRowList(FieldList):
    """The batch's input rows; `list_errors` holds what concerns the rows as a whole (none given, a lot twice)."""

    def process(self, *args, **kwargs):
        self.list_errors = []
        super().process(*args, **kwargs)


class SchemaForm(FlaskForm):
    """A form whose fields are named as the API's members, so the API's error paths land beside the right input.

    `validate()` runs the form's own parsing and then the API's pydantic schema over what it collected:
    web and API accept exactly the same data. The validated data is left in `payload`.
    """

    schema: type[BaseModel]
    payload: dict | None = None

    def collect(self) -> dict:
        """What the form collected, shaped as the schema's members; each concrete form says how."""
        raise TypeError(f"{type(self).__name__} must define collect()")

    def validate(self, extra_validators=None) -> bool:
        parsed = super().validate(extra_validators)
        try:
            model = self.schema.model_validate(without_blanks(self.collect()))
        except PydanticValidationError as error:
            # A field that could not even be read already says so; the schema's "is required" would repeat it.
            # Errors about one member of a field (one element's amount) still show.
            self.add_errors(field_errors(error), skip_fields_with_errors=True)
            return False
        self.payload = model.model_dump()
        return parsed

    def row_entry(self, rows: FieldList, index: str):
        return rows.entries[int(index)] if index.isdigit() and int(index) < len(rows.entries) else None

    def field_for(self, path: str):
        """The field an API error path names ("assay.purity_pct", "inputs.0.lot_id"), and what of the path is left."""
        node, parts = self, path.split(".")
        while parts:
            if isinstance(node, FieldList):
                entry = self.row_entry(node, parts[0])
                if entry is None:
                    break
                node = entry
            else:
                children = node.form if isinstance(node, FormField) else node
                if not hasattr(children, "_fields") or parts[0] not in children._fields:
                    break
                node = children._fields[parts[0]]
            parts.pop(0)
        return node, ".".join(part for part in parts if part != "[key]")

    def add_errors(self, fields: dict[str, list[str]], *, skip_fields_with_errors: bool = False) -> None:
        for path, messages in fields.items():
            target, rest = self.field_for(path)
            texts = [humanize(f"{rest}: {m}" if rest else m) for m in messages]
            if isinstance(target, InputRowList):
                target.list_errors.extend(texts)
            elif target is self or isinstance(target, FormField) or not hasattr(target, "errors"):
                self.form_errors.extend(texts)
            elif skip_fields_with_errors and target.errors and not rest:
                continue  # the field already says what is wrong with its value as a whole
            else:
                if not isinstance(target.errors, list):
                    target.errors = list(target.errors)
                target.errors.extend(texts)

    def show_refusal(self, refusal: ApiError, conflict_field: str | None = None) -> None:
        """Puts a service's refusal beside the fields it names, or above the form."""
        if refusal.fields:
            self.add_errors(refusal.fields)
        elif isinstance(refusal, Conflict) and conflict_field:
            self[conflict_field].errors = [*self[conflict_field].errors, refusal.message]
        else:
            self.form_errors.append(refusal.message)


def choices(pairs, blank: str | None = None) -> list[SelectChoice]:
    """Select options from (value, label) pairs, with an empty first option when nothing is chosen yet."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]


def facility_choices(facilities) -> list[SelectChoice]:
    return choices((facility.id, facility.name) for facility in facilities)


class LotForm(SchemaForm):
    schema = LotCreate

    facility_id = SelectField(_l("Facility"), coerce=optional_int, validators=[Optional()])
    lot_no = StringField(_l("Lot no."), filters=[strip], validators=[Length(max=60)],
                         description=_l("Your own number for this receipt, e.g. IN-2026-0042."))
    supplier = StringField(_l("Supplier"), filters=[strip], validators=[Length(max=200)])
    category = SelectField(_l("Category"), choices=choices(
        ((category, CATEGORY_LABELS[category]) for category in LOT_CATEGORIES), _l("— choose —")),
        validators=[Optional()],
        description=_l("Post-consumer: end-of-life batteries and their black mass; pre-consumer: manufacturing "
                       "scrap; primary: mined or virgin material blended in."))
    form = SelectField(_l("Form"), choices=choices(((form, FORM_LABELS[form]) for form in LOT_FORMS), _l("— choose —")),
                       validators=[Optional()])
    chemistry = SelectField(_l("Chemistry"), choices=choices(
        ((chemistry, chemistry) for chemistry in CHEMISTRIES), _l("not known / not a battery")),
        validators=[Optional()])
    mass_kg = NumberField(_l("Mass (kg)"), validators=[Optional()], description=_l("As weighed at receipt."))
    received_on = DateField(_l("Received on"), validators=[Optional()])
    transfer_doc_no = StringField(_l("Transfer document no."), filters=[strip], validators=[Length(max=60)],
                                  description=_l("The Allbaro waste-transfer record number, e.g. AB-2026-118822."))
    element_content_pct = ElementAmountsField(
        _l("Element content (%)"), unit="%", render_kw={"rows": 5, "spellcheck": "false"},
        description=_l('Assayed mass share, one element per line, e.g. "Ni = 21.5". An element not listed counts as 0.'))
    submit = SubmitField(_l("Register lot"))

    def __init__(self, facilities, **kwargs):
        super().__init__(**kwargs)
        self.facility_id.choices = facility_choices(facilities)

    def collect(self) -> dict:
        return {"facility_id": self.facility_id.data, "lot_no": self.lot_no.data or None,
                "supplier": self.supplier.data or None, "category": self.category.data or None,
                "form": self.form.data or None, "chemistry": self.chemistry.data or None,
                "mass_kg": self.mass_kg.data, "received_on": self.received_on.data,
                "transfer_doc_no": self.transfer_doc_no.data or None,
                "element_content_pct": self.element_content_pct.data or {}}


class InputRowForm(Form):
    lot_id = SelectField(_l("Feedstock lot"), coerce=optional_int, validate_choice=False, validators=[Optional()])
    mass_kg = NumberField(_l("Mass taken (kg)"), validators=[Optional()])

    def is_blank(self) -> bool:
        typed = any(text.strip() for text in self.mass_kg.raw_data or ())
        return self.lot_id.data is None and self.mass_kg.data is None and not typed


class AssayForm(Form):
    purity_pct = NumberField(_l("Purity (%)"), validators=[Optional()],
                             description=_l("Mass share of the named compound, as the lab reports it."))
    impurities_ppm = ElementAmountsField(
        _l("Impurities (ppm)"), unit="ppm", render_kw={"rows": 5, "spellcheck": "false"},
        description=_l('One element per line, e.g. "Fe = 4".'))
    lab_name = StringField(_l("Laboratory"), filters=[strip], validators=[Length(max=200)])
    lab_accreditation_no = StringField(_l("Lab accreditation no."), filters=[strip], validators=[Length(max=60)],
                                       description=_l("ISO/IEC 17025 accreditation, e.g. KOLAS-T-0417."))
    report_no = StringField(_l("Report no."), filters=[strip], validators=[Length(max=60)],
                            description=_l("As printed on the assay report you upload."))


class ClaimForm(Form):
    recycled_content_pct = NumberField(
        _l("Claimed recycled content (%)"), validators=[Optional()],
        description=_l("The share of the element from post- and pre-consumer inputs you claim; "
                       "it may not exceed what the inputs back."))


class BatchForm(SchemaForm):
    schema = BatchCreate

    facility_id = SelectField(_l("Facility"), coerce=optional_int, validators=[Optional()])
    material_code = SelectField(_l("Material"), validators=[Optional()])
    grade = SelectField(_l("Grade"), choices=choices((grade, GRADE_LABELS[grade]) for grade in GRADES),
                        default="battery", validators=[Optional()],
                        description=_l("Technical grade is certified for its recycled origin without the "
                                       "battery-grade purity and impurity limits."))
    quantity_kg = NumberField(_l("Quantity produced (kg)"), validators=[Optional()])
    production_start = DateField(_l("Production start"), validators=[Optional()])
    production_end = DateField(_l("Production end"), validators=[Optional()])
    assay = FormField(AssayForm, label=_l("Assay"))
    inputs = InputRowList(FormField(InputRowForm), label=_l("Inputs"), min_entries=1, max_entries=MAX_INPUT_ROWS)
    claim = FormField(ClaimForm, label=_l("Claim"))
    show_lots = SubmitField(_l("Show this facility's lots"))
    add_row = SubmitField(_l("Add input row"))
    save = SubmitField(_l("Save batch"))

    def __init__(self, facilities, materials, **kwargs):
        super().__init__(**kwargs)
        self.facility_id.choices = facility_choices(facilities)
        self.material_code.choices = choices(
            ((material.code, f"{material.code} · {material.name}") for material in materials), _("— choose —"))
        self.row_entries: list = []
        self.lots_on_offer: tuple = ([], {}, {})

    def chosen_facility_id(self) -> int | None:
        """The facility the rows' lots are offered for: the one chosen, else the only or first one."""
        if self.facility_id.data is not None:
            return self.facility_id.data
        return self.facility_id.choices[0].value if self.facility_id.choices else None

    def offer_lots(self, offered, company_lots: dict, remaining_kg: dict) -> None:
        """Each row offers the chosen facility's lots; a row keeps showing a lot it names from elsewhere."""

        def label(lot) -> str:
            return _("%(lot_no)s · %(category)s %(form)s · %(remaining)s free of %(mass)s", lot_no=lot.lot_no,
                     category=label_of(CATEGORY_LABELS, lot.category).lower(),
                     form=label_of(FORM_LABELS, lot.form).lower(),
                     remaining=kg(remaining_kg.get(lot.id, lot.mass_kg)), mass=kg(lot.mass_kg))

        self.lots_on_offer = (offered, company_lots, remaining_kg)  # again after a row is added or removed
        options = choices(((lot.id, label(lot)) for lot in offered), _("— choose a lot —"))
        offered_ids = {lot.id for lot in offered}
        for entry in self.inputs:
            lot_id = entry.form.lot_id.data
            extra = []
            if lot_id is not None and lot_id not in offered_ids and lot_id in company_lots:
                extra = [SelectChoice(lot_id, _("%(lot)s (another facility)", lot=label(company_lots[lot_id])))]
            entry.form.lot_id.choices = options + extra

    def edit_rows(self) -> bool:
        """Adds or removes an input row, or re-offers lots, when one of those buttons was pressed; True if so."""
        remove = optional_int(request.form.get("remove_row"))
        if self.add_row.data:
            if len(self.inputs.entries) < MAX_INPUT_ROWS:
                self.inputs.append_entry()
        elif remove is not None:
            kept = [entry.data for index, entry in enumerate(self.inputs.entries) if index != remove]
            self.inputs.entries, self.inputs.last_index = [], -1
            for row in kept or [{}]:
                self.inputs.append_entry(row)
        elif not self.show_lots.data:
            return False
        self.offer_lots(*self.lots_on_offer)
        return True

    def collect(self) -> dict:
        # Rows left entirely empty (an extra "Add input row") are not inputs; errors name rows by what is sent.
        self.row_entries = [entry for entry in self.inputs if not entry.form.is_blank()]
        return {"facility_id": self.facility_id.data, "material_code": self.material_code.data or None,
                "grade": self.grade.data or None, "quantity_kg": self.quantity_kg.data,
                "production_start": self.production_start.data, "production_end": self.production_end.data,
                "assay": {"purity_pct": self.assay.purity_pct.data,
                          "impurities_ppm": self.assay.impurities_ppm.data or {},
                          "lab_name": self.assay.lab_name.data or None,
                          "lab_accreditation_no": self.assay.lab_accreditation_no.data or None,
                          "report_no": self.assay.report_no.data or None},
                "inputs": [{"lot_id": entry.form.lot_id.data, "mass_kg": entry.form.mass_kg.data}
                           for entry in self.row_entries],
                "claim": {"recycled_content_pct": self.claim.recycled_content_pct.data}}

    def row_entry(self, rows: FieldList, index: str):
        if rows is self.inputs and index.isdigit():
            return self.row_entries[int(index)] if int(index) < len(self.row_entries) else None
        return super().row_entry(rows, index)


def batch_form_data(batch) -> dict:
    """A batch in the shape of the form and of the API's create body: to fill the edit form and to see what changed."""
    return {"facility_id": batch.facility_id, "material_code": batch.material_code, "grade": batch.grade,
            "quantity_kg": batch.quantity_kg, "production_start": batch.production_start,
            "production_end": batch.production_end,
            "assay": {"purity_pct": batch.purity_pct, "impurities_ppm": dict(batch.impurities_ppm),
                      "lab_name": batch.lab_name, "lab_accreditation_no": batch.lab_accreditation_no,
                      "report_no": batch.report_no},
            "inputs": [{"lot_id": allocation.lot_id, "mass_kg": allocation.mass_kg}
                       for allocation in batch.allocations],
            "claim": {"recycled_content_pct": batch.claimed_recycled_content_pct}}


def changed_members(batch, payload: dict) -> dict:
    """The members of a validated batch body that differ from the batch: the edit sends (and audits) only those."""
    current = batch_form_data(batch)
    return {name: value for name, value in payload.items() if current.get(name) != value}


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Kind of document"), choices=choices(((kind, KIND_LABELS[kind]) for kind in DOCUMENT_KINDS),
                                                               _l("— choose —")),
                       validators=[InputRequired(_l("Choose what kind of document this is."))])
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))],
                     description=_l("PDF, CSV, XLSX, PNG or JPEG."))
    upload = SubmitField(_l("Upload"))
