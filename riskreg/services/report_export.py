"""The systems list as a file (``/api/v1/systems.csv``, ``.xlsx``): the list's filters, read in chunks by
keyset so that 100,000 systems stream without being held in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, func, literal, select, tuple_, type_coerce
from sqlalchemy.orm import Session, aliased

from riskreg import lifecycle
from riskreg.actor import Actor
from riskreg.errors import NotAllowed
from riskreg.models import ExternalRef, OrgUnit, System, SystemAlias, User
from riskreg.services.report_progress import utc_day
from riskreg.services.reports import analytic

EXPORT_CHUNK = 5000


def export_systems(
    session: Session, actor: Actor, flt, today: date, chunk: int | None = None
) -> Iterator[list]:
    """The systems matching the systems list's filter, in chunks of rows (attributes: EXPORT_FIELDS): by
    name, read by keyset (``(name, id) > last``, never OFFSET), or with a search in the search's rank order.
    Every signed-in user reads the register; the caller leaves out the current classification and decision
    for those who may not read every system's records. Raises NotAllowed for no user."""
    from riskreg.services import systems

    if actor.user is None:
        raise NotAllowed(_l("Sign in to export the register."))
    chunk = chunk or EXPORT_CHUNK
    clauses = systems.filter_clauses(flt, today)
    if flt.q:
        ids = [sid for sid, _score in systems.search_ids(session, flt.q, clauses, today)]
        for i in range(0, len(ids), chunk):
            part = ids[i : i + chunk]
            rows = {
                r.id: r
                for r in _export_chunk(
                    session, today, systems.SystemFilter(), [System.id.in_(part)], None, chunk
                )
            }
            yield [rows[sid] for sid in part if sid in rows]
        return
    analytic(session)
    last: tuple[str, int] | None = None
    while True:
        rows = _export_chunk(session, today, flt, clauses, last, chunk)
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        last = (rows[-1].name, rows[-1].id)


EXPORT_FIELDS = (
    "id",
    "name",
    "aliases",
    "org_unit",
    "criticality",
    "lifecycle",
    "stage",
    "priority_list",
    "system_owner",
    "system_owner_email",
    "risk_owner",
    "risk_owner_email",
    "supplier",
    "hosting",
    "personal_data",
    "special_categories",
    "external_refs",
    "classification",
    "decision",
    "reference",
    "valid_until",
    "changed",
)


def _export_chunk(
    session: Session, today: date, flt, clauses: list, after: tuple[str, int] | None, limit: int
) -> list:
    """One chunk of the export: the next ``limit`` systems by (name, id) found as bare ids (an index walk,
    joining the stage's records only when the filter reads them), then those rows with their facts, owners,
    current classification and decision, aliases and external references in one query. Codes come as
    text and the classification as its K-R-T profile, straight from the database (a 100,000-row export
    spends its time in Python otherwise)."""
    from riskreg.services import systems

    a, c = lifecycle.CurrentApproval, lifecycle.CurrentClassification
    owner, decider = aliased(User, name="export_owner"), aliased(User, name="export_risk_owner")
    walk = select(System.id.label("id")).select_from(System)
    if systems.needs_stage_joins(flt):
        walk = lifecycle.with_stage_joins(walk)
    walk = walk.where(*clauses)
    if after is not None:
        walk = walk.where(tuple_(System.name, System.id) > tuple_(literal(after[0]), literal(after[1])))
    chunk = walk.order_by(System.name, System.id).limit(limit).subquery("chunk")

    def joined(column, key):
        return select(func.aggregate_strings(column, ", ")).where(key == System.id).scalar_subquery()

    def text_of(column):
        return type_coerce(column, String)

    profile = case(
        (c.id.is_(None), None),
        else_=(
            cast(c.confidentiality, String)
            + "-"
            + cast(c.integrity, String)
            + "-"
            + cast(c.availability, String)
        ),
    )
    columns = {
        "id": System.id,
        "name": System.name,
        "aliases": joined(SystemAlias.name, SystemAlias.system_id),
        "org_unit": OrgUnit.name,
        "criticality": text_of(System.criticality),
        "lifecycle": text_of(System.lifecycle),
        "stage": lifecycle.stage_expr(today),
        "priority_list": System.priority_list,
        "system_owner": owner.name,
        "system_owner_email": owner.email,
        "risk_owner": decider.name,
        "risk_owner_email": decider.email,
        "supplier": System.supplier,
        "hosting": text_of(System.hosting),
        "personal_data": text_of(System.personal_data),
        "special_categories": System.special_categories,
        "external_refs": joined(ExternalRef.source + ":" + ExternalRef.key, ExternalRef.system_id),
        "classification": profile,
        "decision": text_of(a.decision),
        "reference": a.reference,
        "valid_until": a.valid_until,
        "changed": utc_day(System.updated_at),
    }
    stmt = (
        lifecycle.with_stage_joins(
            select(*[columns[k].label(k) for k in EXPORT_FIELDS])
            .select_from(chunk)
            .join(System, System.id == chunk.c.id)
        )
        .join(OrgUnit, OrgUnit.id == System.org_unit_id)
        .outerjoin(owner, owner.id == System.system_owner_id)
        .outerjoin(decider, decider.id == System.risk_owner_id)
        .order_by(System.name, System.id)
    )
    return session.connection().execute(stmt).all()
