"""`flask remind`: reminders by e-mail to a small SMTP server the test starts itself (socketserver), once
per period however often the command runs; ``--dry-run`` prints and sends nothing."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from riskreg.models import ReminderLog
from tests.approval_support import World
from tests.conftest import NOW, TODAY


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self.reply("220 test SMTP ready")
        sender, recipients = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-test" if verb == "EHLO" else "250 test")
                if verb == "EHLO":
                    self.reply("250 8BITMIME")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip(" <>")
                if address in self.server.refuse:
                    self.reply("550 no such mailbox")
                    continue
                recipients.append(address)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                self.server.received.append((sender, list(recipients), message))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.received: list = []
        self.refuse: set[str] = set()


@pytest.fixture
def smtp(app):
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    old = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", server.server_address[1]
    yield server
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = old
    server.shutdown()
    server.server_close()


def remind(app, *args):
    return app.test_cli_runner().invoke(args=["remind", *args])


@pytest.fixture
def scene(make, db_session, app):
    """One system expiring within 30 days with an overdue condition and an overdue action, one expiring
    within 90 days, one expired, and one request waiting 20 days."""
    past = NOW - timedelta(days=300)
    soon = World(make, db_session, name="Snart utgånget")
    soon.approved(
        now=past,
        valid_until=TODAY + timedelta(days=20),
        conditions=[
            {
                "text": "Öva reservrutin",
                "due_on": (past + timedelta(days=10)).date(),
                "responsible_id": soon.owner.id,
            }
        ],
    )
    later = World(make, db_session, name="Går ut om två månader")
    later.approved(now=past, decision="approved", valid_until=TODAY + timedelta(days=60))
    old = World(make, db_session, name="Utgånget")
    old.approved(now=past, decision="approved", valid_until=TODAY - timedelta(days=5))
    waiting = World(make, db_session, name="Väntande")
    waiting.ready()
    waiting.request(now=NOW - timedelta(days=20))
    return {"soon": soon, "later": later, "old": old, "waiting": waiting}


def test_dry_run_prints_and_sends_nothing(app, scene, smtp, db_session):
    result = remind(app, "--dry-run", "--today", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    out = result.output
    assert "[expiring_30]" in out and "[expiring_90]" in out and "[expired]" in out
    assert "[condition_overdue]" in out and "[action_overdue]" in out and "[request_waiting]" in out
    assert f"would send to {scene['waiting'].risk_owner.email}" in out
    assert smtp.received == []
    assert db_session.execute(select(func.count()).select_from(ReminderLog)).scalar_one() == 0


def test_reminders_are_sent_once_per_period(app, scene, smtp, db_session):
    result = remind(app, "--today", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    by_to = {str(m["To"]): m for _sender, _rcpt, m in smtp.received}
    assert set(by_to) >= {
        scene["soon"].owner.email,
        scene["soon"].risk_owner.email,
        scene["waiting"].risk_owner.email,
        scene["old"].owner.email,
    }
    soon_owner = by_to[scene["soon"].owner.email]
    assert soon_owner["From"] == app.config["SMTP_SENDER"]
    body = soon_owner.get_content()
    assert "Snart utgånget" in body and "Öva reservrutin" in body and "Öva återläsning" in body
    assert "går ut" in body and "/approvals/" in body and app.config["BASE_URL"] in body
    assert "väntat 20 dagar" in by_to[scene["waiting"].risk_owner.email].get_content()
    assert "gick ut" in by_to[scene["old"].owner.email].get_content()
    first = len(smtp.received)
    logged = db_session.execute(select(func.count()).select_from(ReminderLog)).scalar_one()
    assert logged >= 8

    again = remind(app, "--today", TODAY.isoformat())
    assert again.exit_code == 0 and "no reminders are due" in again.output
    assert len(smtp.received) == first  # no spam on reruns

    next_week = remind(app, "--today", (TODAY + timedelta(days=7)).isoformat())
    assert next_week.exit_code == 0, next_week.output
    kinds = " ".join(m.get_content() for _s, _r, m in smtp.received[first:])
    assert "Öva reservrutin" in kinds and "gick ut" in kinds  # the recurring ones, once a week
    assert "för Går ut om två månader går ut" not in kinds  # its 90-day warning went out already


def test_thirty_day_warning_follows_the_ninety_day_one(app, scene, smtp):
    remind(app, "--today", TODAY.isoformat())
    first = len(smtp.received)
    result = remind(app, "--today", (TODAY + timedelta(days=31)).isoformat())
    assert result.exit_code == 0
    later = [m for _s, _r, m in smtp.received[first:] if "Går ut om två månader" in m.get_content()]
    assert later and "inom 30 dagar" in later[0].get_content()


def test_a_refused_recipient_is_retried_next_run(app, scene, smtp, db_session):
    refused = scene["waiting"].risk_owner.email
    smtp.refuse.add(refused)
    result = remind(app, "--today", TODAY.isoformat())
    assert result.exit_code == 1 and refused in result.output
    assert all(str(m["To"]) != refused for _s, _r, m in smtp.received)
    smtp.refuse.clear()
    result = remind(app, "--today", TODAY.isoformat())
    assert result.exit_code == 0 and [str(m["To"]) for _s, _r, m in smtp.received][-1] == refused


def test_no_smtp_server_is_a_clear_error(app, scene):
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", 9  # discard port: nothing listens
    try:
        result = remind(app, "--today", TODAY.isoformat())
    finally:
        app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "localhost", 25
    assert result.exit_code == 1 and "no SMTP server" in result.output
