"""*Beslut om driftgodkännande* as PDF (A4, reportlab), printed from the decision's frozen snapshot so a
copy always shows exactly what was decided; the footer carries "Sida X av N" and the SHA-256 of the
decision's content, the last section a QR code to ``/verify/<reference>``.

The document is a Swedish record whatever language the reader's user interface speaks, so its text is
Swedish here (like a form), while the scales' labels come from configuration (DESIGN.md, "Scales")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from riskreg.pdf.fonts import register
from riskreg.services.approval_snapshot import setting

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DECISIONS = {
    "approved": "Godkänt",
    "approved_with_conditions": "Godkänt med villkor",
    "rejected": "Ej godkänt",
}
HOSTING = {"own_datacentre": "Egen datahall", "external_operations": "Extern drift", "saas": "SaaS"}
LIFECYCLE = {
    "planned": "Planerad",
    "in_operation": "I drift",
    "being_decommissioned": "Under avveckling",
    "decommissioned": "Avvecklad",
}
PERSONAL = {"yes": "Ja", "no": "Nej", "unknown": "Okänt"}
ASPECTS = {"K": "Konfidentialitet", "R": "Riktighet", "T": "Tillgänglighet"}
CRITERIA = {
    "evaluation_scoring": "Utvärdering eller poängsättning",
    "automated_decision": "Automatiserade beslut",
    "systematic_monitoring": "Systematisk övervakning",
    "sensitive_data": "Känsliga eller mycket personliga uppgifter",
    "large_scale": "Behandling i stor omfattning",
    "matching_datasets": "Matchning eller sammanförande av register",
    "vulnerable_subjects": "Sårbara registrerade",
    "innovative_technology": "Innovativ teknik",
    "prevents_rights": "Hindrar de registrerade att utöva en rättighet",
}
OPINION_MAX = 700
TOP_RISKS = 5


@dataclass
class Printable:
    """One decision to print: its snapshot and checksum, whether it has been revoked, and where to verify.
    ``facts`` are the decision's own columns, used where a snapshot lacks something (e.g. one written by
    an import or an older format)."""

    reference: str
    snapshot: dict
    content_sha256: str
    verify_url: str
    revoked: dict | None = None  # {"at": datetime, "motivation": str} when revoked
    facts: dict | None = None


def normalise(item: Printable) -> dict:
    """The snapshot with every part the document prints present (missing parts become empty)."""
    snap = dict(item.snapshot or {})
    for key, value in (item.facts or {}).items():
        if snap.get(key) in (None, ""):
            snap[key] = value
    snap["system"] = {"name": "–", **(snap.get("system") if isinstance(snap.get("system"), dict) else {})}
    levels = ("confidentiality", "integrity", "availability")
    c = snap.get("classification")
    if not isinstance(c, dict) or not all(k in c for k in levels):
        facts = item.facts or {}
        c = (
            {
                "number": "–",
                "profile": "-".join(str(facts[k]) for k in levels),
                **{k: facts[k] for k in levels},
            }
            if all(k in facts for k in levels)
            else None
        )
    snap["classification"] = c
    ra = snap.get("risk_analysis")
    snap["risk_analysis"] = ra if isinstance(ra, dict) and isinstance(ra.get("risks"), list) else None
    for key in ("screening", "dpia", "sla"):
        if not isinstance(snap.get(key), dict):
            snap[key] = None
    for key in ("conditions", "accepted_risks"):
        if not isinstance(snap.get(key), list):
            snap[key] = []
    return snap


class Styles:
    def __init__(self) -> None:
        regular, bold = register()
        self.body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8.5, leading=10.5)
        self.cell_bold = ParagraphStyle("cellb", parent=self.cell, fontName=bold)
        self.title = ParagraphStyle(
            "title", parent=self.body, fontName=bold, fontSize=17, leading=21, spaceAfter=2
        )
        self.subtitle = ParagraphStyle("subtitle", parent=self.body, fontSize=12, leading=15, spaceAfter=6)
        self.h2 = ParagraphStyle(
            "h2",
            parent=self.body,
            fontName=bold,
            fontSize=11.5,
            leading=14,
            spaceBefore=9,
            spaceAfter=4,
            textColor=colors.HexColor("#1a3a5c"),
        )
        self.decision = ParagraphStyle("decision", parent=self.body, fontName=bold, fontSize=13, leading=16)
        self.banner = ParagraphStyle(
            "banner",
            parent=self.body,
            fontName=bold,
            fontSize=11,
            leading=14,
            textColor=colors.white,
            backColor=colors.HexColor("#c62828"),
            borderPadding=5,
            alignment=TA_CENTER,
        )
        self.center = ParagraphStyle("center", parent=self.cell, alignment=TA_CENTER)
        self.fonts = (regular, bold)


_STYLES: Styles | None = None


def styles() -> Styles:
    global _STYLES
    if _STYLES is None:
        _STYLES = Styles()
    return _STYLES


def text(value) -> str:
    """User text made safe for reportlab's paragraph markup (line breaks kept)."""
    if value is None or value == "":
        return "–"
    return escape(str(value)).replace("\n", "<br/>")


