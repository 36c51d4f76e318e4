"""The coverage report through the JSON API and its files (API.md ``/api/v1/reports/coverage`` and ``.pdf``,
``.csv``, ``.xlsx``; ``/api/v1/systems.csv`` and ``.xlsx``): the numbers by hand (test_reports_fixture.py),
roles, drill-downs through the systems API, exports holding the same numbers, formula injection."""

# ruff: noqa: F811  (the region fixture is imported by name; pytest injects it)
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from pypdf import PdfReader

from riskreg.models import AuditEvent
from riskreg.reports.tables import STAGE_ORDER
from riskreg.services import report_export, reports
from riskreg.services.reports import ReportFilter
from tests.conftest import assert_error
from tests.test_reports_fixture import region  # noqa: F401 (fixture)
from tests.test_reports_service import HEADLINE, MEMBERS, STAGES

EVIL = '=HYPERLINK("http://evil.example","klicka")'
RISKY = [EVIL, "+46 8 123", "-2+3", "@SUM(A1)", "\tflik", "\rretur"]


def csv_rows(data: bytes, delimiter: str = ";") -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def csv_table(rows: list[list[str]], title: str) -> list[list[str]]:
    """The rows of one table of the coverage CSV (after its title and header, up to the empty line)."""
    start = next(i for i, r in enumerate(rows) if r == [title])
    out = []
    for row in rows[start + 2 :]:
        if not row:
            break
        out.append(row)
    return out


def test_coverage_json_answers_every_field_with_the_figures(region, api):
    resp = api(region.users["ciso"]).get("/api/v1/reports/coverage")
    assert resp.status_code == 200
    cov = resp.get_json()
    assert {k: cov[k] for k in HEADLINE} == HEADLINE
    assert cov["stages"] == STAGES
    for key in (
        "total",
        "in_operation",
        "classified",
        "risk_analysed",
        "dpia_required",
        "dpia_done",
        "approved_valid",
        "expiring_90d",
        "expired",
        "rejected",
        "decommissioned",
        "without_owner",
        "by_org_unit",
        "by_criticality",
    ):
        assert key in cov
    units = {u["name"]: u for u in cov["by_org_unit"]}
    assert units["Förvaltning Norr"]["org_unit_id"] == region.units["north"].id
    assert units["Förvaltning Norr"]["parent_id"] is None
    assert sum(u["in_operation"] for u in cov["by_org_unit"]) == cov["in_operation"] == 11
    assert [c["criticality"] for c in cov["by_criticality"]] == ["A", "B", "C", "D", None]


def test_org_unit_filter_narrows_and_bad_filters_are_422(region, api):
    c = api(region.users["ciso"])
    south = c.get(f"/api/v1/reports/coverage?org_unit_id={region.units['south'].id}").get_json()
    assert (south["total"], south["in_operation"], south["classified"], south["approved_valid"]) == (
        6,
        4,
        4,
        2,
    )
    both = c.get(
        "/api/v1/reports/coverage?criticality=B&priority_list=false&lifecycle=in_operation"
    ).get_json()
    assert (both["total"], both["classified"]) == (5, 4)  # S2 S3 S6 S10 S14
    for query, name in (
        ("criticality=Z", "criticality"),
        ("org_unit_id=abc", "org_unit_id"),
        ("lifecycle=gone", "lifecycle"),
        ("priority_list=kanske", "priority_list"),
    ):
        err = assert_error(c.get(f"/api/v1/reports/coverage?{query}"), 422, "invalid")
        assert name in err["fields"]
    assert_error(c.get("/api/v1/reports/coverage.csv?delimiter=tab"), 422, "invalid")
    assert_error(c.get("/api/v1/reports/coverage/sla?months=0"), 422, "invalid")


ROLE_TOTALS = {"ciso": 14, "dpo": 14, "auditor": 14, "admin": 14, "so1": 8, "ro1": 8, "so2": 5, "ro2": 4}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/coverage",
        "/api/v1/reports/coverage.csv",
        "/api/v1/reports/coverage.xlsx",
        "/api/v1/reports/coverage.pdf",
        "/api/v1/reports/coverage/heatmap",
        "/api/v1/reports/coverage/sla",
        "/api/v1/reports/coverage/progress",
    ],
)
def test_who_reads_the_report(region, api, db_session, path):
    for role in ROLE_TOTALS:
        assert api(region.users[role]).get(path).status_code == 200, role
    assert_error(api(None).get(path), 401)
    nobody = region.users["auditor"]
    nobody.role_rows = []
    db_session.commit()
    assert_error(api(nobody).get(path), 403, "forbidden")


def test_each_role_sees_its_own_systems(region, api):
    for role, total in ROLE_TOTALS.items():
        cov = api(region.users[role]).get("/api/v1/reports/coverage").get_json()
        assert cov["total"] == total, role
        assert cov["scope"] == ("all" if total == 14 else "own")


