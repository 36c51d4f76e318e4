"""Draw a chart of riskreg.reports.charts as inline SVG for the page: presentation attributes only (the
CSP allows no style attributes), a title and a description for assistive technology, and every linked
shape an ``<a>`` that the keyboard reaches."""

from __future__ import annotations

from markupsafe import Markup, escape

from riskreg.reports.charts import FONT, Chart, Line, Polyline, Rect, Text


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _title(text: str | None) -> str:
    return f"<title>{escape(text)}</title>" if text else ""


def _linked(href: str | None, inner: str, label: str | None) -> str:
    if not href:
        return inner
    aria = f' aria-label="{escape(label)}"' if label else ""
    return f'<a href="{escape(href)}"{aria}>{inner}</a>'


def _item(item) -> str:
    if isinstance(item, Rect):
        stroke = f' stroke="{item.stroke}" stroke-width="1"' if item.stroke else ""
        shape = (
            f'<rect x="{_n(item.x)}" y="{_n(item.y)}" width="{_n(item.w)}" height="{_n(item.h)}" '
            f'fill="{item.fill}"{stroke}>{_title(item.title)}</rect>'
        )
        return _linked(item.href, shape, item.title)
    if isinstance(item, Text):
        weight = ' font-weight="700"' if item.bold else ""
        underline = ' text-decoration="underline"' if item.href else ""
        text = (
            f'<text x="{_n(item.x)}" y="{_n(item.y)}" font-size="{_n(item.size)}" '
            f'text-anchor="{item.anchor}" '
            f'fill="{item.fill}"{weight}{underline}>{_title(item.title)}{escape(item.text)}</text>'
        )
        return _linked(item.href, text, item.title)
    if isinstance(item, Line):
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        return (
            f'<line x1="{_n(item.x1)}" y1="{_n(item.y1)}" x2="{_n(item.x2)}" y2="{_n(item.y2)}" '
            f'stroke="{item.stroke}" stroke-width="{_n(item.width)}"{dash}/>'
        )
    if isinstance(item, Polyline):
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in item.points)
        return (
            f'<polyline points="{points}" fill="none" stroke="{item.stroke}" stroke-width="{_n(item.width)}"'
            f' stroke-linejoin="round"{dash}/>'
        )
    raise TypeError(f"cannot draw {item!r}")


def render(chart: Chart) -> Markup:
    body = "".join(_item(i) for i in chart.items)
    # every text and attribute value above is escaped (or a number, a colour or an id of ours)
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart.id}" '
        f'viewBox="0 0 {_n(chart.width)} '
        f'{_n(chart.height)}" width="{_n(chart.width)}" height="{_n(chart.height)}" role="group" '
        f'aria-labelledby="{chart.id}-title" aria-describedby="{chart.id}-desc" font-family="{FONT}">'
        f'<title id="{chart.id}-title">{escape(chart.title)}</title>'
        f'<desc id="{chart.id}-desc">{escape(chart.desc)}</desc>'
        f"{body}</svg>"
    )
