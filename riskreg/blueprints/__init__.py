"""Feature blueprints. Each subpackage exposes ``bp`` (its HTML pages) and, in ``api.py``, adds its
JSON endpoints to the shared ``/api/v1`` blueprint; they are found here, so a new feature needs no edit
in a shared file."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask


def feature_packages() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def register_all(app: Flask) -> None:
    for name in feature_packages():
        module = importlib.import_module(f"{__name__}.{name}")
        try:
            importlib.import_module(f"{__name__}.{name}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}.api":
                raise
        bp = getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)
