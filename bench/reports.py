"""Bench of the coverage report (issue 7) on PostgreSQL with 100,000 systems (bench/common.py's dataset):
the coverage JSON, its charts' JSON, the page, drill-down lists, the PDF, and the systems list as XLSX
and CSV — through the Flask test client, in process.

    .venv/bin/python -m bench.reports [--repeat 15] [--only pdf]

Targets (issue 7): coverage JSON < 300 ms, the page < 500 ms, a drill-down list < 150 ms, the PDF < 3 s,
the XLSX of all systems < 10 s. The table shows median and p95; a case is ok when its p95 is under the
target. Results go to bench/results/reports.json (git-ignored).

On a shared machine wall times measure the neighbours too. ``--cpu`` also reports the CPU time each call
costs — this process plus its PostgreSQL backend (one pooled connection, read from /proc; parallel query
off so that no worker's share is missed) — which is what the call takes on an otherwise idle machine.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from bench.common import (
    BENCH_PASSWORD,
    Dataset,
    arg_parser,
    dataset_from_args,
    log,
    measure,
    print_table,
    summarise,
    write_results,
)

TARGETS = {
    "coverage": 300.0,
    "charts": None,
    "page": 500.0,
    "drilldown": 150.0,
    "pdf": 3000.0,
    "xlsx": 10_000.0,
    "csv": None,
}


def drilldown_cases(ds: Dataset) -> list[tuple[str, dict]]:
    today = datetime.now(UTC).date()
    month = today.replace(day=1) - timedelta(days=1)
    base = {"lifecycle": "in_operation"}
    unit = ds.org_unit_ids[0]
    return [
        ("classified=0 (a gap)", {**base, "classified": "0"}),
        ("approved_valid=1", {**base, "approved_valid": "1"}),
        ("expiring=1", {**base, "expiring": "1"}),
        ("expired=1", {**base, "expired": "1"}),
        ("needs_review=1", {**base, "needs_review": "1"}),
        ("dpia_required=1&dpia_done=0", {**base, "dpia_required": "1", "dpia_done": "0"}),
        ("without_owner=1", {**base, "without_owner": "1"}),
        ("actions_overdue=1", {**base, "actions_overdue": "1"}),
        ("conditions_overdue=1", {**base, "conditions_overdue": "1"}),
        ("stage=awaiting_decision (a stacked bar)", {**base, "stage": "awaiting_decision"}),
        ("org unit + stage approved (a segment)", {**base, "org_unit_id": unit, "stage": "approved"}),
        ("has_criticality=0 + stage not_started", {**base, "has_criticality": "0", "stage": "not_started"}),
        ("risk_cell=3-4 (heat map)", {**base, "risk_cell": "3-4"}),
        (
            "sla_month + missed (SLA)",
            {**base, "priority_list": "1", "sla_month": month.strftime("%Y-%m"), "sla_result": "missed"},
        ),
        ("classified_by (progress)", {**base, "classified_by": (today - timedelta(days=60)).isoformat()}),
        ("approved_on (progress)", {**base, "approved_on": (today - timedelta(days=60)).isoformat()}),
        ("approved_valid=1, page 20", {**base, "approved_valid": "1", "page": 20}),
        (
            "owner's scope: owner_id + classified=1",
            {**base, "owner_id": ds.user_ids["system_owner"], "classified": "1"},
        ),
    ]


class CpuMeter:
    """CPU seconds used by this process and by the PostgreSQL backend of the app's single connection."""

    def __init__(self, app):
        from sqlalchemy import event

        from riskreg.extensions import db

        self.pids: list[int] = []
        with app.app_context():
            engine = db.engine

            @event.listens_for(engine, "connect")
            def on_connect(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("SET max_parallel_workers_per_gather = 0")
                cur.execute("SELECT pg_backend_pid()")
                self.pids.append(cur.fetchone()[0])
                cur.close()
                dbapi_conn.commit()

            engine.dispose()

    def _backend(self) -> float:
        total = 0.0
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def now(self) -> float:
        return time.process_time() + self._backend()


def run(ds: Dataset, repeat: int, only: str, cpu: bool = False) -> list[dict]:
    if cpu:
        # CPU per call: one connection, no parallel workers and the report's parts one after the other.
        app = ds.app(
            SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0}, REPORT_PARTS_SIDE_BY_SIDE=False
        )
        meter = CpuMeter(app)
    else:
        app, meter = ds.app(), None
    api = app.test_client()
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in ds.tokens.items()}
    results: list[dict] = []

    def case(group: str, label: str, fn, times: int, **extra) -> dict | None:
        if only and only.lower() not in f"{group} {label}".lower():
            return None
        cpu_before = meter.now() if meter else 0.0
        samples = measure(fn, repeat=times, warmup=1 if times <= 5 else 3)
        warm = 1 if times <= 5 else 3
        if meter:
            extra["cpu_ms"] = round((meter.now() - cpu_before) * 1000 / (times + warm), 1)
        target = TARGETS[group]
        r = {"group": group, "case": label, **summarise(samples), "target_ms": target, **extra}
        r["ok"] = None if target is None else r["p95_ms"] < target
        if "cpu_ms" in r and target is not None:
            r["cpu_ok"] = r["cpu_ms"] < target
        results.append(r)
        cpu_text = f"  cpu {r['cpu_ms']:8.1f}" if "cpu_ms" in r else ""
        log(f"  {group:9} {label:50} median {r['median_ms']:8.1f}  p95 {r['p95_ms']:8.1f} ms{cpu_text}")
        return r

    def get(path: str, role: str = "ciso", client=None, status: int = 200):
        def call():
            resp = (client or api).get(path, headers=headers[role] if client is None else None)
            body = resp.get_data()  # read it all (a streamed file too)
            if resp.status_code != status:
                raise RuntimeError(f"{path} answered {resp.status_code}: {body[:300]!r}")
            return body

        return call

    cov = api.get("/api/v1/reports/coverage", headers=headers["ciso"]).get_json()
    log(
        f"bench: reports on {ds.n} systems; {cov['in_operation']} in operation, "
        f"{cov['approved_valid']} approved "
        f"and valid, {cov['expired']} expired"
    )
    case(
        "coverage",
        "GET /reports/coverage (CISO)",
        get("/api/v1/reports/coverage"),
        repeat,
        total=cov["total"],
    )
    case(
        "coverage",
        "… ?org_unit_id (one unit)",
        get(f"/api/v1/reports/coverage?org_unit_id={ds.org_unit_ids[0]}"),
        repeat,
    )
    case(
        "coverage",
        "… ?criticality=A&priority_list=true",
        get("/api/v1/reports/coverage?criticality=A&priority_list=true"),
        repeat,
    )
    case(
        "coverage",
        "… as a system owner (own systems)",
        get("/api/v1/reports/coverage", "system_owner"),
        repeat,
    )
    case("coverage", "… as a risk owner", get("/api/v1/reports/coverage", "risk_owner"), repeat)
    case("charts", "GET /reports/coverage/heatmap", get("/api/v1/reports/coverage/heatmap"), repeat)
    case("charts", "GET /reports/coverage/sla", get("/api/v1/reports/coverage/sla"), repeat)
    case("charts", "GET /reports/coverage/progress", get("/api/v1/reports/coverage/progress"), repeat)

    browser = app.test_client()
    resp = browser.post("/login", data={"email": ds.emails["ciso"], "password": BENCH_PASSWORD})
    if resp.status_code != 302:
        raise RuntimeError(f"login as the CISO answered {resp.status_code}")
    case("page", "the coverage page (HTML, all charts)", get("/reports/coverage", client=browser), repeat)
    case(
        "page",
        "… ?org_unit_id (one unit)",
        get(f"/reports/coverage?org_unit_id={ds.org_unit_ids[0]}", client=browser),
        repeat,
    )

    for label, query in drilldown_cases(ds):
        path = "/api/v1/systems?" + urlencode({"per_page": 50, **query})
        total = api.get(path, headers=headers["ciso"]).get_json()["total"]
        case("drilldown", label, get(path), repeat, total=total)
    page_path = "/systems?" + urlencode({"lifecycle": "in_operation", "expired": "1"})
    case("drilldown", "the systems page: expired=1 (HTML)", get(page_path, client=browser), repeat)

    few = max(2, min(repeat, 5))
    case("pdf", "GET /reports/coverage.pdf", get("/api/v1/reports/coverage.pdf"), few)
    case(
        "xlsx",
        "GET /systems.xlsx (every system)",
        get("/api/v1/systems.xlsx"),
        max(2, min(repeat, 3)),
        total=cov["total"],
    )
    case("csv", "GET /systems.csv (every system)", get("/api/v1/systems.csv"), max(2, min(repeat, 3)))
    case("csv", "GET /reports/coverage.csv", get("/api/v1/reports/coverage.csv"), few)
    case("csv", "GET /reports/coverage.xlsx", get("/api/v1/reports/coverage.xlsx"), few)
    return results


