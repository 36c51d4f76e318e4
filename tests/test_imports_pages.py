"""The import pages (admins): upload, batch page with mapping and thresholds, review with filters and
field-by-field conflicts, decisions, bulk accept, apply and undo through forms."""

from __future__ import annotations

import io

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


def test_bad_file_on_the_page_says_why_and_leaves_nothing(client, make, db_session):
    login(client, make.admin())
    resp = upload(client, b"MZ\x90\x00" * 50)
    assert resp.status_code == 200
    assert "inte en lista i CSV eller XLSX" in resp.get_data(as_text=True)
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
