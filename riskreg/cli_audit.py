"""`flask --app wsgi audit purge [--dry-run]`: the retention of the audit trail (run it daily from cron or
a systemd timer). It removes events older than max(180, AUDIT_RETENTION_DAYS) days, records the purge as an
event, and commits once. On PostgreSQL the append-only trigger lets this delete through and nothing else."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from riskreg.actor import SYSTEM_ACTOR
from riskreg.extensions import db

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="only count what would be removed")
def purge_command(dry_run: bool) -> None:
    """Remove audit events older than the retention period (never younger than 180 days)."""
    from riskreg.services import audit_log

    n, cutoff, days = audit_log.purge(db.session, SYSTEM_ACTOR, dry_run=dry_run)
    if dry_run:  # nothing was changed; nothing to commit
        click.echo(f"{n} audit events older than {days} days (before {cutoff.isoformat()}) would be removed")
        return
    db.session.commit()
    click.echo(f"removed {n} audit events older than {days} days (before {cutoff.isoformat()})")