def main() -> None:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="only cases whose group or label contains this text")
    p.add_argument(
        "--cpu", action="store_true", help="also measure CPU time per call (app + database backend)"
    )
    p.set_defaults(repeat=15)
    args = p.parse_args()
    ds = dataset_from_args(args)
    load_before = os.getloadavg()
    results = run(ds, args.repeat, args.only, args.cpu)
    load_after = os.getloadavg()
    print()
    print(
        f"Reports bench — PostgreSQL, {ds.n} systems, Flask test client in process, "
        f"up to {args.repeat} calls per "
        f"case; load average {load_before[0]:.1f} → {load_after[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print_table(
        results,
        [
            ("group", "group"),
            ("case", "case"),
            ("median_ms", "median ms"),
            ("p95_ms", "p95 ms"),
            ("cpu_ms", "cpu ms"),
            ("target_ms", "target"),
            ("ok", "ok"),
            ("cpu_ok", "cpu ok"),
            ("total", "total"),
            ("n", "calls"),
        ],
    )
    path = write_results(
        "reports",
        {
            "n": ds.n,
            "at": datetime.now(UTC).isoformat(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": [load_before, load_after],
            "results": results,
        },
    )
    print(f"\nresults: {path}")
    failed = [r for r in results if r["ok"] is False]
    if failed:
        print(
            "over target: "
            + "; ".join(f"{r['group']} {r['case']} (p95 {r['p95_ms']:.0f} ms)" for r in failed)
        )


if __name__ == "__main__":
    main()
