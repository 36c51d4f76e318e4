"""Charts of the coverage report, drawn on the server: each builder lays a chart out as a few shapes
(rectangles, text, lines) with coordinates, and ``riskreg.reports.svg`` (the page) or
``riskreg.reports.pdf`` (the PDF) draws the same shapes, so screen and paper show the same picture.
No JavaScript and no CDN. Every number drawn is a link to the systems it counts where a ``link`` is given.
Text colours are chosen against their fill for contrast (WCAG 2 relative luminance)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from riskreg import labels as register_labels
from riskreg.reports import figures

INK, MUTED, GRID, LINK, PAPER = "#1b1f24", "#4f5661", "#c9d0d9", "#0a55a3", "#ffffff"
FONT = "DejaVu Sans, Verdana, system-ui, sans-serif"
STAGE_COLOURS = {
    "not_started": "#c9d0d9",
    "classified": "#8ab6e8",
    "risk_analysed": "#4a6fd1",
    "dpia_pending": "#9b59b6",
    "awaiting_decision": "#f2c14e",
    "approved": "#2e7d32",
    "approved_with_conditions": "#8bc34a",
    "needs_review": "#ef8a3c",
    "expired": "#c62828",
    "rejected": "#6d1b1b",
    "decommissioned": "#4f5661",
}
FUNNEL_COLOUR = "#1f5fa8"
SERIES_STYLE = {  # colour, dash (so that the lines differ without colour too)
    "classified": ("#1f5fa8", None),
    "risk_analysed": ("#6a3fb5", "8 4"),
    "screened": ("#a0522d", "2 4"),
    "approved": ("#2e7d32", None),
    "population": (MUTED, "4 4"),
}
Link = Callable[..., str | None]


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    href: str | None = None
    title: str | None = None
    stroke: str | None = None


@dataclass
class Text:
    x: float
    y: float
    text: str
    size: float = 12
    anchor: str = "start"
    bold: bool = False
    fill: str = INK
    href: str | None = None
    title: str | None = None


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = GRID
    width: float = 1.0
    dash: str | None = None


@dataclass
class Polyline:
    points: list[tuple[float, float]]
    stroke: str
    width: float = 2.5
    dash: str | None = None


@dataclass
class Chart:
    id: str
    width: float
    height: float
    title: str
    desc: str
    items: list = field(default_factory=list)


# ---------------------------------------------------------------------- colour


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(fill: str) -> str:
    """Dark or white text, whichever reads better on the fill."""
    return INK if contrast(INK, fill) >= contrast(PAPER, fill) else PAPER


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------- builders


def funnel(steps: list[tuple[str, int, str | None]], base: int, *, id: str, title: str, desc: str) -> Chart:
    """Horizontal bars, each step's length its share of ``base`` (the first step)."""
    width, label_w, value_w, bar_h, gap = 720, 230, 120, 26, 10
    chart = Chart(id, width, 10 + len(steps) * (bar_h + gap), title, desc)
    span = width - label_w - value_w
    for i, (label, n, href) in enumerate(steps):
        y = 6 + i * (bar_h + gap)
        w = span * n / base if base else 0
        chart.items.append(Text(label_w - 10, y + bar_h / 2 + 4, clip(label, 32), anchor="end"))
        chart.items.append(Rect(label_w, y, max(w, 1.5), bar_h, FUNNEL_COLOUR, href, f"{label}: {n}"))
        chart.items.append(
            Text(
                label_w + w + 8,
                y + bar_h / 2 + 4,
                f"{n} ({figures.share(n, base)})",
                bold=True,
                fill=LINK if href else INK,
                href=href,
                title=f"{label}: {n}",
            )
        )
    return chart


