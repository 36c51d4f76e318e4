"""The import pages (admins): upload, batch page with mapping and thresholds, review with filters and
field-by-field conflicts, decisions, bulk accept, apply and undo through forms."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from riskreg.models import ImportBatch, ImportRow, System
from tests.conftest import PASSWORD


def login(client, user):
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:300]


def upload(client, content: bytes, **extra):
    data = {"file": (io.BytesIO(content), "lista.csv"), "source": "portfolio", **extra}
    return client.post("/imports", data=data, content_type="multipart/form-data")


def test_only_admins_see_the_import_pages(client, make):
    owner = make.user("system_owner")
    login(client, owner)
    assert client.get("/imports").status_code == 403
    assert client.post("/imports", data={}).status_code == 403


def test_upload_review_decide_apply_undo_through_pages(client, make, db_session):
    admin = make.admin()
    unit = make.org_unit("Förvaltning Sida")
    melior = make.system(name="Melior", supplier="Siemens", criticality="B", org_unit_id=unit.id, description="")
    login(client, admin)
    page = client.get("/imports")
    assert page.status_code == 200 and "Ladda upp en lista" in page.get_data(as_text=True)
    content = ("Systemnamn;Leverantör;Kritikalitet;Beskrivning\r\n"
               "Siemens Melior 2.5;Siemens;A;Journal för slutenvården\r\n"
               "Nytt System;Acme;C;\r\n"
               "NYTT SYSTEM 2;Acme;C;\r\n").encode("cp1252")
    resp = upload(client, content, org_unit_id=str(unit.id))
    assert resp.status_code == 302
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    html = client.get(f"/imports/{bid}").get_data(as_text=True)
    assert "cp1252" in html and "Klar för granskning" in html and "Gränsvärden för matchning" in html
    assert "Siemens Melior 2.5" in html  # sample values beside the mapping
    review = client.get(f"/imports/{bid}/review").get_data(as_text=True)
    assert "Slå samman med" in review and "Melior" in review
    assert "behåll registrets" in review  # criticality B in the register, A in the list: a conflict to choose
    assert "fyller det tomma fältet" in review  # the empty description is filled
    assert "NYTT SYSTEM 2" in client.get(f"/imports/{bid}/review?filter=duplicates").get_data(as_text=True)
    assert "Nytt System" not in client.get(f"/imports/{bid}/review?filter=merge").get_data(as_text=True)
    rows = {r.values["Systemnamn"]: r for r in db_session.scalars(select(ImportRow).where(ImportRow.batch_id == bid))}
    resp = client.post(f"/imports/{bid}/decide", data={"row_id": rows["Siemens Melior 2.5"].id,
                                                       "choice": f"merge:{melior.id}", "keep-criticality": "import"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"#row-{rows['Siemens Melior 2.5'].id}")
    assert client.post(f"/imports/{bid}/accept-confident").status_code == 302
    assert client.post(f"/imports/{bid}/apply").status_code == 302
    db_session.refresh(melior)
    assert (melior.criticality.value, melior.description) == ("A", "Journal för slutenvården")
    assert [a.name for a in melior.aliases] == ["Siemens Melior 2.5"]
    assert db_session.execute(select(func.count(System.id)).where(System.name == "Nytt System")).scalar_one() == 1
    assert "Ångra importen" in client.get(f"/imports/{bid}").get_data(as_text=True)
    assert client.post(f"/imports/{bid}/undo").status_code == 302
    db_session.refresh(melior)
    assert (melior.criticality.value, melior.description, melior.aliases) == ("B", "", [])
    assert db_session.execute(select(func.count(System.id)).where(System.name == "Nytt System")).scalar_one() == 0
    progress = client.get(f"/imports/{bid}/progress").get_json()
    assert progress["status"] == "undone"


def test_bad_file_on_the_page_says_why_and_leaves_nothing(client, make, db_session, app, monkeypatch):
    """The page answers with the refusal's own status (415, 422, 413), the form and the reason on it."""
    login(client, make.admin())
    resp = upload(client, b"MZ\x90\x00" * 50)
    assert resp.status_code == 415
    html = resp.get_data(as_text=True)
    assert "inte en lista i CSV eller XLSX" in html and 'id="upload-form"' in html
    assert 'class="error-summary"' in html and 'aria-invalid="true"' in html  # said at the file field
    resp = upload(client, "Namn;Leverantör\r\n".encode())  # a header row only
    assert resp.status_code == 422 and "rubrikrad men inga datarader" in resp.get_data(as_text=True)
    resp = upload(client, "Leverantör;Förvaltning\r\nCambio;Sida\r\n".encode())  # no name column
    assert resp.status_code == 422 and "Ingen kolumn innehåller systemens namn" in resp.get_data(as_text=True)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 2)
    resp = upload(client, b"Namn\r\nA\r\nB\r\nC\r\n")
    assert resp.status_code == 413 and "fler än 2 rader" in resp.get_data(as_text=True)
    assert 'id="upload-form"' in resp.get_data(as_text=True)
    assert db_session.execute(select(func.count(ImportBatch.id))).scalar_one() == 0


