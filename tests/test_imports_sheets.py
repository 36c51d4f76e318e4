"""The sheets of an uploaded workbook through the API, on SQLite and PostgreSQL: the batch names them
(read from the kept file, no column of their own), a refusal for a sheet without a name column names
them, another sheet is chosen with PATCH; the OpenAPI document describes the field."""

from __future__ import annotations

import io


from riskreg.imports import reading
from tests.test_import_reading import xlsx
from tests.conftest import assert_error


BOOK = xlsx({
    "Info": [["Innehåll", "Datum"], ["Export från portföljverktyget", "2025-03-01"]],
    "System": [["Systemnamn", "Leverantör"], ["Cosmic", "Cambio"], ["Heroma", "CGI"]],
    "Avvecklade": [["Namn", "Avvecklat år"], ["Melior", "2024"]],
})


def upload(c, content: bytes, name="lista.xlsx", **fields):
    data = {"file": (io.BytesIO(content), name), "source": "portfolio", **fields}
    return c.post("/api/v1/imports", data=data, content_type="multipart/form-data")


def test_sheet_names_are_read_from_the_workbook_only():
    assert reading.sheet_names(BOOK) == ["Info", "System", "Avvecklade"]
    assert reading.sheet_names("Namn;Leverantör\r\nCosmic;Cambio\r\n".encode()) == []
    assert reading.sheet_names(b"PK\x03\x04 not really a zip file") == []
    assert reading.sheet_names(None) == []


def test_the_batch_names_the_workbooks_sheets(api, make):
    c = api(make.admin())
    resp = upload(c, BOOK, sheet="System")
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()
    assert (batch["sheet"], batch["sheets"]) == ("System", ["Info", "System", "Avvecklade"])
    assert batch["row_count"] == 2
    assert c.get(f"/api/v1/imports/{batch['id']}").get_json()["sheets"] == ["Info", "System", "Avvecklade"]
    listed = {b["id"]: b for b in c.get("/api/v1/imports").get_json()["items"]}
    assert listed[batch["id"]]["sheets"] == ["Info", "System", "Avvecklade"]
    csv = upload(c, "Namn;Leverantör\r\nCosmic;Cambio\r\n".encode(), name="lista.csv").get_json()
    assert (csv["file_kind"], csv["sheet"], csv["sheets"]) == ("csv", None, [])


def test_a_sheet_without_a_name_column_is_refused_naming_the_sheets(api, make):
    c = api(make.admin())
    error = assert_error(upload(c, BOOK), 422)  # the first sheet is a cover sheet
    for name in ("Info", "System", "Avvecklade"):
        assert f"”{name}”" in error["message"], error  # Swedish quotes
    assert "Bladet som lästes var ”Info”;" in error["message"]
    assert "System" in " ".join(error["fields"]["sheet"]) and error["fields"]["mapping"]
    # a CSV file or a workbook of one sheet has nothing to choose from: the refusal stays as it was
    error = assert_error(upload(c, xlsx({"Info": [["Innehåll", "Datum"], ["Export", "2025-03-01"]]})), 422)
    assert "sheet" not in error["fields"]


def test_another_sheet_is_chosen_with_patch(api, make):
    c = api(make.admin())
    batch = upload(c, BOOK, sheet="System").get_json()
    assert batch["mapping"] == {"Systemnamn": "name", "Leverantör": "supplier"}
    resp = c.patch(f"/api/v1/imports/{batch['id']}", json={"sheet": "Avvecklade"})
    assert resp.status_code == 200, resp.get_json()
    moved = resp.get_json()
    assert (moved["sheet"], moved["row_count"], moved["headers"]) == ("Avvecklade", 1, ["Namn", "Avvecklat år"])
    assert moved["mapping"].get("Namn") == "name" and moved["sheets"] == ["Info", "System", "Avvecklade"]
    error = assert_error(c.patch(f"/api/v1/imports/{batch['id']}", json={"sheet": "Info"}), 422)
    assert "Bladet som lästes var ”Info”" in error["message"] and "”System”" in error["message"]
    assert c.get(f"/api/v1/imports/{batch['id']}").get_json()["sheet"] == "Avvecklade"  # the refusal changed nothing


def test_the_openapi_document_describes_the_sheets(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    batch = next(s for name, s in schema.items() if name.startswith("Batch"))
    assert batch["properties"]["sheets"]["type"] == "array"
    assert batch["properties"]["sheets"]["items"] == {"type": "string"}
