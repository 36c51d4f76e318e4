"""Labels for the coded values (English msgids; Swedish in riskreg/translations)."""

from flask_babel import lazy_gettext as _l

STAGE_LABELS = {
    "not_started": _l("Not started"),
    "classified": _l("Classified"),
    "risk_analysed": _l("Risk analysed"),
    "dpia_pending": _l("DPIA pending"),
    "awaiting_decision": _l("Awaiting decision"),
    "approved": _l("Approved"),
    "approved_with_conditions": _l("Approved with conditions"),
    "needs_review": _l("Needs review"),
    "expired": _l("Approval expired"),
    "rejected": _l("Rejected"),
    "decommissioned": _l("Decommissioned"),
}
LIFECYCLE_LABELS = {
    "planned": _l("Planned"),
    "in_operation": _l("In operation"),
    "being_decommissioned": _l("Being decommissioned"),
    "decommissioned": _l("Decommissioned"),
}
HOSTING_LABELS = {
    "own_datacentre": _l("Own data centre"),
    "external_operations": _l("External operations"),
    "saas": _l("SaaS"),
}
PERSONAL_DATA_LABELS = {"yes": _l("Yes"), "no": _l("No"), "unknown": _l("Unknown")}
CRITICALITY_LABELS = {
    "A": _l("A (most critical)"),
    "B": _l("B"),
    "C": _l("C"),
    "D": _l("D (least critical)"),
}
ROLE_LABELS = {
    "system_owner": _l("System owner"),
    "risk_owner": _l("Risk owner"),
    "ciso": _l("CISO"),
    "dpo": _l("Data protection officer"),
    "admin": _l("Administrator"),
    "auditor": _l("Auditor"),
}

# The register's fields as people name them (forms, filters, history).
FIELD_LABELS = {
    "q": _l("Search"),
    "name": _l("Name"),
    "description": _l("Description"),
    "org_unit_id": _l("Org unit"),
    "criticality": _l("Criticality"),
    "lifecycle": _l("Lifecycle"),
    "stage": _l("Stage"),
    "system_owner_id": _l("System owner"),
    "owner_id": _l("System owner"),
    "risk_owner_id": _l("Risk owner"),
    "supplier": _l("Supplier"),
    "hosting": _l("Hosting"),
    "personal_data": _l("Personal data"),
    "special_categories": _l("Special categories of personal data"),
    "priority_list": _l("Priority list"),
    "aliases": _l("Aliases"),
    "external_refs": _l("External references"),
    "major_change_at": _l("Major change"),
    "sort": _l("Sort order"),
    "version": _l("Version"),
    "page": _l("Page"),
    "per_page": _l("Rows per page"),
    # the coverage report's drill-downs (SystemQuery)
    "classified": _l("Classified"),
    "risk_analysed": _l("Risk analysed"),
    "screened": _l("DPIA screened"),
    "dpia_required": _l("DPIA required"),
    "dpia_done": _l("DPIA done"),
    "approved_valid": _l("Valid approval"),
    "with_conditions": _l("Approved with conditions"),
    "expiring": _l("Approval expiring"),
    "expired": _l("Approval expired"),
    "needs_review": _l("Needs review"),
    "without_owner": _l("Without system owner or risk owner"),
    "without_system_owner": _l("Without system owner"),
    "without_risk_owner": _l("Without risk owner"),
    "actions_overdue": _l("Overdue risk actions"),
    "conditions_overdue": _l("Overdue approval conditions"),
    "has_sla": _l("Has an SLA"),
    "has_criticality": _l("Criticality set"),
    "responsible_id": _l("System owner or risk owner"),
    "risk_cell": _l("Residual risk cell (likelihood-consequence)"),
    "sla_month": _l("SLA month"),
    "sla_result": _l("SLA result"),
    "classified_by": _l("Classified on or before"),
    "risk_analysed_by": _l("Risk analysed on or before"),
    "screened_by": _l("Screened on or before"),
    "approved_on": _l("Approval in force on"),
}
SLA_RESULT_LABELS = {"met": _l("Target met"), "missed": _l("Target missed"), "missing": _l("No measurement")}

# Audit actions on a system, as the history shows them.
ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "major_change": _l("Major change recorded"),
}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))

# The states of an import batch (riskreg.models.codes.ImportStatus).
IMPORT_STATUS_LABELS = {"matching": _l("Matching"), "ready": _l("Ready for review"), "applying": _l("Applying"),
                        "applied": _l("Applied"), "undoing": _l("Undoing"), "undone": _l("Undone"),
                        "failed": _l("Failed")}