def test_thresholds_and_mapping_can_be_changed_on_the_page(client, make, db_session):
    login(client, make.admin())
    upload(client, "Namn;Övrigt\r\nAlfa;Beta\r\n".encode())
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    resp = client.post("/imports/settings", data={"merge": "92", "confident": "97", "review": "65", "duplicate": "91",
                                                  "margin": "4", "next": f"/imports/{bid}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/imports/{bid}")
    assert "92" in client.get(f"/imports/{bid}/review").get_data(as_text=True)
    resp = client.post(f"/imports/{bid}/read-again", data={"map-0": "", "map-1": "name", "delimiter": ";"})
    assert resp.status_code == 302
    batch = db_session.get(ImportBatch, bid)
    db_session.refresh(batch)
    assert batch.mapping == {"Övrigt": "name"}


# ------------------------------------------------------------------ workbooks: the sheets on the page


from tests.test_imports_sheets import BOOK  # noqa: E402  (Info, System, Avvecklade)


def upload_book(client, content: bytes, **extra):
    data = {"file": (io.BytesIO(content), "lista.xlsx"), "source": "portfolio", **extra}
    return client.post("/imports", data=data, content_type="multipart/form-data")


def test_a_cover_sheet_without_names_is_refused_naming_the_sheets(client, make, db_session):
    login(client, make.admin())
    resp = upload_book(client, BOOK)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Bladet som lästes var ”Info”" in html
    assert "”System”" in html and "”Avvecklade”" in html and "Välj bladet som innehåller listan" in html
    assert 'id="sheet-err"' in html  # the sheets are named at the sheet field too
    assert db_session.execute(select(func.count(ImportBatch.id))).scalar_one() == 0


def test_the_batch_page_offers_the_workbooks_sheets_and_reads_another(client, make, db_session):
    login(client, make.admin())
    assert upload_book(client, BOOK, sheet="System").status_code == 302
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    html = client.get(f"/imports/{bid}").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="sheet".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option([^>]*)value="([^"]*)"', select_html)
    assert [v for _a, v in options] == ["Info", "System", "Avvecklade"]
    assert [v for a, v in options if "selected" in a] == ["System"]
    assert "arbetsbokens blad: Info, System, Avvecklade" in html
    # another sheet has columns of its own: they are mapped from its headers, not from the form's
    resp = client.post(f"/imports/{bid}/read-again", data={"map-0": "name", "map-1": "supplier", "sheet": "Avvecklade"})
    assert resp.status_code == 302
    batch = db_session.get(ImportBatch, bid)
    db_session.refresh(batch)
    assert (batch.sheet, batch.row_count, batch.mapping.get("Namn")) == ("Avvecklade", 1, "name")
    # a sheet without names is refused, naming the sheets; the batch stays as it was
    resp = client.post(f"/imports/{bid}/read-again", data={"map-0": "name", "sheet": "Info"}, follow_redirects=True)
    assert "Bladet som lästes var ”Info”" in resp.get_data(as_text=True)
    db_session.refresh(batch)
    assert batch.sheet == "Avvecklade"


def test_a_csv_batch_shows_no_sheet_choice(client, make, db_session):
    login(client, make.admin())
    upload(client, "Namn;Leverantör\r\nCosmic;Cambio\r\n".encode())
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    html = client.get(f"/imports/{bid}").get_data(as_text=True)
    assert 'name="sheet"' not in html and 'name="delimiter"' in html


# ------------------------------------------------------------------ the review: every candidate side by side


