"""WTForms' own messages (a bad date, choice or number) in riskreg's Swedish on every feature's pages, not
WTForms' English nor its flawed Swedish ("kunde inte ceorce:a"): every page form inherits riskreg.forms."""

from __future__ import annotations

import html
import re

import pytest

from riskreg.models import Approval
from tests.approval_support import World
from tests.conftest import PASSWORD

# WTForms' texts (English, and its Swedish catalog's) that our messages replace
WTFORMS_TEXTS = (
    "Not a valid",
    "Invalid Choice",
    "Invalid choice",
    "not a valid choice",
    "coerce",
    "ceorce",
    "coerca",
    "Inte ett giltigt val<",
    "Inte ett giltigt datum<",
    "Inte ett giltigt decimaltal",
    "Felaktigt val",
    "giltigt val för detta fält",
)


def login(client, user):
    client.post("/logout")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


def body_of(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def error_of(body: str, field: str) -> str:
    """The message shown beside a field (its list of errors)."""
    match = re.search(rf'<ul class="errors" id="{re.escape(field)}-err"><li>([^<]*)</li></ul>', body)
    assert match, f"no error beside {field}: {body[:3000]}"
    return match.group(1)


def assert_no_wtforms_text(body: str) -> None:
    found = [t for t in WTFORMS_TEXTS if t in body]
    assert not found, f"WTForms' own text on the page: {found}"


@pytest.fixture
def world(make, db_session, app):
    return World(make, db_session)


def test_the_decision_form_says_a_bad_date_in_swedish(world, client, db_session):
    world.ready()
    world.request()
    login(client, world.risk_owner)
    data = {
        "decision": "approved_with_conditions",
        "motivation": "Godtagbart med villkor",
        "valid_until": "2026-13-45",
        "conditions-0-text": "Offline-rutin övas",
        "conditions-0-due_on": "31.12.2026",
        "conditions-0-responsible_id": str(world.owner.id),
    }
    for rid in world.high_risk_ids():
        data[f"accept-{rid}"] = "on"
        data[f"accept-{rid}-motivation"] = "Reservrutiner finns"
    resp = client.post(f"/systems/{world.system.id}/approval/decide", data=data)
    assert resp.status_code == 422
    body = body_of(resp)
    assert error_of(body, "valid_until") == "Inte ett giltigt datum (ÅÅÅÅ-MM-DD)."
    assert error_of(body, "conditions-0-due_on") == "Inte ett giltigt datum (ÅÅÅÅ-MM-DD)."  # a row's form
    assert "Giltigt till: Inte ett giltigt datum (ÅÅÅÅ-MM-DD)." in body  # the summary at the top
    assert_no_wtforms_text(body)
    assert db_session.query(Approval).count() == 0


def test_the_system_form_says_a_bad_choice_in_swedish(client, make, db_session):
    from tests.test_ui_systems import form_of

    unit = make.org_unit("Norra förvaltningen")
    system = make.system(name="Cosmic", org_unit_id=unit.id, criticality="A")
    login(client, make.admin())
    resp = client.post(
        f"/systems/{system.id}/edit",
        data=form_of(system, criticality="Z", lifecycle="forever", system_owner_id="x"),
    )
    assert resp.status_code == 422
    body = body_of(resp)
    for field in ("criticality", "lifecycle", "system_owner_id"):  # outside the choices; not a number
        assert error_of(body, field) == "Inte ett giltigt val.", field
    assert_no_wtforms_text(body)
    db_session.refresh(system)
    assert system.criticality.value == "A"


def test_the_account_form_says_bad_choices_in_swedish(client, make, db_session):
    admin, user = make.admin(), make.user("auditor", name="Gun Granskare")
    login(client, admin)
    resp = client.post(
        f"/admin/users/{user.id}",
        data={"name": "Gun Granskare", "roles": ["auditor", "emperor"], "org_unit_id": "x", "active": "y"},
    )
    assert resp.status_code == 422
    body = body_of(resp)
    assert error_of(body, "roles") == "Inte ett giltigt val."  # one role outside the choices
    assert error_of(body, "org_unit_id") == "Inte ett giltigt val."  # not a number
    assert_no_wtforms_text(body)
    resp = client.post(
        f"/admin/users/{user.id}",
        data={"name": "Gun Granskare", "roles": ["emperor", "pope"], "active": "y"},
    )
    assert resp.status_code == 422
    assert error_of(body_of(resp), "roles") == "Ett eller flera val är inte giltiga."  # two of them
    db_session.refresh(user)
    assert [r.value for r in user.roles] == ["auditor"]


def test_every_page_form_inherits_the_swedish_base():
    """A new feature's form on plain FlaskForm or wtforms.Form would get WTForms' own texts again."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm
    from wtforms import Form

    import riskreg.blueprints as blueprints
    from riskreg.forms import BaseForm, SubForm

    checked = []
    for info in pkgutil.iter_modules(blueprints.__path__):
        try:
            module = importlib.import_module(f"riskreg.blueprints.{info.name}.forms")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Form) and value.__module__ == module.__name__:
                base = BaseForm if issubclass(value, FlaskForm) else SubForm
                assert issubclass(value, base), f"{module.__name__}.{value.__name__} is not a {base.__name__}"
                checked.append(value)
    assert len(checked) > 30
