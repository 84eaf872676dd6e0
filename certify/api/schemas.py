"""Request bodies and query strings of the API, validated by pydantic (and the source of the OpenAPI schemas)."""
import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from certify.domain.facts import DOCUMENT_KINDS, GRADES, LOT_CATEGORIES
from certify.domain.workflow import BATCH_STATUSES, CERTIFICATE_STATUSES
from certify.i18n import translate
from certify.models.company import PROCESSES
from certify.models.lot import CHEMISTRIES, LOT_FORMS
from certify.models.user import ROLES

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
PositiveKg = Annotated[Decimal, Field(gt=0, lt=Decimal("1e12"), decimal_places=6)]  # fits Numeric(18, 6)
Pct = Annotated[Decimal, Field(ge=0, le=100, decimal_places=6)]
Ppm = Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=6)]
ElementSymbol = Annotated[str, StringConstraints(pattern=r"^(SO4|[A-Z][a-z]?)$")]
# Ids and versions fit the database's integer columns; a larger number can name nothing.
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Body(BaseModel):
    # Unknown members (status, company_id, version, ...) are refused, never silently applied.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenRequest(Body):
    email: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[str, StringConstraints(max_length=256, strip_whitespace=False)]
    # The current 6-digit code of the authenticator app: required once the user has two-step sign-in.
    otp: Annotated[str | None, StringConstraints(max_length=16)] = Field(
        default=None, description="The current 6-digit TOTP code; required for users with two-step sign-in")


class CompanyCreate(Body):
    name: Text
    business_registration_no: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class FacilityCreate(Body):
    company_id: Id
    name: Text
    permit_no: Code
    permit_valid_until: dt.date
    process: Literal[PROCESSES]
    annual_capacity_kg: PositiveKg


class UserCreate(Body):
    email: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[str, StringConstraints(max_length=256, strip_whitespace=False)]
    role: Literal[ROLES]
    company_id: Id | None = Field(default=None, validate_default=True)

    @field_validator("email")
    @classmethod
    def email_is_valid(cls, value: str) -> str:
        from email_validator import EmailNotValidError, validate_email

        try:
            # Internal deployments and acceptance tests use private or .test domains: check the syntax only.
            return validate_email(value, check_deliverability=False, globally_deliverable=False,
                                  test_environment=True).normalized.lower()
        except EmailNotValidError as error:
            raise ValueError(str(error)) from None

    @field_validator("company_id")
    @classmethod
    def company_only_for_applicants(cls, company_id: int | None, info: ValidationInfo) -> int | None:
        role = info.data.get("role")
        if role == "applicant" and company_id is None:
            raise ValueError(translate("an applicant must belong to a company: company_id is required"))
        if role is not None and role != "applicant" and company_id is not None:
            raise ValueError(translate("only applicants belong to a company: leave company_id out"))
        return company_id


class MaterialPatch(Body):
    min_purity_pct: Pct | None = None
    max_impurities_ppm: dict[ElementSymbol, Ppm] | None = None
    max_recovery_pct: Annotated[Decimal, Field(gt=0, le=200, decimal_places=6)] | None = None
    typical_max_recovery_pct: Annotated[Decimal, Field(gt=0, le=200, decimal_places=6)] | None = None
    min_recovery_pct: Annotated[Decimal, Field(ge=0, le=200, decimal_places=6)] | None = None

    @model_validator(mode="after")
    def something_to_change(self):
        if not self.model_fields_set:
            raise ValueError(translate("name at least one threshold to change"))
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(translate("thresholds cannot be null: %(names)s", names=", ".join(nulls)))
        return self


class LabCreate(Body):
    accreditation_no: Code
    name: Text


class LotCreate(Body):
    facility_id: Id
    lot_no: Code
    supplier: Text
    category: Literal[LOT_CATEGORIES]
    form: Literal[LOT_FORMS]
    chemistry: Literal[CHEMISTRIES] | None = None
    mass_kg: PositiveKg
    received_on: dt.date
    transfer_doc_no: Code | None = None
    element_content_pct: dict[ElementSymbol, Pct] = Field(default_factory=dict)

    @field_validator("element_content_pct")
    @classmethod
    def content_adds_up(cls, value: dict) -> dict:
        if sum(value.values(), Decimal(0)) > 100:
            raise ValueError(translate("element contents add up to more than 100 percent"))
        return value


class Assay(Body):
    purity_pct: Pct
    impurities_ppm: dict[ElementSymbol, Ppm] = Field(default_factory=dict)
    lab_name: Text
    lab_accreditation_no: Code
    report_no: Code


def end_not_before_start(cls, end: dt.date | None, info: ValidationInfo) -> dt.date | None:
    start = info.data.get("production_start")
    if start is not None and end is not None and end < start:
        raise ValueError(translate("must not be before production_start"))
    return end


def distinct_lots(cls, inputs: list | None) -> list | None:
    lot_ids = [item.lot_id for item in inputs or ()]
    if len(set(lot_ids)) != len(lot_ids):
        raise ValueError(translate("each lot may appear once; add its masses together"))
    return inputs


class BatchInput(Body):
    lot_id: Id
    mass_kg: PositiveKg


class Claim(Body):
    recycled_content_pct: Pct


class BatchCreate(Body):
    facility_id: Id
    material_code: Code
    grade: Literal[GRADES] = "battery"
    quantity_kg: PositiveKg
    production_start: dt.date
    production_end: dt.date
    assay: Assay
    inputs: Annotated[list[BatchInput], Field(min_length=1, max_length=200)]
    claim: Claim

    _end_not_before_start = field_validator("production_end")(end_not_before_start)
    _distinct_lots = field_validator("inputs")(distinct_lots)


class BatchPatch(Body):
    facility_id: Id | None = None
    material_code: Code | None = None
    grade: Literal[GRADES] | None = None
    quantity_kg: PositiveKg | None = None
    production_start: dt.date | None = None
    production_end: dt.date | None = None
    assay: Assay | None = None
    inputs: Annotated[list[BatchInput], Field(min_length=1, max_length=200)] | None = None
    claim: Claim | None = None

    _end_not_before_start = field_validator("production_end")(end_not_before_start)
    _distinct_lots = field_validator("inputs")(distinct_lots)


class DecisionRequest(Body):
    decision: Literal["approve", "reject", "request_changes"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = Field(
        default="", validate_default=True)
    version: Id

    @field_validator("comment")
    @classmethod
    def comment_when_not_approving(cls, comment: str, info: ValidationInfo) -> str:
        decision = info.data.get("decision")
        if decision in ("reject", "request_changes") and not comment:
            raise ValueError(translate("is required to reject") if decision == "reject"
                             else translate("is required to request changes"))
        return comment


class ReasonRequest(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: str | None = None


class LotListQuery(ListQuery):
    facility_id: Id | None = None
    category: Literal[LOT_CATEGORIES] | None = None


class BatchListQuery(ListQuery):
    status: Literal[BATCH_STATUSES] | None = None
    material_code: str | None = None
    facility_id: Id | None = None
    company_id: Id | None = None


class CertificateListQuery(ListQuery):
    status: Literal[CERTIFICATE_STATUSES] | None = None
    material_code: str | None = None


class PublicLookupQuery(BaseModel):
    code: Annotated[str, StringConstraints(max_length=64)] | None = None


class AuditQuery(ListQuery):
    object_type: str | None = None
    object_id: str | None = None


class DocumentUpload(BaseModel):
    kind: Literal[DOCUMENT_KINDS]
