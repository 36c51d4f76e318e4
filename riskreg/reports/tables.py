"""The coverage report as tables of plain cells (text, numbers, None): the same tables go into the CSV
(one after the other), the XLSX (one sheet each) and the PDF."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from riskreg import labels as register_labels
from riskreg.reports import figures

EXPORT_COLUMNS = [
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
STAGE_ORDER = [
    "not_started",
    "classified",
    "risk_analysed",
    "dpia_pending",
    "awaiting_decision",
    "approved",
    "approved_with_conditions",
    "needs_review",
    "expired",
    "rejected",
    "decommissioned",
]


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list]
    sheet: str | None = None  # the XLSX sheet's name where the title is too long for one (31 characters)


def stage_label(code: str) -> str:
    return str(register_labels.STAGE_LABELS.get(code, code))


def coverage_tables(cov: dict, heat: dict, sla: dict, prog: dict) -> list[Table]:
    base = cov["population"]
    head = [figures.label(k) for k in EXPORT_COLUMNS]
    overview = Table(
        "figures",
        _("Figures"),
        [_("Figure"), _("Code"), _("Number"), _("Share of systems counted")],
        [
            [
                figures.label(k),
                k,
                cov[k],
                figures.share(cov[k], base) if k in figures.SHARE_OF_POPULATION else None,
            ]
            for k in EXPORT_COLUMNS
        ],
    )
    units = Table(
        "org_units",
        _("Per org unit"),
        [_("Org unit"), _("Org unit id"), *head],
        [[u["name"], u["org_unit_id"], *[u[k] for k in EXPORT_COLUMNS]] for u in cov["by_org_unit"]]
        + [[_("All org units"), None, *[cov[k] for k in EXPORT_COLUMNS]]],
    )
    crits = Table(
        "criticality",
        _("Per criticality"),
        [_("Criticality"), *head],
        [
            [c["criticality"] or _("No criticality"), *[c[k] for k in EXPORT_COLUMNS]]
            for c in cov["by_criticality"]
        ]
        + [[_("All"), *[cov[k] for k in EXPORT_COLUMNS]]],
    )
    stages = Table(
        "stages",
        _("Stages per org unit"),
        [_("Org unit"), *[stage_label(s) for s in STAGE_ORDER], _("Systems counted")],
        [[u["name"], *[u["stages"][s] for s in STAGE_ORDER], u["population"]] for u in cov["by_org_unit"]]
        + [[_("All org units"), *[cov["stages"][s] for s in STAGE_ORDER], cov["population"]]],
    )
    cfg = current_app.config
    bands = {code: label for _limit, code, label, _colour in cfg["RISK_BANDS"]}
    heat_t = Table(
        "heatmap",
        _("Residual risks"),
        [_("Likelihood"), _("Consequence"), _("Risk value"), _("Band"), _("Risks"), _("Systems")],
        [
            [
                f"{c['likelihood']} {cfg['LIKELIHOOD_LABELS'].get(c['likelihood'], '')}",
                f"{c['consequence']} {cfg['CONSEQUENCE_LABELS'].get(c['consequence'], '')}",
                c["value"],
                bands.get(c["band"], c["band"]),
                c["risks"],
                c["systems"],
            ]
            for c in heat["cells"]
        ],
    )
    sla_t = Table(
        "sla",
        _("SLA attainment of the priority-list systems"),
        sla_header(),
        sheet=_("SLA attainment"),
        rows=[
            [
                m["month"],
                m["measured"],
                m["met"],
                m["missed"],
                m["missing"],
                m["attainment"],
                m["mean_availability"],
                m["lowest_availability"],
            ]
            for m in sla["months"]
        ],
    )
    prog_t = Table(
        "progress",
        _("Progress over time"),
        [
            _("Week"),
            _("From"),
            _("To"),
            figures.label("classified"),
            figures.label("risk_analysed"),
            figures.label("screened"),
            _("Approval in force"),
        ],
        [
            [
                w["week"],
                w["start"],
                w["end"],
                w["classified"],
                w["risk_analysed"],
                w["screened"],
                w["approved"],
            ]
            for w in prog["weeks"]
        ],
    )
    return [overview, units, crits, stages, heat_t, sla_t, prog_t]


def sla_header() -> list[str]:
    return [
        _("Month"),
        _("Measured"),
        _("Target met"),
        _("Target missed"),
        _("Not measured"),
        _("Attainment (%)"),
        _("Mean availability (%)"),
        _("Lowest availability (%)"),
    ]


def filter_lines(cov: dict, unit_name: str | None) -> list[tuple[str, str]]:
    """The report's filters and scope as (label, value), for the files' heads."""
    f = cov["filters"]
    out = [
        (_("Org unit"), unit_name or _("All")),
        (_("Criticality"), f["criticality"] or _("All")),
        (
            _("Priority list"),
            _("All") if f["priority_list"] is None else _("Yes") if f["priority_list"] else _("No"),
        ),
        (
            _("Lifecycle"),
            str(
                register_labels.LIFECYCLE_LABELS.get(cov["population_lifecycle"], cov["population_lifecycle"])
            ),
        ),
    ]
    out.append((_("Scope"), _("All systems") if cov["scope"] == "all" else _("Your own systems")))
    return out
