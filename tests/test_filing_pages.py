"""The filing pages (Swedish): forms, validation beside the fields, optimistic locking, permissions."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from riskreg.models import Classification, Dpia, RiskAnalysis, Sla, System
from riskreg.services import classification as classifications
from riskreg.services import dpia as dpias
from riskreg.services import risk as risks
from riskreg.services import sla as slas
from tests.conftest import PASSWORD, actor


def login(client, user):
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def world(make):
    owner, risk_owner = make.user("system_owner", name="Ägare Ett"), make.user("risk_owner")
    system = make.system(system_owner=owner, risk_owner=risk_owner, name="Journalsystemet")
    return {
        "owner": owner,
        "risk_owner": risk_owner,
        "system": system,
        "other": make.user("system_owner"),
        "dpo": make.user("dpo", name="Dataskyddsombudet"),
        "ciso": make.user("ciso"),
        "admin": make.admin(),
    }


def text(resp) -> str:
    return resp.get_data(as_text=True)


def classify(world, db_session, **kw):
    values = {"confidentiality": 2, "integrity": 2, "availability": 3, **kw}
    return classifications.create(db_session, actor(world["owner"]), world["system"].id, **values)


# ------------------------------------------------------------------ classification


def test_classification_form_files_a_final_version_with_information_sets(client, world, db_session):
    login(client, world["owner"])
    sid = world["system"].id
    page = client.get(f"/systems/{sid}/classifications/new")
    assert page.status_code == 200
    body = text(page)
    assert "Vad nivåerna betyder" in body and "Synnerligen allvarlig" in body  # guidance and labels
    resp = client.post(
        f"/systems/{sid}/classifications/new",
        data={
            "confidentiality": "2",
            "integrity": "1",
            "availability": "1",
            "motivation": "Patientdata",
            "confidentiality_motivation": "Sekretess",
            "integrity_motivation": "",
            "availability_motivation": "",
            "information_sets-0-name": "Journal",
            "information_sets-0-confidentiality": "4",
            "information_sets-0-integrity": "3",
            "information_sets-0-availability": "0",
            "information_sets-1-name": "",
            "information_sets-1-confidentiality": "4",
            "information_sets-1-integrity": "4",
            "information_sets-1-availability": "4",
            "finalise": "1",
        },
    )
    assert resp.status_code == 302, text(resp)[:2000]
    record = db_session.execute(select(Classification).where(Classification.system_id == sid)).scalar_one()
    assert (record.confidentiality, record.integrity, record.availability) == (4, 3, 1)
    assert [s.name for s in record.information_sets] == ["Journal"]
    shown = text(client.get(resp.headers["Location"]))
    assert "Informationsklassningen är fastställd." in shown and "4-3-1" in shown
    assert "Journal" in shown  # named as the set that raised K
    assert db_session.get(System, sid).current_classification_id == record.id


def test_draft_edit_with_a_stale_version_shows_the_saved_values(client, world, db_session):
    draft = classify(world, db_session, draft=True, motivation="Första")
    # someone else saves meanwhile
    classifications.update(
        db_session, actor(world["admin"]), draft.id, version=draft.version, motivation="Andras text"
    )
    login(client, world["owner"])
    resp = client.post(
        f"/classifications/{draft.id}/edit",
        data={
            "confidentiality": "3",
            "integrity": "2",
            "availability": "3",
            "motivation": "Min text",
            "version": "1",
            "save_draft": "1",
        },
    )
    assert resp.status_code == 409
    body = text(resp)
    assert "Någon annan sparade posten" in body and "Andras text" in body and "Min text" in body
    assert db_session.get(Classification, draft.id).motivation == "Andras text"
    resp = client.post(
        f"/classifications/{draft.id}/edit",
        data={
            "confidentiality": "3",
            "integrity": "2",
            "availability": "3",
            "motivation": "Min text",
            "version": str(db_session.get(Classification, draft.id).version),
            "finalise": "1",
        },
    )
    assert resp.status_code == 302
    assert db_session.get(Classification, draft.id).status.value == "final"


def test_compare_two_versions(client, world, db_session):
    first = classify(world, db_session, motivation="Gammal")
    second = classify(
        world,
        db_session,
        confidentiality=4,
        motivation="Ny",
        information_sets=[{"name": "Provsvar", "confidentiality": 1, "integrity": 4, "availability": 1}],
    )
    login(client, world["ciso"])
    history = text(client.get(f"/systems/{world['system'].id}/classifications"))
    assert "Version 2" in history and "gällande" in history
    resp = client.get(f"/systems/{world['system'].id}/classifications/compare?a={first.id}&b={second.id}")
    assert resp.status_code == 200
    body = text(resp)
    assert body.count('class="differs"') >= 4  # K, integrity (raised by the set), motivation, the set
    assert "Provsvar" in body and "(saknas)" in body


def test_second_owner_neither_reads_nor_gets_buttons(client, world, db_session):
    classify(world, db_session)
    sid = world["system"].id
    login(client, world["other"])
    for url in (
        f"/systems/{sid}/filing",
        f"/systems/{sid}/classifications",
        f"/systems/{sid}/classifications/new",
        f"/systems/{sid}/risk-analyses",
        f"/systems/{sid}/dpia",
        f"/systems/{sid}/slas",
    ):
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    login(client, world["risk_owner"])  # reads, but no edit buttons
    body = text(client.get(f"/systems/{sid}/classifications"))
    assert "Ny informationsklassning" not in body
    assert client.get(f"/systems/{sid}/classifications/new").status_code == 403


def test_review_due_after_a_year(client, world, db_session):
    old = actor(world["owner"], now=actor(world["owner"]).at() - timedelta(days=400))
    record = classifications.create(
        db_session, old, world["system"].id, confidentiality=1, integrity=1, availability=1
    )
    login(client, world["owner"])
    assert "ska ses över" in text(client.get(f"/classifications/{record.id}")).lower()
    assert "Ska ses över sedan" in text(client.get(f"/systems/{world['system'].id}/filing"))


# ------------------------------------------------------------------ risk analysis


def test_risk_pages_validate_draw_the_matrix_and_freeze(client, world, db_session):
    classify(world, db_session)
    sid = world["system"].id
    login(client, world["owner"])
    resp = client.post(
        f"/systems/{sid}/risk-analyses/new", data={"analysed_on": "10/01/2026", "participants": "x"}
    )
    assert resp.status_code == 422 and "Inte ett giltigt datum" in text(resp)
    resp = client.post(
        f"/systems/{sid}/risk-analyses/new",
        data={
            "analysed_on": "2026-01-10",
            "participants": "Ägare, IT",
            "scope": "Allt",
            "classification_id": "",
        },
    )
    assert resp.status_code == 302
    analysis = db_session.execute(select(RiskAnalysis).where(RiskAnalysis.system_id == sid)).scalar_one()
    url = f"/risk-analyses/{analysis.id}"
    # a missing title, and residual likelihood without consequence: Swedish messages beside the fields
    resp = client.post(
        f"{url}/risks/new",
        data={
            "title": "",
            "aspect": "K",
            "likelihood": "3",
            "consequence": "4",
            "treatment": "",
            "residual_likelihood": "2",
            "residual_consequence": "",
            "version": str(analysis.version),
        },
    )
    assert resp.status_code == 422
    body = text(resp)
    assert "Obligatoriskt." in body
    resp = client.post(
        f"{url}/risks/new",
        data={
            "title": "Obehörig åtkomst",
            "aspect": "K",
            "likelihood": "3",
            "consequence": "4",
            "treatment": "reduce",
            "residual_likelihood": "2",
            "residual_consequence": "",
            "version": str(analysis.version),
        },
    )
    assert resp.status_code == 422 and "Ange både kvarstående sannolikhet" in text(resp)
    resp = client.post(
        f"{url}/risks/new",
        data={
            "title": "Obehörig åtkomst",
            "aspect": "K",
            "likelihood": "3",
            "consequence": "4",
            "treatment": "reduce",
            "residual_likelihood": "2",
            "residual_consequence": "4",
            "version": str(analysis.version),
            "actions-0-description": "Inför MFA",
            "actions-0-responsible_id": str(world["owner"].id),
            "actions-0-due_on": "2026-01-01",
            "actions-0-status": "planned",
            "actions-1-description": "",
            "actions-1-responsible_id": "",
            "actions-1-due_on": "",
            "actions-1-status": "planned",
        },
    )
    assert resp.status_code == 302, text(resp)[:3000]
    db_session.refresh(analysis)
    resp = client.post(
        f"{url}/risks/new",
        data={
            "title": "Leverantören går i konkurs",
            "aspect": "T",
            "likelihood": "1",
            "consequence": "3",
            "treatment": "",
            "residual_likelihood": "",
            "residual_consequence": "",
            "version": str(analysis.version),
        },
    )
    assert resp.status_code == 302
    page = text(client.get(url))
    assert "Före åtgärder" in page and "Efter åtgärder (restrisk)" in page
    assert f'href="/risk-analyses/{analysis.id}?cell=before-3-4#risks"' in page
    assert "12 · Hög" in page and "8 · Hög" in page and "Mycket allvarlig" in page
    one_cell = text(client.get(f"{url}?cell=before-3-4"))
    assert "Obehörig åtkomst" in one_cell and "Leverantören går i konkurs" not in one_cell
    # a stale version when adding a risk: refused, the other person's risks shown
    resp = client.post(
        f"{url}/risks/new",
        data={
            "title": "Sen",
            "aspect": "R",
            "likelihood": "1",
            "consequence": "1",
            "treatment": "",
            "residual_likelihood": "",
            "residual_consequence": "",
            "version": "1",
        },
    )
    assert resp.status_code == 409 and "Någon annan sparade posten" in text(resp)
    db_session.refresh(analysis)
    resp = client.post(f"{url}/finalise", data={"version": str(analysis.version)})
    assert resp.status_code == 302
    assert "Riskanalysen är fastställd" in text(client.get(url))
    db_session.refresh(analysis)
    assert analysis.status.value == "final"
    risk_id = analysis.risks[0].id
    resp = client.get(f"{url}/risks/{risk_id}/edit", follow_redirects=True)
    assert "En fastställd riskanalys ändras aldrig" in text(resp)
    resp = client.post(
        f"{url}/risks/{risk_id}/delete", data={"version": str(analysis.version)}, follow_redirects=True
    )
    assert "En fastställd riskanalys ändras aldrig" in text(resp)
    assert len(db_session.get(RiskAnalysis, analysis.id).risks) == 2
    # overdue action on the overview, then followed up after finalisation
    action_id = analysis.risks[0].actions[0].id
    overview = text(client.get(f"/systems/{sid}/filing"))
    assert "Inför MFA" in overview and "försenad" in overview
    resp = client.post(
        f"/risk-actions/{action_id}",
        data={"status": "done", "completed_on": "", "note": "Klart", "version": "1"},
    )
    assert resp.status_code == 302
    body = text(client.get(f"/risk-actions/{action_id}"))
    assert "Klart" in body and "Ingen statusändring" not in body
    assert "Ingen åtgärd är försenad." in text(client.get(f"/systems/{sid}/filing"))
    # a new round copies the risks into a new draft
    resp = client.post(f"/systems/{sid}/risk-analyses/new-round", data={})
    assert resp.status_code == 302
    copy = db_session.execute(
        select(RiskAnalysis).where(RiskAnalysis.system_id == sid, RiskAnalysis.number == 2)
    ).scalar_one()
    assert [r.title for r in copy.risks] == ["Obehörig åtkomst", "Leverantören går i konkurs"]


def test_finalising_an_empty_analysis_explains_why(client, world, db_session):
    analysis = risks.create(
        db_session, actor(world["owner"]), world["system"].id, analysed_on=date(2026, 1, 1)
    )
    login(client, world["owner"])
    resp = client.post(
        f"/risk-analyses/{analysis.id}/finalise",
        data={"version": str(analysis.version)},
        follow_redirects=True,
    )
    body = text(resp)
    assert "Lägg till minst en risk" in body and "Informationsklassa systemet" in body


# ------------------------------------------------------------------ DPIA


DPIA_FORM = {
    "description": "Journalföring",
    "purposes": "Vård",
    "legal_basis": "Rättslig förpliktelse",
    "necessity": "Nödvändig",
    "risks": "Obehörig åtkomst",
    "measures": "Behörighetsstyrning",
}


def test_screening_dpia_and_opinion_pages(client, world, db_session):
    sid = world["system"].id
    login(client, world["owner"])
    resp = client.post(
        f"/systems/{sid}/dpia-screenings/new",
        data={"criteria": ["large_scale"], "require_anyway": "y", "motivation": ""},
    )
    assert resp.status_code == 422 and "Motivera varför" in text(resp)
    resp = client.post(
        f"/systems/{sid}/dpia-screenings/new",
        data={"criteria": ["sensitive_data", "vulnerable_subjects"], "motivation": "Patienter"},
        follow_redirects=True,
    )
    assert "en konsekvensbedömning krävs" in text(resp)
    resp = client.post(f"/systems/{sid}/dpias/new", data={**DPIA_FORM, "measures": ""})
    assert resp.status_code == 422 and "Obligatoriskt." in text(resp)
    resp = client.post(f"/systems/{sid}/dpias/new", data={**DPIA_FORM, "high_residual_risk": "y"})
    assert resp.status_code == 302
    record = db_session.execute(select(Dpia).where(Dpia.system_id == sid)).scalar_one()
    page = text(client.get(f"/dpias/{record.id}"))
    assert "Förhandssamråd med IMY (art. 36) krävs" in page
    assert "Lämna yttrande" not in page  # only the DPO gives the opinion
    assert "Fastställ konsekvensbedömningen" not in page  # not before the opinion
    assert client.post(f"/dpias/{record.id}/opinion", data={"opinion": "x"}).status_code == 403
    client.post("/logout")
    login(client, world["dpo"])
    page = text(client.get(f"/dpias/{record.id}"))
    assert "Lämna yttrande" in page and "Redigera utkastet" not in page
    resp = client.post(f"/dpias/{record.id}/opinion", data={"opinion": "", "version": str(record.version)})
    assert resp.status_code == 422 and "Obligatoriskt." in text(resp)
    resp = client.post(
        f"/dpias/{record.id}/opinion",
        data={
            "opinion": "Inga invändningar",
            "prior_consultation_required": "no",
            "version": str(record.version),
        },
    )
    assert resp.status_code == 302
    db_session.refresh(record)
    assert record.opinion == "Inga invändningar" and record.prior_consultation_required is False
    client.post("/logout")
    login(client, world["owner"])
    assert "Förhandssamråd med IMY krävs inte." in text(client.get(f"/dpias/{record.id}"))
    resp = client.post(
        f"/dpias/{record.id}/finalise", data={"version": str(record.version)}, follow_redirects=True
    )
    assert "Konsekvensbedömningen är fastställd." in text(resp)
    assert db_session.get(System, sid).current_dpia_id == record.id


def test_dpia_edit_conflict_keeps_both_texts(client, world, db_session):
    record = dpias.create(db_session, actor(world["owner"]), world["system"].id, **DPIA_FORM)
    dpias.update(
        db_session, actor(world["admin"]), record.id, version=record.version, measures="Adminens åtgärder"
    )
    login(client, world["owner"])
    resp = client.post(
        f"/dpias/{record.id}/edit", data={**DPIA_FORM, "measures": "Mina åtgärder", "version": "1"}
    )
    assert resp.status_code == 409
    body = text(resp)
    assert "Adminens åtgärder" in body and "Mina åtgärder" in body


# ------------------------------------------------------------------ SLA


def test_sla_pages_and_priority_list(client, world, db_session):
    classify(world, db_session, availability=4)
    sid = world["system"].id
    world["system"].priority_list = True
    db_session.flush()
    login(client, world["owner"])
    assert client.get(f"/systems/{sid}/slas/new").status_code == 200
    resp = client.post(
        f"/systems/{sid}/slas/new",
        data={
            "supplier": "Cambio",
            "availability_target": "99.0",
            "valid_from": "2026-05-01",
            "valid_to": "2026-01-01",
        },
    )
    assert resp.status_code == 422 and "Avtalet kan inte upphöra innan det börjar gälla." in text(resp)
    resp = client.post(
        f"/systems/{sid}/slas/new",
        data={"supplier": "Cambio", "availability_target": "99.0", "rto_hours": "4"},
    )
    assert resp.status_code == 302
    sla = db_session.execute(select(Sla).where(Sla.system_id == sid)).scalar_one()
    page = text(client.get(f"/slas/{sla.id}"))
    assert "svagare än de 99.5" in page.lower() or "Svagare" in page or "svagare" in page
    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    resp = client.post(f"/slas/{sla.id}", data={"period": "2026-13", "availability": "99"})
    assert resp.status_code == 422 and "En månad som ÅÅÅÅ-MM." in text(resp)
    resp = client.post(
        f"/slas/{sla.id}", data={"period": month, "availability": "98.5", "downtime_minutes": "600"}
    )
    assert resp.status_code == 302
    resp = client.post(f"/slas/{sla.id}", data={"period": month, "availability": "99.5"})
    assert resp.status_code == 409 and "Redan mätt." in text(resp)
    assert "ej uppnått" in text(client.get(f"/slas/{sla.id}"))
    assert client.get("/slas/priority-list").status_code == 403
    client.post("/logout")
    login(client, world["ciso"])
    body = text(client.get("/slas/priority-list"))
    assert "Journalsystemet" in body and "98.500" in body and 'class="num missed"' in body


# ------------------------------------------------------------------ panel and colours


def test_panel_shows_every_record(app, client, world, db_session):
    classify(world, db_session)
    analysis = risks.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        analysed_on=date(2026, 1, 1),
        risks=[
            {
                "title": "Ransomware",
                "aspect": "T",
                "likelihood": 4,
                "consequence": 4,
                "actions": [{"description": "Backup", "due_on": date(2020, 1, 1)}],
            }
        ],
    )
    risks.finalise(db_session, actor(world["owner"]), analysis.id)
    dpias.screen(
        db_session, actor(world["owner"]), world["system"].id, criteria=["large_scale", "sensitive_data"]
    )
    slas.create(
        db_session, actor(world["owner"]), world["system"].id, supplier="Cambio", availability_target=97
    )
    login(client, world["risk_owner"])
    body = text(client.get(f"/systems/{world['system'].id}/filing"))
    assert "Beslutsunderlag" in body and "2-2-3" in body and "Extremt hög: 1" in body
    assert "1 försenad(e) åtgärd(er)" in body and "kräver en konsekvensbedömning" in body
    assert "Svagare än de 99.0 % som T-nivån kräver." in body
    # the include works on its own (for the system page)
    with app.test_request_context():
        from flask import render_template
        from flask_login import login_user

        login_user(world["risk_owner"])
        html = render_template("filing/_system_panel.html", system=world["system"])
    assert "Beslutsunderlag" in html and "Ny informationsklassning" not in html


def test_band_colours_come_from_configuration(app, client):
    css = text(client.get("/filing/bands.css"))
    for _upper, code, _label, colour in app.config["RISK_BANDS"]:
        assert re.search(rf"\.band-{code}\{{background:{colour};color:#(000|fff)\}}", css), css


def test_a_nul_character_is_refused_beside_the_field(client, world, db_session):
    login(client, world["owner"])
    resp = client.post(
        f"/systems/{world['system'].id}/dpias/new",
        data={**DPIA_FORM, "purposes": "Vård\x00och omsorg"},
    )
    assert resp.status_code == 422 and "NUL-tecken är inte tillåtna." in text(resp)
    assert db_session.execute(select(Dpia)).first() is None
