"""The filing pages (Swedish): forms, validation beside the fields, optimistic locking, permissions."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

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


VERSION_INPUT = re.compile(r'<input[^>]*name="version"[^>]*value="(\d*)"')
CONFLICT_ROW = re.compile(
    r'<tr( class="differs")?><th scope="row">(.*?)(?: <span class="tag">skiljer sig</span>)?</th>'
    r'<td class="pre">(.*?)</td><td class="pre">(.*?)</td></tr>',
    re.S,
)


def version_on(page: str) -> str:
    """The version the re-shown form will send (the hidden input)."""
    found = VERSION_INPUT.findall(page)
    assert found, page[:3000]
    return found[0]


def conflict_table(page: str) -> dict[str, tuple[str, str, bool]]:
    """The conflict box: label → (your proposal, saved now, marked as differing)."""
    assert '<div class="conflict" role="alert">' in page, page[:3000]
    box = page[page.index('<div class="conflict" role="alert">') :]
    box = box[: box.index("</table>")]
    assert '<th scope="col">Ditt förslag</th><th scope="col">Sparat nu</th>' in box, box
    return {
        html.unescape(label): (html.unescape(mine), html.unescape(theirs), bool(differs))
        for differs, label, mine, theirs in CONFLICT_ROW.findall(box)
    }


def test_draft_edit_with_a_stale_version_shows_the_saved_values(client, world, db_session):
    draft = classify(
        world,
        db_session,
        draft=True,
        motivation="Första",
        information_sets=[{"name": "Journal", "confidentiality": 3, "integrity": 2, "availability": 1}],
    )
    # someone else saves meanwhile: the overall and the K motivation, and the set's levels
    classifications.update(
        db_session,
        actor(world["admin"]),
        draft.id,
        version=draft.version,
        motivation="Andras text",
        confidentiality_motivation="Andras K",
        information_sets=[{"name": "Journal", "confidentiality": 4, "integrity": 2, "availability": 1}],
    )
    saved_version = db_session.get(Classification, draft.id).version
    login(client, world["owner"])
    mine = {
        "confidentiality": "3",
        "integrity": "2",
        "availability": "4",
        "confidentiality_motivation": "",
        "integrity_motivation": "Min R",
        "availability_motivation": "",
        "motivation": "Min text",
        "information_sets-0-name": "Journal",
        "information_sets-0-confidentiality": "3",
        "information_sets-0-integrity": "2",
        "information_sets-0-availability": "1",
        "information_sets-1-name": "Provsvar",
        "information_sets-1-confidentiality": "1",
        "information_sets-1-integrity": "1",
        "information_sets-1-availability": "1",
        "version": "1",
        "save_draft": "1",
    }
    resp = client.post(f"/classifications/{draft.id}/edit", data=mine)
    assert resp.status_code == 409
    body = text(resp)
    assert "Någon annan sparade posten" in body
    rows = conflict_table(body)
    assert rows["Övergripande motivering"] == ("Min text", "Andras text", True)
    assert rows["Motivering för K"] == ("–", "Andras K", True)
    assert rows["Motivering för R"] == ("Min R", "–", True)
    assert rows["Riktighet (R)"][2] is False and rows["Riktighet (R)"][0] == rows["Riktighet (R)"][1]
    assert rows["Tillgänglighet (T)"][0].startswith("4 – ") and rows["Tillgänglighet (T)"][1].startswith(
        "3 – "
    )
    assert rows["Tillgänglighet (T)"][2] is True
    assert rows["Informationsmängd Journal (K-R-T)"] == ("3-2-1", "4-2-1", True)
    assert rows["Informationsmängd Provsvar (K-R-T)"] == ("1-1-1", "(saknas)", True)
    assert re.search(r'<textarea[^>]*name="motivation"[^>]*>\s*Min text</textarea>', body)  # kept
    assert db_session.get(Classification, draft.id).motivation == "Andras text"
    # the form now carries the saved version: sending it again (after comparing) saves
    assert version_on(body) == str(saved_version)
    resp = client.post(
        f"/classifications/{draft.id}/edit",
        data={**mine, "version": version_on(body), "save_draft": "", "finalise": "1"},
    )
    assert resp.status_code == 302, text(resp)[:2000]
    record = db_session.get(Classification, draft.id)
    assert record.status.value == "final" and record.motivation == "Min text"
    assert [(s.name, s.confidentiality) for s in record.information_sets] == [("Journal", 3), ("Provsvar", 1)]


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


def _analysis_with_a_risk(world, db_session):
    classify(world, db_session)
    return risks.create(
        db_session,
        actor(world["owner"]),
        world["system"].id,
        analysed_on=date(2026, 1, 10),
        participants="Ägare",
        risks=[
            {
                "title": "Obehörig åtkomst",
                "description": "Inloggning utan MFA",
                "aspect": "K",
                "likelihood": 3,
                "consequence": 4,
                "existing_protection": "Lösenord",
                "treatment": "reduce",
                "actions": [
                    {
                        "description": "Inför MFA",
                        "responsible_id": world["owner"].id,
                        "due_on": date(2026, 12, 1),
                        "status": "planned",
                    }
                ],
            }
        ],
    )


def test_risk_analysis_header_conflict_then_save(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    risks.update(db_session, actor(world["admin"]), analysis.id, version=analysis.version, scope="Adminens")
    login(client, world["owner"])
    form = {
        "analysed_on": "2026-01-12",
        "participants": "Ägare, IT",
        "scope": "Min omfattning",
        "version": "1",
    }
    resp = client.post(f"/risk-analyses/{analysis.id}/edit", data=form)
    assert resp.status_code == 409
    rows = conflict_table(text(resp))
    assert rows["Deltagare"] == ("Ägare, IT", "Ägare", True)
    assert rows["Avgränsning"] == ("Min omfattning", "Adminens", True)
    assert rows["Datum för analysen"] == ("2026-01-12", "2026-01-10", True)
    resp = client.post(f"/risk-analyses/{analysis.id}/edit", data={**form, "version": version_on(text(resp))})
    assert resp.status_code == 302
    db_session.refresh(analysis)
    assert (analysis.scope, analysis.participants) == ("Min omfattning", "Ägare, IT")


def _risk_form(world, **over) -> dict:
    form = {
        "title": "Obehörig åtkomst",
        "description": "Min beskrivning",
        "aspect": "K",
        "likelihood": "3",
        "consequence": "4",
        "existing_protection": "Lösenord",
        "treatment": "reduce",
        "residual_likelihood": "",
        "residual_consequence": "",
        "actions-0-description": "Inför MFA",
        "actions-0-responsible_id": str(world["owner"].id),
        "actions-0-due_on": "2026-12-01",
        "actions-0-status": "planned",
    }
    form.update(over)
    return form


def test_risk_edit_conflict_shows_every_field_and_saves_again(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    risk = analysis.risks[0]
    action = risk.actions[0]
    risks.save_risk(
        db_session,
        actor(world["admin"]),
        analysis.id,
        version=analysis.version,
        risk_id=risk.id,
        values={
            "title": "Obehörig åtkomst",
            "description": "Adminens beskrivning",
            "aspect": "R",
            "likelihood": 3,
            "consequence": 4,
            "existing_protection": "Adminens skydd",
            "treatment": "accept",
            "actions": [
                {
                    "id": action.id,
                    "description": "Inför MFA",
                    "responsible_id": world["admin"].id,
                    "due_on": date(2027, 3, 1),
                    "status": "in_progress",
                }
            ],
        },
    )
    login(client, world["owner"])
    form = _risk_form(world, **{"actions-0-id": str(action.id), "version": "1"})
    url = f"/risk-analyses/{analysis.id}/risks/{risk.id}/edit"
    resp = client.post(url, data=form)
    assert resp.status_code == 409
    body = text(resp)
    rows = conflict_table(body)
    assert rows["Beskrivning"] == ("Min beskrivning", "Adminens beskrivning", True)
    assert rows["Befintligt skydd"] == ("Lösenord", "Adminens skydd", True)
    assert rows["Hantering"] == ("Reducera", "Acceptera", True)
    assert rows["Aspekt"] == ("Konfidentialitet (K)", "Riktighet (R)", True)
    assert rows["Hot eller scenario"] == ("Obehörig åtkomst", "Obehörig åtkomst", False)
    assert rows["Åtgärd 1: Åtgärd"] == ("Inför MFA", "Inför MFA", False)
    assert rows["Åtgärd 1: Ansvarig"] == ("Ägare Ett", "Admin Adminsson", True)
    assert rows["Åtgärd 1: Senast"] == ("2026-12-01", "2027-03-01", True)
    assert rows["Åtgärd 1: Status"] == ("Planerad", "Pågår", True)
    assert rows["Kvarstående sannolikhet"] == ("–", "–", False)
    resp = client.post(url, data={**form, "version": version_on(body)})
    assert resp.status_code == 302, text(resp)[:2000]
    db_session.refresh(analysis)
    saved = analysis.risks[0]
    assert (saved.description, saved.aspect.value, saved.treatment.value) == (
        "Min beskrivning",
        "K",
        "reduce",
    )
    assert [(a.id, a.status.value, a.due_on) for a in saved.actions] == [
        (action.id, "planned", date(2026, 12, 1))
    ]


def test_a_risk_removed_meanwhile_is_added_again_from_the_conflict_page(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    risk_id = analysis.risks[0].id
    risks.delete_risk(db_session, actor(world["admin"]), analysis.id, risk_id, version=analysis.version)
    login(client, world["owner"])
    form = _risk_form(world, version="1")
    resp = client.post(f"/risk-analyses/{analysis.id}/risks/{risk_id}/edit", data=form)
    assert resp.status_code == 409
    body = text(resp)
    assert "Den andra personen tog bort risken ur analysen." in body
    assert conflict_table(body)["Hot eller scenario"] == ("Obehörig åtkomst", "–", True)
    assert f'action="/risk-analyses/{analysis.id}/risks/new"' in body
    resp = client.post(f"/risk-analyses/{analysis.id}/risks/new", data={**form, "version": version_on(body)})
    assert resp.status_code == 302
    db_session.refresh(analysis)
    assert [r.title for r in analysis.risks] == ["Obehörig åtkomst"]


def _posts_to(page: str, url: str) -> str:
    """Where the risk form sends its next save, as a browser does: its action, else the page's own URL."""
    found = re.search(r'<form method="post" novalidate(?: action="([^"]*)")?>', page)
    assert found, page[:3000]
    return html.unescape(found.group(1)) if found.group(1) else url


