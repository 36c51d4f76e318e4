"""riskreg: a register of information classification, risk analysis and approval to operate."""

from __future__ import annotations

import os

from flask import Flask

from riskreg import config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("RISKREG_INSTANCE") or None)
    os.makedirs(app.instance_path, exist_ok=True)
    config.load(app, overrides)

    import riskreg.models  # noqa: F401  (every table on the metadata before Alembic reads it)
    from riskreg import cli, errors, i18n, web
    from riskreg.extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale)
    login_manager.init_app(app)
    web.init_app(app)
    errors.register(app)
    _register_blueprints(app)
    cli.register(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from riskreg.blueprints import api as api_module
    from riskreg.blueprints import register_all

    register_all(app)
    app.register_blueprint(api_module.api)
