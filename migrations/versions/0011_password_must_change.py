"""users.password_must_change: after an administrator sets a password, the user chooses their own at the
next login (OWASP ASVS 2.3.1)

Revision ID: 0011_password_must_change
Revises: 0010_progress_indexes
Create Date: 2026-11-24 15:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_password_must_change"
down_revision = "0010_progress_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_must_change", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_must_change")
