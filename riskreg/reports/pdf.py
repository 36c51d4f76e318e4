"""The coverage report as a PDF (reportlab), in Swedish: the date and the filters, the figures, the
charts (the same shapes as on the page, drawn with reportlab's graphics), the per-org-unit and
per-criticality tables, the SLA table; page numbers "Sida X av Y" on every page. The fonts are the DejaVu
Sans shipped in riskreg/fonts, embedded, so å, ä and ö print whatever the reader has installed."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing, Group, PolyLine, Rect, String
from reportlab.graphics.shapes import Line as RLine
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from riskreg.reports import charts as ch
from riskreg.reports import figures
from riskreg.reports.tables import Table

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
MARGIN = 15 * mm


@cache
def fonts() -> tuple[str, str]:
    for name, file in ((REGULAR, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    return REGULAR, BOLD


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=18, leading=22, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=regular, fontSize=9, leading=12, alignment=TA_LEFT),
        "small": ParagraphStyle(
            "small", fontName=regular, fontSize=8, leading=10, textColor=colors.HexColor(ch.MUTED)
        ),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=7, leading=8.5),
    }


def drawing(chart: ch.Chart, width: float) -> Drawing:
    """The chart's shapes in reportlab's graphics, scaled to ``width`` points (y runs upwards there)."""
    regular, bold = fonts()
    scale = min(width / chart.width, 1.0)
    group = Group()
    height = chart.height
    for item in chart.items:
        if isinstance(item, ch.Rect):
            group.add(
                Rect(
                    item.x,
                    height - item.y - item.h,
                    item.w,
                    item.h,
                    fillColor=colors.HexColor(item.fill),
                    strokeColor=colors.HexColor(item.stroke) if item.stroke else None,
                    strokeWidth=0.6 if item.stroke else 0,
                )
            )
        elif isinstance(item, ch.Text):
            group.add(
                String(
                    item.x,
                    height - item.y,
                    item.text,
                    fontName=bold if item.bold else regular,
                    fontSize=item.size,
                    fillColor=colors.HexColor(ch.INK if item.href else item.fill),
                    textAnchor=item.anchor,
                )
            )
        elif isinstance(item, ch.Line):
            group.add(
                RLine(
                    item.x1,
                    height - item.y1,
                    item.x2,
                    height - item.y2,
                    strokeColor=colors.HexColor(item.stroke),
                    strokeWidth=item.width,
                    strokeDashArray=[float(x) for x in item.dash.split()] if item.dash else None,
                )
            )
        elif isinstance(item, ch.Polyline):
            points = [v for x, y in item.points for v in (x, height - y)]
            group.add(
                PolyLine(
                    points,
                    strokeColor=colors.HexColor(item.stroke),
                    strokeWidth=item.width,
                    strokeDashArray=[float(x) for x in item.dash.split()] if item.dash else None,
                )
            )
    group.scale(scale, scale)
    d = Drawing(chart.width * scale, chart.height * scale)
    d.add(group)
    return d


def _table(
    data: list[list], widths: list[float] | None, header_rows: int = 1, numeric_from: int = 1
) -> LongTable:
    regular, bold = fonts()
    t = LongTable(data, colWidths=widths, repeatRows=header_rows)
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 7),
                ("FONT", (0, 0), (-1, header_rows - 1), bold, 7),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.6, colors.HexColor(ch.INK)),
                ("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, colors.HexColor("#f3f5f8")]),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


class NumberedCanvas(rl_canvas.Canvas):
    """Draws "Sida X av Y" and the report's date on every page once the number of pages is known."""

    footer = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            regular, _bold = fonts()
            self.setFont(regular, 7.5)
            self.setFillColor(colors.HexColor(ch.MUTED))
            self.drawString(MARGIN, 9 * mm, self.footer)
            self.drawRightString(
                A4[0] - MARGIN, 9 * mm, _("Page %(page)s of %(pages)s", page=self._pageNumber, pages=total)
            )
            super().showPage()
        super().save()


