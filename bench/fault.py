"""Fault test (issue 8): PostgreSQL is restarted while clients keep reading and writing through gunicorn.

    .venv/bin/python -m bench.fault                    # 20 clients, restart after 10 s, 40 s in all
    .venv/bin/python -m bench.fault --clients 50 --seconds 60 --restart-at 20

What must hold:
- requests fail cleanly while the database is away: 503 with the API's error shape (or no answer while a
  connection is cut), never a 500;
- the app recovers by itself: /healthz (polled every 100 ms) answers 200 again within a few seconds of
  PostgreSQL being back, and requests succeed again, without restarting gunicorn;
- nothing committed is lost: every write the server acknowledged (201 / 200) is in the database afterwards
  with its audit event; a write whose answer was lost may or may not have happened, but nothing else is.

The restart is ``pg_ctlcluster --skip-systemctl-redirect 15 main restart`` (it needs the right to control the
cluster; the command can be changed with --restart-cmd). It restarts the whole cluster: other users of the
same server notice. Loopback only and bounded like bench/load.py. Results: bench/results/fault.json.
"""

from __future__ import annotations

import http.client
import json
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import (  # noqa: E402
    ADMIN_URL,
    Server,
    api_paths,
    arg_parser,
    log,
    prepare,
    run_clients,
    summary,
    write_results,
)

RESTART = "pg_ctlcluster --skip-systemctl-redirect 15 main restart"
RECOVERY_TARGET_S = 10.0


class HealthProbe(threading.Thread):
    """Polls /healthz every 100 ms: (epoch, status or None) for the outage and recovery times."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.samples, self.stop = port, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = None
            self.samples.append((time.time(), status))
            time.sleep(0.1)


class DbProbe(threading.Thread):
    """Connects to PostgreSQL itself every 100 ms: when it stopped and started answering."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.samples, self.stop = url.replace("+psycopg", ""), [], threading.Event()

    def run(self) -> None:
        import psycopg

        while not self.stop.is_set():
            try:
                with psycopg.connect(self.url, connect_timeout=1) as conn:
                    conn.execute("SELECT 1")
                ok = True
            except psycopg.Error:
                ok = False
            self.samples.append((time.time(), ok))
            time.sleep(0.1)


def restart_later(delay: float, command: str, out: dict) -> threading.Thread:
    def go():
        time.sleep(delay)
        out["started"] = time.time()
        run = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=120)  # noqa: S603
        out["ended"] = time.time()
        out["returncode"] = run.returncode
        out["output"] = (run.stdout + run.stderr).strip()[-500:]

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def outage(samples: list[tuple[float, int | None]], db: list[tuple[float, bool]], restart: dict) -> dict:
    """When /healthz failed after the restart began and answered 200 again, and when PostgreSQL itself
    stopped and started answering (its own probe), all in seconds after the restart command began."""
    t0 = restart["started"]
    after = [(t, s) for t, s in samples if t >= t0 - 0.2]
    down = next((t for t, s in after if s != 200), None)
    up = next((t for t, s in after if down is not None and t > down and s == 200), None)
    db_after = [(t, ok) for t, ok in db if t >= t0 - 0.2]
    db_down = next((t for t, ok in db_after if not ok), None)
    db_up = next((t for t, ok in db_after if db_down is not None and t > db_down and ok), None)

    def rel(t):
        return round(t - t0, 2) if t else None

    return {
        "health_down_at_s": rel(down),
        "health_up_at_s": rel(up),
        "db_down_at_s": rel(db_down),
        "db_up_at_s": rel(db_up),
        "restart_command_s": round(restart["ended"] - t0, 2),
        "recovered_after_db_back_s": round(up - db_up, 2) if up and db_up else None,
        "outage_s": round(up - down, 2) if up and down else None,
        "health_statuses": sorted({str(s) for _, s in after}),
    }


def verify_nothing_lost(db_url: str, results: list[tuple]) -> dict:
    """Every acknowledged write is in the database with its audit event; lost answers are counted apart."""
    from sqlalchemy import create_engine, text

    writes = [r for r in results if r[0] in ("patch", "post") and r[5] is not None]
    created = [r[5] for r in writes if r[0] == "post" and r[5]["ok"]]
    patches: dict[int, list[dict]] = {}
    for r in sorted((r for r in writes if r[0] == "patch"), key=lambda r: r[1]):
        patches.setdefault(r[5]["id"], []).append({**r[5], "status": r[3]})
    missing, wrong = [], []
    engine = create_engine(db_url)
    with engine.connect() as conn:
        for rec in created:
            found = conn.execute(text("SELECT name FROM systems WHERE id = :i"), {"i": rec["id"]}).scalar()
            audited = conn.execute(
                text(
                    "SELECT count(*) FROM audit_events WHERE entity = 'system' "
                    "AND entity_id = :i AND action = 'create'"
                ),
                {"i": rec["id"]},
            ).scalar()
            if found != rec["name"] or not audited:
                missing.append(rec)
        for sid, attempts in patches.items():
            final = conn.execute(text("SELECT description FROM systems WHERE id = :i"), {"i": sid}).scalar()
            acked = [a for a in attempts if a["ok"]]
            if not acked:
                continue
            last_ack = max(i for i, a in enumerate(attempts) if a["ok"])
            allowed = {
                a["description"]
                for a in attempts[last_ack:]
                if a["ok"] or a["status"] is None or a["status"] >= 500
            }
            if final not in allowed:
                wrong.append(
                    {"id": sid, "final": final, "last_acknowledged": attempts[last_ack]["description"]}
                )
            for a in acked:
                audited = conn.execute(
                    text(
                        "SELECT count(*) FROM audit_events WHERE entity = 'system' AND "
                        "entity_id = :i AND action = 'update' AND after::text LIKE :d"
                    ),
                    {"i": sid, "d": f"%{a['description']}%"},
                ).scalar()
                if not audited:
                    missing.append({"audit_of": a})
    engine.dispose()
    lost_answers = sum(1 for r in writes if r[3] is None)
    return {
        "acknowledged_creates": len(created),
        "acknowledged_patches": sum(len([a for a in v if a["ok"]]) for v in patches.values()),
        "missing": missing[:20],
        "missing_count": len(missing),
        "wrong_final_value": wrong[:20],
        "writes_without_answer": lost_answers,
    }


