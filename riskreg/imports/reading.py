"""Reading an uploaded list: CSV (encoding and separator detected, or as chosen) or XLSX (first sheet, or
a chosen one), with limits on bytes, rows and — for XLSX, a zip file — uncompressed size and ratio.

Every problem raises ``FileProblem`` with an HTTP status, a machine code and an English message id; the
service turns it into the API's error shape. Nothing is written anywhere here."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l

ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "iso-8859-1", "utf-16")
DELIMITERS = {";": ";", ",": ",", "\t": "\t", "tab": "\t", "|": "|"}
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}

# Magic numbers of things that are certainly not a list of systems.
FOREIGN = [
    (b"MZ", _l("a Windows program")), (b"\x7fELF", _l("a program")), (b"\xca\xfe\xba\xbe", _l("a program")),
    (b"\xcf\xfa\xed\xfe", _l("a program")), (b"#!", _l("a script")), (b"%PDF", _l("a PDF document")),
    (b"\x89PNG", _l("an image")), (b"\xff\xd8\xff", _l("an image")), (b"GIF8", _l("an image")),
    (b"\x1f\x8b", _l("a compressed archive")), (b"Rar!", _l("a compressed archive")),
    (b"7z\xbc\xaf", _l("a compressed archive")), (b"BZh", _l("a compressed archive")), (b"\x00asm", _l("a program")),
    (b"<?php", _l("a script")),
]
CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: old .xls, or an encrypted .xlsx


class FileProblem(Exception):
    def __init__(self, status: int, code: str, message, fields: dict | None = None):
        super().__init__(str(message))
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


@dataclass
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 50_000
    xlsx_max_uncompressed: int = 100 * 1024 * 1024
    xlsx_max_ratio: float = 100.0
    max_columns: int = 200
    max_cell: int = 10_000


@dataclass
class Table:
    kind: str  # csv / xlsx
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, 1 = the header; cells as text)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)


def read(content: bytes, filename: str, limits: Limits, *, encoding: str | None = None,
         delimiter: str | None = None, sheet: str | None = None) -> Table:
    """Read a file into a header and rows. Raises FileProblem."""
    if len(content) > limits.max_bytes:
        raise FileProblem(413, "too_large", _l("The file is larger than %(mb)s MB.", mb=limits.max_bytes // 2**20))
    if not content.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise FileProblem(422, "empty_file", _l("The file is empty."))
    if content.startswith(b"PK\x03\x04") or content.startswith(b"PK\x05\x06"):
        table = _read_xlsx(content, limits, sheet)
    elif content.startswith(CFB):
        if "EncryptedPackage".encode("utf-16-le") in content:
            raise FileProblem(422, "encrypted_xlsx", _l("The workbook is protected with a password. Save it "
                                                        "without a password and upload it again."))
        raise FileProblem(415, "unsupported_file", _l("This is an old Excel file (.xls). Save it as .xlsx or "
                                                      "CSV and upload it again."))
    else:
        for magic, what in FOREIGN:
            if content.startswith(magic):
                raise FileProblem(415, "unsupported_file", _l("The file is %(what)s, not a CSV or XLSX list.",
                                                              what=what))
        table = _read_csv(content, limits, encoding, delimiter)
    return _finish(table, limits)


# ------------------------------------------------------------------ CSV


def _decode(content: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        enc = encoding.lower()
        if enc not in ENCODINGS:
            raise FileProblem(422, "invalid", _l("Unknown encoding."), {"encoding": [_l("Use one of: %(list)s",
                                                                                        list=", ".join(ENCODINGS))]})
        try:
            return content.decode("utf-8-sig" if enc == "utf-8" else enc), enc
        except UnicodeDecodeError as exc:
            raise FileProblem(422, "wrong_encoding", _l("The file cannot be read as %(enc)s.", enc=enc)) from exc
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileProblem(415, "unsupported_file", _l("The file is not text.")) from exc
    _refuse_binary(content)
    try:
        return content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:  # bytes cp1252 does not define: not a Windows text file either
        raise FileProblem(415, "unsupported_file", _l("The file is not a text (CSV) file.")) from exc


def _refuse_binary(content: bytes) -> None:
    sample = content[:65536]
    if b"\x00" in sample:
        raise FileProblem(415, "unsupported_file", _l("The file is binary, not a CSV or XLSX list."))
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if control > max(2, len(sample) // 200):
        raise FileProblem(415, "unsupported_file", _l("The file is binary, not a CSV or XLSX list."))


def sniff_delimiter(text: str) -> str:
    """The separator that splits the header into several columns and the rows most consistently so."""
    sample = text[:65536]
    if len(text) > 65536 and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    best, best_key = ";", (-1.0, 0)
    for delim in (";", ",", "\t", "|"):
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delim) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        rows = rows[:200]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        score = sum((len(r) == width) + 0.5 * (len(r) > 1) for r in body) / len(body)
        if (score, width) > best_key:
            best, best_key = delim, (score, width)
    return best


def _read_csv(content: bytes, limits: Limits, encoding: str | None, delimiter: str | None) -> Table:
    text, enc = _decode(content, encoding)
    if delimiter:
        if delimiter not in DELIMITERS:
            raise FileProblem(422, "invalid", _l("Unknown separator."),
                              {"delimiter": [_l("Use ; , tab or |.")]})
        delim = DELIMITERS[delimiter]
    else:
        delim = sniff_delimiter(text)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    try:
        for number, cells in enumerate(reader, start=1):
            rows.append((number, cells))
            if len(rows) > limits.max_rows + 1:
                raise FileProblem(413, "too_many_rows", _l("The list has more than %(n)s rows.", n=limits.max_rows))
    except csv.Error as exc:
        raise FileProblem(422, "unreadable_csv", _l("The CSV file cannot be read: %(why)s", why=str(exc))) from exc
    return Table("csv", [], rows, encoding=enc, delimiter=delim)


# ------------------------------------------------------------------ XLSX


def _check_zip(content: bytes, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise FileProblem(422, "broken_xlsx", _l("The XLSX file is damaged and cannot be opened.")) from exc
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        raise FileProblem(422, "broken_xlsx", _l("The file is a zip archive but not an Excel workbook (XLSX)."))
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if len(infos) > 10_000 or total > limits.xlsx_max_uncompressed:
        raise FileProblem(413, "zip_bomb", _l("The workbook unpacks to more than %(mb)s MB.",
                                              mb=limits.xlsx_max_uncompressed // 2**20))
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > 1_000_000), default=0)
    if total / packed > limits.xlsx_max_ratio or worst > limits.xlsx_max_ratio * 2:
        raise FileProblem(413, "zip_bomb", _l("The workbook is compressed suspiciously much (more than %(r)s to 1); "
                                              "it is refused as a possible zip bomb.", r=int(limits.xlsx_max_ratio)))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _read_xlsx(content: bytes, limits: Limits, sheet: str | None) -> Table:
    _check_zip(content, limits)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise FileProblem(422, "broken_xlsx", _l("The XLSX file is damaged and cannot be opened.")) from exc
    try:
        names = list(wb.sheetnames)
        if sheet:
            if sheet not in names:
                raise FileProblem(422, "invalid", _l("The workbook has no sheet of that name."),
                                  {"sheet": [_l("Sheets: %(names)s", names=", ".join(names))]})
            ws = wb[sheet]
        else:
            ws = wb[names[0]] if names else None
        if ws is None:
            raise FileProblem(422, "empty_file", _l("The workbook has no sheets."))
        rows: list[tuple[int, list[str]]] = []
        try:
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if len(values) > limits.max_columns:
                    values = values[: limits.max_columns]
                rows.append((number, [_cell_text(v) for v in values]))
                if len(rows) > limits.max_rows + 1:
                    raise FileProblem(413, "too_many_rows", _l("The list has more than %(n)s rows.",
                                                               n=limits.max_rows))
        except FileProblem:
            raise
        except Exception as exc:  # noqa: BLE001
            raise FileProblem(422, "broken_xlsx", _l("The XLSX file is damaged and cannot be read.")) from exc
        return Table("xlsx", [], rows, sheet=ws.title, sheets=names)
    finally:
        wb.close()


def sheet_names(content: bytes | None, limits: Limits | None = None) -> list[str]:
    """The sheets of a workbook, in the workbook's order; [] for anything that is not a readable XLSX (a CSV
    file, a damaged workbook). Cheap: openpyxl's read-only mode reads the workbook's index, not its cells."""
    if not content or not content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return []
    try:
        _check_zip(content, limits or Limits())
    except FileProblem:
        return []
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        return []
    try:
        return [str(name) for name in wb.sheetnames]
    finally:
        wb.close()


# ------------------------------------------------------------------ header and rows


def _finish(table: Table, limits: Limits) -> Table:
    """The first row with content is the header; fully empty rows are dropped, every other row is kept."""
    rows = [(n, cells) for n, cells in table.rows if any(c.strip() for c in cells)]
    if not rows:
        raise FileProblem(422, "empty_file", _l("The file holds no rows."))
    header_no, header = rows[0]
    data = rows[1:]
    if not data:
        raise FileProblem(422, "no_rows", _l("The file has a header row but no data rows."))
    width = max(len(header), max(len(c) for _, c in data))
    if width > limits.max_columns:
        raise FileProblem(422, "too_many_columns", _l("The list has more than %(n)s columns.", n=limits.max_columns))
    headers: list[str] = []
    for i in range(width):
        name = header[i].strip() if i < len(header) else ""
        name = name.lstrip("\ufeff")[:100] or f"Kolumn {i + 1}"
        base, n = name, 2
        while name in headers:
            name = f"{base} ({n})"
            n += 1
        headers.append(name)
    out = []
    for number, cells in data:
        cells = [c[: limits.max_cell] for c in cells] + [""] * (width - len(cells))
        out.append((number, cells))
    table.headers, table.rows = headers, out
    if len(out) > limits.max_rows:
        raise FileProblem(413, "too_many_rows", _l("The list has more than %(n)s rows.", n=limits.max_rows))
    if not _looks_like_text(headers, out):
        raise FileProblem(415, "unsupported_file", _l("The file does not look like a list (CSV or XLSX)."))
    return table


def _looks_like_text(headers: list[str], rows: list[tuple[int, list[str]]]) -> bool:
    """Refuse what decoded but is no list: mostly unprintable or replacement characters."""
    sample = "".join(headers) + "".join("".join(c) for _, c in rows[:200])
    if not sample:
        return False
    bad = sum(1 for ch in sample if ch == "\ufffd" or (not ch.isprintable() and ch not in "\r\n\t"))
    return bad <= len(sample) * 0.02
