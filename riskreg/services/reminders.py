"""Reminders by e-mail (``flask --app wsgi remind [--dry-run]``): approvals expiring within 90 and within
30 days, expired approvals, conditions and risk actions past their due date, and requests waiting for a
decision longer than REQUEST_WAITING_REMINDER_DAYS. Each person gets one message listing what concerns
them. Every reminder is logged (``ReminderLog``) with its period, so it goes out once per period however
often the command runs: the expiry warnings once per validity date, the recurring ones once a week.
The SMTP server and the sender come from configuration (SMTP_HOST, SMTP_PORT, SMTP_SENDER)."""

from __future__ import annotations

import smtplib
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from riskreg.models import (
    Approval,
    ApprovalRequest,
    ApprovalRevocation,
    ReminderLog,
    Risk,
    RiskAction,
    System,
    User,
)
from riskreg.models.base import utcnow
from riskreg.models.codes import ActionStatus, Decision, Lifecycle
from riskreg.services.approvals import overdue_conditions_stmt


@dataclass(frozen=True)
class Reminder:
    kind: str  # expiring_90, expiring_30, expired, condition_overdue, action_overdue, request_waiting
    entity: str
    entity_id: int
    period_key: str
    recipient_id: int
    email: str
    name: str
    line: str  # what the reminder is about, one line
    url: str


