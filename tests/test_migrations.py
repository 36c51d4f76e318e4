"""Migrations and models agree: upgrade an empty database to head, find no drift, downgrade to base,
upgrade again — on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from riskreg import create_app
from riskreg.extensions import db
from riskreg.models import Base
from tests.conftest import BACKENDS, TEST_CONFIG, database_url


@pytest.fixture(params=BACKENDS)
def fresh_app(request, tmp_path):
    url, drop = database_url(request.param, str(tmp_path))
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


def _drift(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(ctx, Base.metadata)


def test_upgrade_check_downgrade_upgrade(fresh_app):
    with fresh_app.app_context():
        upgrade(revision="heads")
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    assert _drift(fresh_app) == []
    with fresh_app.app_context():
        downgrade(revision="base")
        db.engine.dispose()
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade(revision="heads")
    assert _drift(fresh_app) == []


def test_check_constraints_hold(fresh_app):
    """The coded values and scales are enforced by the database itself, not only by the services."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with fresh_app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            conn.execute(text("INSERT INTO org_units (name, created_at, version) VALUES ('E', CURRENT_TIMESTAMP, 1)"))
            unit = conn.execute(text("SELECT id FROM org_units")).scalar_one()
            bad = [
                "INSERT INTO systems (name, search_key, description, org_unit_id, lifecycle, criticality, priority_list,"
                " personal_data, special_categories, created_at, updated_at, version) VALUES ('S', 's', '', :u,"
                " 'in_operation', 'Z', false, 'yes', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
                "INSERT INTO systems (name, search_key, description, org_unit_id, lifecycle, criticality, priority_list,"
                " personal_data, special_categories, created_at, updated_at, version) VALUES ('S', 's', '', :u,"
                " 'retired', 'A', false, 'yes', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
                "INSERT INTO systems (name, search_key, description, org_unit_id, lifecycle, criticality, priority_list,"
                " personal_data, special_categories, created_at, updated_at, version) VALUES ('S', 's', '', 999999,"
                " 'in_operation', 'A', false, 'yes', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
            ]
            for statement in bad:
                nested = conn.begin_nested()
                with pytest.raises(IntegrityError):
                    conn.execute(text(statement), {"u": unit})
                nested.rollback()
        db.engine.dispose()