def stacked_bars(rows: list[dict], legend: list[tuple[str, str]], *, id: str, title: str, desc: str) -> Chart:
    """One horizontal bar per row (``label``, ``segments`` [(code, n, href)], ``total``, ``href``), split by
    stage; lengths to one scale so that rows compare."""
    width, label_w, total_w, bar_h, gap = 720, 200, 50, 22, 8
    legend_rows = _legend(legend, width)
    top = 8 + len(legend_rows) * 20 + 8
    chart = Chart(id, width, top + max(len(rows), 1) * (bar_h + gap) + 4, title, desc)
    for j, line in enumerate(legend_rows):
        for x, code, text in line:
            chart.items.append(Rect(x, 8 + j * 20, 12, 12, STAGE_COLOURS.get(code, GRID), stroke=MUTED))
            chart.items.append(Text(x + 16, 8 + j * 20 + 11, text, size=11))
    longest = max([r["total"] for r in rows] + [1])
    span = width - label_w - total_w
    for i, row in enumerate(rows):
        y = top + i * (bar_h + gap)
        chart.items.append(
            Text(label_w - 8, y + bar_h / 2 + 4, clip(row["label"], 26), anchor="end", title=row["label"])
        )
        x = float(label_w)
        for code, n, href in row["segments"]:
            if not n:
                continue
            w = span * n / longest
            fill = STAGE_COLOURS.get(code, GRID)
            name = dict(legend).get(code, code)
            chart.items.append(
                Rect(x, y, w, bar_h, fill, href, f"{row['label']} – {name}: {n}", stroke=PAPER)
            )
            if w >= 8 * len(str(n)) + 6:
                chart.items.append(
                    Text(
                        x + w / 2,
                        y + bar_h / 2 + 4,
                        str(n),
                        size=11,
                        anchor="middle",
                        fill=text_on(fill),
                        href=href,
                        title=f"{row['label']} – {name}: {n}",
                    )
                )
            x += w
        chart.items.append(
            Text(
                x + 6,
                y + bar_h / 2 + 4,
                str(row["total"]),
                bold=True,
                fill=LINK if row.get("href") else INK,
                href=row.get("href"),
                title=f"{row['label']}: {row['total']}",
            )
        )
    return chart


def _legend(entries: list[tuple[str, str]], width: float) -> list[list[tuple[float, str, str]]]:
    rows: list[list[tuple[float, str, str]]] = [[]]
    x = 10.0
    for code, text in entries:
        w = 22 + 6.6 * len(text) + 14
        if x + w > width and rows[-1]:
            rows.append([])
            x = 10.0
        rows[-1].append((x, code, text))
        x += w
    return rows


def heat_map(cells: list[dict], *, id: str, title: str, desc: str, link: Link) -> Chart:
    """The 4×4 matrix: likelihood 4→1 downwards, consequence 1→4 across; each cell coloured by its band,
    with the number of risks (a link to the systems holding one) and of systems."""
    cfg = current_app.config
    left, top, cw, ch = 170, 34, 130, 62
    chart = Chart(id, left + 4 * cw + 10, top + 4 * ch + 56, title, desc)
    chart.items.append(Text(left - 10, 20, _("Likelihood ↓"), anchor="end", bold=True, size=11))
    chart.items.append(
        Text(left + 2 * cw, top + 4 * ch + 48, _("Consequence →"), anchor="middle", bold=True, size=11)
    )
    colours = {code: colour for _lim, code, _label, colour in cfg["RISK_BANDS"]}
    for cell in cells:
        lk, cq = cell["likelihood"], cell["consequence"]
        x, y = left + (cq - 1) * cw, top + (4 - lk) * ch
        fill = colours.get(cell["band"], GRID)
        href = link(risk_cell=f"{lk}-{cq}") if cell["risks"] else None
        what = _(
            "Likelihood %(l)s, consequence %(c)s: %(risks)s risks in %(systems)s systems",
            l=lk,
            c=cq,
            risks=cell["risks"],
            systems=cell["systems"],
        )
        chart.items.append(Rect(x, y, cw - 3, ch - 3, fill, href, what, stroke=PAPER))
        ink = text_on(fill)
        chart.items.append(
            Text(
                x + cw / 2,
                y + 28,
                str(cell["risks"]),
                size=18,
                bold=True,
                anchor="middle",
                fill=ink,
                href=href,
                title=what,
            )
        )
        chart.items.append(
            Text(
                x + cw / 2,
                y + 48,
                ngettext("%(num)s system", "%(num)s systems", cell["systems"]),
                size=10,
                anchor="middle",
                fill=ink,
                href=href,
                title=what,
            )
        )
    for lk in (4, 3, 2, 1):
        chart.items.append(
            Text(
                left - 10,
                top + (4 - lk) * ch + ch / 2 + 4,
                f"{lk} {cfg['LIKELIHOOD_LABELS'].get(lk, '')}",
                anchor="end",
                size=11,
            )
        )
    for cq in (1, 2, 3, 4):
        chart.items.append(
            Text(
                left + (cq - 1) * cw + cw / 2,
                top + 4 * ch + 16,
                f"{cq} {cfg['CONSEQUENCE_LABELS'].get(cq, '')}",
                anchor="middle",
                size=11,
            )
        )
    return chart


