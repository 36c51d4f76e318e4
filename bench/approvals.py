"""Bench of driftgodkännande (issue 5) on PostgreSQL with 100,000 systems (bench/common.py's dataset,
copied to a database of its own because this bench writes decisions):

  queue    the risk owner's queue page (HTML, signed in), the CISO's view of every pending request and of
           every queue, and GET /api/v1/approval-queue                            target < 100 ms
  decide   one decision via POST /api/v1/systems/{id}/approvals (each call decides another system that
           awaits a decision, accepting its high residual risks)                  target < 100 ms
  pdf      one approval PDF via GET /api/v1/approvals/{id}/pdf                     target < 150 ms
  batch    670 decisions as one PDF via POST /api/v1/approval-prints (run in the request, as the
           background job does it)                                                target < 30 s

    .venv/bin/python -m bench.approvals [--n 100000] [--repeat 30] [--batch 670]

Requests go through the Flask test client (in process). Each case reports wall-clock time and, beside
it, this process's CPU time (which leaves out PostgreSQL's share but is not inflated by other work on the
machine; on a busy 2-core box the wall clock can be several times the CPU figure). Results:
bench/results/approvals.json.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from bench.common import (
    BENCH_PASSWORD,
    Dataset,
    arg_parser,
    dataset_from_args,
    drop_database,
    log,
    print_table,
    summarise,
    write_results,
)

TARGETS = {"queue": 100.0, "decide": 100.0, "pdf": 150.0, "batch": 30_000.0}
CLONE = "riskreg_bench_approvals"


def timed(fn, repeat: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds per call (the CPU figure leaves out PostgreSQL's
    work, and is what other load on the machine does not inflate)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def candidates(app, limit: int) -> list[tuple[int, int, list[int]]]:
    """Systems awaiting a decision whose prerequisites hold: (system id, risk owner id, high risk ids)."""
    from riskreg.extensions import db
    from riskreg.models import System
    from riskreg.models.codes import Lifecycle
    from riskreg.services import approvals

    out = []
    with app.app_context():
        rows = (
            db.session.execute(
                select(System)
                .where(
                    System.open_request_id.is_not(None),
                    System.risk_owner_id.is_not(None),
                    System.risk_owner_id != System.system_owner_id,
                    System.lifecycle != Lifecycle.DECOMMISSIONED,
                )
                .order_by(System.id)
                .limit(limit * 2)
            )
            .scalars()
            .all()
        )
        for system in rows:
            if approvals.prerequisites(db.session, system):
                continue
            out.append(
                (
                    system.id,
                    system.risk_owner_id,
                    [r.id for r in approvals.high_residual_risks(db.session, system)],
                )
            )
            if len(out) == limit:
                break
        db.session.remove()
    return out


def tokens_for(app, user_ids: set[int]) -> dict[int, str]:
    from riskreg.actor import SYSTEM_ACTOR
    from riskreg.extensions import db
    from riskreg.models import User
    from riskreg.services import accounts

    with app.app_context():
        out = {
            uid: accounts.create_token(db.session, SYSTEM_ACTOR, db.session.get(User, uid), "bench")[1]
            for uid in user_ids
        }
        db.session.commit()
        db.session.remove()
    return out


def decide_body(high: list[int]) -> dict:
    return {
        "decision": "approved",
        "motivation": "Riskerna är hanterade till en acceptabel nivå.",
        "accepted_risks": [
            {"risk_id": r, "motivation": "Godtas med hänsyn till verksamhetens behov."} for r in high
        ],
    }


def signed_in(app, email: str):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
    if resp.status_code != 302:
        raise RuntimeError(f"login as {email} answered {resp.status_code}")
    return client


def main() -> None:
    p = arg_parser("Bench of driftgodkännande: decision, PDF, batch print, queue page")
    p.add_argument("--batch", type=int, default=670, help="decisions in the batch print (default 670)")
    p.add_argument("--keep", action="store_true", help="keep the bench's copy of the dataset")
    args = p.parse_args()
    load_at_start = os.getloadavg()
    base: Dataset = dataset_from_args(args)
    log(f"bench: copying {base.name} to {CLONE}")
    ds = base.clone(CLONE)
    app = ds.app(PDF_JOBS_INLINE=True, BASE_URL="https://riskreg.region.example")
    results: list[dict] = []

    def row(group: str, label: str, samples: tuple[list[float], list[float]], **extra) -> None:
        wall, cpu = samples
        r = {"group": group, "case": label, **summarise(wall), "target_ms": TARGETS[group], **extra}
        r["cpu_median_ms"] = round(sorted(cpu)[len(cpu) // 2], 1)
        r["ok"] = r["p95_ms"] < TARGETS[group]
        results.append(r)
        log(
            f"  {group:6} {label:58} median {r['median_ms']:8.1f}  p95 {r['p95_ms']:8.1f} ms"
            f"  (this process's CPU {r['cpu_median_ms']:.1f} ms)"
        )

    try:
        from riskreg.extensions import db
        from riskreg.models import System

        with app.app_context():
            systems = db.session.execute(select(func.count(System.id))).scalar_one()
            mine = db.session.execute(
                select(func.count(System.id)).where(
                    System.risk_owner_id == ds.user_ids["risk_owner"], System.open_request_id.is_not(None)
                )
            ).scalar_one()
            pending = db.session.execute(
                select(func.count(System.id)).where(System.open_request_id.is_not(None))
            ).scalar_one()
            db.session.remove()
        log(
            f"bench: {systems} systems, {pending} awaiting a decision, "
            f"{mine} of them on the bench risk owner's queue"
        )

        # ---- queue pages (before any decision is taken off the queues)
        risk_owner = signed_in(app, ds.emails["risk_owner"])
        ciso = signed_in(app, ds.emails["ciso"])
        for label, client, path in (
            (f"risk owner's queue page ({mine} waiting)", risk_owner, "/approvals/queue"),
            ("risk owner's queue page, page 2", risk_owner, "/approvals/queue?page=2"),
            (f"CISO: every pending request ({pending})", ciso, "/approvals/queue"),
            ("CISO: every risk owner's queue", ciso, "/approvals/queues"),
            ("overview page (risk owner)", risk_owner, "/approvals"),
        ):
            resp = client.get(path)
            if resp.status_code != 200:
                raise RuntimeError(f"{path} answered {resp.status_code}")
            row("queue", label, timed(lambda c=client, u=path: c.get(u), args.repeat))
        api_ro = app.test_client()
        headers = {"Authorization": f"Bearer {ds.tokens['risk_owner']}"}
        row(
            "queue",
            "GET /api/v1/approval-queue (risk owner)",
            timed(lambda: api_ro.get("/api/v1/approval-queue", headers=headers), args.repeat),
        )

        # ---- one decision via the API, each on another system
        wanted = max(args.batch, args.repeat + 3)
        found = candidates(app, wanted)
        log(f"bench: {len(found)} systems ready for a decision")
        tokens = tokens_for(app, {ro for _sid, ro, _high in found})
        client = app.test_client()
        samples, cpus, decided = [], [], []
        for i, (sid, ro, high) in enumerate(found[: args.repeat + 3]):
            t0, c0 = time.perf_counter(), time.process_time()
            resp = client.post(
                f"/api/v1/systems/{sid}/approvals",
                json=decide_body(high),
                headers={"Authorization": f"Bearer {tokens[ro]}"},
            )
            ms, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            if resp.status_code != 201:
                raise RuntimeError(f"decision on {sid} answered {resp.status_code}: {resp.get_json()}")
            decided.append(resp.get_json()["id"])
            if i >= 3:
                samples.append(ms)
                cpus.append(cpu)
        row("decide", "POST /api/v1/systems/{id}/approvals (approved, risks accepted)", (samples, cpus))

        # ---- one approval PDF
        ciso_api = {"Authorization": f"Bearer {ds.tokens['ciso']}"}
        one = decided[-1]
        resp = client.get(f"/api/v1/approvals/{one}/pdf", headers=ciso_api)
        if resp.status_code != 200:
            raise RuntimeError(f"the PDF answered {resp.status_code}")
        row(
            "pdf",
            f"GET /api/v1/approvals/{{id}}/pdf ({len(resp.data) // 1024} kB)",
            timed(lambda: client.get(f"/api/v1/approvals/{one}/pdf", headers=ciso_api), args.repeat),
        )

        # ---- the batch: decide the rest through the service (untimed), then print them all as one PDF
        from riskreg.actor import Actor
        from riskreg.models import User
        from riskreg.services import approvals

        with app.app_context():
            for sid, ro, high in found[len(decided) :]:
                user = db.session.get(User, ro)
                a = approvals.decide(
                    db.session,
                    Actor(user, "bench"),
                    sid,
                    decision="approved",
                    motivation="Riskerna är hanterade.",
                    accepted_risks={r: "Godtas." for r in high},
                )
                decided.append(a.id)
            db.session.commit()
            db.session.remove()
        batch = decided[: args.batch]
        log(f"bench: printing {len(batch)} decisions as one PDF")
        times, cpus, size, pages = [], [], 0, 0
        for _ in range(2):
            t0, c0 = time.perf_counter(), time.process_time()
            resp = client.post("/api/v1/approval-prints", json={"approval_ids": batch}, headers=ciso_api)
            times.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
            job = resp.get_json()
            if resp.status_code != 201 or job["status"] != "done":
                raise RuntimeError(f"the batch answered {resp.status_code}: {job}")
            pdf = client.get(f"/api/v1/approval-prints/{job['id']}/pdf", headers=ciso_api).data
            size = len(pdf)
            pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")
        row("batch", f"{len(batch)} decisions as one PDF ({size // 1024} kB, ~{pages} pages)", (times, cpus))
    finally:
        if not args.keep:
            with app.app_context():
                db.engine.dispose()
            drop_database(CLONE)

    print()
    print_table(
        results,
        [
            ("group", "group"),
            ("case", "case"),
            ("median_ms", "median ms"),
            ("p95_ms", "p95 ms"),
            ("target_ms", "target ms"),
            ("ok", "ok"),
        ],
    )
    load = os.getloadavg()
    log(
        f"bench: load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on "
        f"{os.cpu_count()} CPUs; other work on the machine slows every figure"
    )
    path = write_results(
        "approvals",
        {
            "at": datetime.now(UTC).isoformat(),
            "dataset": {"name": base.name, "n": base.n, "seed": base.seed},
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_at_end": load,
                "load_at_start": load_at_start,
            },
            "transport": "flask-test-client",
            "results": results,
        },
    )
    log(f"bench: results in {path}")


if __name__ == "__main__":
    main()
