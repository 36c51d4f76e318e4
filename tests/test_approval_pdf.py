"""The approval PDF: its text (reference, system, å/ä/ö, conditions, accepted risks, checksum, page
numbers), embedded fonts, the QR code's link, a page rendered to PNG, and the batch print."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from riskreg.services import approval_prints
from tests.approval_support import World
from tests.conftest import TODAY, actor

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "approvals"


def text_of(pdf: bytes) -> tuple[str, list[str]]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = [p.extract_text() or "" for p in reader.pages]
    return "\n".join(pages), pages


@pytest.fixture
def decided(make, db_session, app):
    world = World(make, db_session)
    approval = world.approved(
        valid_until=TODAY + timedelta(days=700),
        motivation="Godtagbart för vårdens behov; åtgärder pågår.",
        conditions=[
            {
                "text": "Offline-rutin övas på akutmottagningen",
                "due_on": TODAY + timedelta(days=90),
                "responsible_id": world.owner.id,
            },
            {"text": "Logguppföljning införs", "due_on": TODAY + timedelta(days=180)},
        ],
    )
    return world, approval


def test_pdf_holds_everything_the_decision_says(decided, app):
    world, approval = decided
    pdf = approval_prints.approval_pdf(approval)
    assert pdf[:5] == b"%PDF-"
    text, pages = text_of(pdf)
    flat = " ".join(text.split())
    assert "Beslut om driftgodkännande" in flat
    assert approval.reference in flat and "Journalsystemet Åäö" in flat
    assert "Godkänt med villkor" in flat
    assert "Offline-rutin övas på akutmottagningen" in flat and "Logguppföljning införs" in flat
    assert "Sara Systemägare" in flat and "Åsa Öberg-Riskägare" in flat
    assert (
        "Ransomware slår ut driften" in flat and "Reservrutiner finns." in flat
    )  # accepted, with motivation
    assert "3-3-2" in flat and "Inga invändningar" in flat and "99.5 %" in flat
    assert "Kontrollsumma (SHA-256)" in flat
    dense = "".join(text.split())
    assert approval.content_sha256 in dense
    assert (TODAY + timedelta(days=700)).isoformat() in flat
    n = len(pages)
    for i, page in enumerate(pages, start=1):
        assert f"Sida {i} av {n}" in page
        assert approval.content_sha256 in "".join(page.split())


def test_pdf_embeds_its_fonts(decided, app):
    _world, approval = decided
    reader = pypdf.PdfReader(io.BytesIO(approval_prints.approval_pdf(approval)))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts and all("DejaVuSans" in name for name in fonts)
    for font in fonts.values():
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # the TrueType program is in the file


def test_pdf_qr_code_points_to_verify(decided, app):
    _world, approval = decided
    item = approval_prints.printable(approval)
    assert item.verify_url == f"{app.config['BASE_URL']}/verify/{approval.reference}"
    assert item.verify_url in " ".join(text_of(approval_prints.approval_pdf(approval))[0].split())
    raw = approval_prints.approval_pdf(approval)
    assert b"/Subtype /Image" not in raw  # the QR code is drawn as vectors, not pasted as a picture


def test_first_page_renders_to_png(decided, app):
    _world, approval = decided
    pdf = approval_prints.approval_pdf(approval)
    doc = pypdfium2.PdfDocument(pdf)
    image = doc[0].render(scale=1.5).to_pil()
    assert image.size[0] > 800 and image.size[1] > 1100
    extrema = image.convert("L").getextrema()
    assert extrema[0] < 50 and extrema[1] > 240  # ink on paper, not a blank page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / f"approval-page1-{app.config['BACKEND']}.png")
    last = doc[len(doc) - 1].render(scale=1.5).to_pil()
    last.save(ARTIFACTS / f"approval-last-page-{app.config['BACKEND']}.png")


def test_revoked_decision_prints_the_revocation(decided, app):
    from riskreg.services import approvals

    world, approval = decided
    approvals.revoke(world.s, actor(world.risk_owner), approval.id, motivation="Allvarliga brister i driften")
    text, _pages = text_of(approval_prints.approval_pdf(approval))
    assert "återkallades" in text and "Allvarliga brister i driften" in " ".join(text.split())


def test_rejection_prints_without_validity(make, db_session, app):
    world = World(make, db_session)
    world.ready()
    world.request()
    approval = world.decide(decision="rejected", motivation="Oacceptabla risker")
    flat = " ".join(text_of(approval_prints.approval_pdf(approval))[0].split())
    assert "Ej godkänt" in flat and "avvecklas" in flat and "Beslutet har inga villkor." in flat


def test_batch_print_numbers_pages_per_decision(make, db_session, app):
    decisions = []
    for n in range(3):
        world = World(make, db_session, name=f"Batchsystem {n} Öland")
        decisions.append(world.approved())
    done = []
    items = approval_prints.load_printables(db_session, [a.id for a in decisions])
    pdf = approval_prints.render(items, progress=done.append)
    assert done == [1, 2, 3]
    text, pages = text_of(pdf)
    refs = [a.reference for a in decisions]
    starts = [i for i, p in enumerate(pages) if "Sida 1 av" in p]
    assert len(starts) == 3
    for start, ref in zip(starts, refs, strict=True):
        total = int(re.search(r"Sida 1 av (\d+)", pages[start]).group(1))
        for k in range(total):
            assert ref in pages[start + k] and f"Sida {k + 1} av {total}" in pages[start + k]


def test_a_thin_snapshot_still_prints(app):
    """A decision whose snapshot holds little (an import, an older format) prints from its own columns."""
    from riskreg.pdf import Printable, render

    item = Printable(
        reference="DG-2025-0007",
        snapshot={
            "system": {"id": 1, "name": "Äldre system"},
            "classification": {"id": 3, "profile": "2-2-1"},
        },
        content_sha256="ab" * 32,
        verify_url="http://x/verify/DG-2025-0007",
        facts={
            "decision": "approved",
            "decided_at": "2025-03-01T10:00:00+00:00",
            "valid_until": "2028-03-01",
            "motivation": "Ok",
            "confidentiality": 2,
            "integrity": 2,
            "availability": 1,
        },
    )
    flat = " ".join(text_of(render([item]))[0].split())
    assert "Äldre system" in flat and "2028-03-01" in flat and "Godkänt" in flat and "2-2-1" in flat
    assert "Ingen fastställd riskanalys." in flat
