"""approvals: the decision queues read from indexes

- ``systems (risk_owner_id, open_request_id)``: a risk owner's queue (their systems with an open request)
  is an index range, not a scan of every system awaiting a decision (bench/approvals.py, 100,000 systems).
- ``approval_requests (status, requested_at)``: the pending requests oldest first, for the CISO's view of
  every queue.

Revision ID: 0005_approvals
Revises: 0002_bench_indexes
Create Date: 2026-11-24 11:00:00
"""

from alembic import op

revision = "0005_approvals"
down_revision = "0002_bench_indexes"  # chained after the head in main, so `db upgrade` keeps one head
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("systems", schema=None) as batch_op:
        batch_op.create_index(
            "ix_systems_risk_owner_open_request", ["risk_owner_id", "open_request_id"], unique=False
        )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_approval_requests_status_requested_at", ["status", "requested_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_requests_status_requested_at")
    with op.batch_alter_table("systems", schema=None) as batch_op:
        batch_op.drop_index("ix_systems_risk_owner_open_request")
