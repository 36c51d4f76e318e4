"""Accessibility checks without a browser: the contrast of the stylesheet's colour pairs (computed from the
CSS variables, WCAG 2.x relative luminance), and on the rendered pages every form control has a label,
every image an alt text, every table header a scope, and the page a language."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import riskreg
from tests.conftest import PASSWORD

CSS = Path(riskreg.__file__).resolve().parent / "static" / "app.css"
AA_TEXT = 4.5
AA_NON_TEXT = 3.0


def css_variables(text: str) -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", text, re.S).group(1)
    return dict(re.findall(r"--([\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;", root))


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-too-light grey


def colour_pairs() -> list[tuple[str, str, str, float]]:
    """(name, foreground, background, minimum) for every pair the stylesheet declares and every text
    colour used on the page and surface backgrounds."""
    v = css_variables(CSS.read_text())
    pairs = []
    for name, fg in v.items():
        if name.endswith("-fg") and f"{name[:-3]}-bg" in v:
            pairs.append((name[:-3], fg, v[f"{name[:-3]}-bg"], AA_TEXT))
    for text_var in ("c-text-fg", "c-muted-fg", "c-link-fg", "c-error-fg", "c-success-fg"):
        for bg_var in ("c-page-bg", "c-surface-bg"):
            pairs.append((f"{text_var} on {bg_var}", v[text_var], v[bg_var], AA_TEXT))
    pairs.append(("focus outline on page", v["c-focus"], v["c-page-bg"], AA_NON_TEXT))
    pairs.append(("input border on page", v["c-muted-fg"], v["c-page-bg"], AA_NON_TEXT))
    return pairs


def test_the_stylesheet_declares_the_main_colours():
    names = {p[0] for p in colour_pairs()}
    assert {
        "c-text-fg on c-page-bg",
        "c-primary",
        "c-header",
        "c-danger",
        "c-error",
        "c-stage-approved",
        "c-stage-rejected",
        "c-crit-A",
    } <= names, names


@pytest.mark.parametrize("name, fg, bg, minimum", colour_pairs(), ids=[p[0] for p in colour_pairs()])
def test_colour_pair_has_enough_contrast(name, fg, bg, minimum):
    ratio = contrast(fg, bg)
    assert ratio >= minimum, f"{name}: {fg} on {bg} is {ratio:.2f}:1, needs {minimum}:1"


def test_every_stage_has_a_badge_style():
    from riskreg.models.codes import Stage

    text = CSS.read_text()
    for stage in Stage:
        assert f".stage-{stage.value} {{" in text, stage


# ------------------------------------------------------------------ the rendered pages


class PageAudit(HTMLParser):
    """Collects the problems a screen-reader user would meet."""

    CONTROLS = ("input", "select", "textarea")

    def __init__(self):
        super().__init__()
        self.labels_for: set[str] = set()
        self.controls: list[dict] = []
        self.images: list[dict] = []
        self.header_cells: list[dict] = []
        self.in_thead = 0
        self.label_depth = 0
        self.html_lang = None
        self.buttons: list[list] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        elif tag in self.CONTROLS:
            if tag == "input" and a.get("type") in ("hidden", "submit", "button", "reset", "image"):
                return
            self.controls.append({**a, "_tag": tag, "_wrapped": self.label_depth > 0})
        elif tag == "img":
            self.images.append(a)
        elif tag == "thead":
            self.in_thead += 1
        elif tag == "th" and self.in_thead:
            self.header_cells.append(a)
        elif tag == "button":
            self.buttons.append([a, ""])

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)
        elif tag == "thead":
            self.in_thead -= 1

    def handle_data(self, data):
        if self.buttons and data.strip():
            self.buttons[-1][1] += data.strip()

    def problems(self) -> list[str]:
        out = []
        if not self.html_lang:
            out.append("<html> has no lang")
        for c in self.controls:
            named = (
                c.get("aria-label")
                or c.get("aria-labelledby")
                or c["_wrapped"]
                or (c.get("id") and c["id"] in self.labels_for)
            )
            if not named:
                out.append(f"<{c['_tag']} name={c.get('name')!r} id={c.get('id')!r}> has no label")
        for img in self.images:
            if "alt" not in img:
                out.append(f"<img src={img.get('src')!r}> has no alt")
        for th in self.header_cells:
            if th.get("scope") not in ("col", "colgroup"):
                out.append("a column header <th> has no scope")
        for attrs, text in self.buttons:
            if not text and not attrs.get("aria-label"):
                out.append(f"a button has no text ({attrs})")
        return out


def audit(html: str) -> list[str]:
    parser = PageAudit()
    parser.feed(html)
    return parser.problems()


def test_the_audit_finds_problems():
    bad = (
        '<html><body><input name="q"><img src="x.png"><table><thead><tr><th>A</th></tr></thead></table>'
        "<button></button></body></html>"
    )
    assert len(audit(bad)) == 5
    good = (
        '<html lang="sv"><body><label for="q">Sök</label><input id="q" name="q"><img src="x" alt="">'
        '<table><thead><tr><th scope="col">A</th></tr></thead></table><button>Spara</button></body></html>'
    )
    assert audit(good) == []


@pytest.fixture
def site(make):
    unit = make.org_unit("Norra förvaltningen")
    owner, risk = make.user("system_owner"), make.user("risk_owner")
    system = make.system(
        name="Cosmic",
        org_unit_id=unit.id,
        system_owner=owner,
        risk_owner=risk,
        aliases=["COSMIC journal"],
        external_refs=[{"source": "servicenow", "key": "a1"}],
    )
    admin = make.admin()
    make.token(admin)
    return {"system": system, "admin": admin, "unit": unit, "owner": owner}


def pages(site) -> list[str]:
    sid, uid = site["system"].id, site["owner"].id
    return [
        "/",
        "/systems",
        "/systems?q=cosmik",
        "/systems?criticality=X",
        f"/systems/{sid}",
        f"/systems/{sid}/edit",
        "/systems/new",
        "/admin/users",
        f"/admin/users/{uid}",
        "/admin/org-units",
        f"/admin/org-units/{site['unit'].id}",
        "/account/tokens",
        "/account/password",
        "/systems/999999",
    ]


def test_every_page_labels_its_controls(client, site):
    assert audit(client.get("/login").get_data(as_text=True)) == []
    client.post("/login", data={"email": site["admin"].email, "password": PASSWORD})
    found = {}
    for url in pages(site):
        resp = client.get(url)
        assert resp.status_code in (200, 404, 422), url
        if problems := audit(resp.get_data(as_text=True)):
            found[url] = problems
    # a form with errors keeps every label and ties the errors to their fields
    resp = client.post("/systems/new", data={"name": "", "org_unit_id": ""})
    body = resp.get_data(as_text=True)
    if problems := audit(body):
        found["/systems/new (with errors)"] = problems
    assert 'aria-describedby="name-err"' in body and 'id="name-err"' in body and 'aria-invalid="true"' in body
    assert not found, found


def test_pages_offer_a_skip_link_and_landmarks(client, site):
    client.post("/login", data={"email": site["admin"].email, "password": PASSWORD})
    body = client.get("/systems").get_data(as_text=True)
    assert body.index('class="skip" href="#main"') < body.index("<nav")
    assert '<main id="main"' in body and '<nav id="main-nav" aria-label=' in body
    assert 'role="search"' in body and "<caption" in body
