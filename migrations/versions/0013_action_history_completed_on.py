"""action_status_changes.from_completed_on and .completed_on: an action's history keeps its completion date
before and after each follow-up, and a change of the date alone is a row of its own

Rows written before this revision did not keep the dates. For the newest row of an action that set it to
``done`` while the action is still done, ``completed_on`` is filled from the action: the date the action
holds now, which that change set or a later change of the date alone (such changes left no row before this
revision) — the best that can be known. Every other old row keeps NULL, shown as unknown.

Revision ID: 0013_action_history_completed_on
Revises: 0012_pdf_job_heartbeat
Create Date: 2026-11-24 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_action_history_completed_on"
down_revision = "0012_pdf_job_heartbeat"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("action_status_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_completed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("completed_on", sa.Date(), nullable=True))
    op.execute(
        """
        UPDATE action_status_changes
        SET completed_on = (
            SELECT risk_actions.completed_on FROM risk_actions
            WHERE risk_actions.id = action_status_changes.action_id AND risk_actions.status = 'done'
        )
        WHERE to_status = 'done'
          AND id = (
            SELECT MAX(newest.id) FROM action_status_changes newest
            WHERE newest.action_id = action_status_changes.action_id
          )
        """
    )


def downgrade():
    with op.batch_alter_table("action_status_changes", schema=None) as batch_op:
        batch_op.drop_column("completed_on")
        batch_op.drop_column("from_completed_on")
