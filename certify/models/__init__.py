"""The data model, one module per aggregate; importing this package registers every table."""
from certify.models.audit import AuditEvent
from certify.models.batch import Allocation, Batch, Decision, Document, IdempotencyKey
from certify.models.certificate import Certificate, certificate_serial_seq
from certify.models.check import CheckResult, CheckRun
from certify.models.company import Company, Facility
from certify.models.lot import FeedstockLot
from certify.models.material import Lab, Material, MaterialRules
from certify.models.user import ApiToken, User

__all__ = [
    "Allocation", "ApiToken", "AuditEvent", "Batch", "Certificate", "CheckResult", "CheckRun", "Company",
    "Decision", "Document", "Facility", "FeedstockLot", "IdempotencyKey", "Lab", "Material", "MaterialRules",
    "User", "certificate_serial_seq",
]
