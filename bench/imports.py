"""Bench of imports (issue 6) on PostgreSQL at 100,000 systems (bench.common's dataset, on a private copy):

- a list of 20,000 rows (half of them other inventories' spellings of registered systems, half new) read,
  stored and matched against the 100,000 systems: target < 60 s, peak memory < 1 GB;
- 670 rows against 670 systems (the region's size), matching only: target < 1 s;
- applying 5,000 rows (creates and merges) in one transaction: target < 10 s; and undoing them.

    .venv/bin/python -m bench.imports [--n 100000] [--rows 20000] [--profile DIR]

The private copy is made from a template of the shared dataset (``riskreg_bench_imports_tpl``), made once
when no one else is connected to the shared database (copying a database needs that; the bench waits
rather than disconnect another bench), and reused while its migrations are those of the dataset.
``--profile DIR`` writes a cProfile of each timed part (``DIR/<part>.prof``).

Results go to bench/results/imports.json (git-ignored).
"""

from __future__ import annotations

import contextlib
import cProfile
import hashlib
import os
import random
import resource
import time
from pathlib import Path

from sqlalchemy import select, text

from bench.common import (
    DEFAULT_ADMIN_URL,
    Dataset,
    arg_parser,
    dataset_from_args,
    drop_database,
    log,
    print_table,
    raise_priority,
    tagged,
    write_results,
)
from riskreg.actor import Actor
from riskreg.extensions import db
from riskreg.imports.matching import Entity, Thresholds, match_list
from riskreg.imports.runner import match_batch
from riskreg.models import ImportBatch, ImportRow, System, User
from riskreg.models.codes import ImportAction
from riskreg.services import imports as service

APP_NAME = "riskreg_bench_imports"
TARGETS = {"match_20000": 60.0, "match_670": 1.0, "apply_5000": 10.0, "peak_rss_mb": 1024.0}
SUPPLIERS = [
    "Cambio",
    "Sectra",
    "CGI",
    "Tieto",
    "Inera",
    "Visma",
    "Microsoft",
    "Philips",
    "Siemens",
    "Formpipe",
]
WORDS = [
    "Vård",
    "Journal",
    "Portal",
    "Labb",
    "Schema",
    "Arkiv",
    "Rapport",
    "Boka",
    "Dos",
    "Remiss",
    "Tand",
    "Röntgen",
    "Intyg",
    "Planering",
    "Kvalitet",
    "Ekonomi",
    "Lön",
    "Bild",
    "Mobil",
    "Analys",
]


def variant(name: str, rng: random.Random) -> str:
    """How another inventory might write a name."""
    kind = rng.randrange(7)
    if kind == 0:
        return name.upper()
    if kind == 1:
        return f"{rng.choice(SUPPLIERS)} {name}"
    if kind == 2:
        return f"{name} {rng.randint(1, 12)}.{rng.randint(0, 9)}"
    if kind == 3 and len(name) > 6:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1 :]
    if kind == 4:
        return name.replace("å", "a").replace("ä", "a").replace("ö", "o").replace("Ö", "O")
    if kind == 5:
        return f"{name} ({rng.choice(SUPPLIERS)})"
    return name


def new_name(rng: random.Random, i: int) -> str:
    return f"{rng.choice(WORDS)}{rng.choice(WORDS).lower()} {rng.choice(['Pro', 'Plus', 'Nord', 'Syd', 'Web'])} {i}"


def csv_of(names: list[tuple[str, str]]) -> bytes:
    lines = ["Namn;Leverantör;sys_id"] + [
        f"{n.replace(';', ' ')};{s};bench-{i}" for i, (n, s) in enumerate(names)
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


class CpuClock:
    """CPU seconds spent by this process and by the PostgreSQL backend of the session's connection (a local
    server: read from /proc), so that the cost of a part can be told apart from the time spent waiting for
    a CPU on a busy machine."""

    def __init__(self, session):
        self.session = session

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self.pid = self.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        self.session.commit()
        self.app0, self.db0 = time.process_time(), self._cpu(self.pid)

    def stop(self) -> tuple[float, float]:
        """(app CPU seconds, database CPU seconds) since start (the session keeps one connection)."""
        app = time.process_time() - self.app0
        pid = self.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        self.session.commit()
        db = self._cpu(self.pid) - self.db0 if pid == self.pid else float("nan")
        return round(app, 2), round(db, 2)


def register_counts(session) -> dict[str, int]:
    """Rows in the tables apply and undo write (the trigrams of search too)."""
    return {
        t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608 - fixed names
        for t in ("systems", "system_aliases", "external_refs", "search_grams", "audit_events")
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _heads(ds: Dataset) -> list[str]:
    engine = ds.engine()
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


def _others_connected(admin_url: str, name: str) -> int:
    from sqlalchemy import create_engine

    admin = create_engine(admin_url)
    try:
        with admin.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": name},
            ).scalar_one()
    finally:
        admin.dispose()


def _marker(admin_url: str, name: str) -> str | None:
    """A database's comment (bench.common marks a dataset's build with it); None when it does not exist."""
    from sqlalchemy import create_engine

    admin = create_engine(admin_url)
    try:
        with admin.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
                    "WHERE datname = :n"
                ),
                {"n": name},
            ).first()
            return None if row is None else row[0]
    finally:
        admin.dispose()


