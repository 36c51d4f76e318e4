"""The system owner's start page shows what filing has made due (services/dashboard.due_items): overdue risk
actions of the current risk analyses and classifications due for review — theirs only."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from riskreg.services import classification, risk
from tests.conftest import PASSWORD, actor


def login(client, user):
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302
    return client


def due_list(client) -> tuple[dict[str, str], str]:
    """The "What is due" items of the start page (system name → what is said about it, on one line), and
    the page."""
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    items = re.findall(r'<li><a href="/systems/\d+">([^<]+)</a>:\s*(.*?)</li>', body, re.S)
    out: dict[str, list[str]] = {}
    for name, said in items:
        out.setdefault(name, []).append(" ".join(said.split()))
    return {name: " | ".join(said) for name, said in out.items()}, body


@pytest.fixture
def world(make, db_session):
    owner = make.user("system_owner", name="Ägaren")
    return {"owner": owner, "other": make.user("system_owner"), "make": make}


def analysis_with_actions(db_session, owner, system_id, actions, *, finalise=True):
    now = actor(owner, now=datetime.now(UTC))
    if system_id and not classification.history(db_session, now, system_id):
        classification.create(db_session, now, system_id, confidentiality=1, integrity=1, availability=1)
    analysis = risk.create(
        db_session,
        now,
        system_id,
        analysed_on=date.today(),
        risks=[{"title": "Avbrott", "aspect": "T", "likelihood": 2, "consequence": 2, "actions": actions}],
    )
    if finalise:
        risk.finalise(db_session, now, analysis.id)
    return analysis


def test_overdue_actions_and_classifications_due_for_review_on_the_owners_start_page(
    client, world, db_session
):
    make, owner, today = world["make"], world["owner"], date.today()
    late = make.system(system_owner=owner, name="Ekonomisystemet")
    analysis_with_actions(
        db_session,
        owner,
        late.id,
        [
            {"description": "Äldst", "due_on": today - timedelta(days=30)},
            {"description": "Sen", "due_on": today - timedelta(days=3)},
            {"description": "Klar fast sen", "due_on": today - timedelta(days=60), "status": "done"},
            {"description": "Inställd", "due_on": today - timedelta(days=60), "status": "cancelled"},
            {"description": "I tid", "due_on": today + timedelta(days=3)},
        ],
    )
    one_late = make.system(system_owner=owner, name="Journalen")
    analysis_with_actions(
        db_session, owner, one_late.id, [{"description": "En", "due_on": today - timedelta(days=1)}]
    )
    # a draft's actions are not yet followed up
    drafted = make.system(system_owner=owner, name="Utkastsystemet")
    analysis_with_actions(
        db_session,
        owner,
        drafted.id,
        [{"description": "Utkast", "due_on": today - timedelta(days=9)}],
        finalise=False,
    )
    long_ago = datetime.now(UTC) - timedelta(days=400)
    old = make.system(system_owner=owner, name="Gamla klassningen")
    classification.create(
        db_session, actor(owner, now=long_ago), old.id, confidentiality=2, integrity=2, availability=2
    )
    fresh = make.system(system_owner=owner, name="Färska klassningen")
    classification.create(
        db_session,
        actor(owner, now=datetime.now(UTC) - timedelta(days=300)),
        fresh.id,
        confidentiality=2,
        integrity=2,
        availability=2,
    )
    theirs = make.system(system_owner=world["other"], name="Någon annans")
    analysis_with_actions(
        db_session, world["other"], theirs.id, [{"description": "Deras", "due_on": today - timedelta(days=5)}]
    )
    db_session.commit()
    login(client, owner)
    due, body = due_list(client)
    oldest = (today - timedelta(days=30)).isoformat()
    assert due["Ekonomisystemet"] == f"2 åtgärder är försenade (den äldsta skulle vara klar {oldest})"
    yesterday = (today - timedelta(days=1)).isoformat()
    assert due["Journalen"] == f"1 åtgärd är försenad (skulle vara klar {yesterday})"
    assert due["Gamla klassningen"] == f"klassningen från {long_ago.date().isoformat()} ska omprövas"
    for absent in ("Färska klassningen", "Utkastsystemet", "Någon annans"):
        assert absent not in due
    assert "Inget är försenat eller på väg att gå ut." not in body


def test_nothing_due_says_so(client, world, db_session):
    make, owner, today = world["make"], world["owner"], date.today()
    system = make.system(system_owner=owner, name="Ordnat")
    analysis = analysis_with_actions(
        db_session, owner, system.id, [{"description": "Sen", "due_on": today - timedelta(days=2)}]
    )
    action_id = analysis.risks[0].actions[0].id
    risk.update_action(db_session, actor(owner, now=datetime.now(UTC)), action_id, status="done")
    db_session.commit()
    login(client, owner)
    due, body = due_list(client)
    assert due == {} and "Inget är försenat eller på väg att gå ut." in body
