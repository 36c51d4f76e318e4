"""The coverage page (HTML): every headline number links to the systems list showing exactly that many
systems; roles; filters; charts as SVG with text alternatives and no inline styles or scripts; the files
for signed-in users."""

# ruff: noqa: F811  (the region fixture is imported by name; pytest injects it)
from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest

from tests.conftest import PASSWORD
from tests.test_reports_fixture import region  # noqa: F401 (fixture)
from tests.test_reports_service import HEADLINE, MEMBERS


def login(client, user):
    client.post("/logout")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302


def figures_on(body: str) -> dict[str, tuple[int, str]]:
    """figure → (number shown, link) of the headline figures."""
    found = re.findall(r'<a class="big" href="([^"]+)" data-figure="([a-z_0-9]+)">(\d+)</a>', body)
    return {fig: (int(n), html.unescape(href)) for href, fig, n in found}


def listed_ids(client, href: str) -> set[str]:
    resp = client.get(href)
    assert resp.status_code == 200, href
    body = resp.get_data(as_text=True)
    return set(re.findall(r'<td class="primary" data-label="[^"]*"><a href="/systems/(\d+)">', body))


def test_every_headline_number_links_to_exactly_that_many_systems(region, client):
    login(client, region.users["ciso"])
    resp = client.get("/reports/coverage")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    shown = figures_on(body)
    assert set(shown) >= {"total", "in_operation", "classified", "approved_valid", "expired", "without_owner"}
    for figure, (n, href) in shown.items():
        assert n == HEADLINE[figure], figure
        assert href.startswith("/systems?")
        ids = listed_ids(client, href)
        assert len(ids) == n, (figure, href)
        if figure in MEMBERS:
            assert ids == {str(region.id(k)) for k in MEMBERS[figure]}, figure


def test_table_and_chart_numbers_are_links_too(region, client):
    login(client, region.users["ciso"])
    body = client.get("/reports/coverage").get_data(as_text=True)
    north = region.units["north"].id
    # per org unit: Norr's classified figure (S2 S3 S4 S9 S10)
    hrefs = [html.unescape(h) for h in re.findall(r'<a class="num-link" href="([^"]+)"[^>]*>5</a>', body)]
    mine = [
        h
        for h in hrefs
        if parse_qs(urlsplit(h).query).get("org_unit_id") == [str(north)]
        and parse_qs(urlsplit(h).query).get("classified") == ["1"]
    ]
    assert mine and len(listed_ids(client, mine[0])) == 5
    # the heat map's cell 2-2 in the SVG (S3, S7)
    cell = re.search(r'<a href="([^"]*risk_cell=2-2[^"]*)"', body)
    assert cell and listed_ids(client, html.unescape(cell.group(1))) == {
        str(region.id("S3")),
        str(region.id("S7")),
    }
    # SLA: last month's missed target (S7)
    missed = re.search(r'<a class="num-link" href="([^"]*sla_result=missed[^"]*)"[^>]*>1</a>', body)
    assert missed and listed_ids(client, html.unescape(missed.group(1))) == {str(region.id("S7"))}


def test_page_is_swedish_with_charts_text_alternatives_and_no_inline_styles(region, client):
    login(client, region.users["ciso"])
    body = client.get("/reports/coverage").get_data(as_text=True)
    assert "Täckningsrapport" in body and "Klassade" in body and "Kvarstående risker" in body
    svgs = re.findall(r"<svg [^>]*>", body)
    assert len(svgs) == 6
    for chart in ("funnel", "units", "criticality", "heatmap", "sla", "progress"):
        assert f'<title id="chart-{chart}-title">' in body and f'<desc id="chart-{chart}-desc">' in body
    assert ' style="' not in body and "<style" not in body
    assert "<script>" not in body and "<script " not in body.replace('<script src="', "")
    assert "reports/reports.css" in body
    assert body.count("<th scope=") > 40  # tables with header cells


def test_role_views_of_the_page(region, client, db_session):
    login(client, region.users["so1"])
    body = client.get("/reports/coverage").get_data(as_text=True)
    shown = figures_on(body)
    assert shown["total"][0] == 8 and shown["classified"][0] == 6
    assert f"owner_id={region.users['so1'].id}" in shown["classified"][1]
    assert len(listed_ids(client, shown["classified"][1])) == 6
    login(client, region.users["ro2"])
    assert figures_on(client.get("/reports/coverage").get_data(as_text=True))["total"][0] == 4
    client.post("/logout")
    resp = client.get("/reports/coverage")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    nobody = region.users["dpo"]
    nobody.role_rows = []
    db_session.commit()
    login(client, nobody)
    assert client.get("/reports/coverage").status_code == 403
    assert client.get("/reports/coverage.pdf").status_code == 403


def test_filters_apply_to_the_whole_page(region, client):
    login(client, region.users["ciso"])
    south = region.units["south"].id
    body = client.get(f"/reports/coverage?org_unit_id={south}&criticality=").get_data(as_text=True)
    shown = figures_on(body)
    assert (shown["total"][0], shown["in_operation"][0], shown["approved_valid"][0]) == (6, 4, 2)
    assert f"org_unit_id={south}" in shown["approved_valid"][1]
    assert "Förvaltning Norr" not in body.split("<h2")[-1]  # the per-unit table shows Söder only
    planned = figures_on(client.get("/reports/coverage?lifecycle=planned").get_data(as_text=True))
    assert "in_operation" not in planned and planned["population"][0] == 1
    assert listed_ids(client, planned["population"][1]) == {str(region.id("S13"))}
    assert client.get("/reports/coverage?criticality=Z").status_code == 422


@pytest.mark.parametrize(
    "path, kind",
    [
        ("/reports/coverage.pdf", b"%PDF-"),
        ("/reports/coverage.csv", b"\xef\xbb\xbf"),
        ("/reports/coverage.xlsx", b"PK"),
        ("/reports/systems.csv", b"\xef\xbb\xbf"),
        ("/reports/systems.xlsx", b"PK"),
    ],
)
def test_files_for_signed_in_users(region, client, path, kind):
    login(client, region.users["ciso"])
    resp = client.get(path)
    assert resp.status_code == 200 and resp.get_data()[: len(kind)] == kind


def test_systems_file_from_the_page_keeps_the_list_filters(region, client):
    login(client, region.users["auditor"])
    resp = client.get("/reports/systems.xlsx?expired=1")
    rows = list(openpyxl.load_workbook(io.BytesIO(resp.get_data())).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["Rapportsystem S7"]


def test_every_number_in_the_figures_and_tables_is_a_link(region, client):
    login(client, region.users["ciso"])
    body = client.get("/reports/coverage").get_data(as_text=True)
    cards = re.findall(r'<li class="figure figure-[a-z_0-9]+">(.*?)</li>', body, re.S)
    assert len(cards) > 25
    for card in cards:
        rest = re.sub(r'<span class="figure-label">.*?</span>', "", card, flags=re.S)
        rest = re.sub(r"<a [^>]*>.*?</a>", "", rest, flags=re.S)
        assert not re.search(r"\d", rest), card
    tables = re.findall(r"<tbody>(.*?)</tbody>", body, re.S)
    assert len(tables) >= 6
    for table in tables:
        for cell in re.findall(r'<td class="num">(.*?)</td>', table, re.S):
            assert cell == "–" or re.fullmatch(
                r'<a class="num-link" href="/systems\?[^"]+"[^>]*>[\d,]+</a>', cell
            ), cell
