"""Bench of filing (issue 4), on PostgreSQL with the 100,000-system dataset (bench/common.py):

- filing a 30-risk analysis (each risk with an action) via the API          target < 150 ms
- the system page with its full history (and the filing pages beside it)    target < 100 ms
- the matrix page of a 30-risk analysis                                     target < 100 ms

    .venv/bin/python -m bench.filing [--repeat 30] [--keep]

It works on a copy of the dataset (``riskreg_bench_filing``; dropped afterwards unless ``--keep``), gives
one system owned by the bench system owner a long history first (classification versions, finalised
30-risk analyses, screenings, DPIAs, SLAs with three years of measurements), then times the cases
through the Flask test client after 3 untimed calls. Results: bench/results/filing.json (git-ignored).
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bench.common import (
    BENCH_PASSWORD,
    Dataset,
    arg_parser,
    dataset_from_args,
    drop_database,
    log,
    measure,
    print_table,
    summarise,
    write_results,
)

CLONE = "riskreg_bench_filing"
TARGETS = {
    "file": 150.0,
    "system": 100.0,
    "matrix": 100.0,
    "api": None,
}  # api: measured, no target in the issue
THREATS = [
    ("Obehörig åtkomst till patientuppgifter", "K"),
    ("Ransomware slår ut driften", "T"),
    ("Felaktig läkemedelsdos efter integrationsfel", "R"),
    ("Leverantören upphör med produkten", "T"),
    ("Bristande logguppföljning", "K"),
    ("Driftavbrott i nätverket", "T"),
]


def thirty_risks(owner_id: int, day: date, n: int = 30) -> list[dict]:
    risks = []
    for i in range(n):
        title, aspect = THREATS[i % len(THREATS)]
        likelihood, consequence = 1 + i % 4, 1 + (i * 3) % 4
        risks.append(
            {
                "title": f"{title} ({i + 1})",
                "aspect": aspect,
                "likelihood": likelihood,
                "consequence": consequence,
                "description": "Scenariot bedömt i workshop med verksamhet och IT.",
                "existing_protection": "Behörighetsstyrning och säkerhetskopiering finns.",
                "treatment": "reduce",
                "residual_likelihood": max(1, likelihood - 1),
                "residual_consequence": consequence,
                "actions": [
                    {
                        "description": "Inför tvåfaktorsinloggning och granska behörigheter.",
                        "responsible_id": owner_id,
                        "due_on": str(day + timedelta(days=30 + i)),
                        "status": "planned",
                    }
                ],
            }
        )
    return risks


def signed_in(app, email: str):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
    if resp.status_code != 302:
        raise RuntimeError(f"login as {email} answered {resp.status_code}")
    return client


def build_history(app, ds: Dataset, sid: int) -> dict:
    """Give one system a long history through the services: 8 classification versions, 6 finalised
    30-risk analyses, 3 screenings, 2 DPIAs, 3 SLAs with 36 monthly measurements."""
    from riskreg.actor import Actor
    from riskreg.extensions import db
    from riskreg.models import User
    from riskreg.services import classification, dpia, risk, sla

    with app.app_context():
        s = db.session
        owner = s.get(User, ds.user_ids["system_owner"])
        dpo = s.get(User, ds.user_ids["dpo"])
        start = datetime.now(UTC) - timedelta(days=3 * 365)

        def at(days: int, who=owner) -> Actor:
            return Actor(who, "bench", now=start + timedelta(days=days))

        for v in range(8):
            classification.create(
                s,
                at(v * 120),
                sid,
                confidentiality=1 + v % 4,
                integrity=2,
                availability=1 + v % 3,
                motivation="Omprövad",
                information_sets=[
                    {"name": f"Mängd {k}", "confidentiality": k % 5, "integrity": 2, "availability": 1}
                    for k in range(4)
                ],
            )
        last = None
        for r in range(6):
            a = at(r * 150 + 10)
            if last is None:
                last = risk.create(
                    s,
                    a,
                    sid,
                    analysed_on=a.today(),
                    participants="Ägare, IT, verksamhet",
                    scope="Hela systemet",
                    risks=thirty_risks(owner.id, a.today()),
                )
            else:
                last = risk.new_round(s, a, sid)
            risk.finalise(s, at(r * 150 + 12), last.id)
        for k in range(3):
            dpia.screen(
                s,
                at(k * 300 + 20),
                sid,
                criteria=["sensitive_data", "vulnerable_subjects"],
                motivation="Patientuppgifter",
            )
        for k in range(2):
            d = dpia.create(
                s,
                at(k * 400 + 30),
                sid,
                description="Journalföring",
                purposes="Vård",
                legal_basis="Rättslig förpliktelse",
                necessity="Nödvändig",
                risks="Obehörig åtkomst",
                measures="Behörighetsstyrning, loggning",
            )
            dpia.give_opinion(s, at(k * 400 + 35, dpo), d.id, opinion="Inga invändningar")
            dpia.finalise(s, at(k * 400 + 36), d.id)
        month = (start + timedelta(days=40)).date().replace(day=1)
        for k in range(3):
            agreement = sla.create(
                s,
                at(k * 365 + 5),
                sid,
                supplier="Cambio",
                availability_target=99.0 + k * 0.25,
                agreement_ref=f"AVT-{k}",
                service_hours="Dygnet runt",
                rto_hours=4,
                rpo_hours=1,
            )
            for _ in range(12):
                if month >= date.today().replace(day=1):
                    break
                sla.add_measurement(
                    s,
                    Actor(
                        owner,
                        "bench",
                        now=datetime.combine(month + timedelta(days=35), datetime.min.time(), UTC),
                    ),
                    agreement.id,
                    period=month,
                    availability=99.4,
                    downtime_minutes=250,
                )
                month = (month + timedelta(days=32)).replace(day=1)
        s.commit()
        analysis_id = last.id
        s.remove()
    return {"analysis_id": analysis_id}


def main() -> None:
    p = arg_parser("Bench of filing: a 30-risk analysis via the API, the system page, the matrix page")
    p.add_argument("--keep", action="store_true", help="keep the bench's copy of the dataset")
    args = p.parse_args()
    base: Dataset = dataset_from_args(args)
    log(f"bench: copying {base.name} to {CLONE}")
    ds = base.clone(CLONE)
    app = ds.app()
    results: list[dict] = []

    def row(group: str, label: str, samples: list[float], **extra) -> None:
        r = {"group": group, "case": label, **summarise(samples), "target_ms": TARGETS[group], **extra}
        r["ok"] = None if TARGETS[group] is None else r["p95_ms"] < TARGETS[group]
        results.append(r)
        log(f"  {group:6} {label:62} median {r['median_ms']:8.1f}  p95 {r['p95_ms']:8.1f} ms")

    from riskreg.extensions import db
    from riskreg.models import Classification, RiskAnalysis, System

    try:
        with app.app_context():
            systems = db.session.execute(select(func.count(System.id))).scalar_one()
            own = ds.owned["system_owner"]
            sid = own[0]
            db.session.remove()
        log(f"bench: {systems} systems; building a long history on system {sid}")
        t0 = time.perf_counter()
        history = build_history(app, ds, sid)
        log(f"bench: history built in {time.perf_counter() - t0:.1f} s")
        with app.app_context():
            versions = db.session.execute(
                select(func.count(Classification.id)).where(Classification.system_id == sid)
            ).scalar_one()
            analyses = db.session.execute(
                select(func.count(RiskAnalysis.id)).where(RiskAnalysis.system_id == sid)
            ).scalar_one()
            db.session.remove()

        # ---- filing a 30-risk analysis via the API, each time on another of the owner's systems
        client = app.test_client()
        headers = {"Authorization": f"Bearer {ds.tokens['system_owner']}"}
        targets = own[1:] * (1 + (args.repeat + 3) // max(1, len(own) - 1))
        samples = []
        for i, target in enumerate(targets[: args.repeat + 3]):
            body = {
                "analysed_on": str(date.today()),
                "participants": "Ägare, IT-säkerhet",
                "scope": "Hela systemet",
                "risks": thirty_risks(ds.user_ids["system_owner"], date.today()),
            }
            t0 = time.perf_counter()
            resp = client.post(f"/api/v1/systems/{target}/risk-analyses", json=body, headers=headers)
            ms = (time.perf_counter() - t0) * 1000
            if resp.status_code != 201:
                raise RuntimeError(f"filing on {target} answered {resp.status_code}: {resp.get_json()}")
            if i >= 3:
                samples.append(ms)
        row("file", "POST /api/v1/systems/{id}/risk-analyses (30 risks, 30 actions)", samples)

        # ---- the system page with its full history, and the filing pages
        owner_web = signed_in(app, ds.emails["system_owner"])
        ciso_web = signed_in(app, ds.emails["ciso"])
        pages = [
            (
                "system",
                f"system page ({versions} classifications, {analyses} analyses), owner",
                owner_web,
                f"/systems/{sid}",
            ),
            ("system", "system page, CISO", ciso_web, f"/systems/{sid}"),
            (
                "system",
                "filing overview (panel, overdue actions, counts)",
                owner_web,
                f"/systems/{sid}/filing",
            ),
            ("system", "classification history", owner_web, f"/systems/{sid}/classifications"),
            ("system", f"risk analyses ({analyses} × 30 risks)", owner_web, f"/systems/{sid}/risk-analyses"),
            ("system", "DPIA screenings and DPIAs", owner_web, f"/systems/{sid}/dpia"),
            ("system", "SLAs", owner_web, f"/systems/{sid}/slas"),
            (
                "matrix",
                "matrix page of a finalised 30-risk analysis",
                owner_web,
                f"/risk-analyses/{history['analysis_id']}",
            ),
            (
                "matrix",
                "matrix page, one cell's risks",
                ciso_web,
                f"/risk-analyses/{history['analysis_id']}?cell=after-2-4",
            ),
        ]
        for group, label, web, path in pages:
            resp = web.get(path)
            if resp.status_code != 200:
                raise RuntimeError(f"{path} answered {resp.status_code}")
            row(group, label, measure(lambda c=web, u=path: c.get(u), repeat=args.repeat))
        api_ciso = {"Authorization": f"Bearer {ds.tokens['ciso']}"}
        row(
            "api",
            "GET /api/v1/systems/{id}/risk-analyses (history, 30 risks each)",
            measure(
                lambda: client.get(f"/api/v1/systems/{sid}/risk-analyses", headers=api_ciso),
                repeat=args.repeat,
            ),
        )
        row(
            "api",
            "GET /api/v1/slas/priority-list (a page of 100)",
            measure(
                lambda: client.get("/api/v1/slas/priority-list?per_page=100", headers=api_ciso),
                repeat=args.repeat,
            ),
        )
        row(
            "api",
            "priority-list page (first 100 systems), CISO",
            measure(lambda: ciso_web.get("/slas/priority-list"), repeat=args.repeat),
        )
        for role in ("ciso", "system_owner", "risk_owner", "admin"):
            auth = {"Authorization": f"Bearer {ds.tokens[role]}"}
            row(
                "api",
                f"GET /api/v1/me/overdue-actions (a page of 50), {role}",
                measure(lambda h=auth: client.get("/api/v1/me/overdue-actions?per_page=50", headers=h),
                        repeat=args.repeat),
            )
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
    path = write_results(
        "filing",
        {
            "at": datetime.now(UTC).isoformat(),
            "dataset": {"name": base.name, "n": base.n, "seed": base.seed},
            "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
            "results": results,
        },
    )
    log(f"bench: results in {path}")


if __name__ == "__main__":
    main()