def columns(bars: list[dict], *, id: str, title: str, desc: str, unit: str = "%") -> Chart:
    """Vertical bars of a percentage per period (``label``, ``value`` or None, ``text``, ``href``)."""
    left, top, plot_h = 44, 16, 180
    bw = 52
    chart = Chart(id, left + len(bars) * bw + 10, top + plot_h + 40, title, desc)
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        chart.items.append(Line(left, y, chart.width - 6, y, GRID))
        chart.items.append(Text(left - 6, y + 4, f"{pct}{unit}", size=10, anchor="end", fill=MUTED))
    for i, bar in enumerate(bars):
        x = left + i * bw + 8
        if bar["value"] is not None:
            h = plot_h * bar["value"] / 100
            chart.items.append(
                Rect(
                    x,
                    top + plot_h - h,
                    bw - 16,
                    max(h, 1.5),
                    FUNNEL_COLOUR,
                    bar.get("href"),
                    f"{bar['label']}: {bar['text']}",
                )
            )
            chart.items.append(
                Text(
                    x + (bw - 16) / 2,
                    top + plot_h - h - 4,
                    bar["text"],
                    size=10,
                    anchor="middle",
                    fill=LINK if bar.get("href") else INK,
                    href=bar.get("href"),
                    bold=True,
                )
            )
        else:
            chart.items.append(
                Text(x + (bw - 16) / 2, top + plot_h - 4, "–", size=10, anchor="middle", fill=MUTED)
            )
        chart.items.append(Text(x + (bw - 16) / 2, top + plot_h + 16, bar["label"], size=10, anchor="middle"))
    return chart