@pytest.mark.parametrize(
    "figure",
    [
        "classified",
        "not_classified",
        "approved_valid",
        "expired",
        "expiring_90d",
        "needs_review",
        "without_owner",
        "actions_overdue",
        "conditions_overdue",
        "decommissioned",
        "rejected",
        "dpia_missing",
        "total",
    ],
)
def test_drill_down_through_the_systems_api_lists_exactly_the_count(region, api, figure):
    c = api(region.users["ciso"])
    params = reports.drilldown(figure, ReportFilter(), reports.scope_of(region.users["ciso"]))
    query = "&".join(f"{k}={v}" for k, v in params.items())
    listed = c.get(f"/api/v1/systems?{query}&per_page=500").get_json()
    assert listed["total"] == HEADLINE[figure]
    assert {s["name"] for s in listed["items"]} == region.names(*MEMBERS[figure])


def test_chart_endpoints(region, api):
    c = api(region.users["ciso"])
    heat = c.get("/api/v1/reports/coverage/heatmap").get_json()
    assert heat["risks"] == 9 and heat["systems"] == 8 and len(heat["cells"]) == 16
    sla = c.get("/api/v1/reports/coverage/sla?months=3").get_json()
    assert len(sla["months"]) == 3 and sla["priority_systems"] == 2
    assert [m["measured"] for m in sla["months"]] == [0, 2, 1]
    prog = c.get("/api/v1/reports/coverage/progress").get_json()
    assert [w["approved"] for w in prog["weeks"]] == [1, 1, 1, 3, 4, 5, 4, 3]