def two_pacs(make):
    """Two systems a list's "PACS" could be, told apart by their fields."""
    sectra_owner = make.user("system_owner", name="Olle Bildsson", email="olle.bildsson@region.example")
    agfa_owner = make.user("system_owner", name="Stina Arkivsson", email="stina.arkivsson@region.example")
    bfm = make.org_unit("Bild- och funktionsmedicin")
    lsh = make.org_unit("Länssjukhuset Ryhov")
    sectra = make.system(name="Sectra PACS", supplier="Sectra", org_unit_id=bfm.id, system_owner=sectra_owner,
                         lifecycle="in_operation", description="Röntgenbilder för hela regionen", criticality="B")
    agfa = make.system(name="Agfa PACS", supplier="Agfa", org_unit_id=lsh.id, system_owner=agfa_owner,
                       lifecycle="being_decommissioned", description="Äldre bildarkiv", criticality="C")
    return sectra, agfa


def merge_block(html: str, system_id: int) -> str:
    """The field-by-field comparison rendered for merging into one system (up to its table's end)."""
    m = re.search(rf'<div class="merge-into" data-merge-into="merge:{system_id}"[^>]*>.*?</table>', html, re.S)
    assert m, f"no comparison for system {system_id}"
    return m.group(0)


def test_a_name_only_row_shows_every_candidates_key_fields(client, make, db_session):
    sectra, agfa = two_pacs(make)
    login(client, make.admin())
    upload(client, b"Namn\r\nPACS\r\n")
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    row = db_session.scalars(select(ImportRow).where(ImportRow.batch_id == bid)).one()
    assert {c["system_id"] for c in row.candidates} >= {sectra.id, agfa.id}
    html = client.get(f"/imports/{bid}/review").get_data(as_text=True)
    table = re.search(r'<table class="candidates">.*?</table>', html, re.S).group(0)
    for shown in ("Sectra", "Agfa", "Bild- och funktionsmedicin", "Länssjukhuset Ryhov", "Olle Bildsson",
                  "Stina Arkivsson", "I drift", "Under avveckling", "Röntgenbilder för hela regionen",
                  "Äldre bildarkiv"):
        assert shown in table, shown
    heads = re.findall(r'<th scope="col" data-system="(\d+)">', table)
    assert {int(h) for h in heads} >= {sectra.id, agfa.id}
    assert "data-merge-into" not in html  # the row brings no field to compare


def test_each_candidate_shows_its_own_conflicts_and_choices(client, make, db_session):
    sectra, agfa = two_pacs(make)
    login(client, make.admin())
    upload(client, b"Namn;Kritikalitet;Beskrivning\r\nPACS;A;Bildarkiv\r\n")
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    row = db_session.scalars(select(ImportRow).where(ImportRow.batch_id == bid)).one()
    html = client.get(f"/imports/{bid}/review").get_data(as_text=True)
    blocks = {s.id: merge_block(html, s.id) for s in (sectra, agfa)}
    assert "Röntgenbilder för hela regionen" in blocks[sectra.id] and "Äldre bildarkiv" in blocks[agfa.id]
    for sid, block in blocks.items():
        assert f'name="keep-{sid}-criticality"' in block and f'name="keep-{sid}-description"' in block
        assert 'value="keep" checked' in block  # a filled field is kept unless a person chooses otherwise
    # at most one comparison is shown: the chosen candidate's, when the row merges (the others wait, hidden,
    # for the person's choice; creating or skipping shows none)
    chosen = [row.suggestion_system_id] if row.suggestion_action.value == "merge" else []
    shown = [sid for sid, block in blocks.items() if " hidden" not in block.split(">", 1)[0]]
    assert shown == chosen
    # the choices taken are those made for the system merged into, never another candidate's
    resp = client.post(f"/imports/{bid}/decide", data={
        "row_id": row.id, "choice": f"merge:{agfa.id}", f"keep-{agfa.id}-criticality": "import",
        f"keep-{agfa.id}-description": "keep", f"keep-{sectra.id}-description": "import"})
    assert resp.status_code == 302
    db_session.refresh(row)
    assert (row.decision_system_id, row.field_choices) == (agfa.id, {"criticality": "import", "description": "keep"})
    html = client.get(f"/imports/{bid}/review").get_data(as_text=True)
    assert f'id="k-{row.id}-{agfa.id}-criticality-import" value="import" checked' in merge_block(html, agfa.id)
    assert " hidden" in merge_block(html, sectra.id).split(">", 1)[0]
    client.post(f"/imports/{bid}/decide", data={"row_id": row.id, "choice": f"merge:{sectra.id}",
                                                f"keep-{agfa.id}-criticality": "import"})
    db_session.refresh(row)
    assert (row.decision_system_id, row.field_choices) == (sectra.id, {})
    client.post(f"/imports/{bid}/apply")
    db_session.refresh(sectra)
    assert (sectra.criticality.value, sectra.description) == ("B", "Röntgenbilder för hela regionen")


