"""Every message id in riskreg (Python and Jinja templates) has a Swedish translation in the merged
catalogs: riskreg/translations plus every feature's own catalog (riskreg.i18n.translation_directories).

Extraction follows Flask-Babel's babel.cfg:  [python: riskreg/**.py]  [jinja2: riskreg/**/templates/**.html]
with the lazy keywords the code uses (_l, lazy_gettext). No database needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from riskreg import i18n

PACKAGE = Path(i18n.__file__).resolve().parent
METHOD_MAP = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2), "_n": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def extracted() -> dict[str, list[str]]:
    """msgid (the singular for plurals) → where it is used."""
    found: dict[str, list[str]] = {}
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.do,jinja2.ext.loopcontrols"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), METHOD_MAP, options_map=options, keywords=KEYWORDS
    ):
        msgids = message if isinstance(message, tuple) else (message,)
        for msgid in msgids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def catalogs() -> list[Path]:
    return sorted(p for d in i18n.translation_directories() for p in d.glob("sv/LC_MESSAGES/*.po"))


def merged_swedish() -> dict[str, object]:
    merged: dict[str, object] = {}
    for po in catalogs():
        with po.open("rb") as f:
            catalog = read_po(f, locale="sv")
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if all(s for s in strings):
                for msgid in ids:
                    merged.setdefault(msgid, message.string)
    return merged


@pytest.fixture(scope="module")
def messages():
    return extracted()


@pytest.fixture(scope="module")
def swedish():
    return merged_swedish()


def test_extraction_finds_python_and_templates(messages):
    places = [p for ps in messages.values() for p in ps]
    assert any(p.endswith(".py") or ".py:" in p for p in places), "no msgid found in Python code"
    assert any(".html:" in p for p in places), "no msgid found in templates"
    assert "Log in" in messages and "Systems" in messages  # a template and a module constant


def test_every_msgid_has_a_swedish_translation(messages, swedish):
    missing = {m: places for m, places in messages.items() if m not in swedish}
    report = "\n".join(f"  {m!r}  ({', '.join(places[:3])})" for m, places in sorted(missing.items()))
    assert not missing, (
        f"{len(missing)} message id(s) without Swedish in {[str(c) for c in catalogs()]}:\n{report}"
    )


def test_translations_keep_their_placeholders(swedish):
    wrong = []
    for msgid, string in swedish.items():
        strings = string if isinstance(string, tuple) else (string,)
        for s in strings:
            if set(PLACEHOLDER.findall(msgid)) - {"num"} != set(PLACEHOLDER.findall(s)) - {"num"}:
                wrong.append((msgid, s))
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(
        f"  {a!r} → {b!r}" for a, b in wrong
    )


def test_the_shared_catalog_reads_cleanly():
    po = PACKAGE / "translations" / "sv" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="sv")
    ids = [m.id for m in catalog if m.id]
    assert len(ids) == len(set(map(str, ids))), "duplicate msgid in the shared catalog"
    assert len(ids) > 100
