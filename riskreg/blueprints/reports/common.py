"""What the report's API and pages share: reading the filters, the data of one report, drill-down links,
and the files (CSV, XLSX, PDF; the systems list as CSV or XLSX, streamed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Response, request, stream_with_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from riskreg import labels as register_labels
from riskreg import permissions, side_by_side
from riskreg.actor import Actor
from riskreg.blueprints.api import load
from riskreg.extensions import db
from riskreg.models import OrgUnit
from riskreg.reports import charts, files, pdf, tables
from riskreg.schemas.reports import ReportFileQuery, SystemsFileQuery
from riskreg.services import report_export, report_progress
from riskreg.services import reports as service
from riskreg.services import systems as systems_service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"  # Flask adds "; charset=utf-8"


def args_of(schema) -> dict:
    """The query arguments the schema knows (others are ignored, as in the systems list), validated:
    a bad value answers 422 naming the field."""
    known = schema.fields
    return load(schema, {k: v for k, v in request.args.items() if k in known and v != ""})


def report_filter(values: dict) -> service.ReportFilter:
    return service.ReportFilter(
        **{k: values[k] for k in ("org_unit_id", "criticality", "priority_list", "lifecycle") if k in values}
    )


def delimiter(values: dict) -> str:
    return files.DELIMITERS[values.get("delimiter", ";")]


def gather(actor: Actor, rf: service.ReportFilter, months: int = 12) -> dict:
    """Everything one report shows (raises NotAllowed first, before anything is counted)."""
    service.scope_of(actor.user)
    return side_by_side.run(
        db.session,
        {
            "cov": lambda session: service.coverage(session, actor, rf),
            "prog": lambda session: report_progress.progress(session, actor, rf),
            "heat": lambda session: service.heatmap(session, actor, rf),
            "sla": lambda session: service.sla_attainment(session, actor, rf, months),
        },
    )


def drill_link(rf: service.ReportFilter, scope: service.Scope) -> Callable[..., str]:
    """``link(figure, **narrow)``: the systems list showing exactly what the number counts."""

    def link(figure: str, **narrow: str) -> str:
        return url_for("systems.index") + "?" + urlencode(service.drilldown(figure, rf, scope, **narrow))

    return link


def unit_name(rf: service.ReportFilter) -> str | None:
    return (
        db.session.get(OrgUnit, rf.org_unit_id).name
        if rf.org_unit_id and db.session.get(OrgUnit, rf.org_unit_id)
        else None
    )


def file_head(data: dict, rf: service.ReportFilter) -> list[list]:
    cov = data["cov"]
    return [
        [_("Coverage report")],
        [_("Date"), cov["today"]],
        *[[k, v] for k, v in tables.filter_lines(cov, unit_name(rf))],
    ]


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def attachment(body, mimetype: str, filename: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def coverage_file(fmt: str, actor: Actor, values: dict) -> Response:
    """The coverage report as a CSV, XLSX or PDF file; the export is recorded in the audit trail."""
    rf = report_filter(values)
    data = gather(actor, rf)
    service.record_export(db.session, actor, "coverage", fmt, rf.as_dict())
    db.session.commit()
    name = f"tackningsrapport-{data['cov']['today']}.{fmt}"
    if fmt == "pdf":
        with force_locale("sv"):
            return attachment(coverage_pdf(data, rf), "application/pdf", name)
    table_list = tables.coverage_tables(data["cov"], data["heat"], data["sla"], data["prog"])
    if fmt == "csv":
        return attachment(files.tables_csv(file_head(data, rf), table_list, delimiter(values)), CSV, name)
    return attachment(files.tables_xlsx(file_head(data, rf), table_list), XLSX, name)


def coverage_pdf(data: dict, rf: service.ReportFilter) -> bytes:
    chart_set = charts.coverage_charts(
        data["cov"], data["heat"], data["sla"], data["prog"], lambda *a, **k: None
    )
    table_list = tables.coverage_tables(data["cov"], data["heat"], data["sla"], data["prog"])
    return pdf.coverage_pdf(
        data["cov"], chart_set, table_list, tables.filter_lines(data["cov"], unit_name(rf))
    )


# ---------------------------------------------------------------------- the systems list as a file


def systems_filter(values: dict) -> systems_service.SystemFilter:
    return systems_service.SystemFilter(**{k: v for k, v in values.items() if k != "delimiter"})


def _yes_no(value: bool | None) -> str:
    return "" if value is None else _("Yes") if value else _("No")


def system_columns(actor: Actor) -> list[tuple[str, Callable[[dict], object]]]:
    """(header, cell of a row) of the export; the current classification and decision only for the roles
    that read every system's records."""

    def lookup(table: dict) -> Callable[[str | None], str]:
        texts = {code: str(text) for code, text in table.items()}
        return lambda code: texts.get(code, code or "")

    stage, lifecycle, hosting = (
        lookup(register_labels.STAGE_LABELS),
        lookup(register_labels.LIFECYCLE_LABELS),
        lookup(register_labels.HOSTING_LABELS),
    )
    personal = lookup(register_labels.PERSONAL_DATA_LABELS)
    decisions = lookup(
        {
            "approved": _("Approved"),
            "approved_with_conditions": _("Approved with conditions"),
            "rejected": _("Rejected"),
        }
    )
    yes, no = _("Yes"), _("No")
    cols: list[tuple[str, Callable]] = [
        (_("Id"), lambda r: r.id),
        (_("Name"), lambda r: r.name),
        (_("Aliases"), lambda r: r.aliases),
        (_("Org unit"), lambda r: r.org_unit),
        (_("Criticality"), lambda r: r.criticality),
        (_("Lifecycle"), lambda r: lifecycle(r.lifecycle)),
        (_("Stage"), lambda r: stage(r.stage)),
        (_("Priority list"), lambda r: yes if r.priority_list else no),
        (_("System owner"), lambda r: r.system_owner),
        (_("System owner's e-mail"), lambda r: r.system_owner_email),
        (_("Risk owner"), lambda r: r.risk_owner),
        (_("Risk owner's e-mail"), lambda r: r.risk_owner_email),
        (_("Supplier"), lambda r: r.supplier),
        (_("Hosting"), lambda r: hosting(r.hosting) if r.hosting else None),
        (_("Personal data"), lambda r: personal(r.personal_data)),
        (_("Special categories"), lambda r: yes if r.special_categories else no),
        (_("External references"), lambda r: r.external_refs),
    ]
    if permissions.can_read_all(actor.user):
        cols += [
            (_("Classification (K-R-T)"), lambda r: r.classification),
            (_("Decision"), lambda r: decisions(r.decision) if r.decision else None),
            (_("Reference"), lambda r: r.reference),
            (_("Valid until"), lambda r: r.valid_until.isoformat() if r.valid_until else None),
        ]
    cols.append((_("Changed"), lambda r: r.changed.isoformat() if r.changed else None))
    return cols


def systems_file(fmt: str, actor: Actor, values: dict) -> Response:
    """The systems list with its filters as CSV or XLSX, streamed by keyset; the export is audited."""
    flt = systems_filter(values)
    today = actor.today()
    cols = system_columns(actor)
    rows = report_export.export_systems(db.session, actor, flt, today)
    service.record_export(db.session, actor, "systems", fmt, {k: str(v) for k, v in values.items()})
    db.session.commit()

    def chunks() -> Iterator[list[list]]:
        for chunk in rows:  # plain rows, not ORM objects: the session's identity map does not grow
            yield [[get(r) for _h, get in cols] for r in chunk]

    header = [h for h, _get in cols]
    name = f"system-{stamp()}.{fmt}"
    if fmt == "csv":
        return attachment(
            stream_with_context(files.stream_csv(header, chunks(), delimiter(values))), CSV, name
        )
    return attachment(stream_with_context(files.stream_xlsx(_("Systems"), header, chunks())), XLSX, name)


def file_values(schema_cls) -> dict:
    return args_of(schema_cls())


FILE_SCHEMAS = {"coverage": ReportFileQuery, "systems": SystemsFileQuery}