def test_a_removed_risk_keeps_going_to_new_risk_when_the_form_fails_validation(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    risk = analysis.risks[0]
    risk_id, action_id, opened_at = risk.id, risk.actions[0].id, analysis.version
    edit = f"/risk-analyses/{analysis.id}/risks/{risk_id}/edit"
    new = f"/risk-analyses/{analysis.id}/risks/new"
    login(client, world["owner"])
    assert client.get(edit).status_code == 200
    risks.delete_risk(db_session, actor(world["admin"]), analysis.id, risk_id, version=opened_at)
    db_session.commit()  # the other person's request
    form = _risk_form(world, version=str(opened_at), **{"actions-0-id": str(action_id)})
    # 1. the save from the edit page also fails validation: the removal is said at once, and the form
    # goes on to "new risk" with the analysis's current version (the edit URL now answers 404)
    resp = client.post(edit, data={**form, "title": ""})
    assert resp.status_code == 422
    body = text(resp)
    assert "Den andra personen tog bort risken ur analysen." in body
    assert re.search(r'id="title-err"[^>]*>(<li>)?Obligatoriskt\.', body), body[:4000]
    assert _posts_to(body, edit) == new
    current = db_session.get(RiskAnalysis, analysis.id).version
    assert version_on(body) == str(current) != str(opened_at)
    assert client.post(edit, data={**form, "version": version_on(body)}).status_code == 404
    # 2. fails again where it was sent: still "new risk"
    target = _posts_to(body, edit)
    resp = client.post(target, data={**form, "version": version_on(body), "likelihood": "x"})
    assert resp.status_code == 422 and "Inte ett giltigt val." in text(resp)
    assert _posts_to(text(resp), target) == new
    # 3. put right: added again as a new risk, its action with it
    resp = client.post(_posts_to(text(resp), target), data={**form, "version": version_on(text(resp))})
    assert resp.status_code == 302, text(resp)[:3000]
    db_session.refresh(analysis)
    assert [r.title for r in analysis.risks] == ["Obehörig åtkomst"]
    assert [a.description for a in analysis.risks[0].actions] == ["Inför MFA"]


def test_a_removed_risk_from_the_conflict_page_that_fails_validation_still_goes_to_new_risk(
    client, world, db_session
):
    analysis = _analysis_with_a_risk(world, db_session)
    risk_id = analysis.risks[0].id
    edit = f"/risk-analyses/{analysis.id}/risks/{risk_id}/edit"
    risks.delete_risk(db_session, actor(world["admin"]), analysis.id, risk_id, version=analysis.version)
    db_session.commit()
    login(client, world["owner"])
    form = _risk_form(world, version="1")
    resp = client.post(edit, data=form)  # valid, stale: the conflict page
    assert resp.status_code == 409
    target = _posts_to(text(resp), edit)
    assert target == f"/risk-analyses/{analysis.id}/risks/new"
    resp = client.post(target, data={**form, "title": "", "version": version_on(text(resp))})
    assert resp.status_code == 422
    again = _posts_to(text(resp), target)
    assert again == target  # not back to the edit URL (404)
    resp = client.post(again, data={**form, "version": version_on(text(resp))})
    assert resp.status_code == 302
    db_session.refresh(analysis)
    assert [r.title for r in analysis.risks] == ["Obehörig åtkomst"]


def test_a_new_risk_conflict_names_the_risks_saved_meanwhile(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    risks.update(db_session, actor(world["admin"]), analysis.id, version=analysis.version, scope="Ändrad")
    login(client, world["owner"])
    form = _risk_form(world, title="Brand i serverhallen", aspect="T", version="1")
    resp = client.post(f"/risk-analyses/{analysis.id}/risks/new", data=form)
    assert resp.status_code == 409
    body = text(resp)
    assert "Din risk är ny. Analysen innehåller nu: Obehörig åtkomst." in body
    assert conflict_table(body)["Hot eller scenario"] == ("Brand i serverhallen", "–", True)
    resp = client.post(f"/risk-analyses/{analysis.id}/risks/new", data={**form, "version": version_on(body)})
    assert resp.status_code == 302
    db_session.refresh(analysis)
    assert [r.title for r in analysis.risks] == ["Obehörig åtkomst", "Brand i serverhallen"]


def test_stale_delete_and_finalise_answer_409_with_a_clear_message(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    risk_id = analysis.risks[0].id
    risks.update(db_session, actor(world["admin"]), analysis.id, version=analysis.version, scope="Ändrad")
    login(client, world["owner"])
    resp = client.post(f"/risk-analyses/{analysis.id}/risks/{risk_id}/delete", data={"version": "1"})
    assert resp.status_code == 409
    body = text(resp)
    assert "så risken är inte borttagen" in body and "Ändrad" in body  # the analysis as it is now
    assert [r.id for r in db_session.get(RiskAnalysis, analysis.id).risks] == [risk_id]
    resp = client.post(f"/risk-analyses/{analysis.id}/finalise", data={"version": "1"})
    assert resp.status_code == 409 and "så den är inte fastställd" in text(resp)
    assert db_session.get(RiskAnalysis, analysis.id).status.value == "draft"
    resp = client.post(f"/risk-analyses/{analysis.id}/finalise", data={"version": version_on(text(resp))})
    assert resp.status_code == 302
    assert db_session.get(RiskAnalysis, analysis.id).status.value == "final"
    # a draft classification finalised from a stale page
    draft = classify(world, db_session, draft=True)
    classifications.update(
        db_session, actor(world["admin"]), draft.id, version=draft.version, motivation="Ny"
    )
    db_session.commit()  # as the other user's request would (the refusal below rolls back only its own)
    resp = client.post(f"/classifications/{draft.id}/finalise", data={"version": "1"})
    assert resp.status_code == 409
    assert "Någon annan sparade utkastet efter att du öppnade det" in text(resp) and "Ny" in text(resp)
    assert db_session.get(Classification, draft.id).status.value == "draft"
    # a DPIA
    record = dpias.create(db_session, actor(world["owner"]), world["system"].id, **DPIA_FORM)
    dpias.give_opinion(db_session, actor(world["dpo"]), record.id, opinion="Bra")
    db_session.commit()
    resp = client.post(f"/dpias/{record.id}/finalise", data={"version": "1"})
    assert resp.status_code == 409 and "Någon annan ändrade konsekvensbedömningen" in text(resp)
    assert db_session.get(Dpia, record.id).status.value == "draft"


def test_the_subforms_speak_swedish(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    login(client, world["owner"])
    resp = client.post(
        f"/risk-analyses/{analysis.id}/risks/new",
        data=_risk_form(
            world,
            version=str(analysis.version),
            **{
                "actions-0-due_on": "31.12.2026",
                "actions-0-status": "finished",
                "actions-0-responsible_id": "x",
            },
        ),
    )
    assert resp.status_code == 422
    body = text(resp)
    for field, message in (
        ("actions-0-due_on", "Inte ett giltigt datum (ÅÅÅÅ-MM-DD)."),
        ("actions-0-status", "Inte ett giltigt val."),
        ("actions-0-responsible_id", "Inte ett giltigt val."),
    ):
        assert re.search(rf'id="{field}-err"><li>{re.escape(message)}</li>', body), (field, body[:4000])
    sid = world["system"].id
    resp = client.post(
        f"/systems/{sid}/classifications/new",
        data={
            "confidentiality": "1",
            "integrity": "1",
            "availability": "1",
            "information_sets-0-name": "Journal",
            "information_sets-0-confidentiality": "x",
            "information_sets-0-integrity": "9",
            "information_sets-0-availability": "1",
            "save_draft": "1",
        },
    )
    assert resp.status_code == 422
    body = text(resp)
    for field in ("information_sets-0-confidentiality", "information_sets-0-integrity"):  # beside the select
        assert f'<span class="errors" id="{field}-err">Inte ett giltigt val.</span>' in body, body[:4000]
        assert f'aria-describedby="{field}-err"' in body
    for english in ("Not a valid", "coerce", "ceorce"):
        assert english not in body


def test_a_service_problem_of_an_information_set_stands_beside_its_own_row(client, world, db_session):
    login(client, world["owner"])
    resp = client.post(
        f"/systems/{world['system'].id}/classifications/new",
        data={
            "confidentiality": "1",
            "integrity": "1",
            "availability": "1",
            "information_sets-0-name": "",  # an empty row the service never sees
            "information_sets-1-name": "Journal",
            "information_sets-2-name": "journal",  # the same name twice: the service refuses the second
            "save_draft": "1",
        },
    )
    assert resp.status_code == 422
    body = text(resp)
    assert 'id="information_sets-2-name-err">Namnet används av en annan informationsmängd.</span>' in body
    assert 'id="information_sets-1-name-err"' not in body and 'id="information_sets-0-name-err"' not in body


def test_changing_only_the_completion_date_is_history(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    risks.finalise(db_session, actor(world["owner"]), analysis.id)
    action = analysis.risks[0].actions[0]
    risks.update_action(
        db_session, actor(world["owner"]), action.id, status="done", completed_on=date(2026, 11, 2)
    )
    login(client, world["owner"])
    resp = client.post(
        f"/risk-actions/{action.id}",
        data={"status": "done", "completed_on": "2026-11-05", "note": "", "version": str(action.version)},
    )
    assert resp.status_code == 302
    body = text(client.get(f"/risk-actions/{action.id}"))
    assert '<th scope="col">Slutförd</th>' in body
    assert "<td>2026-11-02 → 2026-11-05</td>" in body and "<td>2026-11-02</td>" in body
    db_session.refresh(action)
    assert [(h.to_status.value, h.completed_on) for h in action.history] == [
        ("done", date(2026, 11, 2)),
        ("done", date(2026, 11, 5)),
    ]


def test_a_stale_action_follow_up_shows_both_and_saves_again(client, world, db_session):
    analysis = _analysis_with_a_risk(world, db_session)
    action = analysis.risks[0].actions[0]
    risks.update_action(db_session, actor(world["admin"]), action.id, status="in_progress")
    login(client, world["owner"])
    resp = client.post(
        f"/risk-actions/{action.id}",
        data={"status": "done", "completed_on": "2026-11-03", "note": "", "version": "1"},
    )
    assert resp.status_code == 409
    body = text(resp)
    rows = conflict_table(body)
    assert rows["Status"] == ("Klar", "Pågår", True) and rows["Slutförd"] == ("2026-11-03", "–", True)
    resp = client.post(
        f"/risk-actions/{action.id}",
        data={"status": "done", "completed_on": "2026-11-03", "note": "", "version": version_on(body)},
    )
    assert resp.status_code == 302
    assert db_session.get(type(action), action.id).status.value == "done"


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
        db_session,
        actor(world["admin"]),
        record.id,
        version=record.version,
        measures="Adminens åtgärder",
        high_residual_risk=True,
    )
    login(client, world["owner"])
    form = {**DPIA_FORM, "measures": "Mina åtgärder", "version": "1"}
    resp = client.post(f"/dpias/{record.id}/edit", data=form)
    assert resp.status_code == 409
    body = text(resp)
    rows = conflict_table(body)
    assert rows["Åtgärder för att hantera riskerna"] == ("Mina åtgärder", "Adminens åtgärder", True)
    assert rows["Hög restrisk kvarstår efter åtgärderna"] == ("Nej", "Ja", True)
    assert rows["Rättslig grund"] == ("Rättslig förpliktelse", "Rättslig förpliktelse", False)
    resp = client.post(f"/dpias/{record.id}/edit", data={**form, "version": version_on(body)})
    assert resp.status_code == 302
    db_session.refresh(record)
    assert (record.measures, record.high_residual_risk) == ("Mina åtgärder", False)


def test_a_stale_opinion_is_409_and_keeps_what_the_dpo_wrote(client, world, db_session):
    record = dpias.create(db_session, actor(world["owner"]), world["system"].id, **DPIA_FORM)
    dpias.update(db_session, actor(world["owner"]), record.id, version=record.version, risks="Nya risker")
    login(client, world["dpo"])
    data = {"opinion": "Mitt yttrande", "prior_consultation_required": "", "version": "1"}
    resp = client.post(f"/dpias/{record.id}/opinion", data=data)
    assert resp.status_code == 409
    body = text(resp)
    assert "Konsekvensbedömningen ändrades medan du skrev" in body and "Nya risker" in body
    assert re.search(r'<textarea[^>]*name="opinion"[^>]*>\s*Mitt yttrande</textarea>', body)
    resp = client.post(f"/dpias/{record.id}/opinion", data={**data, "version": version_on(body)})
    assert resp.status_code == 302
    assert db_session.get(Dpia, record.id).opinion == "Mitt yttrande"


# ------------------------------------------------------------------ SLA


PRIORITY_ROW = re.compile(r'<tr>\s*<th scope="row"><a href="/systems/(\d+)/slas">([^<]+)</a>.*?</tr>', re.S)


def priority_rows(body: str) -> dict[str, str]:
    """The priority list's table: system name → its row."""
    return {name: row.group(0) for row in PRIORITY_ROW.finditer(body) for name in [row.group(2)]}


def months_missed(row: str) -> str:
    return re.findall(r'<td class="num">(\d+ / \d+)</td>', row)[-1]


def test_sla_pages_and_priority_list(client, world, db_session, make):
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
            "replaces_id": "",
        },
    )
    assert resp.status_code == 422 and "Avtalet kan inte upphöra innan det börjar gälla." in text(resp)
    resp = client.post(
        f"/systems/{sid}/slas/new",
        data={"supplier": "Cambio", "availability_target": "99.0", "rto_hours": "4", "replaces_id": ""},
    )
    assert resp.status_code == 302
    sla = db_session.execute(select(Sla).where(Sla.system_id == sid)).scalar_one()
    page = text(client.get(f"/slas/{sla.id}"))
    assert "Målet 99.00 % är svagare än de 99.5 % som T-nivån kräver." in page
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
    # two more systems on the list: one without an SLA, one whose SLA meets what its T level requires
    now = actor(world["owner"], now=datetime.now(UTC))
    make.system(system_owner=world["owner"], priority_list=True, name="Akutjournalen", supplier="Tieto")
    lab = make.system(system_owner=world["owner"], priority_list=True, name="Labbsystemet")
    classifications.create(db_session, now, lab.id, confidentiality=1, integrity=1, availability=2)
    lab_sla = slas.create(db_session, now, lab.id, supplier="Sectra", availability_target=99.9)
    slas.add_measurement(db_session, now, lab_sla.id, period=month, availability=99.95)
    db_session.commit()
    client.post("/logout")
    login(client, world["ciso"])
    body = text(client.get("/slas/priority-list"))
    rows = priority_rows(body)
    assert list(rows) == ["Akutjournalen", "Journalsystemet", "Labbsystemet"]
    bare, journal, labb = rows["Akutjournalen"], rows["Journalsystemet"], rows["Labbsystemet"]
    assert '<span class="tag tag-missed">inget SLA</span>' in bare and "<td>Tieto</td>" in bare
    assert "svagare än kravet" not in bare and months_missed(bare) == "0 / 0"
    assert "inget SLA" not in journal
    assert (
        '99.00 % <span class="tag tag-missed" title="T-nivån kräver 99.5 %.">svagare än kravet</span>'
        in journal
    )
    assert '<td class="num missed">98.500 <span class="visually-hidden">(ej uppnått)</span></td>' in journal
    assert months_missed(journal) == "1 / 1"
    assert "svagare än kravet" not in labb and "inget SLA" not in labb and 'class="num missed"' not in labb
    assert '<td class="num">99.950</td>' in labb and months_missed(labb) == "0 / 1"
    assert re.search(r'<span class="big">1</span>\s*<a href="/slas/priority-list\?without_sla=1">', body)
    assert re.search(r'<span class="big">2</span> med SLA', body)
    only_bare = priority_rows(text(client.get("/slas/priority-list?without_sla=1")))
    assert list(only_bare) == ["Akutjournalen"]


def test_two_owners_recording_an_sla_at_once(client, world, db_session):
    sid = world["system"].id
    login(client, world["owner"])
    opened = text(client.get(f"/systems/{sid}/slas/new"))
    assert re.search(r'<input id="replaces_id" name="replaces_id" type="hidden" value="">', opened)
    theirs = slas.create(db_session, actor(world["admin"]), sid, supplier="Tieto", availability_target=99.5)
    db_session.commit()
    form = {"supplier": "Cambio", "availability_target": "99.0", "service_hours": "07–17", "replaces_id": ""}
    resp = client.post(f"/systems/{sid}/slas/new", data=form)
    assert resp.status_code == 409
    body = text(resp)
    rows = conflict_table(body)
    assert rows["Leverantör"] == ("Cambio", "Tieto", True)
    assert rows["Tillgänglighetsmål (%)"] == ("99.00", "99.50", True)
    assert db_session.execute(select(Sla.id).where(Sla.system_id == sid)).scalars().all() == [theirs.id]
    sent = re.search(r'<input id="replaces_id" name="replaces_id" type="hidden" value="(\d+)">', body)
    assert sent and int(sent.group(1)) == theirs.id
    resp = client.post(f"/systems/{sid}/slas/new", data={**form, "replaces_id": sent.group(1)})
    assert resp.status_code == 302
    system = db_session.get(System, sid)
    mine = db_session.get(Sla, system.current_sla_id)
    assert mine.supplier == "Cambio" and mine.replaces_id == theirs.id


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
