"""Translations: English message ids in the code, Swedish (the default locale) in catalogs.

Each feature may keep its own catalog beside its code (``riskreg/blueprints/<feature>/translations``)
besides the shared ``riskreg/translations``; Flask-Babel merges them. Catalogs are compiled from the
``.po`` files when the app starts if a ``.mo`` is missing or older."""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

PACKAGE = Path(__file__).resolve().parent


def translation_directories() -> list[Path]:
    dirs = [PACKAGE / "translations", PACKAGE / "services" / "translations"]
    dirs += sorted(p for p in (PACKAGE / "blueprints").glob("*/translations") if p.is_dir())
    return [d for d in dirs if d.is_dir()]


def compile_catalogs(directories: list[Path]) -> None:
    for po in (p for d in directories for p in d.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")  # several workers may compile at once
        with tmp.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        tmp.replace(mo)


def init_app(app: Flask) -> None:
    dirs = translation_directories()
    compile_catalogs(dirs)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in dirs)
