"""PDF output of decisions (reportlab): one *Beslut om driftgodkännande*, or many as one file.

``render(items)`` lays the decisions out one after the other, each starting on a new page; the page
header names the decision, the footer says "Sida X av N" counted within that decision and prints its
SHA-256, so each printed decision stands on its own, also in a batch."""

from __future__ import annotations

import io
from collections.abc import Callable

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import SimpleDocTemplate

from riskreg.pdf.approval import PAGE, Printable, story
from riskreg.pdf.fonts import register

__all__ = ["Printable", "render"]

MARGIN = 20 * mm
# Streams are deflated but not ASCII85-armoured: smaller files, and a large batch lays out much faster
# (reportlab's pure-Python ASCII85 encoder is slow without the optional C accelerator).
rl_config.useA85 = 0


class NumberedCanvas(pdfcanvas.Canvas):
    """Holds the pages of the decision being laid out; when the next decision starts (or the file ends) it
    knows their count, draws header and footer ("Sida X av N", the checksum) and writes them out. So page
    numbers count within each decision, and a batch of hundreds needs no more memory than one decision."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rr_pages: list[dict] = []
        self._rr_doc: tuple[str, str] = ("", "")

    def begin_document(self, reference: str, sha: str) -> None:
        """A decision starts on this page (``DocumentMark``): the previous decision's pages go out."""
        self._flush(keep_current=True)
        self._rr_doc = (reference, sha)

    def showPage(self):  # noqa: N802 - reportlab's name
        state = dict(self.__dict__)
        state["_rr_page_doc"] = self._rr_doc
        self._rr_pages.append(state)
        self._startPage()

    def save(self):
        self._flush(keep_current=False)
        super().save()

    def _flush(self, keep_current: bool) -> None:
        """Write out the held pages, decorated. Mid-page (a decision starting) the page under way is put
        back afterwards, as reportlab's own "page X of Y" recipe does for every page at the end."""
        pages, self._rr_pages = self._rr_pages, []
        if not pages:
            return
        current = dict(self.__dict__) if keep_current else None
        for number, state in enumerate(pages, start=1):
            self.__dict__.update(state)
            self._decorate(*state["_rr_page_doc"], number, len(pages))
            super().showPage()
        if current is not None:
            self.__dict__.update(current)
        self._rr_pages = []

    def _decorate(self, reference: str, sha: str, page: int, total: int) -> None:
        regular, bold = register()
        width, height = PAGE
        self.saveState()
        self.setStrokeColor(colors.HexColor("#1a3a5c"))
        self.setLineWidth(0.6)
        self.line(MARGIN, height - 14 * mm, width - MARGIN, height - 14 * mm)
        self.setFont(bold, 8.5)
        self.drawString(MARGIN, height - 12.5 * mm, "Beslut om driftgodkännande")
        self.setFont(regular, 8.5)
        self.drawRightString(width - MARGIN, height - 12.5 * mm, f"Diarienummer {reference}")
        self.line(MARGIN, 15 * mm, width - MARGIN, 15 * mm)
        self.setFont(regular, 7)
        self.drawString(MARGIN, 11 * mm, f"SHA-256 {sha}")
        self.setFont(regular, 8.5)
        self.drawRightString(width - MARGIN, 11 * mm, f"Sida {page} av {total}")
        self.restoreState()


def render(items: list[Printable], progress: Callable[[int], None] | None = None) -> bytes:
    """The decisions as one PDF (A4, fonts embedded). ``progress(n)`` is told as decisions are laid out."""
    regular, _bold = register()
    buffer = io.BytesIO()
    title = items[0].reference if len(items) == 1 else f"{len(items)} beslut om driftgodkännande"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Beslut om driftgodkännande {title}",
        author="riskreg",
        subject="Beslut om driftgodkännande",
        lang="sv",
        initialFontName=regular,
        initialFontSize=9.5,
    )
    flow = story(items)
    if progress is not None:
        flow = _with_progress(flow, progress)
    doc.build(flow, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def _with_progress(flow: list, progress: Callable[[int], None]) -> list:
    from riskreg.pdf.approval import DocumentMark

    class Tick(DocumentMark):
        def draw(self):
            super().draw()
            progress(self.n)

    out, n = [], 0
    for f in flow:
        if isinstance(f, DocumentMark):
            n += 1
            tick = Tick(f.reference, f.sha)
            tick.n = n
            out.append(tick)
        else:
            out.append(f)
    return out
