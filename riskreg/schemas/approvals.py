"""Schemas of driftgodkännande: requests, decisions, conditions, revocations, decommissioning plans,
the decision queue and batch prints (API.md, "Approvals")."""

from __future__ import annotations

from marshmallow import fields, validate

from riskreg.models.codes import (
    ConditionStatus,
    Decision,
    DecommissioningStatus,
    InformationDisposition,
    RequestStatus,
)
from riskreg.schemas import Base, code, ident, query_ident, text

TEXT = 10000


class ApprovalRequestIn(Base):
    note = text(TEXT)


class ApprovalRequestOut(Base):
    id = fields.Integer()
    system_id = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in RequestStatus]))
    requested_by_id = fields.Integer(allow_none=True)
    requested_at = fields.DateTime()
    note = fields.String()
    classification_id = fields.Integer(allow_none=True)
    risk_analysis_id = fields.Integer(allow_none=True)
    screening_id = fields.Integer(allow_none=True)
    dpia_id = fields.Integer(allow_none=True)
    sla_id = fields.Integer(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class ApprovalConditionIn(Base):
    text = text(2000, required=True)
    due_on = fields.Date(
        allow_none=True, metadata={"description": "required: a condition without one is refused"}
    )
    responsible_id = ident(allow_none=True)


class ApprovalAcceptedRiskIn(Base):
    risk_id = ident(required=True)
    motivation = text(TEXT)


class ApprovalDecisionIn(Base):
    decision = code(Decision, required=True)
    motivation = text(TEXT, required=True)
    valid_until = fields.Date(allow_none=True)
    conditions = fields.List(fields.Nested(ApprovalConditionIn), validate=validate.Length(max=50))
    accepted_risk_ids = fields.List(ident(), validate=validate.Length(max=500))
    accepted_risks = fields.List(
        fields.Nested(ApprovalAcceptedRiskIn),
        validate=validate.Length(max=500),
        metadata={"description": "accepted risks each with its own motivation"},
    )


class ApprovalConditionOut(Base):
    id = fields.Integer()
    approval_id = fields.Integer()
    text = fields.String()
    due_on = fields.Date()
    responsible_id = fields.Integer(allow_none=True)
    status = fields.String(validate=validate.OneOf([s.value for s in ConditionStatus]))
    fulfilled_on = fields.Date(allow_none=True)
    note = fields.String()
    overdue = fields.Boolean()
    version = fields.Integer()


class ApprovalAcceptedRiskOut(Base):
    risk_id = fields.Integer()
    motivation = fields.String()


class ApprovalRevocationOut(Base):
    id = fields.Integer()
    approval_id = fields.Integer()
    motivation = fields.String()
    revoked_by_id = fields.Integer()
    revoked_at = fields.DateTime()


class ApprovalChangeOut(Base):
    kind = fields.String()
    message = fields.String()
    needs_review = fields.Boolean()


class ApprovalOut(Base):
    id = fields.Integer()
    system_id = fields.Integer()
    request_id = fields.Integer(allow_none=True)
    reference = fields.String(metadata={"description": "DG-<year>-<NNNN>"})
    decision = fields.String(validate=validate.OneOf([d.value for d in Decision]))
    motivation = fields.String()
    valid_until = fields.Date(allow_none=True)
    decided_by_id = fields.Integer()
    decided_at = fields.DateTime()
    classification_id = fields.Integer()
    confidentiality = fields.Integer()
    integrity = fields.Integer()
    availability = fields.Integer()
    profile = fields.String()
    risk_analysis_id = fields.Integer()
    screening_id = fields.Integer()
    dpia_id = fields.Integer(allow_none=True)
    sla_id = fields.Integer(allow_none=True)
    content_sha256 = fields.String()
    state = fields.String(
        validate=validate.OneOf(
            ["in_force", "expiring", "expired", "revoked", "superseded", "needs_review", "rejected"]
        )
    )
    conditions = fields.List(fields.Nested(ApprovalConditionOut))
    accepted_risk_ids = fields.List(fields.Integer())
    accepted_risks = fields.List(fields.Nested(ApprovalAcceptedRiskOut))
    revocation = fields.Nested(ApprovalRevocationOut, allow_none=True)
    changes_since_decision = fields.List(fields.Nested(ApprovalChangeOut))


class ApprovalRevokeIn(Base):
    motivation = text(TEXT, required=True)


class ConditionFulfilIn(Base):
    fulfilled_on = fields.Date(allow_none=True)
    note = text(TEXT)
    version = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class ConditionReopenIn(Base):
    note = text(TEXT)


class ApprovalConditionListOut(ApprovalConditionOut):
    reference = fields.String()
    system_id = fields.Integer()
    system_name = fields.String()


class ApprovalConditionQuery(Base):
    status = code(ConditionStatus)
    overdue = fields.Boolean()
    system_id = query_ident()


class ApprovalQueueQuery(Base):
    risk_owner_id = query_ident()
    org_unit_id = query_ident()


class QueueRiskOut(Base):
    id = fields.Integer()
    title = fields.String()
    value = fields.Integer()
    band = fields.String()


class ApprovalQueueItemOut(Base):
    request_id = fields.Integer()
    requested_at = fields.DateTime()
    age_days = fields.Integer()
    system_id = fields.Integer()
    system_name = fields.String()
    criticality = fields.String(allow_none=True)
    org_unit = fields.String()
    risk_owner_id = fields.Integer(allow_none=True)
    risk_owner_name = fields.String(allow_none=True)
    system_owner_id = fields.Integer(allow_none=True)
    system_owner_name = fields.String(allow_none=True)
    profile = fields.String(allow_none=True)
    bands = fields.Dict(keys=fields.String(), values=fields.Integer())
    top_risks = fields.List(fields.Nested(QueueRiskOut))


class ApprovalQueueSummaryOut(Base):
    risk_owner_id = fields.Integer(allow_none=True)
    risk_owner_name = fields.String(allow_none=True)
    waiting = fields.Integer()
    oldest_at = fields.DateTime()
    oldest_days = fields.Integer()
    over_limit = fields.Integer()


class DecommissioningPlanIn(Base):
    planned_on = fields.Date(required=True)
    responsible_id = ident(required=True)
    disposition = code(InformationDisposition, required=True)
    target_system_id = ident(allow_none=True)
    retention_decision = text(TEXT)
    note = text(TEXT)


class DecommissioningPlanOut(Base):
    id = fields.Integer()
    system_id = fields.Integer()
    approval_id = fields.Integer(allow_none=True)
    planned_on = fields.Date()
    responsible_id = fields.Integer(allow_none=True)
    disposition = fields.String(validate=validate.OneOf([d.value for d in InformationDisposition]))
    target_system_id = fields.Integer(allow_none=True)
    retention_decision = fields.String()
    note = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in DecommissioningStatus]))
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancelled_by_id = fields.Integer(allow_none=True)
    cancellation_motivation = fields.String(allow_none=True)
    version = fields.Integer()


class DecommissioningCompleteIn(Base):
    version = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class DecommissioningCancelIn(Base):
    motivation = text(TEXT, required=True)
    version = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class ApprovalPrintIn(Base):
    org_unit_id = ident(allow_none=True)
    approval_ids = fields.List(ident(), validate=validate.Length(min=1, max=1000))


class ApprovalPrintOut(Base):
    id = fields.Integer()
    status = fields.String(validate=validate.OneOf(["running", "done", "failed"]))
    done = fields.Integer()
    total = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    selection = fields.Dict()
    heartbeat_at = fields.DateTime(
        allow_none=True, metadata={"description": "the worker's last sign of life while running"}
    )


class ApprovalVerifyQuery(Base):
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))


class ApprovalVerifyOut(Base):
    reference = fields.String()
    approval_id = fields.Integer()
    system_id = fields.Integer()
    system_name = fields.String()
    decision = fields.String()
    decided_at = fields.DateTime()
    valid_until = fields.Date(allow_none=True)
    content_sha256 = fields.String()
    register_intact = fields.Boolean(
        metadata={"description": "the stored content still hashes to the checksum"}
    )
    matches = fields.Boolean(
        allow_none=True, metadata={"description": "the given sha256 equals the register's"}
    )
    state = fields.String()