def day(value) -> str:
    if not value:
        return "–"
    if isinstance(value, datetime | date):
        value = value.isoformat()
    if "T" in str(value):
        return datetime.fromisoformat(str(value)).astimezone(STOCKHOLM).date().isoformat()
    return str(value)[:10]


def person(p: dict | None) -> str:
    return text(p["name"]) if p else "–"


class DocumentMark(Flowable):
    """Draws nothing; tells the canvas which decision the following pages belong to (page numbers and
    the checksum in the footer are per decision, also in a batch print)."""

    def __init__(self, reference: str, sha: str):
        super().__init__()
        self.reference, self.sha = reference, sha
        self.width = self.height = 0

    def wrap(self, *_args):
        return 0, 0

    def draw(self):
        self.canv.begin_document(self.reference, self.sha)


def _table(rows, widths, header: bool = False, extra=()) -> Table:
    st = styles()
    table = Table(rows, colWidths=widths, hAlign="LEFT", repeatRows=1 if header else 0)
    commands = [
        ("FONT", (0, 0), (-1, -1), st.fonts[0], 8.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
            ("FONT", (0, 0), (-1, 0), st.fonts[1], 8.5),
        ]
    table.setStyle(TableStyle(commands + list(extra)))
    return table


def fit(markup: str, width: float, bold: bool = False):
    """A table cell: the plain string when it fits on one line and holds no markup (far cheaper to lay
    out), else a paragraph that wraps. ``markup`` is paragraph text (escaped by ``text``)."""
    st = styles()
    font = st.fonts[1] if bold else st.fonts[0]
    if "<" not in markup and "&" not in markup and stringWidth(markup, font, 8.5) <= width - 7:
        return markup
    return Paragraph(markup, st.cell_bold if bold else st.cell)


def _facts(rows: list[tuple[str, str]], width: float) -> Table:
    key, value = 45 * mm, width - 45 * mm
    return _table(
        [[fit(k, key, bold=True), fit(v, value)] for k, v in rows],
        [key, value],
        extra=[("FONT", (0, 0), (0, -1), styles().fonts[1], 8.5)],
    )


def _bands():
    return setting("RISK_BANDS")


def band_of(value: int):
    for upper, code, label, colour in _bands():
        if value <= upper:
            return code, label, colour
    upper, code, label, colour = _bands()[-1]
    return code, label, colour


def _levels(snap_c: dict | None) -> list:
    st = styles()
    labels = setting("LEVEL_LABELS")
    if not snap_c:
        return [Paragraph("Ingen fastställd informationsklassning.", st.body)]
    rows = [
        [
            Paragraph("Aspekt", st.cell_bold),
            Paragraph("Nivå", st.cell_bold),
            Paragraph("Motivering", st.cell_bold),
        ]
    ]
    for key, aspect in (("confidentiality", "K"), ("integrity", "R"), ("availability", "T")):
        level = snap_c[key]
        rows.append(
            [
                f"{ASPECTS[aspect]} ({aspect})",
                fit(f"{level} – {text(labels.get(level, labels.get(str(level), '')))}", 50 * mm),
                fit(text(snap_c.get(f"{key}_motivation")), 82 * mm),
            ]
        )
    out = [
        Paragraph(
            f"Profil K-R-T: <b>{text(snap_c.get('profile'))}</b> (version {text(snap_c.get('number'))}, "
            f"fastställd {day(snap_c.get('finalised_at'))})",
            st.body,
        ),
        Spacer(1, 3),
        _table(rows, [38 * mm, 50 * mm, 82 * mm], header=True),
    ]
    sets = snap_c.get("information_sets") or []
    if sets:
        srows = [list(("Informationsmängd", "K", "R", "T"))]
        srows += [
            [
                Paragraph(text(s["name"]), st.cell),
                str(s["confidentiality"]),
                str(s["integrity"]),
                str(s["availability"]),
            ]
            for s in sets
        ]
        out += [Spacer(1, 4), _table(srows, [110 * mm, 20 * mm, 20 * mm, 20 * mm], header=True)]
    return out


def _matrix(risks: list[dict]) -> Table:
    """The 4×4 matrix after actions: likelihood (rows, 4 at the top) × consequence (columns)."""
    st = styles()
    counts: dict[tuple[int, int], int] = {}
    for r in risks:
        likelihood = r.get("residual_likelihood") or r["likelihood"]
        consequence = r.get("residual_consequence") or r["consequence"]
        counts[(likelihood, consequence)] = counts.get((likelihood, consequence), 0) + 1
    lik, cons = setting("LIKELIHOOD_LABELS"), setting("CONSEQUENCE_LABELS")
    rows = [
        [Paragraph("Sannolikhet \\ Konsekvens", st.small)]
        + [Paragraph(f"{c} {text(cons.get(c, cons.get(str(c), '')))}", st.center) for c in range(1, 5)]
    ]
    extra = []
    for i, likelihood in enumerate(range(4, 0, -1), start=1):
        row = [Paragraph(f"{likelihood} {text(lik.get(likelihood, lik.get(str(likelihood), '')))}", st.cell)]
        for j, consequence in enumerate(range(1, 5), start=1):
            n = counts.get((likelihood, consequence), 0)
            row.append(str(n) if n else "·")
            if n:
                extra.append(("FONT", (j, i), (j, i), st.fonts[1], 9))
            _code, _label, colour = band_of(likelihood * consequence)
            extra.append(("BACKGROUND", (j, i), (j, i), colors.HexColor(colour).clone(alpha=0.35)))
        rows.append(row)
    extra += [
        ("GRID", (1, 1), (-1, -1), 0.5, colors.white),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 1), (-1, -1), "CENTER"),
    ]
    return _table(rows, [34 * mm] + [27 * mm] * 4, extra=extra)


