"""Load test (issue 8): concurrent clients mixing reads and writes against gunicorn + PostgreSQL with the
demo data, over loopback only; reports p50/p95/p99 per kind of request and the errors.

    .venv/bin/python -m bench.load                      # 50 clients for 60 s on the demo data
    .venv/bin/python -m bench.load --think-ms 0         # the same clients with no pause: saturation
    .venv/bin/python -m bench.load --clients 20 --seconds 30 --think-ms 100

Each client is a person at work: after each answer it pauses a random 0–2 × ``--think-ms`` (default
1000 ms, so about one request a second each) before its next request. With ``--think-ms 0`` the clients
ask as fast as the server answers, which measures capacity (requests per second on this machine, the load
generator included) rather than the latency 50 people see.
    .venv/bin/python -m bench.load --data 670           # bench.common's generator instead of `seed demo`

It makes a fresh database ``riskreg_load`` (``flask db upgrade``, ``flask seed demo``, a user and token per
role), starts gunicorn with the repository's gunicorn.conf.py in production mode on 127.0.0.1, and runs the
clients in a few processes (threads inside each, one keep-alive connection per client) so the load generator
is not held back by one interpreter lock. Bounded: at most 200 clients, 600 s, and only the server it started.
An error is any answer the request should not get (5xx, no answer, or an unexpected 4xx such as a 409 on a
client's own system). Results go to bench/results/load.json (git-ignored); exit 1 when there are errors or
p95 is over the target.

Mix (weight %): list 10 rows 25, search 10, stage filter 10, one system 20, me 5, org units 5, audit 5,
PATCH a system 15, POST a system 5 (+ coverage report 5 when the API has it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("RISKREG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROLES = ("system_owner", "risk_owner", "ciso", "dpo", "admin", "auditor")
STAGES = (
    "not_started",
    "classified",
    "risk_analysed",
    "dpia_pending",
    "awaiting_decision",
    "approved",
    "approved_with_conditions",
    "needs_review",
    "expired",
    "rejected",
    "decommissioned",
)
MAX_CLIENTS, MAX_SECONDS = 200, 600
P95_TARGET_MS = 200.0
WRITES = {"patch", "post"}


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ====================================================================== the database


@dataclass
class Target:
    db_url: str
    tokens: dict[str, str]
    system_ids: list[int]
    org_unit_ids: list[int]
    words: list[str]
    data: str
    base: str = ""
    paths: list[str] = field(default_factory=list)


def _engine(url: str):
    from sqlalchemy import create_engine

    return create_engine(url)


def _db_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def fresh_database(name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return _db_url(name)


def _flask(args: list[str], env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    flask = str(Path(sys.executable).with_name("flask"))
    return subprocess.run(  # noqa: S603 - the project's own flask command
        [flask, "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def _inventory(url: str) -> tuple[list[int], list[int], list[str]]:
    from sqlalchemy import text

    engine = _engine(url)
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM systems ORDER BY id")).scalars())
        units = list(conn.execute(text("SELECT id FROM org_units ORDER BY id")).scalars())
        names = list(conn.execute(text("SELECT name FROM systems ORDER BY id LIMIT 400")).scalars())
    engine.dispose()
    words = sorted({w for n in names for w in n.split() if len(w) >= 4 and w.isalpha()})
    return ids, units, words or ["system"]


def prepare_demo(name: str = "riskreg_load") -> Target | None:
    """A fresh database with the demo data and a user + token per role; None when `seed demo` fails."""
    url = fresh_database(name)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        RISKREG_ENV="development",
        SECRET_KEY=secrets.token_hex(32),
        RISKREG_INSTANCE=str(ROOT / "instance" / "load"),
    )
    for step in (["db", "upgrade", "heads"], ["seed", "demo", "--quiet"]):
        run = _flask(step, env)
        if run.returncode != 0:
            log(
                f"load: `flask {' '.join(step)}` failed: "
                f"{(run.stderr or run.stdout).strip().splitlines()[-1:]}"
            )
            return None
    tokens = {}
    for role in ROLES:
        email = f"load-{role}@bench.example"
        run = _flask(
            [
                "users",
                "create",
                "--email",
                email,
                "--name",
                f"Last {role}",
                "--role",
                role,
                "--password",
                "Last-Lösenord-2026-" + secrets.token_hex(4),
            ],
            env,
        )
        if run.returncode != 0:
            raise SystemExit(f"users create failed: {run.stderr.strip()[-300:]}")
        tokens[role] = _flask(["users", "token", "--email", email], env).stdout.strip().splitlines()[-1]
    ids, units, words = _inventory(url)
    return Target(url, tokens, ids, units, words, data=f"seed demo ({len(ids)} systems)")


def prepare_generated(n: int, name: str = "riskreg_load") -> Target:
    """bench.common's generated region of n systems, copied so the writes do not touch the shared one."""
    from bench.common import make_dataset

    ds = make_dataset(ADMIN_URL, n=n).clone(name)
    ids, units, words = _inventory(ds.url)
    return Target(
        ds.url, dict(ds.tokens), ids, units, words, data=f"bench.common generator ({len(ids)} systems)"
    )


