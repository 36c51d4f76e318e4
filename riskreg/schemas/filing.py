"""Schemas of the filing area: classifications, risk analyses, DPIA screenings and DPIAs, SLAs."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from riskreg.models.codes import ActionStatus, Aspect, DpiaCriterion, RecordStatus, Treatment
from riskreg.schemas import Base, StrictBoolean, code, ident, level, query_ident, scale, text
from riskreg.services.dpia import CONTENT_FIELDS as DPIA_TEXTS

TEXT = 10000
LONG = 20000


class Version(fields.Integer):
    def __init__(self, required: bool = False, **kw):
        super().__init__(required=required, strict=True, validate=validate.Range(min=1, max=2**31 - 1), **kw)


class FinaliseIn(Base):
    """An optional body: the version the client saw (a stale one answers 409)."""

    version = Version()


class RecordOut(Base):
    """What every filed record (classification, risk analysis, DPIA) answers about itself."""

    id = fields.Integer()
    system_id = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in RecordStatus]))
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    finalised_by_id = fields.Integer(allow_none=True)
    finalised_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


# ------------------------------------------------------------------ classification


class InformationSetIn(Base):
    name = text(200, required=True)
    confidentiality = level()
    integrity = level()
    availability = level()


class ClassificationFields(Base):
    """What a classification says: the three levels (required here), motivations and information sets."""

    confidentiality = level()
    integrity = level()
    availability = level()
    motivation = text(TEXT)
    confidentiality_motivation = text(TEXT)
    integrity_motivation = text(TEXT)
    availability_motivation = text(TEXT)
    information_sets = fields.List(fields.Nested(InformationSetIn), validate=validate.Length(max=50))


class ClassificationIn(ClassificationFields):
    draft = StrictBoolean()


class ClassificationPatch(ClassificationFields):
    """A draft's changes: any of the fields, and the version the client saw."""

    version = Version(required=True)
    confidentiality = level(required=False)
    integrity = level(required=False)
    availability = level(required=False)


class InformationSetOut(Base):
    id = fields.Integer()
    name = fields.String()
    confidentiality = fields.Integer()
    integrity = fields.Integer()
    availability = fields.Integer()


class ClassificationOut(RecordOut):
    number = fields.Integer()
    confidentiality = fields.Integer(
        metadata={"description": "effective level: the highest of declared and sets"}
    )
    integrity = fields.Integer()
    availability = fields.Integer()
    profile = fields.String(metadata={"description": "K-R-T, e.g. 3-3-2"})
    declared_confidentiality = fields.Integer()
    declared_integrity = fields.Integer()
    declared_availability = fields.Integer()
    motivation = fields.String()
    confidentiality_motivation = fields.String()
    integrity_motivation = fields.String()
    availability_motivation = fields.String()
    information_sets = fields.List(fields.Nested(InformationSetOut))
    review_due = fields.Boolean(
        dump_default=False, metadata={"description": "older than the review interval"}
    )


class CompareQuery(Base):
    a = query_ident(required=True, metadata={"description": "a classification id of this system"})
    b = query_ident(required=True, metadata={"description": "another (or the same) classification id"})


class CompareRowOut(Base):
    field = fields.String(metadata={"description": "e.g. confidentiality, declared_integrity, motivation"})
    kind = fields.String(validate=validate.OneOf(["level", "text"]))
    a = fields.Raw(allow_none=True, metadata={"description": "the value in version a (a level or a text)"})
    b = fields.Raw(allow_none=True)
    differs = fields.Boolean()


class CompareSetOut(Base):
    name = fields.String()
    a = fields.String(
        allow_none=True, metadata={"description": "K-R-T of the set in version a; null: absent"}
    )
    b = fields.String(allow_none=True)
    differs = fields.Boolean()


class ClassificationCompareOut(Base):
    a = fields.Nested(ClassificationOut)
    b = fields.Nested(ClassificationOut)
    rows = fields.List(fields.Nested(CompareRowOut))
    sets = fields.List(fields.Nested(CompareSetOut), metadata={"description": "information sets by name"})


# ------------------------------------------------------------------ risk analysis


