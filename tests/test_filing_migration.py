"""Migration 0013: action history rows written before it get their completion date where it is certain (the
newest row of an action that set it to done, while it is still done); the rest stay NULL. On SQLite and
PostgreSQL, from the revision before it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from riskreg import create_app
from riskreg.extensions import db
from tests.conftest import BACKENDS, TEST_CONFIG, database_url

MIGRATION = (
    Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0013_action_history_completed_on.py"
)


def _migration():
    spec = importlib.util.spec_from_file_location("m0013", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=BACKENDS)
def fresh_app(request, tmp_path):
    url, drop = database_url(request.param, str(tmp_path))
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


OLD_ROWS = """
INSERT INTO org_units (id, name, created_at, version) VALUES (1, 'Enhet', CURRENT_TIMESTAMP, 1);
INSERT INTO systems (id, name, search_key, description, org_unit_id, lifecycle, criticality,
  priority_list, personal_data, special_categories, created_at, updated_at, version)
  VALUES (1, 'S', 's', '', 1, 'in_operation', 'A', false, 'yes', false, CURRENT_TIMESTAMP,
  CURRENT_TIMESTAMP, 1);
INSERT INTO risk_analyses (id, system_id, number, status, analysed_on, participants, scope, created_at,
  version) VALUES (1, 1, 1, 'draft', '2026-01-01', '', '', CURRENT_TIMESTAMP, 1);
INSERT INTO risks (id, analysis_id, position, title, description, aspect, likelihood, consequence,
  existing_protection) VALUES (1, 1, 0, 'R', '', 'K', 1, 1, '');
INSERT INTO risk_actions (id, risk_id, description, status, completed_on, version) VALUES
  (1, 1, 'done twice', 'done', '2026-03-05', 3),
  (2, 1, 'done, then reopened', 'in_progress', NULL, 3),
  (3, 1, 'started', 'in_progress', NULL, 2);
INSERT INTO action_status_changes (id, action_id, from_status, to_status, note, changed_at) VALUES
  (1, 1, 'planned', 'done', '', CURRENT_TIMESTAMP),
  (2, 1, 'done', 'done', 'a note', CURRENT_TIMESTAMP),
  (3, 2, 'planned', 'done', '', CURRENT_TIMESTAMP),
  (4, 2, 'done', 'in_progress', '', CURRENT_TIMESTAMP),
  (5, 3, 'planned', 'in_progress', '', CURRENT_TIMESTAMP);
"""


def test_old_history_rows_get_the_completion_date_where_it_is_certain(fresh_app):
    migration = _migration()
    assert migration.revision == "0013_action_history_completed_on"
    with fresh_app.app_context():
        upgrade(revision=migration.down_revision)
        with db.engine.begin() as conn:
            for statement in filter(str.strip, OLD_ROWS.split(";")):
                conn.execute(text(statement))
        upgrade(revision=migration.revision)
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, from_completed_on, completed_on FROM action_status_changes ORDER BY id")
            ).all()
        found = {i: (str(a) if a else None, str(b) if b else None) for i, a, b in rows}
        # only the newest row of action 1, still done, is certain; the rest are unknown
        assert found == {
            1: (None, None),
            2: (None, "2026-03-05"),
            3: (None, None),
            4: (None, None),
            5: (None, None),
        }
        downgrade(revision=migration.down_revision)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM action_status_changes")).scalar_one() == 5
        db.engine.dispose()