def week_of(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _url(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _people(session: Session, ids: set[int | None]) -> dict[int, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {
        u.id: u
        for u in session.execute(select(User).where(User.id.in_(ids), User.active.is_(True))).scalars()
    }


def _in_force():
    """Systems whose current decision is an approval that has not been revoked."""
    return and_(
        System.current_approval_id == Approval.id,
        Approval.decision.in_([Decision.APPROVED, Decision.APPROVED_WITH_CONDITIONS]),
        ~exists().where(ApprovalRevocation.approval_id == Approval.id),
        System.lifecycle.in_([Lifecycle.IN_OPERATION, Lifecycle.PLANNED]),
    )


def _approvals(session: Session, today: date) -> list[tuple[str, str, int, str, list[int | None], str, str]]:
    out = []
    stmt = (
        select(
            Approval.id,
            Approval.reference,
            Approval.valid_until,
            System.id,
            System.name,
            System.system_owner_id,
            System.risk_owner_id,
        )
        .join(System, System.current_approval_id == Approval.id)
        .where(_in_force(), Approval.valid_until <= today + timedelta(days=90))
    )
    for aid, ref, until, _sid, name, owner, risk_owner in session.execute(stmt):
        if until < today:
            kind, period = "expired", week_of(today)
            line = _(
                "The approval %(ref)s of %(system)s expired on %(date)s.",
                ref=ref,
                system=name,
                date=until.isoformat(),
            )
        else:
            kind = "expiring_30" if until <= today + timedelta(days=30) else "expiring_90"
            period = until.isoformat()
            line = _(
                "The approval %(ref)s of %(system)s expires on %(date)s.",
                ref=ref,
                system=name,
                date=until.isoformat(),
            )
        out.append((kind, "approval", aid, period, [owner, risk_owner], line, _url(f"/approvals/{aid}")))
    return out


def _conditions(session: Session, today: date) -> list:
    out = []
    for row in session.execute(overdue_conditions_stmt(today)):
        line = _(
            "Condition of %(ref)s (%(system)s) was due %(date)s: %(text)s",
            ref=row.reference,
            system=row.system_name,
            date=row.due_on.isoformat(),
            text=row.text,
        )
        out.append(
            (
                "condition_overdue",
                "approval_condition",
                row.condition_id,
                week_of(today),
                [row.responsible_id, row.system_owner_id, row.risk_owner_id],
                line,
                _url(f"/approvals/{row.approval_id}#condition-{row.condition_id}"),
            )
        )
    return out


def _actions(session: Session, today: date) -> list:
    out = []
    stmt = (
        select(
            RiskAction.id,
            RiskAction.description,
            RiskAction.due_on,
            RiskAction.responsible_id,
            Risk.title,
            System.id,
            System.name,
            System.system_owner_id,
        )
        .join(Risk, Risk.id == RiskAction.risk_id)
        .join(System, System.current_risk_analysis_id == Risk.analysis_id)
        .where(
            RiskAction.status.in_([ActionStatus.PLANNED, ActionStatus.IN_PROGRESS]),
            RiskAction.due_on < today,
            System.lifecycle != Lifecycle.DECOMMISSIONED,
        )
        .order_by(RiskAction.due_on, RiskAction.id)
    )
    for aid, text, due, responsible, risk, sid, name, owner in session.execute(stmt):
        line = _(
            "Action for the risk “%(risk)s” of %(system)s was due %(date)s: %(text)s",
            risk=risk,
            system=name,
            date=due.isoformat(),
            text=text,
        )
        out.append(
            (
                "action_overdue",
                "risk_action",
                aid,
                week_of(today),
                [responsible, owner],
                line,
                _url(f"/systems/{sid}"),
            )
        )
    return out


def _requests(session: Session, today: date) -> list:
    out = []
    days = int(current_app.config["REQUEST_WAITING_REMINDER_DAYS"])
    cutoff = datetime.combine(today - timedelta(days=days), time.min, UTC)
    req = aliased(ApprovalRequest)
    stmt = (
        select(req.id, req.requested_at, System.id, System.name, System.risk_owner_id)
        .join(System, System.open_request_id == req.id)
        .where(req.requested_at < cutoff, System.lifecycle != Lifecycle.DECOMMISSIONED)
    )
    for rid, at, sid, name, risk_owner in session.execute(stmt):
        line = _(
            "%(system)s has waited %(days)s days for your decision.",
            system=name,
            days=(today - at.date()).days,
        )
        out.append(
            (
                "request_waiting",
                "approval_request",
                rid,
                week_of(today),
                [risk_owner],
                line,
                _url(f"/systems/{sid}/approval/decide"),
            )
        )
    return out


def due(session: Session, today: date) -> list[Reminder]:
    """Every reminder due today that has not been sent in its period, one per item and recipient."""
    raw = (
        _approvals(session, today)
        + _conditions(session, today)
        + _actions(session, today)
        + _requests(session, today)
    )
    people = _people(session, {p for item in raw for p in item[4]})
    sent = set(
        session.execute(
            select(
                ReminderLog.kind,
                ReminderLog.entity,
                ReminderLog.entity_id,
                ReminderLog.period_key,
                ReminderLog.recipient,
            ).where(ReminderLog.period_key.in_({item[3] for item in raw} or {""}))
        ).all()
    )
    out = []
    for kind, entity, entity_id, period, recipients, line, url in raw:
        for uid in dict.fromkeys(recipients):
            user = people.get(uid)
            if user is None or (kind, entity, entity_id, period, user.email) in sent:
                continue
            out.append(Reminder(kind, entity, entity_id, period, user.id, user.email, user.name, line, url))
    return out


def by_recipient(reminders: list[Reminder]) -> dict[str, list[Reminder]]:
    grouped: dict[str, list[Reminder]] = defaultdict(list)
    for r in reminders:
        grouped[r.email].append(r)
    return dict(sorted(grouped.items()))


HEADINGS = {
    "expiring_30": _l("Approvals expiring within 30 days"),
    "expiring_90": _l("Approvals expiring within 90 days"),
    "expired": _l("Expired approvals"),
    "condition_overdue": _l("Conditions past their due date"),
    "action_overdue": _l("Risk actions past their due date"),
    "request_waiting": _l("Requests waiting for your decision"),
}


def message(email: str, items: list[Reminder]) -> EmailMessage:
    """One e-mail listing a person's reminders, grouped by kind."""
    msg = EmailMessage()
    msg["From"] = current_app.config["SMTP_SENDER"]
    msg["To"] = email
    msg["Subject"] = _("riskreg: %(n)s reminders about approval to operate", n=len(items))
    lines = [
        _("Hello %(name)s,", name=items[0].name),
        "",
        _("The following needs your attention in riskreg:"),
        "",
    ]
    for kind, heading in HEADINGS.items():
        mine = [r for r in items if r.kind == kind]
        if not mine:
            continue
        lines += [str(heading), ""]
        lines += [f"- {r.line}\n  {r.url}" for r in mine]
        lines.append("")
    lines.append(_("This is an automatic reminder; each is sent once per period."))
    msg.set_content("\n".join(lines))
    return msg


def record_sent(session: Session, items: list[Reminder]) -> None:
    at = utcnow()
    for r in items:
        session.add(
            ReminderLog(
                kind=r.kind,
                entity=r.entity,
                entity_id=r.entity_id,
                period_key=r.period_key,
                recipient=r.email,
                sent_at=at,
            )
        )
    session.flush()


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing, record nothing.")
@click.option(
    "--today", "today_text", default=None, hidden=True, help="Run as if today were this date (ISO)."
)
@with_appcontext
def remind_command(dry_run: bool, today_text: str | None) -> None:
    """Send the due reminders by e-mail (expiring and expired approvals, overdue conditions and actions,
    requests waiting for a decision), each once per period."""
    from riskreg.extensions import db

    today = date.fromisoformat(today_text) if today_text else utcnow().date()
    grouped = by_recipient(due(db.session, today))
    if dry_run:
        for email, items in grouped.items():
            click.echo(f"would send to {email}: {len(items)} reminder(s)")
            for r in items:
                click.echo(f"  [{r.kind}] {r.line}")
        click.echo(
            f"dry run: {sum(len(v) for v in grouped.values())} reminder(s) to {len(grouped)} recipient(s); "
            "nothing sent"
        )
        return
    if not grouped:
        click.echo("no reminders are due")
        return
    config = current_app.config
    try:
        smtp = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30)
    except (OSError, smtplib.SMTPException) as exc:
        click.echo(f"error: no SMTP server at {config['SMTP_HOST']}:{config['SMTP_PORT']}: {exc}", err=True)
        sys.exit(1)
    failed = sent = 0
    with smtp:
        for email, items in grouped.items():
            try:
                smtp.send_message(message(email, items))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                failed += 1
                click.echo(f"error: could not send to {email}: {exc}", err=True)
                continue
            except (OSError, smtplib.SMTPException) as exc:
                failed = len(grouped) - sent
                click.echo(f"error: the SMTP server stopped answering: {exc}", err=True)
                break
            record_sent(db.session, items)  # logged as it goes: a rerun sends only what failed
            db.session.commit()
            sent += 1
    click.echo(f"sent reminders to {sent} recipient(s)" + (f"; {failed} failed" if failed else ""))
    if failed:
        sys.exit(1)