def coverage_pdf(
    cov: dict, charts: dict[str, ch.Chart], tables: list[Table], head: list[tuple[str, str]]
) -> bytes:
    """The PDF, as bytes."""
    st = _styles()
    width = A4[0] - 2 * MARGIN
    when = format_date(_date(cov["today"]), "long")
    story: list = [
        Paragraph(_("Coverage report"), st["title"]),
        Paragraph(
            _(
                "Information security: classification, risk analysis and approval to operate. "
                "Date: %(date)s.",
                date=when,
            ),
            st["body"],
        ),
        Paragraph(" · ".join(f"<b>{_esc(k)}:</b> {_esc(v)}" for k, v in head), st["body"]),
        Spacer(1, 4),
    ]
    base = cov["population"]
    for group_label, keys in figures.GROUPS:
        keys = [k for k in keys if figures.shown(k, cov["filters"]["lifecycle"])]
        rows = [
            [
                figures.label(k),
                str(cov[k]),
                figures.share(cov[k], base) if k in figures.SHARE_OF_POPULATION else "",
            ]
            for k in keys
        ]
        rows = [
            r + ([str(cov[figures.ITEM_COUNTS[k]])] if k in figures.ITEM_COUNTS else [""])
            for r, k in zip(rows, keys, strict=True)
        ]
        data = [[str(group_label), _("Systems"), _("Share"), _("Items")], *rows]
        story.append(KeepTogether([_table(data, [width * 0.55, width * 0.15, width * 0.15, width * 0.15])]))
        story.append(Spacer(1, 5))
    for key in ("funnel", "units", "criticality", "heatmap", "sla", "progress"):
        chart = charts[key]
        d = drawing(chart, width)
        story.append(CondPageBreak(d.height + 40))
        story.append(
            KeepTogether(
                [Paragraph(_esc(chart.title), st["h2"]), d, Paragraph(_esc(chart.desc), st["small"])]
            )
        )
    by_key = {t.key: t for t in tables}
    story.append(Paragraph(_("Per org unit"), st["h2"]))
    cols = figures.TABLE_COLUMNS
    unit_rows = [
        [Paragraph(_esc(u["name"]), st["cell"]), *[str(u[k]) for k in cols]] for u in cov["by_org_unit"]
    ]
    unit_rows.append(
        [Paragraph("<b>" + _esc(_("All org units")) + "</b>", st["cell"]), *[str(cov[k]) for k in cols]]
    )

    def header(first: str) -> list:
        return [
            Paragraph("<b>" + _esc(x) + "</b>", st["cell"])
            for x in [first, *[figures.short(k) for k in cols]]
        ]

    narrow = (width - 34 * mm) / len(cols)
    story.append(_table([header(_("Org unit")), *unit_rows], [34 * mm] + [narrow] * len(cols)))
    story.append(CondPageBreak(60 * mm))
    story.append(Paragraph(_("Per criticality"), st["h2"]))
    crit_rows = [
        [c["criticality"] or _("No criticality"), *[str(c[k]) for k in cols]] for c in cov["by_criticality"]
    ]
    story.append(
        _table(
            [header(_("Criticality")), *crit_rows, [_("All"), *[str(cov[k]) for k in cols]]],
            [34 * mm] + [narrow] * len(cols),
        )
    )
    sla = by_key["sla"]
    story.append(CondPageBreak(70 * mm))
    story.append(Paragraph(sla.title, st["h2"]))
    story.append(
        _table(
            [
                [Paragraph("<b>" + _esc(h) + "</b>", st["cell"]) for h in sla.header],
                *[
                    [
                        "" if v is None else str(v).replace(".", ",") if isinstance(v, float) else str(v)
                        for v in row
                    ]
                    for row in sla.rows
                ],
            ],
            [width / len(sla.header)] * len(sla.header),
        )
    )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=_("Coverage report"),
        author="riskreg",
        subject=_("Coverage report"),
        lang="sv",
    )
    canvas_class = type(
        "ReportCanvas", (NumberedCanvas,), {"footer": _("riskreg · Coverage report · %(date)s", date=when)}
    )
    doc.build(story, canvasmaker=canvas_class)
    return buf.getvalue()


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(iso: str):
    from datetime import date

    return date.fromisoformat(iso)
