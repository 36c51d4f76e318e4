"""The coverage report's figures as people read them: labels (English message ids, Swedish in the
reports catalog), the groups the page and the PDF show them in, and the columns of the per-unit tables."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

LABELS = {
    "total": _l("All systems"),
    "in_operation": _l("Systems in operation"),
    "planned": _l("Planned systems"),
    "being_decommissioned": _l("Systems being decommissioned"),
    "decommissioned": _l("Decommissioned systems"),
    "population": _l("Systems counted"),
    "classified": _l("Classified systems"),
    "not_classified": _l("Not classified"),
    "risk_analysed": _l("Risk-analysed systems"),
    "not_risk_analysed": _l("Not risk-analysed"),
    "screened": _l("DPIA-screened systems"),
    "not_screened": _l("Not DPIA-screened"),
    "dpia_required": _l("DPIA required"),
    "dpia_done": _l("DPIA done"),
    "dpia_missing": _l("DPIA required but not done"),
    "approved_valid": _l("Approved and valid"),
    "without_valid_approval": _l("Without a valid approval"),
    "with_conditions": _l("Approved with conditions (valid)"),
    "expiring_90d": _l("Expiring soon"),
    "expired": _l("Approvals expired"),
    "needs_review": _l("Approvals to review"),
    "awaiting_decision": _l("Awaiting a decision"),
    "rejected": _l("Rejected, not yet decommissioned"),
    "without_owner": _l("Without system owner or risk owner"),
    "without_system_owner": _l("Without system owner"),
    "without_risk_owner": _l("Without risk owner"),
    "actions_overdue": _l("With actions past due"),
    "actions_overdue_count": _l("Actions past due"),
    "conditions_overdue": _l("With conditions past due"),
    "conditions_overdue_count": _l("Conditions past due"),
    "on_priority_list": _l("On the priority list"),
}

GROUPS = [
    (
        _l("The register"),
        ["total", "population", "in_operation", "planned", "being_decommissioned", "decommissioned"],
    ),
    (
        _l("Classification, risk analysis and DPIA"),
        [
            "classified",
            "not_classified",
            "risk_analysed",
            "not_risk_analysed",
            "screened",
            "not_screened",
            "dpia_required",
            "dpia_done",
            "dpia_missing",
        ],
    ),
    (
        _l("Approval to operate"),
        [
            "approved_valid",
            "with_conditions",
            "expiring_90d",
            "without_valid_approval",
            "expired",
            "needs_review",
            "awaiting_decision",
            "rejected",
        ],
    ),
    (
        _l("Owners and follow-up"),
        [
            "without_owner",
            "without_system_owner",
            "without_risk_owner",
            "actions_overdue",
            "conditions_overdue",
            "on_priority_list",
        ],
    ),
]
# Figures that count parts of the population (shown with their share of it).
SHARE_OF_POPULATION = {
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
    "without_owner",
    "without_system_owner",
    "without_risk_owner",
    "actions_overdue",
    "conditions_overdue",
    "on_priority_list",
}
# Figures about lifecycles (the register group); with a lifecycle filter only the population is shown.
LIFECYCLE_FIGURES = ("in_operation", "planned", "being_decommissioned", "decommissioned")
# Item counts shown beside a system count (not systems: they drill down to the systems holding them).
ITEM_COUNTS = {"actions_overdue": "actions_overdue_count", "conditions_overdue": "conditions_overdue_count"}

# Columns of the per-org-unit and per-criticality tables (the page, the PDF, CSV and XLSX).
TABLE_COLUMNS = [
    "total",
    "population",
    "classified",
    "risk_analysed",
    "screened",
    "dpia_required",
    "dpia_done",
    "approved_valid",
    "expiring_90d",
    "expired",
    "needs_review",
    "rejected",
    "decommissioned",
    "without_owner",
    "actions_overdue",
]
SHORT = {
    "total": _l("All"),
    "population": _l("Counted"),
    "classified": _l("Classified"),
    "risk_analysed": _l("Risk-analysed"),
    "screened": _l("Screened"),
    "dpia_required": _l("DPIA req."),
    "dpia_done": _l("DPIA done"),
    "approved_valid": _l("Approved"),
    "expiring_90d": _l("Expiring"),
    "expired": _l("Expired"),
    "needs_review": _l("To review"),
    "rejected": _l("Rejected"),
    "decommissioned": _l("Decomm."),
    "without_owner": _l("No owner"),
    "actions_overdue": _l("Actions late"),
}


def shown(key: str, lifecycle: str | None) -> bool:
    """Without a lifecycle filter the register shows every lifecycle (the population is the systems in
    operation); with one, it shows the population instead."""
    if key == "population":
        return lifecycle is not None
    return not (lifecycle and key in LIFECYCLE_FIGURES)


def label(key: str) -> str:
    if key == "expiring_90d":
        return _("Expiring within %(days)s days", days=current_app.config["EXPIRING_DAYS"])
    if key == "population":
        return str(LABELS["population"])
    return str(LABELS.get(key, key))


def short(key: str) -> str:
    return str(SHORT.get(key, LABELS.get(key, key)))


def share(n: int, of: int) -> str:
    """A share in per cent, Swedish style (a comma), or an en dash when there is nothing to share."""
    if not of:
        return "–"
    return f"{100 * n / of:.0f} %"