def lines(xlabels: list[str], series: list[dict], ymax: int, *, id: str, title: str, desc: str) -> Chart:
    """Lines over weeks (``label``, ``key``, ``values``, ``href`` of the last value)."""
    left, top, plot_w, plot_h, right = 50, 14, 500, 220, 200
    chart = Chart(id, left + plot_w + right, top + plot_h + 40, title, desc)
    ymax = max(ymax, 1)
    n = len(xlabels)

    def px(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h * (1 - v / ymax)

    for k in range(5):
        v = round(ymax * k / 4)
        chart.items.append(Line(left, py(v), left + plot_w, py(v), GRID))
        chart.items.append(Text(left - 6, py(v) + 4, str(v), size=10, anchor="end", fill=MUTED))
    step = max(1, round(n / 8))
    for i in range(0, n, step):
        chart.items.append(Text(px(i), top + plot_h + 16, xlabels[i], size=10, anchor="middle", fill=MUTED))
    ends = []
    for s in series:
        colour, dash = SERIES_STYLE.get(s["key"], (INK, None))
        points = [(px(i), py(v)) for i, v in enumerate(s["values"])]
        if len(points) == 1:
            points = [(points[0][0] - 3, points[0][1]), (points[0][0] + 3, points[0][1])]
        if points:
            chart.items.append(Polyline(points, colour, 2.5 if s["key"] != "population" else 1.5, dash))
            ends.append([points[-1][1], s, colour])
    ends.sort(key=lambda e: e[0])
    for i in range(1, len(ends)):  # keep the end labels apart
        ends[i][0] = max(ends[i][0], ends[i - 1][0] + 15)
    for y, s, colour in ends:
        last = s["values"][-1] if s["values"] else 0
        chart.items.append(Line(left + plot_w + 2, y, left + plot_w + 10, y, colour, 2))
        chart.items.append(
            Text(
                left + plot_w + 14,
                y + 4,
                f"{last} {clip(s['label'], 24)}",
                size=11,
                fill=colour,
                href=s.get("href"),
                bold=True,
                title=f"{s['label']}: {last}",
            )
        )
    return chart


# ---------------------------------------------------------------------- the report's charts


def stage_legend() -> list[tuple[str, str]]:
    return [
        (code, str(register_labels.STAGE_LABELS.get(code, code)))
        for code in STAGE_COLOURS
        if code != "decommissioned"
    ]


def coverage_charts(cov: dict, heat: dict, sla: dict, prog: dict, link: Link) -> dict[str, Chart]:
    """The report's charts; ``link(figure, **narrow)`` gives a drill-down URL (or None, as in the PDF)."""
    base = cov["population"]
    steps = [
        (figures.label(k), cov[k], link(k))
        for k in ("population", "classified", "risk_analysed", "screened", "approved_valid")
    ]
    funnel_desc = _(
        "Of %(n)s systems counted, %(c)s are classified, %(r)s risk-analysed, %(s)s DPIA-screened and "
        "%(a)s approved and valid.",
        n=base,
        c=cov["classified"],
        r=cov["risk_analysed"],
        s=cov["screened"],
        a=cov["approved_valid"],
    )
    legend = stage_legend()

    def stage_rows(items: list[dict], label_of, narrow_of) -> list[dict]:
        return [
            {
                "label": label_of(item),
                "total": item["population"],
                "href": link("population", **narrow_of(item)),
                "segments": [
                    (code, item["stages"].get(code, 0), link("population", stage=code, **narrow_of(item)))
                    for code, _name in legend
                ],
            }
            for item in items
        ]

    from riskreg.services.reports import criticality_narrowing, unit_narrowing

    units = stage_rows(
        [u for u in cov["by_org_unit"] if u["population"]],
        lambda u: u["name"],
        lambda u: unit_narrowing(u["org_unit_id"]),
    )
    crits = stage_rows(
        cov["by_criticality"],
        lambda c: c["criticality"] or _("No criticality"),
        lambda c: criticality_narrowing(c["criticality"]),
    )
    months = [
        {
            "label": m["month"],
            "value": m["attainment"],
            "text": f"{m['met']}/{m['measured']}" if m["measured"] else "–",
            "href": link("population", priority_list="1", sla_month=m["month"], sla_result="met")
            if m["measured"]
            else None,
        }
        for m in sla["months"]
    ]
    weeks = prog["weeks"]
    series = [
        {
            "key": key,
            "label": figures.label(fig),
            "values": [w[key] for w in weeks],
            "href": link("population", **{param: weeks[-1]["end"]}) if weeks else None,
        }
        for key, fig, param in (
            ("classified", "classified", "classified_by"),
            ("risk_analysed", "risk_analysed", "risk_analysed_by"),
            ("screened", "screened", "screened_by"),
            ("approved", "approved_valid", "approved_on"),
        )
    ]
    series.append(
        {
            "key": "population",
            "label": figures.label("population"),
            "values": [prog["population"]] * len(weeks),
            "href": link("population"),
        }
    )
    return {
        "funnel": funnel(
            steps, base, id="chart-funnel", title=_("From register to approval"), desc=funnel_desc
        ),
        "units": stacked_bars(
            units,
            legend,
            id="chart-units",
            title=_("Stages per org unit"),
            desc=_("Systems counted per org unit, split by stage; the table below gives the numbers."),
        ),
        "criticality": stacked_bars(
            crits,
            legend,
            id="chart-criticality",
            title=_("Stages per criticality"),
            desc=_("Systems counted per criticality A–D, split by stage."),
        ),
        "heatmap": heat_map(
            heat["cells"],
            id="chart-heatmap",
            title=_("Residual risks"),
            desc=_(
                "%(risks)s risks in the current risk analyses of %(systems)s systems, by residual "
                "likelihood and consequence.",
                risks=heat["risks"],
                systems=heat["systems"],
            ),
            link=lambda **kw: link("population", **kw),
        ),
        "sla": columns(
            months,
            id="chart-sla",
            title=_("SLA attainment of the priority-list systems"),
            desc=_(
                "Per month, the share of measured priority-list systems that reached %(target)s %% "
                "availability.",
                target=format_target(sla["target"]),
            ),
        ),
        "progress": lines(
            [w["end"][5:] for w in weeks],
            series,
            max(prog["population"], 1),
            id="chart-progress",
            title=_("Progress over time"),
            desc=_(
                "Week by week since %(start)s: systems classified, risk-analysed, DPIA-screened and "
                "holding an approval in force, out of %(n)s systems counted.",
                start=prog["programme_start"],
                n=prog["population"],
            ),
        ),
    }


def format_target(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")
