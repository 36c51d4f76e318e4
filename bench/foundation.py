"""Bench of the foundation (issue 3): the systems list with each filter and fuzzy search, one system,
a PATCH, the count by stage — on PostgreSQL at 100,000 systems — and `seed demo` on a fresh SQLite file.

    .venv/bin/python -m bench.foundation                 # Flask test client, in process
    .venv/bin/python -m bench.foundation --via gunicorn  # a real gunicorn on 127.0.0.1, over HTTP

Each case is called ``--repeat`` times after 3 untimed calls; the table shows median and p95 in
milliseconds next to the target. Results go to bench/results/foundation.json (git-ignored).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench.common import (
    ROOT,
    STAGES,
    Dataset,
    arg_parser,
    dataset_from_args,
    log,
    measure,
    print_table,
    raise_priority,
    summarise,
    tagged,
    write_results,
)

APP_NAME = "riskreg_bench_foundation"
_BEFORE_EACH_CASE: list = []  # --priority: renice the database backends that the warm-up opened


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm: opens connections, fills caches
    for hook in _BEFORE_EACH_CASE:
        hook()
    return measure(fn, repeat, warmup=2)


TARGETS = {"list": 50.0, "search": 50.0, "system": 20.0, "patch": 30.0, "count": 200.0, "seed": 30_000.0}
SEARCH_TERMS = [
    "cosmic",
    "sectra pacs",
    "vardcentral norrby",
    "journl",
    "labcore",
    "kvalitetsregister svenska",
    "integration cosmic heroma",
    "ögonkliniken",
]


# ---------------------------------------------------------------------- transports


class InProcess:
    """Requests through the Flask test client (no network, no WSGI server)."""

    name = "flask-test-client"

    def __init__(self, ds: Dataset):
        self.app = ds.app()
        self.client = self.app.test_client()
        self.tokens = ds.tokens

    def call(self, method: str, path: str, role: str = "admin", body: dict | None = None) -> tuple[int, dict]:
        resp = self.client.open(
            path, method=method, json=body, headers={"Authorization": f"Bearer {self.tokens[role]}"}
        )
        return resp.status_code, resp.get_json(silent=True)

    def close(self) -> None:
        pass


class Gunicorn:
    """A real gunicorn on loopback (the project's gunicorn.conf.py, 2 workers), called over one keep-alive
    HTTP connection."""

    name = "gunicorn-loopback"

    def __init__(self, ds: Dataset, workers: int = 2, root: Path = ROOT):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(
            os.environ,
            DATABASE_URL=ds.url,
            SECRET_KEY="bench-" + "k" * 40,
            RISKREG_ENV="production",
            RISKREG_INSTANCE=str(ROOT / "instance" / "bench"),
            PYTHONPATH=str(root),  # a baseline checkout's riskreg before the one installed in the venv
        )
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.proc = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [
                gunicorn,
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,  # the access log (gunicorn.conf.py writes JSON lines to stdout)
        )
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.close()
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port)
        self.root = root
        self.tokens = ds.tokens

    def call(self, method: str, path: str, role: str = "admin", body: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # the server closed the idle keep-alive connection (gunicorn.conf.py: keepalive = 5 s)
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------------- cases


def list_cases(ds: Dataset) -> list[tuple[str, str, dict]]:
    """(group, label, query) for GET /api/v1/systems."""
    big_unit, small_unit = ds.org_unit_ids[0], ds.org_unit_ids[-2]
    owner = ds.user_ids["system_owner"]
    cases: list[tuple[str, str, dict]] = [
        ("list", "no filter, page 1", {}),
        ("list", "no filter, page 100 (offset 4950)", {"page": 100}),
        ("list", "no filter, page 1000 (offset 49950)", {"page": 1000}),
        ("list", "sort -updated_at", {"sort": "-updated_at"}),
        ("list", "sort criticality", {"sort": "criticality"}),
        ("list", "org_unit_id (largest unit)", {"org_unit_id": big_unit}),
        ("list", "org_unit_id (small unit)", {"org_unit_id": small_unit}),
        ("list", "criticality=A", {"criticality": "A"}),
        ("list", "lifecycle=planned", {"lifecycle": "planned"}),
        ("list", "owner_id", {"owner_id": owner}),
        ("list", "risk_owner_id", {"risk_owner_id": ds.user_ids["risk_owner"]}),
        ("list", "priority_list=true", {"priority_list": "true"}),
    ]
    for stage in STAGES:
        cases.append(("list", f"stage={stage}", {"stage": stage}))
    cases += [
        (
            "list",
            "org unit + criticality B + stage approved",
            {"org_unit_id": big_unit, "criticality": "B", "stage": "approved"},
        ),
        ("list", "stage=rejected, page 20", {"stage": "rejected", "page": 20}),
    ]
    for term in SEARCH_TERMS:
        cases.append(("search", f"q={term}", {"q": term}))
    cases += [
        ("search", "q=cosmic + criticality=A", {"q": "cosmic", "criticality": "A"}),
        ("search", "q=sectra + stage=approved", {"q": "sectra", "stage": "approved"}),
    ]
    return cases


def run_api(ds: Dataset, transports: dict, repeat: int, only: str = "") -> list[dict]:
    """Every API case on each transport in turn (``""``: the code under test; ``"before"``: a baseline
    checkout), so that a comparison is made under the same conditions, case by case."""
    results = []

    def wanted(label: str) -> bool:
        return only.lower() in label.lower()

    def row(group: str, label: str, fns: dict, target: float | None = -1.0, **extra) -> dict:
        target = TARGETS[group] if target == -1.0 else target
        r: dict = {"group": group, "case": label}
        for name, fn in fns.items():
            stats = summarise(timed(fn, repeat if group != "count" else max(5, repeat // 3)))
            prefix = f"{name}_" if name else ""
            r.update({f"{prefix}{k}": v for k, v in stats.items()})
        r.update({"target_ms": target, **extra})
        r["ok"] = None if target is None else r["p95_ms"] < target
        results.append(r)
        before = (
            f"  (before: median {r['before_median_ms']:7.1f}  p95 {r['before_p95_ms']:7.1f})"
            if "before" in fns
            else ""
        )
        log(f"  {group:7} {label:48} median {r['median_ms']:7.1f}  p95 {r['p95_ms']:7.1f} ms{before}")
        return r

    for group, label, query in list_cases(ds):
        if not wanted(label):
            continue
        path = "/api/v1/systems?" + urlencode({"per_page": 50, **query})
        totals = {}
        for name, t in transports.items():
            status, body = t.call("GET", path, "auditor")
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body}")
            totals[name] = body["total"]
        extra = {"path": path, "total": totals[""]}
        if "before" in totals:
            extra["before_total"] = totals["before"]
        fns = {name: (lambda p=path, t=t: t.call("GET", p, "auditor")) for name, t in transports.items()}
        row(group, label, fns, **extra)

    if only:
        return results
    ids = [sid for stage in STAGES for sid in ds.samples[stage][:10]]

    def get_one(t):
        it = iter(ids * (repeat + 10))
        return lambda: _ok(t.call("GET", f"/api/v1/systems/{next(it)}", "auditor"))

    row("system", "GET /api/v1/systems/{id} (all stages)", {n: get_one(t) for n, t in transports.items()})

    # PATCH: change the description of systems in turn, sending the version last seen
    versions: dict[int, int] = {}
    any_transport = transports[""]

    def patcher(t, role: str, targets: list[int], text: str):
        counter = iter(range(10**9))

        def patch():
            k = next(counter)
            sid = targets[k % len(targets)]
            body = _ok(
                t.call(
                    "PATCH",
                    f"/api/v1/systems/{sid}",
                    role,
                    {"description": f"{text} {k} {time.time():.6f}", "version": versions[sid]},
                )
            )
            versions[sid] = body["version"]

        return patch

    admin_targets = ds.samples["approved"][:20] + ds.samples["not_started"][:20]
    own = ds.owned["system_owner"][:20]
    for sid in admin_targets + own:
        versions[sid] = _ok(any_transport.call("GET", f"/api/v1/systems/{sid}", "admin"))["version"]
    row(
        "patch",
        "PATCH /api/v1/systems/{id} (description, admin)",
        {n: patcher(t, "admin", admin_targets, "Bench change") for n, t in transports.items()},
    )
    if own:  # by the system's own system owner: the permission path without the admin role
        row(
            "patch",
            "PATCH /api/v1/systems/{id} (own system, system owner)",
            {n: patcher(t, "system_owner", own, "Ägarens ändring") for n, t in transports.items()},
        )

    # the count by stage through the API: the total of ?stage=X for every stage, one after the other
    def stage_totals(t):
        return lambda: {
            s: _ok(t.call("GET", f"/api/v1/systems?stage={s}&per_page=1", "auditor"))["total"] for s in STAGES
        }

    totals = {name: stage_totals(t)() for name, t in transports.items()}
    for name, got in totals.items():
        if got != ds.stages:  # the list filter must find what was generated (unless the data was changed)
            log(f"bench: WARNING: {name or 'current'} ?stage= totals {got} differ from generated {ds.stages}")
    row(
        "count",
        "API: ?stage=X&per_page=1 totals, all 11 stages (sum)",
        {n: stage_totals(t) for n, t in transports.items()},
        target=None,  # for reference: 11 list requests in a row, each held to the list's target
        totals=totals[""],
        totals_match_generated=totals[""] == ds.stages,
    )
    return results


def _lifecycle_of(root: Path):
    """riskreg/lifecycle.py of another checkout, loaded beside ours (it imports our models)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("baseline_lifecycle", root / "riskreg" / "lifecycle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_counts(ds: Dataset, repeat: int, baseline: Path | None = None) -> list[dict]:
    """riskreg.lifecycle.count_by_stage straight on the database (no HTTP), and the baseline's."""
    from sqlalchemy.orm import Session

    from riskreg import lifecycle
    from riskreg.models import System

    versions = {"": lifecycle}
    if baseline:
        versions["before"] = _lifecycle_of(baseline)
    results = []
    engine = ds.engine()
    today = datetime.now(UTC).date()
    try:
        with Session(engine) as session:
            cases = [
                ("count_by_stage, all systems", ()),
                ("count_by_stage, one org unit", (System.org_unit_id == ds.org_unit_ids[0],)),
                ("count_by_stage, criticality A", (System.criticality == "A",)),
            ]
            for label, where in cases:
                r: dict = {"group": "count", "case": label}
                for name, module in versions.items():
                    counts = module.count_by_stage(session, today, *where)
                    samples = timed(lambda w=where, m=module: m.count_by_stage(session, today, *w), repeat)
                    prefix = f"{name}_" if name else ""
                    r.update({f"{prefix}{k}": v for k, v in summarise(samples).items()})
                    r[f"{prefix}totals"] = {k.value: v for k, v in counts.items()}
                    session.rollback()
                r["target_ms"] = TARGETS["count"]
                r["ok"] = r["p95_ms"] < r["target_ms"]
                results.append(r)
                before = (
                    f"  (before: median {r['before_median_ms']:7.1f}  p95 {r['before_p95_ms']:7.1f})"
                    if baseline
                    else ""
                )
                log(f"  count   {label:48} median {r['median_ms']:7.1f}  p95 {r['p95_ms']:7.1f} ms{before}")
    finally:
        engine.dispose()
    return results


def _ok(answer: tuple[int, dict]) -> dict:
    status, body = answer
    if status >= 400:
        raise RuntimeError(f"answered {status}: {body}")
    return body


def time_seed_demo() -> dict:
    """`flask --app wsgi seed demo` on a fresh SQLite file (after `db upgrade`, timed apart)."""
    if not (ROOT / "seed" / "demo.py").exists():
        return {"status": "absent", "note": "seed/demo.py does not exist yet"}
    tmp = tempfile.mkdtemp(prefix="riskreg-bench-seed-")
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp}/demo.db",
        RISKREG_INSTANCE=tmp,
        SECRET_KEY="x" * 40,
        RISKREG_ENV="development",
    )
    flask = str(Path(sys.executable).with_name("flask"))
    try:
        t0 = time.perf_counter()
        up = subprocess.run(  # noqa: S603
            [flask, "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        upgrade_ms = (time.perf_counter() - t0) * 1000
        if up.returncode:
            return {"status": "failed", "step": "db upgrade", "output": (up.stdout + up.stderr)[-2000:]}
        t0 = time.perf_counter()
        run = subprocess.run(  # noqa: S603
            [flask, "--app", "wsgi", "seed", "demo", "--quiet"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seed_ms = (time.perf_counter() - t0) * 1000
        if run.returncode:
            return {
                "status": "failed",
                "step": "seed demo",
                "seconds": round(seed_ms / 1000, 1),
                "output": (run.stdout + run.stderr)[-2000:],
            }
        return {
            "status": "ok",
            "upgrade_ms": round(upgrade_ms),
            "seed_ms": round(seed_ms),
            "ok": seed_ms < TARGETS["seed"],
            "summary": run.stdout.strip()[-1000:],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument(
        "--via",
        choices=["client", "gunicorn"],
        default="client",
        help="Flask test client in process (default) or a real gunicorn on loopback",
    )
    p.add_argument("--no-seed", action="store_true", help="skip timing `seed demo`")
    p.add_argument("--out", default="foundation", help="results file name under bench/results/ (no .json)")
    p.add_argument("--only", default="", help="only cases whose label contains this text")
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="CHECKOUT",
        help="also run every case against the code of another checkout (e.g. a `git worktree` of the commit "
        "before a change), case by case under the same conditions; implies --via gunicorn",
    )
    p.add_argument(
        "--priority",
        type=int,
        default=None,
        metavar="NICE",
        help="run this bench, its server and its PostgreSQL backends at this niceness (e.g. -10, as root) "
        "to measure on a machine busy with other work",
    )
    args = p.parse_args()
    ds = tagged(dataset_from_args(args), APP_NAME)
    if args.priority is not None:
        raise_priority(args.priority, args.pg)
        _BEFORE_EACH_CASE.append(lambda: raise_priority(args.priority, args.pg, APP_NAME))
    load_before = os.getloadavg()
    transports: dict = {}
    try:
        if args.baseline:
            transports["before"] = Gunicorn(ds, root=args.baseline.resolve())
        transports[""] = Gunicorn(ds) if args.via == "gunicorn" or args.baseline else InProcess(ds)
        transport = transports[""]
        log(
            f"bench: foundation via {transport.name}, {ds.n} systems, {args.repeat} calls per case"
            + (f", against the baseline in {args.baseline}" if args.baseline else "")
        )
        results = run_api(ds, transports, args.repeat, args.only)
        if not args.only or "count" in args.only:
            results += run_counts(ds, args.repeat, args.baseline.resolve() if args.baseline else None)
    finally:
        for t in transports.values():
            t.close()
    load_after = os.getloadavg()
    seed = None if args.no_seed or args.only else time_seed_demo()
    print()
    print(
        f"Foundation bench — PostgreSQL, {ds.n} systems, via {transport.name}, {args.repeat} calls per case; "
        f"load average {load_before[0]:.1f} → {load_after[0]:.1f} on {os.cpu_count()} CPUs"
        + (f", run at niceness {args.priority}" if args.priority is not None else "")
    )
    print_table(
        results,
        [
            ("group", "group"),
            ("case", "case"),
            *(
                [("before_median_ms", "before median"), ("before_p95_ms", "before p95")]
                if args.baseline
                else []
            ),
            ("median_ms", "median ms"),
            ("p95_ms", "p95 ms"),
            ("target_ms", "target"),
            ("ok", "ok"),
            ("total", "total"),
        ],
    )
    if seed:
        if seed["status"] == "ok":
            print(
                f"\nseed demo (fresh SQLite): {seed['seed_ms'] / 1000:.1f} s (target < 30 s) "
                f"{'ok' if seed['ok'] else 'OVER'}; db upgrade {seed['upgrade_ms'] / 1000:.1f} s"
            )
        else:
            print(f"\nseed demo: {seed['status']} {seed.get('step', '')} {seed.get('note', '')}".rstrip())
    path = write_results(
        args.out,
        {
            "bench": "foundation",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "via": transport.name,
            "n": ds.n,
            "seed": ds.seed,
            "dataset": ds.name,
            "dataset_generated": ds.today,
            "repeat": args.repeat,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            "priority": args.priority,
            "baseline": str(args.baseline) if args.baseline else None,
            "results": results,
            "seed_demo": seed,
            "failing": [r["case"] for r in results if r["ok"] is False],
        },
    )
    print(f"\nwritten {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
