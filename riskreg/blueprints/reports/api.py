"""JSON API of the reports (API.md): ``GET /api/v1/reports/coverage`` and its files, the data of its charts,
and the systems list as CSV or XLSX (``/api/v1/systems.csv``, ``.xlsx``) with the list's filters.
Who may: the CISO, DPO, auditors and admins over every system; risk owners and system owners over their
own (403 for anyone else). The systems list as a file: every signed-in user, as the list itself."""

from __future__ import annotations

from flask import jsonify

from riskreg.blueprints.api import route
from riskreg.blueprints.reports.common import (
    XLSX,
    args_of,
    coverage_file,
    report_filter,
    systems_file,
)
from riskreg.extensions import db
from riskreg.schemas.reports import (
    CoverageOut,
    HeatmapOut,
    ProgressOut,
    ReportFileQuery,
    ReportQuery,
    SlaAttainmentOut,
    SlaQuery,
    SystemsFileQuery,
)
from riskreg.schemas.systems import SystemQuery
from riskreg.services import report_progress
from riskreg.services import reports as service
from riskreg.web import current_actor

TAG = "reports"


@route(
    "/reports/coverage",
    summary="Coverage: where the systems stand (figures per org unit and criticality)",
    response=CoverageOut,
    query=ReportQuery,
    errors=(403,),
    tag=TAG,
)
def coverage():
    rf = report_filter(args_of(ReportQuery()))
    return jsonify(CoverageOut().dump(service.coverage(db.session, current_actor(), rf)))


@route(
    "/reports/coverage.csv",
    summary="The coverage report as CSV (UTF-8 with BOM; semicolons, or commas on request)",
    query=ReportFileQuery,
    errors=(403,),
    content_type="text/csv",
    tag=TAG,
)
def coverage_csv():
    return coverage_file("csv", current_actor(), args_of(ReportFileQuery()))


@route(
    "/reports/coverage.xlsx",
    summary="The coverage report as XLSX (one sheet per table)",
    query=ReportQuery,
    errors=(403,),
    content_type=XLSX,
    tag=TAG,
)
def coverage_xlsx():
    return coverage_file("xlsx", current_actor(), args_of(ReportQuery()))


@route(
    "/reports/coverage.pdf",
    summary="The coverage report as PDF (Swedish)",
    query=ReportQuery,
    errors=(403,),
    content_type="application/pdf",
    tag=TAG,
)
def coverage_pdf():
    return coverage_file("pdf", current_actor(), args_of(ReportQuery()))


@route(
    "/reports/coverage/heatmap",
    summary="Residual risks of the current risk analyses, 4×4",
    response=HeatmapOut,
    query=ReportQuery,
    errors=(403,),
    tag=TAG,
)
def coverage_heatmap():
    rf = report_filter(args_of(ReportQuery()))
    return jsonify(HeatmapOut().dump(service.heatmap(db.session, current_actor(), rf)))


@route(
    "/reports/coverage/sla",
    summary="SLA attainment of the priority-list systems month by month",
    response=SlaAttainmentOut,
    query=SlaQuery,
    errors=(403,),
    tag=TAG,
)
def coverage_sla():
    values = args_of(SlaQuery())
    result = service.sla_attainment(
        db.session, current_actor(), report_filter(values), values.get("months", 12)
    )
    return jsonify(SlaAttainmentOut().dump(result))


@route(
    "/reports/coverage/progress",
    summary="Progress week by week since the programme began",
    response=ProgressOut,
    query=ReportQuery,
    errors=(403,),
    tag=TAG,
)
def coverage_progress():
    rf = report_filter(args_of(ReportQuery()))
    return jsonify(ProgressOut().dump(report_progress.progress(db.session, current_actor(), rf)))


@route(
    "/systems.csv",
    summary="The systems list as CSV, with the list's filters (formulas neutralised)",
    query=SystemsFileQuery,
    content_type="text/csv",
    tag="register",
)
def systems_csv():
    return systems_file("csv", current_actor(), args_of(SystemsFileQuery()))


@route(
    "/systems.xlsx",
    summary="The systems list as XLSX, with the list's filters (formulas neutralised)",
    query=SystemQuery,
    content_type=XLSX,
    tag="register",
)
def systems_xlsx():
    return systems_file("xlsx", current_actor(), args_of(SystemQuery()))