def _risk_summary(snap: dict) -> list:
    st = styles()
    ra = snap.get("risk_analysis")
    if not ra:
        return [Paragraph("Ingen fastställd riskanalys.", st.body)]
    risks = ra.get("risks") or []
    out = [
        Paragraph(
            f"Riskanalys version {text(ra.get('number'))}, genomförd {day(ra.get('analysed_on'))}, "
            "fastställd "
            f"{day(ra.get('finalised_at'))}. Deltagare: {text(ra.get('participants'))}.",
            st.body,
        ),
        Spacer(1, 4),
    ]
    per_band = {code: 0 for _u, code, _l, _c in _bands()}
    for r in risks:
        per_band[band_of(r["residual_value"])[0]] += 1
    head = ["Kvarstående risker per nivå"]
    head += [label for _u, _code, label, _c in _bands()]
    head.append("Totalt")
    counts = ["Antal"] + [str(per_band[code]) for _u, code, _l, _c in _bands()]
    counts.append(str(len(risks)))
    extra = [
        ("BACKGROUND", (i, 0), (i, 0), colors.HexColor(c).clone(alpha=0.35))
        for i, (_u, _code, _l, c) in enumerate(_bands(), start=1)
    ]
    extra += [("ALIGN", (1, 0), (-1, -1), "CENTER"), ("FONT", (0, 0), (0, 0), st.fonts[1], 8.5)]
    out += [
        _table([head, counts], [50 * mm] + [24 * mm] * len(_bands()) + [24 * mm], extra=extra),
        Spacer(1, 6),
    ]
    out += [
        KeepTogether(
            [
                Paragraph("Riskmatris efter åtgärder (antal risker)", st.cell_bold),
                Spacer(1, 2),
                _matrix(risks),
            ]
        ),
        Spacer(1, 6),
    ]
    top = sorted(risks, key=lambda r: (-r["residual_value"], r["id"]))[:TOP_RISKS]
    if top:
        rows = [list(("Högsta kvarstående risker", "Aspekt", "Före", "Efter", "Nivå", "Accepterad"))]
        for r in top:
            rows.append(
                [
                    fit(text(r["title"]), 72 * mm),
                    r["aspect"],
                    str(r["value"]),
                    str(r["residual_value"]),
                    band_of(r["residual_value"])[1],
                    "Ja" if r.get("accepted") else "–",
                ]
            )
        out.append(_table(rows, [72 * mm, 15 * mm, 14 * mm, 14 * mm, 28 * mm, 27 * mm], header=True))
    accepted = snap.get("accepted_risks") or []
    out.append(Spacer(1, 6))
    if accepted:
        out.append(Paragraph("Kvarstående risker som riskägaren uttryckligen accepterar", st.cell_bold))
        rows = [list(("Risk", "Kvarstående", "Motivering"))]
        for a in accepted:
            rows.append(
                [
                    Paragraph(text(a["title"]), st.cell),
                    Paragraph(f"{a['residual_value']} ({text(band_of(a['residual_value'])[1])})", st.cell),
                    Paragraph(text(a["motivation"]), st.cell),
                ]
            )
        out.append(_table(rows, [60 * mm, 28 * mm, 82 * mm], header=True))
    else:
        out.append(Paragraph("Inga kvarstående risker har accepterats i beslutet.", st.body))
    return out