def test_the_review_page_costs_the_same_queries_for_one_row_or_many(client, make, db_session):
    from sqlalchemy import event

    from riskreg.extensions import db

    two_pacs(make)
    login(client, make.admin())
    upload(client, b"Namn;Kritikalitet\r\nPACS;A\r\n")
    one = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    upload(client, ("Namn;Kritikalitet\r\n" + "".join(f"PACS {i};A\r\n" for i in range(12))).encode())
    many = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    assert db_session.execute(select(func.count(ImportRow.id)).where(ImportRow.batch_id == many)).scalar_one() == 12

    def statements(bid: int) -> int:
        seen: list[str] = []
        listen = lambda conn, cursor, statement, *a: seen.append(statement)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            html = client.get(f"/imports/{bid}/review").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert "Sectra PACS" in html and "Agfa PACS" in html
        return len(seen)

    statements(one)  # warm: the session's first queries
    assert statements(many) == statements(one)


# ------------------------------------------------------------------ apply: undecided uncertain merges said plainly


def test_apply_names_the_undecided_uncertain_merges(client, make, db_session):
    make.system(name="Melior", supplier="Siemens")
    make.system(name="Heroma", supplier="CGI")
    login(client, make.admin())
    client.post("/imports/settings", data={"merge": "80", "confident": "100", "review": "60", "duplicate": "95",
                                           "margin": "0"})
    upload(client, ("Namn;Leverantör\r\nSiemens Meliorr;Siemens\r\nHeroma lön;CGI\r\nNytt system;Acme\r\n"
                    "Heromma;\r\n").encode())
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    rows = db_session.scalars(select(ImportRow).where(ImportRow.batch_id == bid)).all()
    uncertain = sorted(r.values["Namn"] for r in rows
                       if r.suggestion_action.value == "merge" and r.confidence == "uncertain")
    assert len(uncertain) >= 2, [(r.values, r.suggestion_action, r.confidence) for r in rows]
    page = client.get(f"/imports/{bid}").get_data(as_text=True)
    said = f"{len(uncertain)} osäkra sammanslagningar är inte beslutade och följer förslaget."
    assert said in page
    confirm = re.search(rf'<form method="post" action="/imports/{bid}/apply" data-confirm="([^"]*)"', page).group(1)
    assert said in confirm  # the confirmation says it too, before anything is merged
    assert f'href="/imports/{bid}/review?filter=uncertain_merges"' in page
    listed = client.get(f"/imports/{bid}/review?filter=uncertain_merges").get_data(as_text=True)
    heads = [h.split("</span>", 1)[1].strip() for h in re.findall(r'<h2 class="row-head">(.*?)</h2>', listed, re.S)]
    assert sorted(heads) == uncertain
    assert said in listed
    # deciding one (here: create instead) leaves one fewer; none left, nothing said
    first = next(r for r in rows if r.values["Namn"] == uncertain[0])
    client.post(f"/imports/{bid}/decide", data={"row_id": first.id, "choice": "create"})
    left = len(uncertain) - 1
    page = client.get(f"/imports/{bid}").get_data(as_text=True)
    assert (f"{left} osäkra sammanslagningar" if left > 1 else "1 osäker sammanslagning är inte beslutad") in page
    for r in rows:
        if r.values["Namn"] in uncertain[1:]:
            client.post(f"/imports/{bid}/decide", data={"row_id": r.id, "choice": f"merge:{r.suggestion_system_id}"})
    page = client.get(f"/imports/{bid}").get_data(as_text=True)
    assert "osäker" not in page.split("<dl", 1)[1].split("</dl>", 1)[1]  # no notice once every one is decided


# ------------------------------------------------------------------ long work: inline by budget, progress


