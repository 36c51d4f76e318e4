"""audit retention: the append-only trigger lets the retention purge remove only old events

The audit trail stays append-only: UPDATE is always refused and so is DELETE, except in a transaction
that has switched on the purge (``SELECT set_config('riskreg.audit_purge', 'on', true)``, which is what
``riskreg.services.audit_log.purge`` does), and then only for events older than the retention period,
which the trigger itself bounds below by 180 days whatever the session says
(``riskreg.audit_retention_days``). So no client, not even one that sets the flag by hand, can remove an
event younger than 180 days, nor one younger than the configured retention when it runs the purge.

Revision ID: 0008_audit
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""
from alembic import op

revision = "0008_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

MIN_DAYS = 180  # frozen here on purpose: the floor must not move with application code

RETENTION = f"""
CREATE OR REPLACE FUNCTION riskreg_audit_append_only() RETURNS trigger AS $$
DECLARE
    keep_days integer;
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('riskreg.audit_purge', true) = 'on' THEN
        keep_days := greatest({MIN_DAYS}, coalesce(
            nullif(current_setting('riskreg.audit_retention_days', true), '')::integer, {MIN_DAYS}));
        IF OLD.at < now() - make_interval(days => keep_days) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'DELETE of an audit event younger than % days is refused', keep_days
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION riskreg_audit_append_only();
"""

RESTORE = """
DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION riskreg_refuse_change();
DROP FUNCTION IF EXISTS riskreg_audit_append_only();
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RETENTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RESTORE)