def _dpia(snap: dict) -> list:
    st = styles()
    sc, d = snap.get("screening"), snap.get("dpia")
    if not sc:
        return [Paragraph("Ingen förhandsbedömning.", st.body)]
    crit = ", ".join(CRITERIA.get(c, c) for c in sc.get("criteria") or []) or "inga"
    rows = [
        ("Förhandsbedömning", f"Kriterier: {text(crit)}"),
        ("Konsekvensbedömning krävs", "Ja" if sc.get("dpia_required") else "Nej"),
    ]
    if d:
        opinion = d.get("opinion") or ""
        if len(opinion) > OPINION_MAX:
            opinion = opinion[:OPINION_MAX].rsplit(" ", 1)[0] + " …"
        rows += [
            (
                "Konsekvensbedömning",
                f"Fastställd {day(d.get('finalised_at'))}" if d.get("status") == "final" else "Ej fastställd",
            ),
            ("Dataskyddsombudets yttrande", text(opinion)),
            ("Förhandssamråd med IMY", "Krävs" if d.get("prior_consultation_required") else "Krävs inte"),
        ]
    elif sc.get("dpia_required"):
        rows.append(("Konsekvensbedömning", "Saknas"))
    return [_facts(rows, 170 * mm)]


def _sla(snap: dict) -> list:
    st = styles()
    s = snap.get("sla")
    if not s:
        return [Paragraph("Inget SLA registrerat för systemet.", st.body)]
    validity = (
        f"{day(s.get('valid_from'))} – {day(s.get('valid_to'))}"
        if s.get("valid_to")
        else f"från {day(s.get('valid_from'))}"
        if s.get("valid_from")
        else "–"
    )
    return [
        _facts(
            [
                ("Leverantör", text(s["supplier"])),
                ("Avtalsreferens", text(s.get("agreement_ref"))),
                ("Tillgänglighetsmål", f"{text(s['availability_target'])} %"),
                ("Servicetid", text(s.get("service_hours"))),
                ("RTO / RPO (timmar)", f"{text(s.get('rto_hours'))} / {text(s.get('rpo_hours'))}"),
                ("Giltighet", validity),
            ],
            170 * mm,
        )
    ]


def _conditions(snap: dict) -> list:
    st = styles()
    conds = snap.get("conditions") or []
    if not conds:
        return [Paragraph("Beslutet har inga villkor.", st.body)]
    rows = [list(("Nr", "Villkor", "Ansvarig", "Senast"))]
    for i, c in enumerate(conds, start=1):
        rows.append(
            [
                str(i),
                Paragraph(text(c["text"]), st.cell),
                Paragraph(person(c.get("responsible")), st.cell),
                day(c["due_on"]),
            ]
        )
    return [_table(rows, [10 * mm, 100 * mm, 38 * mm, 22 * mm], header=True)]