def private_copy(
    base: Dataset,
    name: str = "riskreg_bench_imports",
    admin_url: str = DEFAULT_ADMIN_URL,
    wait_seconds: float = 1800,
) -> Dataset:
    """A fresh copy of the dataset to write in, made from a template of it (``<name>_tpl``): the shared
    database is copied only when no one else uses it (another bench's connections are not cut), and only
    again when it was rebuilt (its marker) or migrated (its heads) since."""
    from sqlalchemy import create_engine

    tpl_name = f"{name}_tpl"
    marker = "copy of " + hashlib.sha256((_marker(admin_url, base.name) or "").encode()).hexdigest()
    current = _marker(admin_url, tpl_name) == marker
    if current:
        tpl = base.clone(tpl_name, fresh=False)  # exists: only a handle, nothing is copied
        current = _heads(tpl) == _heads(base)
    if not current:
        deadline = time.monotonic() + wait_seconds
        while (busy := _others_connected(admin_url, base.name)) and time.monotonic() < deadline:
            log(f"imports bench: {busy} other connection(s) to {base.name}; waiting to copy it")
            time.sleep(10)
        if busy:
            raise SystemExit(f"{base.name} stayed busy; no copy made")
        tpl = base.clone(tpl_name)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:  # a name and a hex digest, not input
                conn.execute(text(f"COMMENT ON DATABASE \"{tpl_name}\" IS '{marker}'"))
        finally:
            admin.dispose()
    return tpl.clone(name)


@contextlib.contextmanager
def profiled(directory: str | None, part: str):
    """cProfile the block into ``directory/part.prof`` (nothing without a directory)."""
    if not directory:
        yield
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        prof.dump_stats(str(Path(directory) / f"{part}.prof"))