class Responsible(fields.Field):
    """A user id, or an e-mail address (looked up by the endpoint)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("A user id or e-mail address.")
        if isinstance(value, int) and 0 < value <= 2**31 - 1:
            return value
        if isinstance(value, str) and 0 < len(value.strip()) <= 254:
            return value.strip()
        raise ValidationError("A user id or e-mail address.")


class ActionIn(Base):
    id = ident()
    description = text(TEXT, required=True)
    responsible_id = ident(allow_none=True)
    responsible = Responsible(
        allow_none=True, metadata={"description": "user id or e-mail; or responsible_id"}
    )
    due_on = fields.Date(allow_none=True)
    status = code(ActionStatus)
    completed_on = fields.Date(allow_none=True)


class RiskIn(Base):
    id = ident()
    title = text(300, required=True)
    description = text(TEXT)
    aspect = code(Aspect, required=True)
    likelihood = scale()
    consequence = scale()
    existing_protection = text(TEXT)
    treatment = code(Treatment, allow_none=True)
    residual_likelihood = scale(required=False, allow_none=True)
    residual_consequence = scale(required=False, allow_none=True)
    actions = fields.List(fields.Nested(ActionIn), validate=validate.Length(max=50))


class RiskAnalysisIn(Base):
    analysed_on = fields.Date(required=True)
    participants = text(TEXT)
    scope = text(TEXT)
    classification_id = ident(allow_none=True)
    risks = fields.List(fields.Nested(RiskIn), validate=validate.Length(max=500))


class RiskAnalysisPatch(RiskAnalysisIn):
    """A draft's changes: any of the fields, and the version the client saw."""

    version = Version(required=True)
    analysed_on = fields.Date()


class StatusChangeOut(Base):
    id = fields.Integer()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    from_completed_on = fields.Date(
        allow_none=True, metadata={"description": "the completion date before (null: none, or not kept)"}
    )
    completed_on = fields.Date(allow_none=True, metadata={"description": "the completion date after"})
    note = fields.String()
    changed_by_id = fields.Integer(allow_none=True)
    changed_at = fields.DateTime()


class ActionOut(Base):
    id = fields.Integer()
    description = fields.String()
    responsible_id = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf([s.value for s in ActionStatus]))
    completed_on = fields.Date(allow_none=True)
    version = fields.Integer()


class ActionDetailOut(ActionOut):
    risk_id = fields.Integer()
    history = fields.List(fields.Nested(StatusChangeOut))


class ActionPatch(Base):
    status = code(ActionStatus, required=True)
    completed_on = fields.Date(allow_none=True)
    note = text(2000)
    version = Version()


class RiskOut(Base):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    aspect = fields.String(validate=validate.OneOf([a.value for a in Aspect]))
    likelihood = fields.Integer()
    consequence = fields.Integer()
    value = fields.Integer()
    band = fields.String()
    existing_protection = fields.String()
    treatment = fields.String(allow_none=True)
    residual_likelihood = fields.Integer(allow_none=True)
    residual_consequence = fields.Integer(allow_none=True)
    residual_value = fields.Integer(allow_none=True)
    residual_band = fields.String(allow_none=True)
    actions = fields.List(fields.Nested(ActionOut))


class RiskAnalysisOut(RecordOut):
    number = fields.Integer()
    analysed_on = fields.Date()
    participants = fields.String()
    scope = fields.String()
    classification_id = fields.Integer(allow_none=True)
    copied_from_id = fields.Integer(allow_none=True)
    risks = fields.List(fields.Nested(RiskOut))


class OverdueActionOut(Base):
    action_id = fields.Integer()
    description = fields.String()
    due_on = fields.Date()
    days_overdue = fields.Integer()
    status = fields.String()
    responsible_id = fields.Integer(allow_none=True)
    responsible = fields.String(allow_none=True)
    risk_id = fields.Integer()
    risk_title = fields.String()
    system_id = fields.Integer()
    system_name = fields.String()


# ------------------------------------------------------------------ DPIA


class ScreeningIn(Base):
    criteria = fields.List(code(DpiaCriterion), required=True, validate=validate.Length(max=9))
    motivation = text(TEXT)
    require_anyway = StrictBoolean()


class ScreeningOut(Base):
    id = fields.Integer()
    system_id = fields.Integer()
    criteria = fields.List(fields.String())
    motivation = fields.String()
    require_anyway = fields.Boolean()
    dpia_required = fields.Boolean()
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


