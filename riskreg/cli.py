"""Command line (API.md): `users create`, `users token`, `seed demo`, `remind`; `db upgrade` is
Flask-Migrate's. Each command commits once, after its service returns."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from riskreg.actor import SYSTEM_ACTOR
from riskreg.errors import DomainError
from riskreg.extensions import db

users = AppGroup("users", help="Accounts and API tokens.")
seed = AppGroup("seed", help="Demo data.")


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    detail = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.fields.items())
    click.echo(f"error: {exc.message!s}{' (' + detail + ')' if detail else ''}", err=True)
    sys.exit(2)


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              help="system_owner, risk_owner, ciso, dpo, admin or auditor; repeat for several")
@click.option("--password", required=True)
@click.option("--org-unit", "org_unit", default=None, help="the org unit's name")
def users_create(email: str, name: str, roles: tuple[str, ...], password: str, org_unit: str | None) -> None:
    """Create a user; prints its id."""
    from riskreg.services import accounts, org_units

    unit_id = None
    if org_unit:
        unit = org_units.by_name(db.session, org_unit)
        if unit is None:
            click.echo(f"error: no org unit named {org_unit!r}", err=True)
            sys.exit(2)
        unit_id = unit.id
    try:
        user = accounts.create_user(db.session, SYSTEM_ACTOR, email=email, name=name, roles=list(roles),
                                    password=password, org_unit_id=unit_id, check_permission=False)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(user.id)


@users.command("token")
@click.option("--email", required=True)
@click.option("--name", default="CLI", help="a name for the token")
def users_token(email: str, name: str) -> None:
    """Create an API token for the user; prints only the token."""
    from riskreg.services import accounts

    user = accounts.find_user_by_email(db.session, email)
    if user is None:
        click.echo(f"error: no user with e-mail {email}", err=True)
        sys.exit(2)
    try:
        _, plain = accounts.create_token(db.session, SYSTEM_ACTOR, user, name)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(plain)


@seed.command("demo")
@click.option("--quiet", is_flag=True)
def seed_demo(quiet: bool) -> None:
    """Load the demo region (~670 systems, a user per role); idempotent."""
    from seed.demo import run

    summary = run(db.session, echo=(lambda *_: None) if quiet else click.echo)
    db.session.commit()
    click.echo(summary)


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(seed)
    from riskreg.cli_audit import audit_cli

    app.cli.add_command(audit_cli)
    try:
        from riskreg.services.reminders import remind_command
    except ImportError:
        return
    app.cli.add_command(remind_command)