class Statements:
    """Counts the statements sent to the database (an executemany counts once)."""

    def __init__(self, engine):
        from collections import Counter

        from sqlalchemy import event

        self.n = 0
        self.kinds: Counter = Counter()
        self.seconds: Counter = Counter()
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._count)
        event.listen(engine, "after_cursor_execute", self._done)

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.n += 1
        self.kinds[" ".join(statement.split())[:90]] += 1
        self._started = time.perf_counter()

    def _done(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.seconds[" ".join(statement.split())[:90]] += time.perf_counter() - self._started

    def most_common(self, k: int = 8) -> list:
        """The statements that took longest since the last call: (text, count, seconds)."""
        out = [(text_, self.kinds[text_], round(sec, 2)) for text_, sec in self.seconds.most_common(k)]
        self.kinds.clear()
        self.seconds.clear()
        return out

    def since(self, start: int) -> int:
        return self.n - start


def main() -> None:
    parser = arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--apply", type=int, default=5000, help="rows of the list applied and undone (0: none)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the private copy of the dataset")
    parser.add_argument("--profile", metavar="DIR", help="write a cProfile of each timed part to DIR")
    parser.add_argument("--statements", action="store_true", help="log the slowest statements of each part")
    parser.add_argument(
        "--priority",
        type=int,
        default=None,
        metavar="NICE",
        help="run this bench and its PostgreSQL backends at this niceness (e.g. -10, as root) to "
        "measure on a machine busy with other work",
    )
    args = parser.parse_args()
    base = dataset_from_args(args)
    ds = tagged(private_copy(base, admin_url=args.pg), APP_NAME)

    def prioritise() -> None:  # the backends the app opened so far
        if args.priority is not None:
            raise_priority(args.priority, args.pg, APP_NAME)

    if args.priority is not None:
        raise_priority(args.priority, args.pg)
    load_before = os.getloadavg()
    with ds.engine().begin() as conn:  # datasets built before the imports migration got its indexes
        for col in ("suggestion_system_id", "decision_system_id"):
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS ix_import_rows_{col} ON import_rows ({col})"))
    rng = random.Random(args.seed)
    app = ds.app(
        IMPORT_MAX_ROWS=100_000,
        IMPORT_MAX_BYTES=50 * 2**20,
        IMPORT_INLINE_ROWS=10**9,
        IMPORT_INLINE_APPLY_ROWS=10**9,
    )
    results: dict = {"n": ds.n}
    rows_out = []
    try:
        with app.app_context():
            s = db.session
            statements = Statements(db.engine)
            admin = s.get(User, ds.user_ids["admin"])
            actor = Actor(admin)
            unit = ds.org_unit_ids[0]
            registered = s.execute(select(System.name, System.supplier).order_by(System.id)).all()
            log(f"imports bench: {len(registered)} systems in the register")

            # 670 × 670, matching only (in memory)
            small = rng.sample(registered, 670)
            reg_small = [Entity(i + 1, [n], sup) for i, (n, sup) in enumerate(small)]
            listed = [
                (variant(n, rng), sup or "") if i % 2 else (new_name(rng, i), "")
                for i, (n, sup) in enumerate(small)
            ]
            prioritise()
            t0 = time.perf_counter()
            with profiled(args.profile, "match_670"):
                match_list(
                    [Entity(i, [n], sp or None) for i, (n, sp) in enumerate(listed)],
                    reg_small,
                    [None] * 670,
                    Thresholds(),
                )
            t670 = time.perf_counter() - t0
            rows_out.append(
                {"case": "match 670 × 670", "seconds": round(t670, 2), "target": TARGETS["match_670"]}
            )

            # 20,000 rows against the register: upload (read, store) and match
            picks = rng.sample(registered, args.rows // 2)
            names = [(variant(n, rng), sup or "") for n, sup in picks] + [
                (new_name(rng, i), rng.choice(SUPPLIERS)) for i in range(args.rows - len(picks))
            ]
            rng.shuffle(names)
            content = csv_of(names)
            t0, q0 = time.perf_counter(), statements.n
            statements.most_common()
            prioritise()
            with profiled(args.profile, "upload"):
                batch = service.upload(
                    s,
                    actor,
                    filename="bench.csv",
                    content=content,
                    source="bench",
                    org_unit_id=unit,
                    mapping={"Namn": "name", "Leverantör": "supplier", "sys_id": "external_key"},
                )
                s.commit()
            t_upload, q_upload = time.perf_counter() - t0, statements.since(q0)
            t0, q0 = time.perf_counter(), statements.n
            statements.most_common()
            prioritise()
            with profiled(args.profile, "match"):
                match_batch(s, batch, service.thresholds(s), release=True)
                s.commit()
            t_match, q_match = time.perf_counter() - t0, statements.since(q0)
            rss = peak_rss_mb()
            if args.statements:
                log("match statements:\n  " + "\n  ".join(map(str, statements.most_common())))
            counts = dict(
                s.execute(
                    select(ImportRow.suggestion_action, db.func.count())
                    .where(ImportRow.batch_id == batch.id)
                    .group_by(ImportRow.suggestion_action)
                ).all()
            )
            rows_out.append(
                {
                    "case": f"upload {args.rows} rows (read, store)",
                    "seconds": round(t_upload, 2),
                    "target": None,
                    "statements": q_upload,
                }
            )
            rows_out.append(
                {
                    "case": f"match {args.rows} × {len(registered)}",
                    "seconds": round(t_match, 2),
                    "target": TARGETS["match_20000"],
                    "statements": q_match,
                }
            )
            rows_out.append(
                {
                    "case": "upload + match",
                    "seconds": round(t_upload + t_match, 2),
                    "target": TARGETS["match_20000"],
                }
            )
            rows_out.append(
                {"case": "peak memory (MB)", "seconds": round(rss), "target": TARGETS["peak_rss_mb"]}
            )
            results["suggestions"] = {str(k.value if k else k): v for k, v in counts.items()}
            log(f"imports bench: suggestions {results['suggestions']}")

            if args.apply:  # --apply 0: matching only
                # apply 5,000 rows of it (the rest skipped) in one transaction, then undo
                ids = s.scalars(
                    select(ImportRow.id).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_number)
                ).all()
                keep = set(ids[: args.apply])
                s.execute(
                    db.update(ImportRow)
                    .where(ImportRow.batch_id == batch.id, ImportRow.id.not_in(keep))
                    .values(decision_action=ImportAction.SKIP)
                    .execution_options(synchronize_session=False)
                )
                s.commit()
                batch = s.get(ImportBatch, batch.id)
                planned = dict(
                    s.execute(
                        select(
                            db.func.coalesce(ImportRow.decision_action, ImportRow.suggestion_action),
                            db.func.count(),
                        )
                        .where(ImportRow.id.in_(keep))
                        .group_by(db.func.coalesce(ImportRow.decision_action, ImportRow.suggestion_action))
                    ).all()
                )
                register_before = register_counts(s)
                statements.most_common()
                prioritise()
                cpu = CpuClock(s)
                cpu.start()
                batch = s.get(ImportBatch, batch.id)
                t0, q0 = time.perf_counter(), statements.n
                with profiled(args.profile, "apply"):
                    service._do_apply(s, actor, batch)
                    s.commit()
                t_apply, q_apply = time.perf_counter() - t0, statements.since(q0)
                cpu_apply = cpu.stop()
                if args.statements:
                    log("apply statements:\n  " + "\n  ".join(map(str, statements.most_common())))
                rows_out.append(
                    {
                        "case": f"apply {len(keep):,} rows ("
                        + ", ".join(f"{v} {k.value}" for k, v in planned.items())
                        + ")",
                        "seconds": round(t_apply, 2),
                        "target": TARGETS["apply_5000"],
                        "statements": q_apply,
                        "cpu": "{} + {}".format(*cpu_apply),
                    }
                )
                after_apply = register_counts(s)
                results["apply_changed"] = {k: after_apply[k] - register_before[k] for k in after_apply}
                log(f"imports bench: apply changed {results['apply_changed']}")
                creates = planned.get(ImportAction.CREATE, 0)
                if results["apply_changed"]["systems"] != creates:
                    raise SystemExit(
                        f"apply created {results['apply_changed']['systems']} systems, not {creates}"
                    )
                statements.most_common()
                prioritise()
                cpu.start()
                batch = s.get(ImportBatch, batch.id)
                t0, q0 = time.perf_counter(), statements.n
                with profiled(args.profile, "undo"):
                    service._do_undo(s, actor, batch)
                    s.commit()
                t_undo, q_undo = time.perf_counter() - t0, statements.since(q0)
                cpu_undo = cpu.stop()
                if args.statements:
                    log("undo statements:\n  " + "\n  ".join(map(str, statements.most_common())))
                rows_out.append(
                    {
                        "case": f"undo those {len(keep):,} rows",
                        "seconds": round(t_undo, 2),
                        "target": None,
                        "statements": q_undo,
                        "cpu": "{} + {}".format(*cpu_undo),
                    }
                )
                after_undo = register_counts(s)
                results["undo_changed"] = {k: after_undo[k] - after_apply[k] for k in after_undo}
                log(f"imports bench: undo changed {results['undo_changed']}")
                for table in ("systems", "system_aliases", "external_refs", "search_grams"):
                    if after_undo[table] != register_before[table]:
                        raise SystemExit(
                            f"undo left {table} at {after_undo[table]}, not {register_before[table]}"
                        )
    finally:
        with app.app_context():
            db.engine.dispose()
        if not args.keep:
            drop_database(ds.name)
    load_after = os.getloadavg()
    results["load_average"] = [round(load_before[0], 1), round(load_after[0], 1)]
    results["priority"] = args.priority
    print(
        f"Imports bench — PostgreSQL, {ds.n} systems; load average {load_before[0]:.1f} → {load_after[0]:.1f} on "
        f"{os.cpu_count()} CPUs" + (f", run at niceness {args.priority}" if args.priority is not None else "")
    )
    for r in rows_out:
        r["ok"] = "" if r["target"] is None else ("yes" if r["seconds"] <= r["target"] else "NO")
    print_table(
        rows_out,
        [
            ("case", "case"),
            ("seconds", "seconds / MB"),
            ("target", "target"),
            ("ok", "ok"),
            ("statements", "statements"),
            ("cpu", "CPU s: app + database"),
        ],
    )
    results["cases"] = rows_out
    path = write_results("imports", results)
    log(f"imports bench: results in {path}")


if __name__ == "__main__":
    main()
