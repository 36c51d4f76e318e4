"""Account pages: login, the language switch, the start page per role, users and org unit
administration, and the user's own API tokens."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from riskreg.models import ApiToken, ApprovalRequest, AuditEvent, Classification, OrgUnit, User
from riskreg.models.base import utcnow
from riskreg.models.codes import RecordStatus, RequestStatus
from tests.conftest import PASSWORD


def login(client, user):
    client.post("/logout")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


# ------------------------------------------------------------------ login and language


def test_login_page_is_swedish_and_labelled(client):
    resp = client.get("/login")
    body = text(resp)
    assert resp.status_code == 200 and '<html lang="sv">' in body
    assert (
        '<label for="email">E-postadress</label>' in body and '<label for="password">Lösenord</label>' in body
    )


def test_login_errors_in_swedish_and_redirect_back(client, make):
    user = make.user("auditor")
    resp = client.post("/login", data={"email": "", "password": ""})
    assert "Ange din e-postadress." in text(resp) and "Ange ditt lösenord." in text(resp)
    resp = client.post("/login", data={"email": user.email, "password": "fel-lösenord-123"})
    assert "Fel e-postadress eller lösenord." in text(resp)
    assert client.get("/systems").status_code == 302
    resp = client.post("/login?next=/systems", data={"email": user.email, "password": PASSWORD})
    assert resp.headers["Location"] == "/systems"
    client.post("/logout")
    resp = client.post("/login?next=//evil.example/", data={"email": user.email, "password": PASSWORD})
    assert resp.headers["Location"] == "/"


def test_language_switch_is_kept_in_the_session(client, make):
    login(client, make.user("auditor"))
    assert "Välkommen" in text(client.get("/"))
    resp = client.post("/language", data={"language": "en", "next": "/systems?q=x"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/systems?q=x"
    body = text(client.get("/"))
    assert '<html lang="en">' in body and "Welcome" in body and "Log out" in body and "Svenska" in body
    client.post("/language", data={"language": "sv", "next": "/"})
    assert "Välkommen" in text(client.get("/"))
    assert client.post("/language", data={"language": "de", "next": "/"}).status_code == 400
    # an outside address is never a target
    resp = client.post("/language", data={"language": "sv", "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"


def test_english_falls_back_to_the_message_ids(client, make):
    system = make.system(name="Cosmic")
    login(client, make.user("auditor"))
    client.post("/language", data={"language": "en", "next": "/"})
    body = text(client.get(f"/systems/{system.id}"))
    assert "Not started" in body and "Facts" in body and "Ej påbörjad" not in body
    # the login page also switches, before anyone logs in
    client.post("/logout")
    assert "E-mail address" in text(client.get("/login"))


# ------------------------------------------------------------------ the start page per role


def test_start_page_for_a_system_owner_shows_their_systems_and_what_is_due(client, make, db_session):
    owner = make.user("system_owner")
    mine = make.system(name="Min journal", system_owner=owner)
    make.system(name="Annans system", system_owner=make.user("system_owner"))
    stale = Classification(
        system_id=mine.id,
        number=1,
        status=RecordStatus.FINAL,
        confidentiality=2,
        integrity=2,
        availability=2,
        declared_confidentiality=2,
        declared_integrity=2,
        declared_availability=2,
        finalised_at=utcnow() - timedelta(days=400),
    )
    db_session.add(stale)
    db_session.flush()
    mine.current_classification_id = stale.id
    db_session.flush()
    login(client, owner)
    body = text(client.get("/"))
    assert "Mina system" in body and "Min journal" in body and "Annans system" not in body
    assert "klassningen från" in body and "ska omprövas" in body
    assert f"/systems?owner_id={owner.id}&amp;stage=classified" in client.get("/").get_data(as_text=True)


def test_start_page_for_a_risk_owner_shows_decisions_waiting(client, make, db_session):
    risk = make.user("risk_owner")
    system = make.system(name="Väntar på beslut", risk_owner=risk)
    request = ApprovalRequest(
        system_id=system.id, status=RequestStatus.PENDING, requested_at=utcnow() - timedelta(days=3)
    )
    db_session.add(request)
    db_session.flush()
    system.open_request_id = request.id
    db_session.flush()
    login(client, risk)
    body = text(client.get("/"))
    assert "Beslut som väntar på dig" in body and "Väntar på beslut" in body
    assert re.search(r'data-label="Dagar i kö" class="num">3<', body)


def test_start_page_for_the_ciso_links_figures_to_filtered_lists(client, make):
    make.system(name="Prio", priority_list=True, criticality="A")
    login(client, make.user("ciso"))
    resp = client.get("/")
    body = resp.get_data(as_text=True)
    assert "Registret i korthet" in text(resp)
    assert "/systems?stage=not_started&amp;lifecycle=in_operation" in body
    assert "/systems?criticality=A&amp;lifecycle=in_operation" in body
    assert "/systems?lifecycle=in_operation&amp;priority_list=true" in body
    assert "Mina system" not in text(resp) and "Administration" not in text(resp)


def test_start_page_for_an_admin_shows_accounts_org_units_and_imports(client, make):
    admin = make.admin()
    make.user("auditor")
    login(client, admin)
    body = text(client.get("/"))
    assert "Administration" in body and "aktiva konton av" in body and "förvaltningar" in body
    assert (
        "importer" in body
        and "/admin/users" in body
        and "/admin/org-units" in body
        and "/systems/new" in body
    )


def test_start_page_for_an_admin_links_the_latest_imports_with_their_state_in_words(client, make, api):
    import io

    admin = make.admin()
    upload = api(admin).post("/api/v1/imports", data={"file": (io.BytesIO(b"Namn\r\nAlfa\r\n"), "lista.csv"),
                                                      "source": "servicenow"}, content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    batch_id = upload.get_json()["id"]
    login(client, admin)
    page = client.get("/").get_data(as_text=True)
    assert f'href="/imports/{batch_id}">lista.csv</a>' in page
    state = re.search(r"lista\.csv</a>\s*<span class=\"muted\">\(servicenow, 1 rad, ([^,]+),", page)
    assert state and state.group(1) in {"Matchar", "Klar för granskning"}, page[page.find("lista.csv"):][:300]


# ------------------------------------------------------------------ users admin


def test_users_page_lists_searches_and_pages(client, make):
    admin = make.admin()
    for i in range(55):
        make.user("auditor", name=f"Granskare {i:02d}")
    make.user("dpo", name="Dora Dataskydd", email="dora@region.example")
    login(client, admin)
    resp = client.get("/admin/users")
    assert resp.status_code == 200
    body = text(resp)
    assert "Konton" in body and "Sida 1 av 2" in body and '<fieldset class="field checks' in body
    found = text(client.get("/admin/users?q=dora"))
    assert "Dora Dataskydd" in found and "Granskare 01" not in found and "1 träffar" in found
    by_role = text(client.get("/admin/users?role=dpo"))
    assert "Dora Dataskydd" in by_role and "Granskare 01" not in by_role
    assert "Granskare 54" in text(client.get("/admin/users?page=2"))
    assert client.get("/admin/users?q=%25%5F").status_code == 200


def test_admin_creates_a_user_with_several_roles(client, make, db_session):
    unit = make.org_unit("Förvaltning Nord")
    login(client, make.admin())
    resp = client.post(
        "/admin/users",
        data={
            "email": "ny.person@region.example",
            "name": "Ny Person",
            "roles": ["system_owner", "risk_owner"],
            "org_unit_id": unit.id,
            "password": "Ett-Bra-Lösen-2026",
        },
    )
    assert resp.status_code == 302
    user = db_session.execute(select(User).where(User.email == "ny.person@region.example")).scalar_one()
    assert {r.value for r in user.roles} == {"system_owner", "risk_owner"} and user.org_unit_id == unit.id
    assert "Kontot för Ny Person är skapat." in text(client.get("/admin/users"))


def test_create_user_errors_are_swedish_and_keep_input(client, make):
    existing = make.user("auditor")
    login(client, make.admin())
    resp = client.post("/admin/users", data={"email": "", "name": "", "password": ""})
    assert resp.status_code == 422
    body = text(resp)
    assert "Ange en e-postadress." in body and "Ange ett namn." in body and "Välj minst en roll." in body
    resp = client.post(
        "/admin/users",
        data={"email": "kort@region.example", "name": "Kort Lösen", "roles": ["auditor"], "password": "kort"},
    )
    assert resp.status_code == 422 and "Minst 12 tecken." in text(resp) and 'value="Kort Lösen"' in text(resp)
    resp = client.post(
        "/admin/users",
        data={
            "email": existing.email,
            "name": "Dubblett",
            "roles": ["auditor"],
            "password": "Ett-Bra-Lösen-2026",
        },
    )
    assert resp.status_code == 422 and "Används redan." in text(resp)


def test_admin_edits_roles_org_unit_and_deactivates(client, make, db_session):
    admin, user = make.admin(), make.user("auditor", name="Gun Granskare")
    unit = make.org_unit("Förvaltning Syd")
    login(client, admin)
    page = client.get(f"/admin/users/{user.id}")
    assert page.status_code == 200
    assert re.search(
        r'<input checked id="roles-\d" name="roles" type="checkbox" value="auditor">',
        page.get_data(as_text=True),
    )
    resp = client.post(
        f"/admin/users/{user.id}",
        data={"name": "Gun Granskare", "roles": ["auditor", "dpo"], "org_unit_id": unit.id},
    )
    assert resp.status_code == 302
    db_session.refresh(user)
    assert {r.value for r in user.roles} == {"auditor", "dpo"} and user.org_unit_id == unit.id
    assert user.active is False  # the box was not ticked
    # the admin cannot lock themselves out
    resp = client.post(
        f"/admin/users/{admin.id}", data={"name": admin.name, "roles": ["auditor"], "active": "y"}
    )
    assert resp.status_code == 422 and "Du kan inte ta bort din egen administratörsroll." in text(resp)
    assert client.get("/admin/users/999999").status_code == 404


def test_a_deactivated_user_is_logged_out(client, make, db_session):
    admin, user = make.admin(), make.user("auditor")
    login(client, user)
    assert client.get("/").status_code == 200
    from riskreg.services import accounts
    from tests.conftest import actor

    accounts.update_user(db_session, actor(admin), user.id, active=False)
    db_session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", ["system_owner", "risk_owner", "ciso", "dpo", "auditor"])
def test_only_admins_administer(client, make, role):
    login(client, make.user(role))
    for url in ("/admin/users", "/admin/users/1", "/admin/org-units", "/admin/org-units/1"):
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/users", data={"email": "x@region.example"}).status_code == 403


# ------------------------------------------------------------------ org units admin


def test_org_units_admin(client, make, db_session):
    north = make.org_unit("Norra förvaltningen")
    make.system(name="Ett system", org_unit_id=north.id)
    login(client, make.admin())
    body = text(client.get("/admin/org-units"))
    assert "Norra förvaltningen" in body and "Förvaltningar" in body
    resp = client.post("/admin/org-units", data={"name": "Vårdcentraler", "parent_id": north.id})
    assert resp.status_code == 302
    unit = db_session.execute(select(OrgUnit).where(OrgUnit.name == "Vårdcentraler")).scalar_one()
    assert unit.parent_id == north.id
    dup = client.post("/admin/org-units", data={"name": "Vårdcentraler", "parent_id": ""})
    assert dup.status_code == 422 and "Används redan." in text(dup)
    empty = client.post("/admin/org-units", data={"name": "", "parent_id": ""})
    assert empty.status_code == 422 and "Ange ett namn." in text(empty)
    resp = client.post(f"/admin/org-units/{unit.id}", data={"name": "Primärvården", "parent_id": ""})
    assert resp.status_code == 302
    db_session.refresh(unit)
    assert unit.name == "Primärvården" and unit.parent_id is None
    assert db_session.execute(
        select(AuditEvent).where(AuditEvent.entity == "org_unit", AuditEvent.entity_id == unit.id)
    ).first()
    assert client.get("/admin/org-units/999999").status_code == 404


# ------------------------------------------------------------------ tokens


def test_tokens_are_shown_once_and_revoked(client, make, db_session):
    user = make.user("auditor")
    login(client, user)
    resp = client.post("/account/tokens", data={"name": "Mitt skript"})
    body = text(resp)
    token = re.search(r'<code class="token" id="new-token">(rr_[^<]+)</code>', body).group(1)
    assert "visas bara nu" in body
    assert token not in text(client.get("/account/tokens"))  # never again
    row = db_session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    assert row.token_hash != token and token.startswith(row.prefix)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    resp = client.post(f"/account/tokens/{row.id}/revoke")
    assert resp.status_code == 302 and "Nyckeln är återkallad." in text(client.get("/account/tokens"))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "Ge nyckeln ett namn." in text(client.post("/account/tokens", data={"name": ""}))


def test_nobody_revokes_someone_elses_token(client, make, db_session):
    owner, other = make.user("auditor"), make.user("ciso")
    make.token(owner)
    row = db_session.execute(select(ApiToken).where(ApiToken.user_id == owner.id)).scalar_one()
    login(client, other)
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 403
    db_session.refresh(row)
    assert row.revoked_at is None


def test_start_page_for_the_dpo_lists_dpias_waiting_for_an_opinion(client, make, db_session):
    from riskreg.models import Dpia

    system = make.system(name="Journal med DPIA")
    done = make.system(name="Redan yttrat")
    for target, opinion in ((system, None), (done, "Godtagbar.")):
        db_session.add(Dpia(system_id=target.id, status=RecordStatus.DRAFT, description="d", purposes="p",
                            legal_basis="l", necessity="n", risks="r", measures="m", opinion=opinion))
    db_session.flush()
    login(client, make.user("dpo"))
    body = text(client.get("/"))
    assert "Konsekvensbedömningar som väntar på ditt yttrande" in body
    assert "Journal med DPIA" in body and "Redan yttrat" not in body


def test_a_form_without_its_csrf_token_is_refused_in_swedish(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make.user("auditor")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400
    body = text(resp)
    assert "Formuläret har gått ut" in body and "CSRF" not in body
