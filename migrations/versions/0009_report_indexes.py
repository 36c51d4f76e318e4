"""report indexes: open actions past due, mapped to their analyses without reading the tables

- ``risks (id, analysis_id)``: the coverage report joins open actions to their risk's analysis; with
  this index that join is an index-only merge join instead of a scan of the whole (wide) risks table.
- ``risk_actions (risk_id, due_on) WHERE status IN ('planned', 'in_progress')``: the open actions, for
  "actions past due" in the report, its drill-down and the start pages.

Measured with bench/reports.py (see bench/README.md).

Revision ID: 0009_report_indexes
Revises: 0005_approvals
Create Date: 2026-11-24 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_report_indexes"
down_revision = "0005_approvals"
branch_labels = None
depends_on = None

OPEN = "status IN ('planned', 'in_progress')"


def upgrade():
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.create_index("ix_risks_id_analysis_id", ["id", "analysis_id"], unique=False)
    with op.batch_alter_table("risk_actions", schema=None) as batch_op:
        batch_op.create_index("ix_risk_actions_open_due", ["risk_id", "due_on"], unique=False,
                              postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table("risk_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_actions_open_due")
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index("ix_risks_id_analysis_id")
