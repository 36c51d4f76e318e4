"""The coded values of API.md, as StrEnums. The database stores the codes; CHECKs hold them."""

from enum import StrEnum


class Role(StrEnum):
    SYSTEM_OWNER = "system_owner"
    RISK_OWNER = "risk_owner"
    CISO = "ciso"
    DPO = "dpo"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Criticality(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Lifecycle(StrEnum):
    PLANNED = "planned"
    IN_OPERATION = "in_operation"
    BEING_DECOMMISSIONED = "being_decommissioned"
    DECOMMISSIONED = "decommissioned"


class Hosting(StrEnum):
    OWN_DATACENTRE = "own_datacentre"
    EXTERNAL_OPERATIONS = "external_operations"
    SAAS = "saas"


class PersonalData(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Stage(StrEnum):
    NOT_STARTED = "not_started"
    CLASSIFIED = "classified"
    RISK_ANALYSED = "risk_analysed"
    DPIA_PENDING = "dpia_pending"
    AWAITING_DECISION = "awaiting_decision"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    NEEDS_REVIEW = "needs_review"
    EXPIRED = "expired"
    REJECTED = "rejected"
    DECOMMISSIONED = "decommissioned"


class RecordStatus(StrEnum):
    """Draft → final, for classifications, risk analyses and DPIAs."""

    DRAFT = "draft"
    FINAL = "final"


class Aspect(StrEnum):
    K = "K"
    R = "R"
    T = "T"


class Treatment(StrEnum):
    REDUCE = "reduce"
    AVOID = "avoid"
    TRANSFER = "transfer"
    ACCEPT = "accept"


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class DpiaCriterion(StrEnum):
    EVALUATION_SCORING = "evaluation_scoring"
    AUTOMATED_DECISION = "automated_decision"
    SYSTEMATIC_MONITORING = "systematic_monitoring"
    SENSITIVE_DATA = "sensitive_data"
    LARGE_SCALE = "large_scale"
    MATCHING_DATASETS = "matching_datasets"
    VULNERABLE_SUBJECTS = "vulnerable_subjects"
    INNOVATIVE_TECHNOLOGY = "innovative_technology"
    PREVENTS_RIGHTS = "prevents_rights"


class Decision(StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"


class RequestStatus(StrEnum):
    PENDING = "pending"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


class ConditionStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"


class InformationDisposition(StrEnum):
    ARCHIVED = "archived"
    TRANSFERRED = "transferred"
    DELETED = "deleted"


class DecommissioningStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"  # the risk owner (or CISO) called the avveckling off, with a motivation


class ImportStatus(StrEnum):
    MATCHING = "matching"
    READY = "ready"
    APPLYING = "applying"
    APPLIED = "applied"
    UNDOING = "undoing"
    UNDONE = "undone"
    FAILED = "failed"


class ImportAction(StrEnum):
    MERGE = "merge"
    CREATE = "create"
    SKIP = "skip"
