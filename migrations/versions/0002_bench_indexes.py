"""bench indexes: the systems list's sort orders and prefix search at 100,000 systems

- ``(name, id)``, ``(criticality, name, id)`` and ``(updated_at, id)`` serve the list's sorts, each ending
  in the id, so a page is an index walk, deep pages included; the first two replace the single-column
  indexes on ``name`` and ``criticality``.
- ``search_key`` is indexed with ``varchar_pattern_ops`` on PostgreSQL, so ``LIKE 'abc%'`` uses it
  whatever the database's collation (the default operator class serves it only under "C").

Measured with bench/foundation.py (see bench/README.md).

Revision ID: 0002_bench_indexes
Revises: 0006_imports
Create Date: 2026-11-24 10:00:00
"""
from alembic import op

revision = "0002_bench_indexes"
down_revision = "0006_imports"  # chained after the heads in main so `db upgrade` keeps one head
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("systems", schema=None) as batch_op:
        batch_op.drop_index("ix_systems_name")
        batch_op.drop_index("ix_systems_criticality")
        batch_op.drop_index("ix_systems_search_key")
        batch_op.create_index("ix_systems_name_id", ["name", "id"], unique=False)
        batch_op.create_index("ix_systems_criticality_name_id", ["criticality", "name", "id"], unique=False)
        batch_op.create_index("ix_systems_updated_at_id", ["updated_at", "id"], unique=False)
        batch_op.create_index("ix_systems_search_key", ["search_key"], unique=False,
                              postgresql_ops={"search_key": "varchar_pattern_ops"})


def downgrade():
    with op.batch_alter_table("systems", schema=None) as batch_op:
        batch_op.drop_index("ix_systems_search_key")
        batch_op.drop_index("ix_systems_updated_at_id")
        batch_op.drop_index("ix_systems_criticality_name_id")
        batch_op.drop_index("ix_systems_name_id")
        batch_op.create_index("ix_systems_search_key", ["search_key"], unique=False)
        batch_op.create_index("ix_systems_criticality", ["criticality"], unique=False)
        batch_op.create_index("ix_systems_name", ["name"], unique=False)
