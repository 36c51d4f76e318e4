"""The coverage report's query and answers (API.md ``GET /api/v1/reports/coverage``), and the query of the
systems list as a file."""

from __future__ import annotations

from marshmallow import fields, validate

from riskreg.models.codes import Criticality, Lifecycle, Stage
from riskreg.schemas import Base, code, query_ident
from riskreg.schemas.systems import SystemQuery

DELIMITER = code(
    [";", ",", "semicolon", "comma"],
    metadata={
        "description": "CSV field separator: semicolon (the default, as Swedish Excel expects) or comma."
    },
)


class ReportQuery(Base):
    org_unit_id = query_ident(metadata={"description": "Only this org unit's systems."})
    criticality = code(Criticality)
    priority_list = fields.Boolean()
    lifecycle = code(
        Lifecycle, metadata={"description": "Count the systems in this lifecycle (default: in_operation)."}
    )


class ReportFileQuery(ReportQuery):
    delimiter = DELIMITER


class SlaQuery(ReportQuery):
    months = fields.Integer(
        validate=validate.Range(min=1, max=36),
        metadata={"description": "How many months, up to this one (default 12)."},
    )


class SystemsFileQuery(SystemQuery):
    delimiter = DELIMITER


def _figures(cls_name: str, extra: dict) -> type[Base]:
    names = [
        "total",
        "in_operation",
        "planned",
        "being_decommissioned",
        "decommissioned",
        "population",
        "classified",
        "not_classified",
        "risk_analysed",
        "not_risk_analysed",
        "screened",
        "not_screened",
        "dpia_required",
        "dpia_done",
        "dpia_missing",
        "approved_valid",
        "without_valid_approval",
        "with_conditions",
        "expiring_90d",
        "expired",
        "needs_review",
        "awaiting_decision",
        "rejected",
        "without_owner",
        "without_system_owner",
        "without_risk_owner",
        "actions_overdue",
        "actions_overdue_count",
        "conditions_overdue",
        "conditions_overdue_count",
        "on_priority_list",
    ]
    attrs: dict = {n: fields.Integer(required=True) for n in names}
    attrs["stages"] = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in Stage])),
        values=fields.Integer(),
        metadata={"description": "Systems counted per stage."},
    )
    attrs.update(extra)
    return type(cls_name, (Base,), attrs)


UnitCoverageOut = _figures(
    "UnitCoverageOut",
    {"org_unit_id": fields.Integer(), "name": fields.String(), "parent_id": fields.Integer(allow_none=True)},
)
CriticalityCoverageOut = _figures(
    "CriticalityCoverageOut",
    {"criticality": fields.String(allow_none=True, validate=validate.OneOf([c.value for c in Criticality]))},
)
CoverageOut = _figures(
    "CoverageOut",
    {
        "generated_at": fields.String(),
        "today": fields.String(),
        "filters": fields.Dict(),
        "scope": fields.String(validate=validate.OneOf(["all", "own"])),
        "population_lifecycle": fields.String(validate=validate.OneOf([lc.value for lc in Lifecycle])),
        "by_org_unit": fields.List(fields.Nested(UnitCoverageOut)),
        "by_criticality": fields.List(fields.Nested(CriticalityCoverageOut)),
    },
)


class HeatCellOut(Base):
    likelihood = fields.Integer()
    consequence = fields.Integer()
    value = fields.Integer()
    band = fields.String()
    risks = fields.Integer()
    systems = fields.Integer()


class HeatmapOut(Base):
    cells = fields.List(fields.Nested(HeatCellOut))
    risks = fields.Integer()
    systems = fields.Integer()
    risks_by_band = fields.Dict(keys=fields.String(), values=fields.Integer())


class SlaMonthOut(Base):
    month = fields.String()
    measured = fields.Integer()
    met = fields.Integer()
    missed = fields.Integer()
    missing = fields.Integer()
    attainment = fields.Float(allow_none=True)
    mean_availability = fields.Float(allow_none=True)
    lowest_availability = fields.Float(allow_none=True)


class SlaAttainmentOut(Base):
    target = fields.Float()
    priority_systems = fields.Integer()
    months = fields.List(fields.Nested(SlaMonthOut))


class ProgressWeekOut(Base):
    week = fields.Integer()
    start = fields.String()
    end = fields.String()
    classified = fields.Integer()
    risk_analysed = fields.Integer()
    screened = fields.Integer()
    approved = fields.Integer()


class ProgressOut(Base):
    programme_start = fields.String()
    population = fields.Integer()
    weeks = fields.List(fields.Nested(ProgressWeekOut))
