"""CSV and XLSX writers. Every text cell that a spreadsheet would run as a formula (it starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is neutralised: in CSV it gets a leading apostrophe (OWASP's
advice); in XLSX it is stored as text with Excel's quote prefix, so it shows as written but is never a
formula.
CSV is UTF-8 with a byte-order mark and semicolons, as Swedish Excel expects (a comma on request).

The systems list can hold 100,000 rows: ``stream_csv`` and ``stream_xlsx`` write it chunk by chunk as it is
read from the database, so neither the file nor the rows are ever whole in memory. The coverage workbook
is small and made with openpyxl (one sheet per table)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from riskreg.reports.tables import Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARS = "=+-@\t\r"
BOM = "\ufeff"
DELIMITERS = {";": ";", ",": ",", "semicolon": ";", "comma": ","}


def is_risky(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def neutralise(value: object) -> object:
    """A CSV cell: text that would start a formula gets a leading apostrophe."""
    return "'" + value if is_risky(value) else value  # type: ignore[operator]


def plain(value: object) -> object:
    """A cell as CSV/XLSX take it: dates as ISO text, decimals as floats, booleans kept."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """XML (and so XLSX) cannot hold most control characters (nor lone surrogates): they are dropped."""
    return _ILLEGAL.sub("", text)


# ---------------------------------------------------------------------- CSV


def _csv_line(cells: Iterable, delimiter: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerow(
        ["" if c is None else neutralise(plain(c)) for c in cells]
    )
    return buf.getvalue()


def tables_csv(head: list[list], tables: list[Table], delimiter: str = ";") -> bytes:
    """Several tables in one CSV: a head (title, date, filters), then each table with its title above it
    and an empty line between."""
    out = [BOM]
    out += [_csv_line(row, delimiter) for row in head]
    for table in tables:
        out.append("\r\n")
        out.append(_csv_line([table.title], delimiter))
        out.append(_csv_line(table.header, delimiter))
        out += [_csv_line(row, delimiter) for row in table.rows]
    return "".join(out).encode("utf-8")


def stream_csv(header: list[str], chunks: Iterable[list[list]], delimiter: str = ";") -> Iterator[bytes]:
    yield (BOM + _csv_line(header, delimiter)).encode("utf-8")
    for rows in chunks:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
        writer.writerows(
            [
                ["" if c is None else neutralise(c if type(c) in (str, int) else plain(c)) for c in row]
                for row in rows
            ]
        )
        yield buf.getvalue().encode("utf-8")


# ---------------------------------------------------------------------- XLSX (openpyxl)


def sheet_title(title: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Blad"
    base, n = name, 2
    while name in taken:
        suffix = f" {n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def tables_xlsx(head: list[list], tables: list[Table]) -> bytes:
    """One sheet per table (the head above the first); header rows bold and frozen."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for i, table in enumerate(tables):
        ws = wb.create_sheet(sheet_title(table.sheet or table.title, taken))
        rows = ([*head, []] if i == 0 else []) + [[table.title], table.header, *table.rows]
        header_row = len(rows) - len(table.rows)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                set_cell(cell, value)
                if r == header_row or (r == header_row - 1 and c == 1):
                    cell.font = bold
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        for c in range(1, max((len(r) for r in rows), default=1) + 1):
            ws.column_dimensions[get_column_letter(c)].width = 34 if c == 1 else 14
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def set_cell(cell, value: object) -> None:
    value = plain(value)
    if isinstance(value, str):
        value = xml_safe(value)
    cell.value = value
    if is_risky(value):
        cell.data_type = "s"  # openpyxl took it for a formula
        cell.quotePrefix = True


# ---------------------------------------------------------------------- XLSX (streamed)

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
    ' Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"'
    ' Target="styles.xml"/></Relationships>'
)
# Cell styles: 0 plain, 1 bold (the header), 2 text with the quote prefix (a neutralised formula).
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(sheet: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet_title(sheet, set()), {chr(34): "&quot;"})}" '
        'sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>"
    )


_NEEDS_CARE = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    if _NEEDS_CARE.search(text) is None:  # the common case, checked in one pass
        return text
    return escape(xml_safe(text), {"\r": "&#13;"})  # a carriage return kept as written (XML reads it as \n)


def _xml_row(cells: list, header: bool = False) -> str:
    """A ``<row>``: cells without references (each ``<c>`` is the next column; an empty one is ``<c/>``).
    Written for speed: a 100,000-row export writes two million of these cells."""
    out = ["<row>"]
    add = out.append
    for value in cells:
        kind = type(value)
        if value is not None and kind not in (str, int, float, bool):
            value = plain(value)
            value = value if type(value) in (int, float, bool) else str(value)
            kind = type(value)
        if kind is str:
            if not value:
                add("<c/>")
                continue
            text = _xml_text(value)
            space = ' xml:space="preserve"' if text[:1] == " " or text[-1:] == " " else ""
            risky = (
                value[0] in FORMULA_CHARS or text[:1] in FORMULA_CHARS
            )  # (the text may have lost a control character)
            style = ' s="1"' if header else ' s="2"' if risky else ""
            add(f'<c t="inlineStr"{style}><is><t{space}>{text}</t></is></c>')
        elif value is None:
            add("<c/>")
        elif kind is bool:
            add('<c t="b"><v>1</v></c>' if value else '<c t="b"><v>0</v></c>')
        else:
            add(f"<c><v>{value}</v></c>")
    add("</row>")
    return "".join(out)


class _Sink:
    """A write-only stream the zip is written into; what it holds is handed on and forgotten."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def stream_xlsx(sheet: str, header: list[str], chunks: Iterable[list[list]]) -> Iterator[bytes]:
    """A one-sheet workbook written as the rows come (inline strings, no shared-string table)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", _workbook(sheet))
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                b'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
            )
            part.write(_xml_row(header, header=True).encode())
            for rows in chunks:
                part.write("".join([_xml_row(row) for row in rows]).encode("utf-8"))
                yield sink.take()
            part.write(b"</sheetData></worksheet>")
    yield sink.take()