def test_matching_goes_to_the_background_by_rows_times_register(client, make, db_session, app, monkeypatch):
    from riskreg.extensions import db
    from riskreg.imports import jobs, runner
    from riskreg.models import SystemAlias

    started = []
    monkeypatch.setattr(jobs, "run_in_background", lambda kind, bid, uid: started.append((kind, bid)))
    admin = make.admin()
    login(client, admin)
    content = b"Namn\r\nAlfa\r\nBeta\r\nGamma\r\n"
    baseline = db_session.execute(select(func.count(System.id))).scalar_one()
    assert runner.comparisons(db.session, 3) == 3 * (baseline + 3)
    monkeypatch.setitem(app.config, "IMPORT_INLINE_COMPARISONS", 3 * (baseline + 3))
    upload(client, content)
    small = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    assert db_session.get(ImportBatch, small).status.value == "ready" and started == []
    system = make.system(name="Delta")  # one more name in the register: 3 × (names + 3) is over the budget
    upload(client, content)
    large = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    assert db_session.get(ImportBatch, large).status.value == "matching" and started == [("match", large)]
    html = client.get(f"/imports/{large}").get_data(as_text=True)
    assert 'id="import-progress"' in html and "Matchar" in html
    db_session.add(SystemAlias(system_id=system.id, name="Delta gammal", search_key="delta gammal"))
    db_session.flush()
    assert runner.comparisons(db.session, 3) == 3 * (baseline + 2 + 3)  # aliases are names to compare too
    monkeypatch.setitem(app.config, "IMPORT_INLINE_COMPARISONS", 10**9)
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", 2)  # the rows' cap holds whatever the budget
    upload(client, content)
    capped = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    assert started[-1] == ("match", capped)


def test_background_apply_shows_working_rather_than_a_frozen_zero(client, make, db_session, app, monkeypatch):
    from riskreg.imports import jobs
    from riskreg.services import imports as service

    started = []
    monkeypatch.setattr(jobs, "run_in_background", lambda kind, bid, uid: started.append((kind, bid)))
    monkeypatch.setitem(app.config, "IMPORT_INLINE_APPLY_ROWS", 1)
    admin = make.admin()
    unit = make.org_unit()
    login(client, admin)
    upload(client, b"Namn\r\nAlfa\r\nBeta\r\n", org_unit_id=str(unit.id))
    bid = db_session.execute(select(func.max(ImportBatch.id))).scalar_one()
    batch = db_session.get(ImportBatch, bid)
    assert (batch.progress_done, batch.progress_total) == (2, 2)  # matching's figures
    # the answer is the batch page itself, rendered before the work starts (on SQLite the work holds the
    # write lock: a redirected request would wait for its end)
    resp = client.post(f"/imports/{bid}/apply")
    assert resp.status_code == 202 and started == [("apply", bid)]
    db_session.refresh(batch)
    assert (batch.status.value, batch.progress_done, batch.progress_total) == ("applying", 0, 2)
    for html in (resp.get_data(as_text=True), client.get(f"/imports/{bid}").get_data(as_text=True)):
        bar = re.search(r"<progress[^>]*>", html).group(0)
        assert "value=" not in bar and 'class="working"' in bar  # indeterminate, not 0 %
        assert re.search(r'id="import-progress-text">Arbetar …<', html) and "Genomförs" in html
        assert f'data-batch-url="/imports/{bid}"' in html
    assert client.get(f"/imports/{bid}/progress").get_json() == {
        "status": "applying", "label": "Genomförs", "done": 0, "total": 2, "error": None}
    # where the work can report (PostgreSQL), the figures are shown
    batch.progress_done = 1
    db_session.flush()
    html = client.get(f"/imports/{bid}").get_data(as_text=True)
    assert 'value="1"' in re.search(r"<progress[^>]*>", html).group(0) and "1 av 2 rader" in html
    service.run_job(db_session, "apply", bid, admin.id, lambda *a, **k: None)
    db_session.refresh(batch)
    assert batch.status.value == "applied"
    assert client.post(f"/imports/{bid}/undo").status_code == 202 and started[-1] == ("undo", bid)
    db_session.refresh(batch)
    assert (batch.status.value, batch.progress_done) == ("undoing", 0)
    assert "Arbetar …" in client.get(f"/imports/{bid}").get_data(as_text=True)