def dpia_fields(required: bool) -> type[Base]:
    """What a DPIA says: its texts (GDPR art. 35.7; each required and non-empty with ``required``) and
    whether a high residual risk remains."""
    texts = {name: text(LONG, required=required) for name in DPIA_TEXTS}
    return Base.from_dict({**texts, "high_residual_risk": StrictBoolean()}, name="DpiaFields")


class DpiaIn(dpia_fields(required=True)):
    """A new draft: every text."""


class DpiaPatch(dpia_fields(required=False)):
    """A draft's changes: any of the fields, and the version the client saw."""

    version = Version(required=True)


class OpinionIn(Base):
    opinion = text(LONG, required=True)
    prior_consultation_required = StrictBoolean(allow_none=True)
    version = Version()


class DpiaOut(RecordOut):
    screening_id = fields.Integer(allow_none=True)
    description = fields.String()
    purposes = fields.String()
    legal_basis = fields.String()
    necessity = fields.String()
    risks = fields.String()
    measures = fields.String()
    high_residual_risk = fields.Boolean()
    prior_consultation_required = fields.Boolean()
    opinion = fields.String(allow_none=True)
    opinion_by_id = fields.Integer(allow_none=True)
    opinion_at = fields.DateTime(allow_none=True)


# ------------------------------------------------------------------ SLA


class SlaIn(Base):
    supplier = text(200, required=True)
    agreement_ref = text(200)
    availability_target = fields.Float(
        required=True, validate=validate.Range(min=0, max=100, min_inclusive=False)
    )
    service_hours = text(2000)
    rto_hours = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100000))
    rpo_hours = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100000))
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    replaces_id = ident(
        allow_none=True,
        metadata={
            "description": "the current SLA the client saw (null: none); when another SLA is current "
            "now the new one is refused with 409. Leave it out to skip the check."
        },
    )


class SlaOut(Base):
    id = fields.Integer()
    system_id = fields.Integer()
    supplier = fields.String()
    agreement_ref = fields.String()
    availability_target = fields.Float()
    service_hours = fields.String()
    rto_hours = fields.Float(allow_none=True)
    rpo_hours = fields.Float(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    replaces_id = fields.Integer(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    required_availability = fields.Float(allow_none=True, metadata={"description": "required by the T level"})
    weaker_than_required = fields.Boolean()


class MeasurementIn(Base):
    period = fields.String(
        required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])(-01)?$", error="A month as YYYY-MM.")
    )
    availability = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    downtime_minutes = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=31 * 24 * 60)
    )
    note = text(2000)


class MeasurementOut(Base):
    id = fields.Integer()
    sla_id = fields.Integer()
    system_id = fields.Integer()
    period = fields.Function(lambda m: m.period.strftime("%Y-%m"), metadata={"description": "YYYY-MM"})
    availability = fields.Float()
    downtime_minutes = fields.Integer(allow_none=True)
    target = fields.Float()
    target_met = fields.Boolean()
    note = fields.String()
    created_at = fields.DateTime()


class PriorityMonthOut(Base):
    period = fields.String()
    availability = fields.Float(allow_none=True)
    missed = fields.Boolean()


class PriorityRowOut(Base):
    system_id = fields.Integer()
    name = fields.String()
    criticality = fields.String(allow_none=True)
    sla_id = fields.Integer(allow_none=True)
    supplier = fields.String(allow_none=True)
    availability_target = fields.Float(allow_none=True)
    t_level = fields.Integer(allow_none=True)
    required_availability = fields.Float(allow_none=True)
    weaker_than_required = fields.Boolean()
    months_measured = fields.Integer()
    months_missed = fields.Integer()
    months = fields.List(fields.Nested(PriorityMonthOut))


class PriorityQuery(Base):
    page = fields.Integer(validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(validate=validate.Range(min=1), metadata={"description": "at most 500"})
    without_sla = fields.Boolean(metadata={"description": "only the systems without an SLA"})


class PriorityListOut(Base):
    target = fields.Float()
    months = fields.List(fields.String())
    items = fields.List(fields.Nested(PriorityRowOut))
    total = fields.Integer(
        metadata={"description": "systems matching (all on the list, or those without SLA)"}
    )
    page = fields.Integer()
    per_page = fields.Integer()
    systems = fields.Integer(metadata={"description": "systems on the priority list"})
    without_sla = fields.Integer(metadata={"description": "of them without an SLA"})
    missed_any = fields.Integer(metadata={"description": "of them below the target in some month"})
