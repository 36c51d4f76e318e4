"""Reading lists (riskreg.imports.reading, .mapping): every file kind, every bad file, mapping suggestions."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from riskreg.imports import mapping, reading

LIMITS = reading.Limits(max_bytes=1_000_000, max_rows=100, xlsx_max_uncompressed=5_000_000, xlsx_max_ratio=100)


def read(content: bytes, name="list.csv", **kw) -> reading.Table:
    return reading.read(content, name, LIMITS, **kw)


def refused(content: bytes, name="list.csv", **kw) -> reading.FileProblem:
    with pytest.raises(reading.FileProblem) as exc:
        read(content, name, **kw)
    return exc.value


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_utf8_with_bom_and_comma():
    t = read("\ufeffName,Vendor\r\nCosmic,Cambio\r\nSectra PACS,Sectra\r\n".encode())
    assert (t.kind, t.encoding, t.delimiter) == ("csv", "utf-8", ",")
    assert t.headers == ["Name", "Vendor"]
    assert t.rows == [(2, ["Cosmic", "Cambio"]), (3, ["Sectra PACS", "Sectra"])]


def test_windows_1252_semicolon_keeps_swedish_letters():
    t = read("Namn;Förvaltning\r\nNationell patientöversikt;Hälso- och sjukvård\r\n".encode("cp1252"))
    assert (t.encoding, t.delimiter) == ("cp1252", ";")
    assert t.headers == ["Namn", "Förvaltning"]
    assert t.rows[0][1] == ["Nationell patientöversikt", "Hälso- och sjukvård"]


def test_tab_separated_and_utf16():
    t = read("Namn\tLeverantör\nCosmic\tCambio\n".encode("utf-16"))
    assert (t.encoding, t.delimiter) == ("utf-16", "\t")
    assert t.rows[0][1] == ["Cosmic", "Cambio"]


def test_quoted_fields_with_separators_quotes_and_line_breaks():
    data = 'Namn;Beskrivning\r\n"Citerat; med semikolon";"Sa ""hej""\r\npå två rader"\r\nB;x\r\n'.encode()
    t = read(data)
    assert t.rows[0] == (2, ["Citerat; med semikolon", 'Sa "hej"\r\npå två rader'])
    assert t.rows[1][0] == 3  # row numbers count records, as a spreadsheet shows them


def test_separator_and_encoding_can_be_chosen():
    data = "Namn,Leverantör;x\r\nA,B;c\r\n".encode("cp1252")
    t = read(data, encoding="cp1252", delimiter=";")
    assert t.headers == ["Namn,Leverantör", "x"]
    assert refused("Namn\nÅ\n".encode("utf-16-le"), encoding="utf-8").status in (415, 422)


def test_blank_rows_dropped_short_rows_padded_long_rows_kept():
    t = read(b"Namn;Lev\r\n\r\nA\r\nB;x;extra\r\n")
    assert t.headers == ["Namn", "Lev", "Kolumn 3"]
    assert t.rows == [(3, ["A", "", ""]), (4, ["B", "x", "extra"])]


def test_duplicate_and_empty_headers_get_unique_names():
    t = read(b"Namn;Namn;\r\nA;B;C\r\n")
    assert t.headers == ["Namn", "Namn (2)", "Kolumn 3"]


def test_xlsx_first_sheet_and_chosen_sheet():
    data = xlsx({"Systems": [["Namn", "Antal", "Kritisk"], ["Cosmic", 3.0, True]], "Other": [["Name"], ["Heroma"]]})
    t = read(data, "list.xlsx")
    assert (t.kind, t.sheet, t.sheets) == ("xlsx", "Systems", ["Systems", "Other"])
    assert t.rows == [(2, ["Cosmic", "3", "ja"])]
    assert read(data, "list.xlsx", sheet="Other").rows == [(2, ["Heroma"])]
    assert refused(data, "list.xlsx", sheet="Nope").fields


@pytest.mark.parametrize("content, status, code", [
    (b"", 422, "empty_file"),
    (b"\r\n \r\n", 422, "empty_file"),
    (bytes(range(256)) * 20, 415, "unsupported_file"),
    (b"MZ\x90\x00" * 100, 415, "unsupported_file"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, 415, "unsupported_file"),
    (b"%PDF-1.7\n", 415, "unsupported_file"),
    (b"PK\x03\x04notreallyazip", 422, "broken_xlsx"),
    (b"Namn;Leverantor\r\n", 422, "no_rows"),
])
def test_bad_files_are_refused(content, status, code):
    problem = refused(content)
    assert (problem.status, problem.code) == (status, code)


def test_zip_that_is_no_workbook_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    assert refused(buf.getvalue(), "x.xlsx").code == "broken_xlsx"


WORKBOOK_KEY = "Hemligt-1"  # the test workbook's password


def encrypted_xlsx(password: str = WORKBOOK_KEY) -> bytes:
    """A real password-protected workbook, as Excel writes it (ECMA-376 agile encryption in an OLE compound
    file), made with msoffcrypto-tool (a test-only dependency: pyproject's dev extra)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx({"System": [["Namn"], ["Cosmic"]]}))).encrypt(password, out)
    return out.getvalue()


def test_password_protected_xlsx_is_refused_with_a_clear_message():
    import msoffcrypto

    content = encrypted_xlsx()
    opened = msoffcrypto.OfficeFile(io.BytesIO(content))  # it is one: with the password it opens
    assert opened.is_encrypted()
    opened.load_key(password=WORKBOOK_KEY)
    plain = io.BytesIO()
    opened.decrypt(plain)
    assert read(plain.getvalue(), "open.xlsx").rows == [(2, ["Cosmic"])]
    for name in ("secret.xlsx", "secret.csv", "secret"):  # recognised by its content, whatever its name
        problem = refused(content, name)
        assert (problem.status, problem.code) == (422, "encrypted_xlsx")
        assert "password" in str(problem.message)
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls").status == 415


def bomb(size: int) -> bytes:
    """A workbook's zip whose sheet unpacks to ``size`` bytes of zeros (about 1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * size)
    return buf.getvalue()


def test_zip_bomb_is_refused_by_size_and_ratio():
    assert refused(bomb(6_000_000), "bomb.xlsx").code == "zip_bomb"  # unpacks beyond the limit
    assert refused(bomb(2_000_000), "bomb.xlsx").code == "zip_bomb"  # within it, but compressed 1000:1


def test_too_many_rows_and_too_many_bytes_are_413():
    rows = "Namn\r\n" + "".join(f"S{i}\r\n" for i in range(101))
    assert (refused(rows.encode()).status, refused(rows.encode()).code) == (413, "too_many_rows")
    assert refused(b"Namn\r\n" + b"x" * 1_000_001).status == 413
    wb = xlsx({"S": [["Namn"]] + [[f"S{i}"] for i in range(120)]})
    assert refused(wb, "big.xlsx").status == 413


def test_mapping_suggested_from_swedish_and_english_headers():
    headers = ["Systemnamn", "Leverantör", "Förvaltning", "Systemägare", "Beskrivning", "sys_id", "Kategori",
               "Övrigt"]
    assert mapping.suggest(headers) == {"Systemnamn": "name", "Leverantör": "supplier", "Förvaltning": "org_unit",
                                        "Systemägare": "system_owner", "Beskrivning": "description",
                                        "sys_id": "external_key", "Kategori": "criticality"}
    assert mapping.suggest(["u_system_name", "Vendor", "short_description", "owned_by"]) == {
        "u_system_name": "name", "Vendor": "supplier", "short_description": "description",
        "owned_by": "system_owner"}
    assert mapping.suggest(["Name", "Namn"])["Name"] == "name"  # one name column
    assert "name" not in mapping.suggest(["Foo", "Bar"]).values()


def test_explicit_mapping_is_checked():
    assert mapping.validate({"A": "name", "B": None, "C": ""}, ["A", "B", "C"]) == {"A": "name"}
    for bad in ({"X": "name"}, {"A": "colour"}, {"A": "supplier"}, {"A": "name", "B": "name"}):
        with pytest.raises(ValueError):
            mapping.validate(bad, ["A", "B"])


@pytest.mark.parametrize("field, text, value", [
    ("criticality", "Kategori B", "B"), ("criticality", "a", "A"), ("criticality", "X", None),
    ("lifecycle", "I drift", "in_operation"), ("lifecycle", "Avvecklad", "decommissioned"),
    ("lifecycle", "under avveckling", "being_decommissioned"), ("hosting", "SaaS", "saas"),
    ("hosting", "Egen drift", "own_datacentre"), ("personal_data", "Ja", "yes"), ("personal_data", "vet ej", "unknown"),
    ("priority_list", "x", True), ("priority_list", "Nej", False), ("system_owner", "Anna@Region.se", "anna@region.se"),
    ("system_owner", "Anna Andersson", None), ("aliases", "COSMIC; Cambio Cosmic", ["COSMIC", "Cambio Cosmic"]),
])
def test_cells_become_field_values(field, text, value):
    assert mapping.parse(field, text)[0] == value