# ====================================================================== the server


class Server:
    """gunicorn with the repository's gunicorn.conf.py, production mode, on a free loopback port."""

    def __init__(self, db_url: str, workers: int | None = None, threads: int | None = None, log_path=None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            DATABASE_URL=db_url,
            SECRET_KEY=secrets.token_hex(32),
            RISKREG_ENV="production",
            RISKREG_INSTANCE=str(ROOT / "instance" / "load"),
            RISKREG_BIND=f"127.0.0.1:{self.port}",
        )
        env.pop("FLASK_DEBUG", None)
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        if threads:
            env["RISKREG_THREADS"] = str(threads)
        self.log_path = Path(log_path or ROOT / "bench" / "results" / "load-gunicorn.log")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("w")
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.proc = subprocess.Popen(  # noqa: S603 - the project's own gunicorn
            [gunicorn, "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while not self.healthy():
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit(f"gunicorn did not start; see {self.log_path}")
            time.sleep(0.2)

    def healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def api_paths(base: str, token: str) -> list[str]:
    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"})
    spec = json.loads(conn.getresponse().read())
    conn.close()
    return list(spec.get("paths", {}))


# ====================================================================== the clients


class Client:
    """One simulated user: a keep-alive connection, its own slice of systems to change."""

    def __init__(self, no: int, target: Target, own: list[int], rng: random.Random, run_id: str):
        self.no, self.t, self.rng, self.run_id = no, target, rng, run_id
        self.port = int(target.base.rsplit(":", 1)[1])
        self.conn: http.client.HTTPConnection | None = None
        self.own = own or target.system_ids[:1]
        self.versions: dict[int, int] = {}
        self.created = 0
        self.kinds = [
            ("list", 25),
            ("search", 10),
            ("stage", 10),
            ("one", 20),
            ("me", 5),
            ("org_units", 5),
            ("audit", 5),
            ("patch", 15),
            ("post", 5),
        ]
        if "/api/v1/reports/coverage" in target.paths:
            self.kinds.append(("coverage", 5))

    def http(
        self, method: str, path: str, role: str, body: dict | None = None
    ) -> tuple[int | None, dict | None]:
        headers = {"Authorization": f"Bearer {self.t.tokens[role]}", "Connection": "keep-alive"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, None
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return None, None

    def one(self) -> tuple[str, int | None, set[int], dict | None]:
        """Send one request of a random kind: (kind, status, statuses that are fine, write record)."""
        kind = self.rng.choices([k for k, _ in self.kinds], [w for _, w in self.kinds])[0]
        r, ids = self.rng, self.t.system_ids
        if kind == "list":
            return (
                kind,
                self.http("GET", f"/api/v1/systems?per_page=10&page={r.randint(1, 20)}", "ciso")[0],
                {200},
                None,
            )
        if kind == "search":
            q = urllib.parse.quote(r.choice(self.t.words)[: r.randint(4, 8)])
            return (
                kind,
                self.http("GET", f"/api/v1/systems?per_page=10&q={q}", "system_owner")[0],
                {200},
                None,
            )
        if kind == "stage":
            return (
                kind,
                self.http("GET", f"/api/v1/systems?per_page=10&stage={r.choice(STAGES)}", "risk_owner")[0],
                {200},
                None,
            )
        if kind == "one":
            return kind, self.http("GET", f"/api/v1/systems/{r.choice(ids)}", "auditor")[0], {200}, None
        if kind == "me":
            return kind, self.http("GET", "/api/v1/me", r.choice(ROLES))[0], {200}, None
        if kind == "org_units":
            return kind, self.http("GET", "/api/v1/org-units?per_page=50", "dpo")[0], {200}, None
        if kind == "audit":
            return kind, self.http("GET", "/api/v1/audit?per_page=10", "auditor")[0], {200}, None
        if kind == "coverage":
            return kind, self.http("GET", "/api/v1/reports/coverage", "ciso")[0], {200}, None
        if kind == "patch":
            return self.patch()
        return self.post()

    def patch(self):
        sid = self.rng.choice(self.own)
        if sid not in self.versions:
            status, body = self.http("GET", f"/api/v1/systems/{sid}", "admin")
            if status != 200:
                return "patch", status, {200}, None
            self.versions[sid] = body["version"]
        text = f"Lasttest {self.run_id} klient {self.no} {time.time():.6f}"
        status, body = self.http(
            "PATCH", f"/api/v1/systems/{sid}", "admin", {"description": text, "version": self.versions[sid]}
        )
        if status == 200:
            self.versions[sid] = body["version"]
        else:
            self.versions.pop(sid, None)  # read it again next time (the answer may have been lost)
        return "patch", status, {200}, {"id": sid, "description": text, "ok": status == 200}

    def post(self):
        self.created += 1
        name = f"Lasttest {self.run_id} {self.no}-{self.created}"
        status, body = self.http(
            "POST",
            "/api/v1/systems",
            "admin",
            {"name": name, "org_unit_id": self.rng.choice(self.t.org_unit_ids), "lifecycle": "planned"},
        )
        record = {"name": name, "ok": status == 201, "id": (body or {}).get("id") if status == 201 else None}
        return "post", status, {201}, record


def _client_thread(no, target, own, deadline, think_s, run_id, out: list):
    client = Client(no, target, own, random.Random(no), run_id)
    while time.time() < deadline:
        started = time.time()
        t0 = time.perf_counter()
        try:
            kind, status, fine, record = client.one()
        except Exception as exc:  # noqa: BLE001 - a broken client is an error to count, not a silent stop
            kind, status, fine, record = "client_error", None, set(), {"error": repr(exc)[:200]}
        ms = (time.perf_counter() - t0) * 1000
        out.append((kind, started, round(ms, 2), status, status in fine, record))
        if status is None:
            time.sleep(0.05)  # no answer: do not spin while the server is away
        elif status == 503:
            time.sleep(0.2)  # the database is away: back off as Retry-After asks (a bit less eagerly)
        elif think_s:
            time.sleep(client.rng.uniform(0, 2 * think_s))


def _process(first_no, count, clients, target_dict, start_at, seconds, think_s, run_id, queue):
    target = Target(**target_dict)
    while time.time() < start_at:
        time.sleep(0.01)
    deadline = start_at + seconds
    results: list = []
    threads = []
    for no in range(first_no, first_no + count):
        own = target.system_ids[no::clients][:25]
        th = threading.Thread(
            target=_client_thread, args=(no, target, own, deadline, think_s, run_id, results)
        )
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    queue.put(results)


def run_clients(
    target: Target, clients: int, seconds: float, think_ms: float = 0.0, processes: int | None = None
) -> list[tuple]:
    """Every request made: (kind, started epoch, ms, status or None, as expected, write record)."""
    if not 1 <= clients <= MAX_CLIENTS or not 1 <= seconds <= MAX_SECONDS:
        raise SystemExit(f"bounded: 1–{MAX_CLIENTS} clients, 1–{MAX_SECONDS} s")
    if not target.base.startswith("http://127.0.0.1:"):
        raise SystemExit("loopback only")
    processes = processes or max(1, min(4, os.cpu_count() or 1, clients))
    run_id = secrets.token_hex(3)
    queue: mp.Queue = mp.get_context("fork").Queue()
    start_at = time.time() + 1.0
    share, procs, first = [clients // processes + (i < clients % processes) for i in range(processes)], [], 0
    ctx = mp.get_context("fork")
    for count in share:
        p = ctx.Process(
            target=_process,
            args=(first, count, clients, asdict(target), start_at, seconds, think_ms / 1000, run_id, queue),
        )
        p.start()
        procs.append(p)
        first += count
    results = []
    for _ in procs:
        results.extend(queue.get(timeout=seconds + 120))
    for p in procs:
        p.join(30)
    return results


# ====================================================================== CPU spent serving

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return out


def _backends(db_url: str) -> list[int]:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    engine = _engine(db_url)
    with engine.connect() as conn:
        pids = list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> "
                                      "pg_backend_pid()"), {"d": make_url(db_url).database}).scalars())
    engine.dispose()
    return pids


class CpuMeter:
    """CPU used by gunicorn (master and workers) and by the database's backends between start and stop:
    what serving cost, whatever else the machine was doing (a shared machine skews latency, not this)."""

    def __init__(self, server_pid: int, db_url: str):
        self.pid, self.db_url = server_pid, db_url

    def snapshot(self) -> dict[str, dict[int, float]]:
        app = {p: _cpu_of(p) for p in [self.pid, *_children(self.pid)]}
        db = {p: _cpu_of(p) for p in _backends(self.db_url)}
        return {"app": app, "db": db}

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        return {k: round(sum(v - before[k].get(p, 0.0) for p, v in after[k].items()), 2) for k in after}


# ====================================================================== figures


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(results: list[tuple], seconds: float) -> dict:
    def block(rows):
        ms = [r[2] for r in rows]
        return {
            "requests": len(rows),
            "errors": sum(1 for r in rows if not r[4]),
            "p50_ms": round(pct(ms, 50), 1),
            "p95_ms": round(pct(ms, 95), 1),
            "p99_ms": round(pct(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else None,
            "statuses": {
                str(s): sum(1 for r in rows if r[3] == s) for s in sorted({r[3] for r in rows}, key=str)
            },
        }

    kinds = sorted({r[0] for r in results})
    out = {
        "all": block(results),
        "reads": block([r for r in results if r[0] not in WRITES]),
        "writes": block([r for r in results if r[0] in WRITES]),
        "by_kind": {k: block([r for r in results if r[0] == k]) for k in kinds},
    }
    out["all"]["per_second"] = round(len(results) / seconds, 1)
    return out


def print_summary(s: dict) -> None:
    print(f"{'kind':<12}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    rows = [("ALL", s["all"]), ("reads", s["reads"]), ("writes", s["writes"])] + list(s["by_kind"].items())
    for name, b in rows:
        print(
            f"{name:<12}{b['requests']:>10}{b['errors']:>8}{b['p50_ms']:>9}{b['p95_ms']:>9}{b['p99_ms']:>9}"
            f"{b['max_ms']!s:>9}"
        )


def write_results(name: str, data: dict) -> Path:
    path = ROOT / "bench" / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def prepare(data: str) -> Target:
    if data == "demo":
        target = prepare_demo()
        if target is not None:
            return target
        log("load: `seed demo` is not available; using bench.common's generator with 670 systems instead")
        data = "670"
    return prepare_generated(int(data))


def arg_parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--think-ms", type=float, default=1000.0,
                   help="mean pause between a client's requests (0: as fast as answered)")
    p.add_argument("--data", default="demo", help="'demo' (flask seed demo) or a number of generated systems")
    p.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    p.add_argument("--threads", type=int, default=None, help="threads per worker (default: gunicorn.conf.py)")
    p.add_argument("--keep", action="store_true", help="keep the riskreg_load database afterwards")
    return p


def main() -> int:
    args = arg_parser(__doc__).parse_args()
    target = prepare(args.data)
    server = Server(target.db_url, args.workers, args.threads)
    try:
        target.base = server.base
        target.paths = api_paths(server.base, target.tokens["ciso"])
        log(f"load: {args.clients} clients for {args.seconds:.0f} s against {server.base} ({target.data})")
        meter = CpuMeter(server.proc.pid, target.db_url)
        before = meter.snapshot()
        results = run_clients(target, args.clients, args.seconds, args.think_ms)
        cpu = CpuMeter.spent(before, meter.snapshot())
    finally:
        server.stop()
    s = summary(results, args.seconds)
    s["cpu_seconds"] = cpu
    per_request = (cpu["app"] + cpu["db"]) * 1000 / max(len(results), 1)
    s["server_cpu_ms_per_request"] = round(per_request, 2)
    print_summary(s)
    load1 = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    capacity = cores * 1000 / max(per_request, 0.01)
    print(f"\nserver CPU: app {cpu['app']} s + database {cpu['db']} s = {per_request:.1f} ms per request "
          f"(so {cores} dedicated cores would serve ≈{capacity:.0f} requests/s); "
          f"machine load average at the end {load1:.1f} on {cores} CPUs")
    ok = s["all"]["errors"] == 0 and s["all"]["p95_ms"] < P95_TARGET_MS
    print(
        f"\n{s['all']['requests']} requests ({s['all']['per_second']}/s), {s['all']['errors']} errors, "
        f"p50 {s['all']['p50_ms']} ms, p95 {s['all']['p95_ms']} ms (target < {P95_TARGET_MS:.0f}) — "
        f"{'OK' if ok else 'NOT MET'}"
    )
    path = write_results(
        "load", {"args": vars(args), "data": target.data, "cpus": os.cpu_count(), "summary": s}
    )
    log(f"load: results in {path}")
    if not args.keep:
        from bench.common import drop_database

        drop_database("riskreg_load", ADMIN_URL)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