def _signatures(snap: dict) -> KeepTogether:
    st = styles()
    line = "_" * 38
    rows = [
        [Paragraph(line, st.cell), Paragraph(line, st.cell)],
        [Paragraph("Riskägare (underskrift)", st.small), Paragraph("Ort och datum", st.small)],
        [Spacer(1, 14), Spacer(1, 14)],
        [Paragraph(line, st.cell), Paragraph(line, st.cell)],
        [
            Paragraph(f"Namnförtydligande ({person(snap.get('decided_by'))})", st.small),
            Paragraph("Systemansvarig, för kännedom", st.small),
        ],
    ]
    table = Table(rows, colWidths=[85 * mm, 85 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), st.fonts[0], 8.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return KeepTogether([Paragraph("Underskrifter", st.h2), Spacer(1, 16), table])


def _verification(item: Printable) -> KeepTogether:
    st = styles()
    code = QrCode(item.verify_url, width=30 * mm, height=30 * mm, qrLevel="M", qrBorder=2)
    words = Paragraph(
        "Kontrollera att en utskrift stämmer med registret: skanna koden eller öppna<br/>"
        f"<font size=7.5>{text(item.verify_url)}</font><br/><br/>"
        f"Kontrollsumma (SHA-256) över beslutets innehåll:<br/><font size=7.5>{item.content_sha256}</font>",
        st.cell,
    )
    table = Table([[code, words]], colWidths=[36 * mm, 134 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), st.fonts[0], 8.5),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return KeepTogether([Paragraph("Kontroll av utskrift", st.h2), table])


def flowables(item: Printable) -> list:
    """The flowables of one decision, starting with the mark that restarts page numbering."""
    st = styles()
    snap = normalise(item)
    system = snap["system"]
    out: list = [
        DocumentMark(item.reference, item.content_sha256),
        Paragraph("Beslut om driftgodkännande", st.title),
        Paragraph(f"{text(system['name'])} · {text(item.reference)}", st.subtitle),
    ]
    if item.revoked:
        out += [
            Paragraph(
                f"Beslutet återkallades {day(item.revoked['at'])}: {text(item.revoked['motivation'])}",
                st.banner,
            ),
            Spacer(1, 8),
        ]
    out.append(
        _facts(
            [
                ("Diarienummer", text(item.reference)),
                ("Beslutsdatum", day(snap.get("decided_at"))),
                ("System", text(system["name"])),
                ("Förvaltning", text(system.get("org_unit"))),
                ("Systemansvarig", person(system.get("system_owner"))),
                ("Riskägare (informationsägare)", person(system.get("risk_owner"))),
                ("Leverantör", text(system.get("supplier"))),
                ("Driftform", text(HOSTING.get(system.get("hosting") or ""))),
                ("Kritikalitet", text(system.get("criticality"))),
                ("Prioriteringslista vid katastrofläge", "Ja" if system.get("priority_list") else "Nej"),
                (
                    "Personuppgifter",
                    PERSONAL.get(system.get("personal_data") or "unknown", "–")
                    + (" (särskilda kategorier)" if system.get("special_categories") else ""),
                ),
                ("Livscykel vid beslutet", text(LIFECYCLE.get(system.get("lifecycle") or ""))),
            ],
            170 * mm,
        )
    )
    validity = (
        f"Giltigt till och med <b>{day(snap.get('valid_until'))}</b>."
        if snap.get("valid_until")
        else "Beslutet innebär att systemet ska avvecklas; en avvecklingsplan upprättas."
    )
    out += [
        Paragraph("Beslut", st.h2),
        Paragraph(DECISIONS.get(snap.get("decision"), text(snap.get("decision"))), st.decision),
        Spacer(1, 3),
        Paragraph(validity, st.body),
        Spacer(1, 3),
        Paragraph(f"<b>Motivering:</b> {text(snap.get('motivation'))}", st.body),
        Paragraph("Informationsklassning", st.h2),
        *_levels(snap.get("classification")),
        CondPageBreak(60 * mm),
        Paragraph("Riskanalys", st.h2),
        *_risk_summary(snap),
        Paragraph("Dataskydd (förhandsbedömning och konsekvensbedömning)", st.h2),
        *_dpia(snap),
        Paragraph("Tjänstenivåavtal (SLA)", st.h2),
        *_sla(snap),
        Paragraph("Villkor", st.h2),
        *_conditions(snap),
        Paragraph("Giltighet och beslutsfattare", st.h2),
        _facts(
            [
                ("Giltigt till", day(snap.get("valid_until")) if snap.get("valid_until") else "–"),
                ("Beslutat av", person(snap.get("decided_by"))),
                ("Beslutat", day(snap.get("decided_at"))),
            ],
            170 * mm,
        ),
        _signatures(snap),
        _verification(item),
    ]
    return out


def story(items: list[Printable]) -> list:
    out: list = []
    for i, item in enumerate(items):
        if i:
            out.append(PageBreak())
        out += flowables(item)
    return out


PAGE = A4
