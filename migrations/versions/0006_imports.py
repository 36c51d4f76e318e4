"""imports: a heartbeat and the worker of a batch's background work

Matching, applying and undoing large lists run in a background thread of one of several server
processes. The batch row records which worker holds it and when it last showed progress, so a batch whose
worker died can be resumed (matching) or put back (applying, undoing) by any other process.

The rows' system references get indexes: removing a system (undo of an import) must not scan every
import row to clear them.

Revision ID: 0006_imports
Revises: 0008_audit
Create Date: 2026-11-24 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_imports"
down_revision = "0008_audit"  # chained after the head already in main, so `db upgrade` keeps one head
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=100), nullable=True))
    with op.batch_alter_table("import_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_rows_suggestion_system_id"), ["suggestion_system_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_rows_decision_system_id"), ["decision_system_id"], unique=False)


def downgrade():
    with op.batch_alter_table("import_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_rows_decision_system_id"))
        batch_op.drop_index(batch_op.f("ix_import_rows_suggestion_system_id"))
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("heartbeat_at")