def test_csv_holds_the_same_numbers_as_the_json(region, api, db_session):
    c = api(region.users["ciso"])
    cov = c.get("/api/v1/reports/coverage").get_json()
    resp = c.get("/api/v1/reports/coverage.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = csv_rows(resp.get_data())
    figures = {r[1]: int(r[2]) for r in csv_table(rows, "Nyckeltal")}
    assert {k: figures[k] for k in HEADLINE} == HEADLINE
    units = {r[0]: r for r in csv_table(rows, "Per förvaltning")}
    header = rows[next(i for i, r in enumerate(rows) if r == ["Per förvaltning"]) + 1]
    col = header.index("System i drift")
    assert int(units["Förvaltning Norr"][col]) == 7 and int(units["Förvaltning Söder"][col]) == 4
    assert int(units["Alla förvaltningar"][col]) == cov["in_operation"]
    stages = csv_table(rows, "Steg per förvaltning")
    assert [int(x) for x in stages[-1][1:]] == [cov["stages"][s] for s in STAGE_ORDER] + [cov["population"]]
    comma = csv_rows(c.get("/api/v1/reports/coverage.csv?delimiter=comma").get_data(), ",")
    assert {r[1]: int(r[2]) for r in csv_table(comma, "Nyckeltal")}["approved_valid"] == 3
    event = (
        db_session.query(AuditEvent).filter_by(entity="report", action="export").order_by(AuditEvent.id).all()
    )
    assert [e.after["format"] for e in event] == ["csv", "csv"]
    assert event[0].user_id == region.users["ciso"].id


def test_xlsx_has_one_sheet_per_table_with_the_same_numbers(region, api):
    c = api(region.users["ciso"])
    resp = c.get(f"/api/v1/reports/coverage.xlsx?org_unit_id={region.units['north'].id}")
    assert resp.status_code == 200 and resp.get_data()[:2] == b"PK"
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    assert wb.sheetnames == [
        "Nyckeltal",
        "Per förvaltning",
        "Per kritikalitet",
        "Steg per förvaltning",
        "Kvarstående risker",
        "SLA-uppfyllnad",
        "Utveckling över tid",
    ]
    rows = list(wb["Nyckeltal"].iter_rows(values_only=True))
    assert ("Förvaltning", "Förvaltning Norr") in [r[:2] for r in rows]
    figures = {r[1]: r[2] for r in rows if r and len(r) > 2 and isinstance(r[2], int)}
    # Norr: S1 S2 S3 S4 S9 S10 S14 in operation, S12 decommissioned
    assert (
        figures["total"],
        figures["in_operation"],
        figures["classified"],
        figures["approved_valid"],
        figures["needs_review"],
        figures["decommissioned"],
    ) == (8, 7, 5, 1, 1, 1)
    heat = [r for r in wb["Kvarstående risker"].iter_rows(values_only=True) if r and isinstance(r[4], int)]
    assert sum(r[4] for r in heat) == 5  # S3: 2, S4, S9, S10


def test_pdf_holds_the_date_filters_page_numbers_and_figures(region, api):
    c = api(region.users["ciso"])
    resp = c.get(f"/api/v1/reports/coverage.pdf?org_unit_id={region.units['south'].id}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.get_data()[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(resp.get_data()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    pages = len(reader.pages)
    assert "Täckningsrapport" in text and "Förvaltning: Förvaltning Söder" in text
    assert f"Sida 1 av {pages}" in text and f"Sida {pages} av {pages}" in text
    assert (
        "Godkända med giltigt beslut" in text
        and "Kvarstående risker" in text
        and "Utveckling över tid" in text
    )
    assert region.today.strftime("%Y") in text


def test_formula_injection_is_neutralised_in_every_file(region, api, make, db_session):
    admin = region.users["admin"]
    units = [make.org_unit(name) for name in RISKY]
    for i, unit in enumerate(units):
        make.system(name=RISKY[i], org_unit_id=unit.id, supplier=RISKY[(i + 1) % len(RISKY)])
    db_session.commit()
    c = api(admin)
    for path, delimiter in (
        ("/api/v1/reports/coverage.csv", ";"),
        ("/api/v1/reports/coverage.csv?delimiter=comma", ","),
        ("/api/v1/systems.csv", ";"),
        ("/api/v1/systems.csv?delimiter=comma", ","),
    ):
        cells = [x for row in csv_rows(c.get(path).get_data(), delimiter) for x in row]
        for evil in RISKY:
            assert "'" + evil in cells, (path, evil)
        assert not [x for x in cells if x[:1] in ("=", "+", "@", "\t", "\r")], path
        assert not [x for x in cells if x[:1] == "-" and not x.lstrip("-").replace(".", "").isdigit()], path
    for path in ("/api/v1/reports/coverage.xlsx", "/api/v1/systems.xlsx"):
        wb = openpyxl.load_workbook(io.BytesIO(c.get(path).get_data()))
        # (XML reads a carriage return as a line feed unless it is written as a character reference)
        as_read = {x.replace("\r", "\n"): x for x in RISKY}
        found = [
            cell
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for cell in row
            if isinstance(cell.value, str) and (cell.value in RISKY or cell.value in as_read)
        ]
        assert {as_read.get(cell.value, cell.value) for cell in found} == set(RISKY), path
        assert all(cell.data_type == "s" and cell.quotePrefix for cell in found), path


def test_systems_files_honour_the_list_filters(region, api, db_session):
    c = api(region.users["ciso"])
    for query in (
        "",
        "criticality=B",
        "lifecycle=in_operation&classified=0",
        f"org_unit_id={region.units['north'].id}&stage=needs_review",
        "q=Rapportsystem S1",
        "approved_on=" + region.today.isoformat(),
    ):
        listed = c.get(f"/api/v1/systems?{query}&per_page=500").get_json()
        rows = csv_rows(c.get(f"/api/v1/systems.csv?{query}").get_data())
        assert rows[0][:3] == ["Id", "Namn", "Alias"]
        assert sorted(int(r[0]) for r in rows[1:]) == sorted(s["id"] for s in listed["items"]), query
        wb = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/v1/systems.xlsx?{query}").get_data()))
        ids = [r[0] for r in wb.active.iter_rows(min_row=2, values_only=True)]
        assert sorted(ids) == sorted(s["id"] for s in listed["items"]), query
    rows = csv_rows(c.get("/api/v1/systems.csv?classified=1&expired=1").get_data())
    header, (s7,) = rows[0], rows[1:]
    record = dict(zip(header, s7, strict=True))
    assert record["Namn"] == "Rapportsystem S7" and record["Steg"] == "Godkännandet har gått ut"
    assert record["Klassning (K-R-T)"] == "2-2-2" and record["Giltigt till"] < region.today.isoformat()
    assert record["Prioriteringslista"] == "Ja" and record["Förvaltning"] == "Förvaltning Söder"
    # a system owner reads the register, but not every system's records
    owner_rows = csv_rows(api(region.users["so1"]).get("/api/v1/systems.csv").get_data())
    assert "Klassning (K-R-T)" not in owner_rows[0] and len(owner_rows) == 15
    assert_error(c.get("/api/v1/systems.csv?sla_result=met"), 422, "invalid")


def test_systems_export_reads_by_keyset_in_name_order(region, api, monkeypatch):
    monkeypatch.setattr(report_export, "EXPORT_CHUNK", 3)
    rows = csv_rows(api(region.users["ciso"]).get("/api/v1/systems.csv").get_data())[1:]
    names = [r[1] for r in rows]
    assert len(names) == 14 == len(set(names))
    assert names == sorted(names)


def test_file_answers_name_their_type_once(region, api):
    c = api(region.users["ciso"])
    assert c.get("/api/v1/reports/coverage.csv").headers["Content-Type"] == "text/csv; charset=utf-8"
    assert c.get("/api/v1/systems.csv").headers["Content-Type"] == "text/csv; charset=utf-8"
    xlsx = c.get("/api/v1/systems.xlsx")
    assert xlsx.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="system-' in xlsx.headers["Content-Disposition"]


def test_systems_file_holds_aliases_and_external_references(region, api, make, db_session):
    make.system(
        name="Aliasat system",
        org_unit_id=region.units["north"].id,
        aliases=["Alfa", "Beta"],
        external_refs=[{"source": "servicenow", "key": "abc123"}, {"source": "clarity", "key": "42"}],
    )
    db_session.commit()
    rows = csv_rows(api(region.users["ciso"]).get("/api/v1/systems.csv?q=Aliasat").get_data())
    record = dict(zip(rows[0], rows[1], strict=True))
    assert sorted(record["Alias"].split(", ")) == ["Alfa", "Beta"]
    assert sorted(record["Externa referenser"].split(", ")) == ["clarity:42", "servicenow:abc123"]
    assert record["Förvaltning"] == "Förvaltning Norr" and record["Steg"] == "Ej påbörjad"
