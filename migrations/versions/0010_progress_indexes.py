"""progress and heat-map indexes: each system's records in time order, an analysis's risk scores

- ``classifications`` and ``risk_analyses (system_id, finalised_at) WHERE status = 'final'`` and
  ``dpia_screenings (system_id, created_at)``: the coverage report's progress over time takes each
  system's first record of a kind from them in order, without sorting or hashing the tables.
- ``risks (analysis_id)``, on PostgreSQL with the likelihood and consequence (and residual ones) in the
  index: the heat map reads the current analyses' risks without the (wide) table. It replaces the plain
  index on ``analysis_id``.

Measured with bench/reports.py (see bench/README.md).

Revision ID: 0010_progress_indexes
Revises: 0009_report_indexes
Create Date: 2026-11-24 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_progress_indexes"
down_revision = "0009_report_indexes"
branch_labels = None
depends_on = None

FINAL = "status = 'final'"
SCORES = ["likelihood", "consequence", "residual_likelihood", "residual_consequence"]


def upgrade():
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.create_index("ix_classifications_final_system_at", ["system_id", "finalised_at"], unique=False,
                              postgresql_where=sa.text(FINAL), sqlite_where=sa.text(FINAL))
    with op.batch_alter_table("risk_analyses", schema=None) as batch_op:
        batch_op.create_index("ix_risk_analyses_final_system_at", ["system_id", "finalised_at"], unique=False,
                              postgresql_where=sa.text(FINAL), sqlite_where=sa.text(FINAL))
    with op.batch_alter_table("dpia_screenings", schema=None) as batch_op:
        batch_op.create_index("ix_dpia_screenings_system_created", ["system_id", "created_at"], unique=False)
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index("ix_risks_analysis_id")
        batch_op.create_index("ix_risks_analysis_id", ["analysis_id"], unique=False, postgresql_include=SCORES)


def downgrade():
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index("ix_risks_analysis_id")
        batch_op.create_index("ix_risks_analysis_id", ["analysis_id"], unique=False)
    with op.batch_alter_table("dpia_screenings", schema=None) as batch_op:
        batch_op.drop_index("ix_dpia_screenings_system_created")
    with op.batch_alter_table("risk_analyses", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_analyses_final_system_at")
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_index("ix_classifications_final_system_at")
