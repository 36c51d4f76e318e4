"""The coverage page: headline figures, charts drawn on the server, tables; every number a link to the
systems list with the matching filters. Files of the report and of the systems list for signed-in users
(the API has the same with a token)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import render_template
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from riskreg import labels as register_labels
from riskreg.blueprints.reports import bp
from riskreg.blueprints.reports.common import (
    args_of,
    coverage_file,
    drill_link,
    gather,
    report_filter,
    systems_file,
)
from riskreg.extensions import db
from riskreg.models import OrgUnit
from riskreg.models.codes import Criticality, Lifecycle
from riskreg.reports import charts, figures, svg, tables
from riskreg.schemas.reports import ReportFileQuery, ReportQuery, SystemsFileQuery
from riskreg.schemas.systems import SystemQuery
from riskreg.services import reports as service
from riskreg.web import add_nav, current_actor

add_nav("reports.coverage", _l("Coverage report"), "can_read_reports")


@bp.route("/reports/coverage")
@login_required
def coverage():
    actor = current_actor()
    values = args_of(ReportQuery())
    rf = report_filter(values)
    data = gather(actor, rf)
    scope = service.scope_of(actor.user)
    link = drill_link(rf, scope)
    chart_set = charts.coverage_charts(data["cov"], data["heat"], data["sla"], data["prog"], link)
    units = db.session.execute(select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name)).all()
    query = urlencode(rf.params())
    return render_template(
        "reports/coverage.html",
        **data,
        charts={k: svg.render(c) for k, c in chart_set.items()},
        link=link,
        rf=rf,
        values=values,
        units=units,
        criticalities=[c.value for c in Criticality],
        lifecycles=[(lc.value, register_labels.LIFECYCLE_LABELS.get(lc.value, lc.value)) for lc in Lifecycle],
        figures=figures,
        stage_order=tables.STAGE_ORDER,
        stage_label=tables.stage_label,
        query=query,
        filter_lines=tables.filter_lines(data["cov"], dict(units).get(rf.org_unit_id)),
        legend=charts.stage_legend(),
        unit_narrowing=service.unit_narrowing,
        criticality_narrowing=service.criticality_narrowing,
        recent_weeks=data["prog"]["weeks"][-12:],
        sla_header=tables.sla_header(),
        today_text=format_date(date.fromisoformat(data["cov"]["today"]), "long"),
    )


@bp.route("/reports/coverage.pdf")
@login_required
def coverage_pdf():
    return coverage_file("pdf", current_actor(), args_of(ReportQuery()))


@bp.route("/reports/coverage.csv")
@login_required
def coverage_csv():
    return coverage_file("csv", current_actor(), args_of(ReportFileQuery()))


@bp.route("/reports/coverage.xlsx")
@login_required
def coverage_xlsx():
    return coverage_file("xlsx", current_actor(), args_of(ReportQuery()))


@bp.route("/reports/systems.csv")
@login_required
def systems_csv():
    """The systems list (its filters in the query string) as CSV, for the list page's export link."""
    return systems_file("csv", current_actor(), args_of(SystemsFileQuery()))


@bp.route("/reports/systems.xlsx")
@login_required
def systems_xlsx():
    return systems_file("xlsx", current_actor(), args_of(SystemQuery()))
