"""The register's pages: the systems list (search, filters, sorting, paging), the system page, creating
and editing systems (with optimistic locking) and recording a major change."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from sqlalchemy import event, select

from riskreg.models import AuditEvent, MajorChange, System
from riskreg.schemas.systems import SystemQuery
from riskreg.services import systems as systems_service
from tests.conftest import PASSWORD, actor


def login(client, user):
    client.post("/logout")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def names_in_list(resp) -> list[str]:
    body = resp.get_data(as_text=True)
    return [
        html.unescape(n)
        for n in re.findall(
            r'<td class="primary" data-label="[^"]*"><a href="/systems/\d+">([^<]+)</a>', body
        )
    ]


def hidden(resp, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', resp.get_data(as_text=True))
    assert match, f"no hidden {name}"
    return match.group(1)


@pytest.fixture
def register(make):
    """A small register: two org units, owners, and systems with known facts."""
    north, south = make.org_unit("Norra förvaltningen"), make.org_unit("Södra förvaltningen")
    owner = make.user("system_owner", name="Olle Ägare")
    other_owner = make.user("system_owner", name="Stina Annan")
    risk = make.user("risk_owner", name="Rita Risk")
    cosmic = make.system(
        name="Cosmic",
        org_unit_id=north.id,
        criticality="A",
        system_owner=owner,
        risk_owner=risk,
        priority_list=True,
        aliases=["COSMIC journal"],
        supplier="Cambio",
        external_refs=[{"source": "servicenow", "key": "abc123"}],
    )
    lab = make.system(
        name="LabPortalen",
        org_unit_id=south.id,
        criticality="C",
        system_owner=other_owner,
        lifecycle="planned",
    )
    pacs = make.system(name="Sectra PACS", org_unit_id=north.id, criticality="B", system_owner=owner)
    return {
        "north": north,
        "south": south,
        "owner": owner,
        "other_owner": other_owner,
        "risk": risk,
        "cosmic": cosmic,
        "lab": lab,
        "pacs": pacs,
    }


# ------------------------------------------------------------------ the list


def test_list_shows_count_and_rows_in_swedish(client, register, make):
    login(client, make.user("auditor"))
    resp = client.get("/systems")
    assert resp.status_code == 200
    body = text(resp)
    assert "3 system" in body and "<h1>System" in body
    assert names_in_list(resp) == ["Cosmic", "LabPortalen", "Sectra PACS"]
    assert "Ej påbörjad" in body and "Norra förvaltningen" in body and "Olle Ägare" in body
    assert '<th scope="col"' in body and "<caption" in body  # an accessible table


def test_fuzzy_search_finds_names_and_aliases(client, register, make):
    login(client, make.user("auditor"))
    assert names_in_list(client.get("/systems?q=cosmik")) == ["Cosmic"]
    assert "Cosmic" in names_in_list(client.get("/systems?q=journal"))
    resp = client.get("/systems?q=zzzzqqq")
    assert resp.status_code == 200 and "Inga system matchar sökningen och filtren." in text(resp)
    assert names_in_list(resp) == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("org_unit_id={north}", ["Cosmic", "Sectra PACS"]),
        ("criticality=C", ["LabPortalen"]),
        ("lifecycle=planned", ["LabPortalen"]),
        ("stage=not_started", ["Cosmic", "LabPortalen", "Sectra PACS"]),
        ("stage=approved", []),
        ("owner_id={owner}", ["Cosmic", "Sectra PACS"]),
        ("risk_owner_id={risk}", ["Cosmic"]),
        ("priority_list=true", ["Cosmic"]),
        ("priority_list=false", ["LabPortalen", "Sectra PACS"]),
        ("org_unit_id={north}&criticality=B", ["Sectra PACS"]),
    ],
)
def test_filters(client, register, make, query, expected):
    login(client, make.user("ciso"))
    ids = {"north": register["north"].id, "owner": register["owner"].id, "risk": register["risk"].id}
    resp = client.get("/systems?" + query.format(**ids))
    assert resp.status_code == 200
    assert names_in_list(resp) == expected


def test_sorting_by_column(client, register, make):
    login(client, make.user("ciso"))
    assert names_in_list(client.get("/systems?sort=-name")) == ["Sectra PACS", "LabPortalen", "Cosmic"]
    assert names_in_list(client.get("/systems?sort=criticality")) == ["Cosmic", "Sectra PACS", "LabPortalen"]
    body = client.get("/systems?sort=name").get_data(as_text=True)
    assert 'aria-sort="ascending"' in body and "sort=-name" in body


def test_paging(client, make):
    unit = make.org_unit()
    for i in range(30):
        make.system(name=f"System {i:02d}", org_unit_id=unit.id)
    login(client, make.user("ciso"))
    first = client.get("/systems?per_page=25")
    assert len(names_in_list(first)) == 25 and "Sida 1 av 2" in text(first)
    second = client.get("/systems?per_page=25&page=2")
    assert names_in_list(second) == [f"System {i:02d}" for i in range(25, 30)]
    assert 'rel="prev"' in second.get_data(as_text=True)
    beyond = client.get("/systems?per_page=25&page=9")
    assert beyond.status_code == 302 and "page=2" in beyond.headers["Location"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("criticality=X", "Kritikalitet"),
        ("stage=nope", "Steg"),
        ("org_unit_id=abc", "Förvaltning"),
        ("owner_id=-4", "Systemansvarig"),
        ("priority_list=kanske", "Prioriteringslista"),
        ("sort=password", "Sortering"),
        ("page=zz", "Sida"),
        ("per_page=100000", "Rader per sida"),
        ("q=" + "x" * 300, "Sök"),
    ],
)
def test_bad_filters_get_swedish_errors_not_500(client, register, make, query, field):
    login(client, make.user("ciso"))
    resp = client.get("/systems?" + query)
    assert resp.status_code == 422
    body = text(resp)
    assert "Några filter kunde inte användas" in body and f"är inte ett giltigt värde för {field}" in body
    assert "3 system" in body  # the list still answers, without the bad filter


def test_every_query_field_reaches_the_service_filter():
    """Report drill-downs add fields to SystemQuery and SystemFilter; the list page passes all of them on,
    so none may exist in the schema alone."""
    query = set(SystemQuery().fields)
    flt = {f.name for f in dataclasses.fields(systems_service.SystemFilter)}
    assert query <= flt, f"SystemQuery fields the service cannot filter by: {query - flt}"


def test_drill_down_filter_is_kept_and_removable(client, register, make):
    """A filter the page has no control for (the coverage report's drill-downs) applies, stays in force
    across sorting and paging (a hidden input), is shown as a chip and can be removed."""
    if "without_risk_owner" not in SystemQuery().fields:
        pytest.skip("the coverage report's drill-down filters are not there yet")
    login(client, make.user("ciso"))
    resp = client.get("/systems?without_risk_owner=true&sort=-name")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and names_in_list(resp) == ["Sectra PACS", "LabPortalen"]
    assert '<input type="hidden" name="without_risk_owner" value="true">' in body
    chip = html.unescape(re.search(r'<ul class="active-filters".*?</ul>', body, re.S).group(0))
    assert "Utan riskägare: Ja" in chip and "sort=-name" in chip and "without_risk_owner" not in chip
    assert "without_risk_owner=true" in re.search(r'<th scope="col"[^>]*>\s*<a href="\?([^"]*)"', body).group(
        1
    )
    bad = client.get("/systems?without_risk_owner=kanske")
    assert bad.status_code == 422 and "är inte ett giltigt värde för Utan riskägare" in text(bad)


def test_list_query_count_does_not_grow_with_rows(client, make, db_session):
    unit = make.org_unit()
    owner, risk = make.user("system_owner"), make.user("risk_owner")
    for i in range(3):
        make.system(
            name=f"Few {i}", org_unit_id=unit.id, system_owner=owner, risk_owner=risk, aliases=[f"F{i}"]
        )
    login(client, make.user("ciso"))

    def queries(url: str) -> int:
        count = [0]

        def before(*_args, **_kw):
            count[0] += 1

        db_session.flush()  # the factories' pending rows are not the page's queries
        conn = db_session.connection()
        event.listen(conn, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(conn, "before_cursor_execute", before)
        return count[0]

    few = queries("/systems")
    for i in range(40):
        other = make.user("system_owner")
        make.system(
            name=f"Many {i}",
            org_unit_id=make.org_unit().id,
            system_owner=other,
            risk_owner=risk,
            aliases=[f"M{i}"],
            external_refs=[{"source": "cmdb", "key": f"k{i}"}],
        )
    many = queries("/systems")
    assert many == few, (few, many)


# ------------------------------------------------------------------ one system


def test_system_page_shows_all_facts(client, register, make):
    login(client, make.user("auditor"))
    cosmic = register["cosmic"]
    resp = client.get(f"/systems/{cosmic.id}")
    assert resp.status_code == 200
    body = text(resp)
    for expected in (
        "Cosmic",
        "Ej påbörjad",
        "Norra förvaltningen",
        "A (mest kritisk)",
        "I drift",
        "Cambio",
        "Olle Ägare",
        "Rita Risk",
        "COSMIC journal",
        "servicenow:abc123",
        "Historik",
        "Skapad",
        "Större förändringar",
        "på prioriteringslistan vid katastrofläge",
    ):
        assert expected in body, expected
    assert "Redigera" not in body and "/edit" not in body  # the auditor reads only
    assert client.get("/systems/999999").status_code == 404


def test_history_lists_changes_newest_first_and_pages(client, register, make, db_session):
    cosmic, admin = register["cosmic"], make.admin()
    for i in range(22):
        systems_service.update(
            db_session, actor(admin), cosmic.id, {"supplier": f"Leverantör {i}"}, version=cosmic.version
        )
    login(client, make.user("auditor"))
    body = text(client.get(f"/systems/{cosmic.id}"))
    assert body.index("Leverantör 21") < body.index("Leverantör 20")
    assert "Leverantör: Leverantör 20 → Leverantör 21" in body.replace("<del>", "").replace(
        "</del>", ""
    ).replace("<ins>", "").replace("</ins>", "")
    assert 'Historik <span class="count">(23)</span>' in body
    page2 = text(client.get(f"/systems/{cosmic.id}?hpage=2"))
    history = page2[page2.index('id="history-h"') :]
    assert "Skapad" in history and "Leverantör 0" in history and "Leverantör 21" not in history


def test_edit_buttons_only_for_who_may_edit(client, register, make):
    cosmic = register["cosmic"]
    for user, may in (
        (register["owner"], True),
        (make.admin(), True),
        (register["other_owner"], False),
        (register["risk"], False),
        (make.user("ciso"), False),
    ):
        login(client, user)
        body = client.get(f"/systems/{cosmic.id}").get_data(as_text=True)
        assert (f"/systems/{cosmic.id}/edit" in body) is may, user.name
        assert (client.get(f"/systems/{cosmic.id}/edit").status_code == 200) is may, user.name
        assert ('name="description"' in body) is may  # the major-change form


# ------------------------------------------------------------------ create and edit


def form_of(system, **changes) -> dict:
    data = {
        "name": system.name,
        "description": system.description or "",
        "org_unit_id": system.org_unit_id,
        "system_owner_id": system.system_owner_id or "",
        "risk_owner_id": system.risk_owner_id or "",
        "criticality": system.criticality.value if system.criticality else "",
        "lifecycle": system.lifecycle.value,
        "supplier": system.supplier or "",
        "hosting": system.hosting.value if system.hosting else "",
        "personal_data": system.personal_data.value,
        "aliases": "\n".join(a.name for a in system.aliases),
        "external_refs": "\n".join(f"{r.source}:{r.key}" for r in system.external_refs),
        "version": system.version,
    }
    if system.priority_list:
        data["priority_list"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_a_system_with_every_field(client, register, make, db_session):
    login(client, make.admin())
    assert client.get("/systems/new").status_code == 200
    resp = client.post(
        "/systems/new",
        data={
            "name": "Millennium",
            "description": "Journal för tandvården",
            "org_unit_id": register["south"].id,
            "system_owner_id": register["owner"].id,
            "risk_owner_id": register["risk"].id,
            "criticality": "B",
            "lifecycle": "in_operation",
            "supplier": "Cerner",
            "hosting": "saas",
            "personal_data": "yes",
            "special_categories": "y",
            "priority_list": "y",
            "aliases": "Millenium\n  \nMill",
            "external_refs": "servicenow:xyz\nclarity:42",
        },
    )
    assert resp.status_code == 302
    system = db_session.execute(select(System).where(System.name == "Millennium")).scalar_one()
    assert resp.headers["Location"].endswith(f"/systems/{system.id}")
    assert (system.org_unit_id, system.system_owner_id, system.risk_owner_id) == (
        register["south"].id,
        register["owner"].id,
        register["risk"].id,
    )
    assert system.criticality == "B" and system.hosting == "saas" and system.personal_data == "yes"
    assert system.special_categories and system.priority_list and system.supplier == "Cerner"
    assert [a.name for a in system.aliases] == ["Millenium", "Mill"]
    assert sorted(f"{r.source}:{r.key}" for r in system.external_refs) == ["clarity:42", "servicenow:xyz"]


def test_create_shows_swedish_field_errors_and_keeps_input(client, register, make, db_session):
    login(client, make.admin())
    resp = client.post(
        "/systems/new",
        data={
            "name": "",
            "org_unit_id": "",
            "lifecycle": "in_operation",
            "personal_data": "unknown",
            "supplier": "Kvar här",
            "external_refs": "Servicenow utan kolon",
        },
    )
    assert resp.status_code == 422
    body = text(resp)
    assert (
        "Ange ett namn." in body
        and "Välj en förvaltning." in body
        and "Skriv varje referens som källa:nyckel" in body
    )
    assert 'value="Kvar här"' in body and 'aria-invalid="true"' in body
    # a rule of the service (the reference belongs to Cosmic) lands on its field, in Swedish
    resp = client.post(
        "/systems/new",
        data={
            "name": "Dubblett",
            "org_unit_id": register["north"].id,
            "lifecycle": "in_operation",
            "personal_data": "unknown",
            "external_refs": "servicenow:abc123",
        },
    )
    assert resp.status_code == 422
    assert "servicenow:abc123 används redan av ett annat system." in text(resp)
    # an owner who lacks the role
    resp = client.post(
        "/systems/new",
        data={
            "name": "Fel ägare",
            "org_unit_id": register["north"].id,
            "lifecycle": "in_operation",
            "personal_data": "unknown",
            "risk_owner_id": register["owner"].id,
        },
    )
    assert resp.status_code == 422 and "Användaren har inte rollen" in text(resp)
    assert (
        db_session.execute(select(System).where(System.name.in_(["Dubblett", "Fel ägare"]))).first() is None
    )


def test_only_admins_create(client, register, make):
    for user in (
        register["owner"],
        register["risk"],
        make.user("ciso"),
        make.user("auditor"),
        make.user("dpo"),
    ):
        login(client, user)
        assert client.get("/systems/new").status_code == 403
        assert (
            client.post("/systems/new", data={"name": "X", "org_unit_id": register["north"].id}).status_code
            == 403
        )


def test_admin_edits_owners_org_unit_aliases_and_refs(client, register, make, db_session):
    cosmic = register["cosmic"]
    login(client, make.admin())
    form = client.get(f"/systems/{cosmic.id}/edit")
    assert form.status_code == 200 and hidden(form, "version") == str(cosmic.version)
    resp = client.post(
        f"/systems/{cosmic.id}/edit",
        data=form_of(
            cosmic,
            org_unit_id=register["south"].id,
            system_owner_id=register["other_owner"].id,
            risk_owner_id="",
            aliases="Cosmic Nova\nCOSMIC journal",
            external_refs="clarity:7",
            description="Vårdens journal",
        ),
    )
    assert resp.status_code == 302, text(resp)[:2000]
    db_session.refresh(cosmic)
    assert cosmic.org_unit_id == register["south"].id and cosmic.system_owner_id == register["other_owner"].id
    assert cosmic.risk_owner_id is None and cosmic.description == "Vårdens journal"
    assert sorted(a.name for a in cosmic.aliases) == ["COSMIC journal", "Cosmic Nova"]
    assert [f"{r.source}:{r.key}" for r in cosmic.external_refs] == ["clarity:7"]
    body = text(client.get(f"/systems/{cosmic.id}"))
    assert "Ändringarna är sparade." in body and "Stina Annan" in body and "Södra förvaltningen" in body


def test_system_owner_edits_facts_but_not_owners_or_org_unit(client, register, make, db_session):
    cosmic, owner = register["cosmic"], register["owner"]
    login(client, owner)
    form = client.get(f"/systems/{cosmic.id}/edit")
    body = form.get_data(as_text=True)
    assert 'name="org_unit_id"' not in body and 'name="system_owner_id"' not in body
    assert 'name="risk_owner_id"' not in body and "ändras av en administratör" in text(form)
    data = form_of(
        cosmic,
        supplier="Cambio AB",
        criticality="B",
        org_unit_id=register["south"].id,
        system_owner_id=register["other_owner"].id,
        risk_owner_id="",
    )
    resp = client.post(f"/systems/{cosmic.id}/edit", data=data)
    assert resp.status_code == 302
    db_session.refresh(cosmic)
    assert cosmic.supplier == "Cambio AB" and cosmic.criticality == "B"
    assert cosmic.org_unit_id == register["north"].id and cosmic.system_owner_id == owner.id
    assert cosmic.risk_owner_id == register["risk"].id
    # someone else's system: 403 on the page and on the save
    lab = register["lab"]
    assert client.get(f"/systems/{lab.id}/edit").status_code == 403
    assert client.post(f"/systems/{lab.id}/edit", data=form_of(lab, supplier="x")).status_code == 403


def test_stale_save_shows_the_other_change_and_keeps_what_was_typed(client, register, make, db_session):
    cosmic, owner = register["cosmic"], register["owner"]
    login(client, owner)
    form = client.get(f"/systems/{cosmic.id}/edit")
    version, last_event = hidden(form, "version"), hidden(form, "last_event")
    # meanwhile an administrator changes the supplier and the description
    admin = make.user("admin", name="Anna Admin")
    systems_service.update(
        db_session,
        actor(admin),
        cosmic.id,
        {"supplier": "Cambio Healthcare", "description": "Ny text"},
        version=cosmic.version,
    )
    db_session.commit()  # the other person's save is committed (a savepoint here)
    mine = form_of(
        cosmic,
        supplier="Min leverantör",
        description="Min beskrivning",
        version=version,
        last_event=last_event,
        name="Cosmic (mitt namn)",
    )
    mine.pop("org_unit_id"), mine.pop("system_owner_id"), mine.pop("risk_owner_id")
    resp = client.post(f"/systems/{cosmic.id}/edit", data=mine)
    assert resp.status_code == 409
    body = text(resp)
    assert "Någon annan sparade systemet medan du redigerade" in body
    assert "Anna Admin" in body and "Cambio Healthcare" in body  # who and what
    assert (
        'value="Min leverantör"' in body
        and "Min beskrivning" in body
        and 'value="Cosmic (mitt namn)"' in body
    )
    db_session.refresh(cosmic)
    assert cosmic.supplier == "Cambio Healthcare" and cosmic.name == "Cosmic"  # nothing of mine was saved
    # the form now carries the current version: saving again is a knowing overwrite
    assert hidden(resp, "version") == str(cosmic.version)
    mine.update(version=hidden(resp, "version"), last_event=hidden(resp, "last_event"))
    assert client.post(f"/systems/{cosmic.id}/edit", data=mine).status_code == 302
    db_session.refresh(cosmic)
    assert cosmic.supplier == "Min leverantör" and cosmic.name == "Cosmic (mitt namn)"


def test_edit_without_a_version_is_a_conflict_not_a_500(client, register, make):
    cosmic = register["cosmic"]
    login(client, make.admin())
    data = form_of(cosmic, supplier="x")
    data.pop("version")
    assert client.post(f"/systems/{cosmic.id}/edit", data=data).status_code == 409
    data["version"] = "inte-ett-tal"
    assert client.post(f"/systems/{cosmic.id}/edit", data=data).status_code == 409


def test_edit_validation_errors_in_swedish(client, register, make):
    cosmic = register["cosmic"]
    login(client, make.admin())
    resp = client.post(
        f"/systems/{cosmic.id}/edit",
        data=form_of(cosmic, name="x" * 201, criticality="Z", aliases="\n".join(f"a{i}" for i in range(101))),
    )
    assert resp.status_code == 422
    body = text(resp)
    assert "Högst 200 tecken." in body and "Högst 100 alias." in body and "Formuläret har 3 fel" in body


# ------------------------------------------------------------------ major change


def test_record_major_change(client, register, make, db_session):
    cosmic = register["cosmic"]
    login(client, register["owner"])
    resp = client.post(f"/systems/{cosmic.id}/major-change", data={"description": "Ny modul för e-recept"})
    assert resp.status_code == 302
    db_session.refresh(cosmic)
    assert cosmic.major_change_at is not None
    change = db_session.execute(select(MajorChange).where(MajorChange.system_id == cosmic.id)).scalar_one()
    assert change.description == "Ny modul för e-recept" and change.recorded_by_id == register["owner"].id
    body = text(client.get(f"/systems/{cosmic.id}"))
    assert "Ny modul för e-recept" in body and "Större förändring registrerad" in body
    assert db_session.execute(
        select(AuditEvent).where(AuditEvent.entity == "system", AuditEvent.action == "major_change")
    ).first()


def test_major_change_needs_a_description_and_the_right(client, register, make):
    cosmic = register["cosmic"]
    login(client, register["owner"])
    resp = client.post(f"/systems/{cosmic.id}/major-change", data={"description": "  "})
    assert resp.status_code == 422 and "Beskriv förändringen." in text(resp)
    login(client, register["other_owner"])
    assert client.post(f"/systems/{cosmic.id}/major-change", data={"description": "x"}).status_code == 403
