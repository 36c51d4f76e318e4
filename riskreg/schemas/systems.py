from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from riskreg.models.codes import Criticality, Hosting, Lifecycle, PersonalData, Stage
from riskreg.schemas import Base, StrictBoolean, code, ident, query_ident, text


class ExternalRefSchema(Base):
    source = fields.String(required=True, validate=[validate.Length(min=1, max=50),
                                                    validate.Regexp(r"^[a-z0-9_.-]+$", error="Use a-z, 0-9, _ . -")])
    key = text(200, required=True)


class SystemWrite(Base):
    name = fields.String(validate=validate.Length(min=1, max=200))
    org_unit_id = ident()
    criticality = code(Criticality, allow_none=True)
    lifecycle = code(Lifecycle)
    description = text(10000)
    system_owner_id = ident(allow_none=True)
    risk_owner_id = ident(allow_none=True)
    supplier = text(200, allow_none=True)
    hosting = code(Hosting, allow_none=True)
    personal_data = code(PersonalData)
    special_categories = StrictBoolean()
    priority_list = StrictBoolean()
    aliases = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=100))
    external_refs = fields.List(fields.Nested(ExternalRefSchema), validate=validate.Length(max=50))


class SystemCreate(SystemWrite):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    org_unit_id = ident(required=True)


class SystemPatch(SystemWrite):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class MajorChangeIn(Base):
    description = text(5000, required=True)


class SystemOut(Base):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    org_unit_id = fields.Integer()
    org_unit = fields.String(attribute="org_unit.name")
    criticality = fields.String(allow_none=True)
    lifecycle = fields.String()
    stage = fields.String(validate=validate.OneOf([s.value for s in Stage]))
    system_owner_id = fields.Integer(allow_none=True)
    risk_owner_id = fields.Integer(allow_none=True)
    supplier = fields.String(allow_none=True)
    hosting = fields.String(allow_none=True)
    personal_data = fields.String()
    special_categories = fields.Boolean()
    priority_list = fields.Boolean()
    aliases = fields.Method("dump_aliases")
    external_refs = fields.Method("dump_refs")
    major_change_at = fields.DateTime(allow_none=True)
    current_classification_id = fields.Integer(allow_none=True)
    current_risk_analysis_id = fields.Integer(allow_none=True)
    current_screening_id = fields.Integer(allow_none=True)
    current_dpia_id = fields.Integer(allow_none=True)
    current_sla_id = fields.Integer(allow_none=True)
    current_approval_id = fields.Integer(allow_none=True)
    open_request_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()

    def dump_aliases(self, obj) -> list[str]:
        return [a.name for a in obj.aliases]

    def dump_refs(self, obj) -> list[dict]:
        return [{"source": r.source, "key": r.key} for r in obj.external_refs]


class SystemQuery(Base):
    q = fields.String(validate=validate.Length(max=200))
    org_unit_id = query_ident()
    criticality = code(Criticality)
    lifecycle = code(Lifecycle)
    stage = code(Stage)
    owner_id = query_ident()
    risk_owner_id = query_ident()
    priority_list = fields.Boolean()
    sort = fields.String(validate=validate.OneOf(["name", "-name", "criticality", "-criticality", "updated_at",
                                                  "-updated_at", "id", "-id"]))
    # The coverage report's drill-downs (riskreg.services.reports): every number of the report links here.
    classified = fields.Boolean(metadata={"description": "Has a finalised classification (false: has none)."})
    risk_analysed = fields.Boolean(metadata={"description": "Has a finalised risk analysis."})
    screened = fields.Boolean(metadata={"description": "Has a DPIA screening."})
    dpia_required = fields.Boolean(metadata={"description": "Its screening requires a DPIA."})
    dpia_done = fields.Boolean(metadata={"description": "Has a finalised DPIA."})
    approved_valid = fields.Boolean(metadata={"description": "Holds an approval that is neither expired, "
                                                              "revoked nor in need of review."})
    with_conditions = fields.Boolean(metadata={"description": "Approved and valid, with conditions."})
    expiring = fields.Boolean(metadata={"description": "Approved and valid, expiring within EXPIRING_DAYS."})
    expired = fields.Boolean(metadata={"description": "Its approval has expired."})
    needs_review = fields.Boolean(metadata={"description": "Its approval is revoked or in need of review."})
    without_owner = fields.Boolean(metadata={"description": "Lacks the system owner or the risk owner."})
    without_system_owner = fields.Boolean()
    without_risk_owner = fields.Boolean()
    actions_overdue = fields.Boolean(metadata={"description": "An open action of its risk analysis is past due."})
    conditions_overdue = fields.Boolean(metadata={"description": "An open condition of its approval is past due."})
    has_sla = fields.Boolean()
    has_criticality = fields.Boolean()
    responsible_id = query_ident(metadata={"description": "The user is its system owner or risk owner."})
    risk_cell = fields.String(validate=validate.Regexp(r"^[1-4]-[1-4]$", error="Use likelihood-consequence, "
                                                       "e.g. 3-4."),
                              metadata={"description": "Its current risk analysis holds a risk whose residual "
                                                       "likelihood-consequence is this cell."})
    sla_month = fields.String(validate=validate.Regexp(r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$", error="Use YYYY-MM."),
                              metadata={"description": "Measured against its SLA in this month (YYYY-MM)."})
    sla_result = code(["met", "missed", "missing"],
                      metadata={"description": "With sla_month: the programme's availability target met, "
                                               "missed, or no measurement."})
    classified_by = fields.Date(metadata={"description": "First finalised classification on or before."})
    risk_analysed_by = fields.Date(metadata={"description": "First finalised risk analysis on or before."})
    screened_by = fields.Date(metadata={"description": "First DPIA screening on or before."})
    approved_on = fields.Date(metadata={"description": "An approval was in force on this day."})

    @validates_schema
    def sla_result_needs_month(self, data, **kwargs):
        if "sla_result" in data and "sla_month" not in data:
            raise ValidationError("sla_result needs sla_month.", field_name="sla_result")


class OrgUnitIn(Base):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = ident(allow_none=True)


class OrgUnitOut(Base):
    id = fields.Integer()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)


class MeOut(Base):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    roles = fields.Method("dump_roles")
    org_unit_id = fields.Integer(allow_none=True)

    def dump_roles(self, obj) -> list[str]:
        return sorted(r.value for r in obj.roles)
