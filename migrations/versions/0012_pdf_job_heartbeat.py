"""pdf_jobs.heartbeat_at and cancellable decommissioning plans

- ``pdf_jobs.heartbeat_at``: a batch print's worker renews it as pages are laid out; a running job whose
  heartbeat is old lost its worker (a restart) and is marked failed when it is read.
- ``decommissioning_plans``: status ``cancelled`` (the risk owner or the CISO calls the avveckling off)
  with ``cancelled_at``, ``cancelled_by_id`` and ``cancellation_motivation``; a CHECK ties them together.

Revision ID: 0012_pdf_job_heartbeat
Revises: 0011_password_must_change
Create Date: 2026-11-24 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_pdf_job_heartbeat"
down_revision = "0011_password_must_change"
branch_labels = None
depends_on = None

# Frozen here rather than imported from the models.
OLD_STATUSES = ("planned", "done")
NEW_STATUSES = ("planned", "done", "cancelled")
CANCELLED_CHECK = (
    "(status = 'cancelled') = (cancelled_at IS NOT NULL AND cancellation_motivation IS NOT NULL)"
)


def _status_check(statuses) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade():
    with op.batch_alter_table("pdf_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("decommissioning_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cancellation_motivation", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("ck_decommissioning_plans_status"), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=max(map(len, OLD_STATUSES))),
            type_=sa.String(length=max(map(len, NEW_STATUSES))),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f("ck_decommissioning_plans_status"), _status_check(NEW_STATUSES))
        batch_op.create_check_constraint(
            op.f("ck_decommissioning_plans_cancelled_has_motivation"), CANCELLED_CHECK
        )
        batch_op.create_foreign_key(
            op.f("fk_decommissioning_plans_cancelled_by_id_users"), "users", ["cancelled_by_id"], ["id"]
        )
        batch_op.create_index(
            op.f("ix_decommissioning_plans_cancelled_by_id"), ["cancelled_by_id"], unique=False
        )


def downgrade():
    # The old schema has no way to say "cancelled" (neither planned nor done is true of such a plan), so
    # downgrading drops the cancelled plans with the columns that describe them; their audit events stay.
    op.execute("DELETE FROM decommissioning_plans WHERE status = 'cancelled'")
    with op.batch_alter_table("decommissioning_plans", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_decommissioning_plans_cancelled_by_id"))
        batch_op.drop_constraint(op.f("fk_decommissioning_plans_cancelled_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_decommissioning_plans_cancelled_has_motivation"), type_="check")
        batch_op.drop_constraint(op.f("ck_decommissioning_plans_status"), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=max(map(len, NEW_STATUSES))),
            type_=sa.String(length=max(map(len, OLD_STATUSES))),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f("ck_decommissioning_plans_status"), _status_check(OLD_STATUSES))
        batch_op.drop_column("cancellation_motivation")
        batch_op.drop_column("cancelled_by_id")
        batch_op.drop_column("cancelled_at")

    with op.batch_alter_table("pdf_jobs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
