"""All tables, importable from one place (Alembic reads Base.metadata after this import)."""

from riskreg.models.accounts import ApiToken, LoginAttempt, OrgUnit, User, UserRole
from riskreg.models.approvals import (
    AcceptedRisk,
    Approval,
    ApprovalCondition,
    ApprovalRequest,
    ApprovalRevocation,
    DecommissioningPlan,
    PdfJob,
    ReferenceCounter,
)
from riskreg.models.audit import AuditEvent, ReminderLog
from riskreg.models.base import Base
from riskreg.models.classification import Classification, InformationSet
from riskreg.models.dpia import Dpia, DpiaScreening, ScreeningCriterion
from riskreg.models.imports import ImportBatch, ImportMapping, ImportRow, ImportSetting
from riskreg.models.risk import ActionStatusChange, Risk, RiskAction, RiskAnalysis
from riskreg.models.sla import Sla, SlaMeasurement
from riskreg.models.systems import ExternalRef, MajorChange, SearchGram, System, SystemAlias

__all__ = [
    "AcceptedRisk", "ActionStatusChange", "ApiToken", "Approval", "ApprovalCondition", "ApprovalRequest",
    "ApprovalRevocation", "AuditEvent", "Base", "Classification", "DecommissioningPlan", "Dpia",
    "DpiaScreening", "ExternalRef", "ImportBatch", "ImportMapping", "ImportRow", "ImportSetting",
    "InformationSet", "LoginAttempt", "MajorChange", "OrgUnit", "PdfJob", "ReferenceCounter",
    "ReminderLog", "Risk", "RiskAction", "RiskAnalysis", "ScreeningCriterion", "SearchGram", "Sla",
    "SlaMeasurement", "System", "SystemAlias", "User", "UserRole",
]