def main() -> int:
    p = arg_parser(__doc__)
    # dense requests (a pause of 0-0.2 s), so some fall into a restart that takes PostgreSQL well under a second
    p.set_defaults(clients=20, seconds=40, think_ms=100.0)
    p.add_argument("--restart-at", type=float, default=10.0, help="seconds into the run")
    p.add_argument("--restart-cmd", default=RESTART)
    args = p.parse_args()
    target = prepare(args.data)
    server = Server(
        target.db_url, args.workers, args.threads, log_path=ROOT / "bench" / "results" / "fault-gunicorn.log"
    )
    restart: dict = {}
    try:
        target.base = server.base
        target.paths = api_paths(server.base, target.tokens["ciso"])
        probe = HealthProbe(server.port)
        probe.start()
        db_probe = DbProbe(target.db_url)
        db_probe.start()
        log(
            f"fault: {args.clients} clients for {args.seconds:.0f} s; "
            f"PostgreSQL restarts at {args.restart_at:.0f} s"
        )
        restarter = restart_later(args.restart_at + 1.0, args.restart_cmd, restart)  # clients start after 1 s
        results = run_clients(target, args.clients, args.seconds, args.think_ms)
        restarter.join(120)
        time.sleep(0.5)
        probe.stop.set()
        db_probe.stop.set()
        probe.join(5)
        db_probe.join(5)
        after_run_healthy = server.healthy()
    finally:
        server.stop()
    if restart.get("returncode") != 0:
        log(f"fault: the restart command failed: {restart}")
        return 2
    s = summary(results, args.seconds)
    statuses = s["all"]["statuses"]
    five_hundreds = statuses.get("500", 0)
    other_5xx = {k: v for k, v in statuses.items() if k.startswith("5") and k not in ("500", "503")}
    window = outage(probe.samples, db_probe.samples, restart)
    back = [r for r in results if r[1] > restart["ended"] + RECOVERY_TARGET_S]
    lost = verify_nothing_lost(target.db_url, results)
    timeline: dict[int, dict[str, int]] = {}
    t0 = min(r[1] for r in results)
    for r in results:
        sec = int(r[1] - t0)
        timeline.setdefault(sec, {})
        timeline[sec][str(r[3])] = timeline[sec].get(str(r[3]), 0) + 1
    checks = {
        "no 500 answers": five_hundreds == 0 and not other_5xx,
        "503 answers while the database was away": statuses.get("503", 0) > 0 or statuses.get("None", 0) > 0,
        f"/healthz back within {RECOVERY_TARGET_S:.0f} s of PostgreSQL": (
            window["recovered_after_db_back_s"] is not None
            and window["recovered_after_db_back_s"] <= RECOVERY_TARGET_S
        ),
        f"every request after {RECOVERY_TARGET_S:.0f} s of recovery succeeds": bool(back)
        and all(r[4] for r in back),
        "nothing acknowledged is lost": lost["missing_count"] == 0 and not lost["wrong_final_value"],
        "healthy at the end": after_run_healthy,
    }
    print(
        f"restart command {window['restart_command_s']} s; PostgreSQL refused from "
        f"+{window['db_down_at_s']} s to +{window['db_up_at_s']} s; "
        f"/healthz 503 from +{window['health_down_at_s']} s, 200 again at "
        f"+{window['health_up_at_s']} s ({window['recovered_after_db_back_s']} s after PostgreSQL answered)"
    )
    print(f"answers: {json.dumps(statuses)}")
    print(
        f"acknowledged: {lost['acknowledged_creates']} creates, {lost['acknowledged_patches']} patches; "
        f"{lost['writes_without_answer']} writes lost their answer; missing {lost['missing_count']}"
    )
    print("timeline (second: statuses):")
    for sec in sorted(timeline):
        print(f"  {sec:>3}: {json.dumps(timeline[sec], sort_keys=True)}")
    for name, ok in checks.items():
        print(("ok   " if ok else "FAIL ") + name)
    path = write_results(
        "fault",
        {
            "args": vars(args),
            "data": target.data,
            "restart": restart,
            "window": window,
            "summary": s,
            "nothing_lost": lost,
            "timeline": timeline,
            "checks": checks,
        },
    )
    log(f"fault: results in {path}")
    if not args.keep:
        from bench.common import drop_database

        drop_database("riskreg_load", ADMIN_URL)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
