"""Passwords: a user changes their own (proving the current one), an administrator gives another user a
new one; the policy holds, wrong current passwords count as failed logins, and other sessions end."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from riskreg.errors import NotAllowed, RuleViolation
from riskreg.models import AuditEvent, LoginAttempt
from riskreg.services import accounts as service
from tests.conftest import PASSWORD, actor

NEW = "Ny-Lång-Lösenfras-2026"


def logged_in(app, user, password=PASSWORD):
    client = app.test_client()
    resp = client.post("/login", data={"email": user.email, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def change(client, current=PASSWORD, new=NEW, repeat=None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                   "repeat": new if repeat is None else repeat})


# ------------------------------------------------------------------ the service


def test_changing_ones_own_password_proves_the_current_one(make, db_session):
    user = make.user("system_owner")
    epoch = user.session_epoch
    with pytest.raises(service.WrongPassword):
        service.change_own_password(db_session, actor(user), "fel-lösenord", NEW)
    assert db_session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.email == user.email)) == 1
    with pytest.raises(RuleViolation) as same:
        service.change_own_password(db_session, actor(user), PASSWORD, PASSWORD)
    assert "new_password" in same.value.fields
    with pytest.raises(RuleViolation) as weak:
        service.change_own_password(db_session, actor(user), PASSWORD, "kort")
    assert "new_password" in weak.value.fields
    service.change_own_password(db_session, actor(user), PASSWORD, NEW)
    assert check_password_hash(user.password_hash, NEW) and user.session_epoch == epoch + 1
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "user",
                                                                 AuditEvent.entity_id == user.id)).all()
    assert "login_failed" in actions and "password_changed" in actions


def test_wrong_current_passwords_are_throttled_like_logins(app, make, db_session):
    user = make.user("auditor")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        with pytest.raises(service.WrongPassword):
            service.change_own_password(db_session, actor(user), "fel-lösenord", NEW)
    with pytest.raises(service.LoginThrottled):
        service.change_own_password(db_session, actor(user), PASSWORD, NEW)  # even the right one, for now
    assert check_password_hash(user.password_hash, PASSWORD)


def test_an_admin_resets_anothers_password_but_not_their_own(make, db_session):
    admin, user = make.admin(), make.user("risk_owner")
    epoch = user.session_epoch
    service.reset_password(db_session, actor(admin), user.id, NEW)
    assert check_password_hash(user.password_hash, NEW) and user.session_epoch == epoch + 1
    with pytest.raises(RuleViolation):
        service.reset_password(db_session, actor(admin), admin.id, NEW)
    with pytest.raises(RuleViolation) as weak:
        service.reset_password(db_session, actor(admin), user.id, "password")
    assert "password" in weak.value.fields
    with pytest.raises(NotAllowed):
        service.reset_password(db_session, actor(user), admin.id, NEW)


# ------------------------------------------------------------------ the pages


def test_the_account_page_changes_the_password_and_ends_the_other_sessions(app, make, db_session):
    user = make.user("system_owner")
    here, elsewhere = logged_in(app, user), logged_in(app, user)
    page = here.get("/account/password")
    assert page.status_code == 200 and "Byt lösenord" in text(page) and 'aria-current="page"' in text(page)
    assert "Nuvarande lösenord" in text(page) and 'autocomplete="current-password"' in text(page)

    wrong = change(here, current="fel-lösenord")
    assert wrong.status_code == 422 and "Det är inte ditt nuvarande lösenord." in text(wrong)
    differ = change(here, repeat=NEW + "x")
    assert differ.status_code == 422 and "De två nya lösenorden är olika." in text(differ)
    weak = change(here, new="kort")
    assert weak.status_code == 422 and "Minst 12 tecken." in text(weak)
    same = change(here, new=PASSWORD)
    assert same.status_code == 422 and "Välj ett annat lösenord än det nuvarande." in text(same)

    done = change(here)
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/password")
    assert "Ditt lösenord är bytt." in text(here.get("/account/password"))
    assert here.get("/").status_code == 200  # this session goes on
    assert elsewhere.get("/").status_code == 302  # the other one has ended: to the login page
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 200
    logged_in(app, user, NEW)


def test_too_many_wrong_current_passwords_answer_429(app, make, db_session):
    client = logged_in(app, make.user("dpo"))
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert change(client, current="fel-lösenord").status_code == 422
    refused = change(client)
    assert refused.status_code == 429 and "För många misslyckade försök." in text(refused)


def test_the_admin_gives_a_user_a_new_password_on_the_account_page(app, make, db_session):
    admin, user = make.admin(), make.user("ciso", name="Cissi Säkerhet")
    their_session = logged_in(app, user)
    client = logged_in(app, admin)
    page = text(client.get(f"/admin/users/{user.id}"))
    assert "Sätt det nya lösenordet" in page and 'autocomplete="new-password"' in page
    weak = client.post(f"/admin/users/{user.id}/password", data={"password": "kort"})
    assert weak.status_code == 422 and "Minst 12 tecken." in text(weak)
    assert 'value="Cissi Säkerhet"' in text(weak)  # the account form is still there, filled in
    done = client.post(f"/admin/users/{user.id}/password", data={"password": NEW})
    assert done.status_code == 302
    assert "Cissi Säkerhet har fått ett nytt lösenord" in text(client.get(done.headers["Location"]))
    assert their_session.get("/").status_code == 302
    logged_in(app, user, NEW)
    assert "Sätt det nya lösenordet" not in text(client.get(f"/admin/users/{admin.id}"))  # not for oneself
    own = client.post(f"/admin/users/{admin.id}/password", data={"password": NEW})
    assert own.status_code == 422 and "Byt ditt eget lösenord på sidan Mitt konto." in text(own)
    assert logged_in(app, make.user("ciso")).post(f"/admin/users/{admin.id}/password",
                                                  data={"password": NEW}).status_code == 403


def test_the_header_links_to_ones_account(app, make, db_session):
    client = logged_in(app, make.user("auditor", name="Greta Granskare"))
    body = text(client.get("/"))
    assert 'href="/account/password" title="Mitt konto: lösenord och API-nycklar">Greta Granskare</a>' in body
    tokens = text(client.get("/account/tokens"))
    assert 'href="/account/password"' in tokens and "Mitt konto" in tokens


def test_after_an_admin_set_the_password_the_user_chooses_their_own_first(app, make, api, db_session):
    admin, user = make.admin(), make.user("system_owner")
    token_client = api(user)
    service.reset_password(db_session, actor(admin), user.id, NEW)
    assert user.password_must_change
    client = logged_in(app, user, NEW)
    for path in ("/", "/systems", "/reports/coverage", "/account/tokens"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password"), path
    page = client.get("/account/password")
    assert page.status_code == 200 and "En administratör har satt ditt lösenord." in text(page)
    assert token_client.get("/api/v1/me").status_code == 200  # an API token is not held up
    assert client.get("/healthz").status_code in (200, 503)
    assert change(client, current=NEW, new="Mitt-Eget-Lösenord-2026").status_code == 302
    assert not user.password_must_change
    assert client.get("/").status_code == 200
    assert "En administratör har satt" not in text(client.get("/account/password"))


def test_an_account_the_admin_creates_chooses_its_own_password_at_first_login(app, make, db_session):
    client = logged_in(app, make.admin())
    made = client.post("/admin/users", data={"email": "ny.anvandare@region.example", "name": "Ny Användare",
                                              "roles": ["auditor"], "password": NEW})
    assert made.status_code == 302
    newcomer = app.test_client()
    assert newcomer.post("/login", data={"email": "ny.anvandare@region.example", "password": NEW}).status_code == 302
    first = newcomer.get("/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/account/password")
    assert change(newcomer, current=NEW, new="Granskarens-Eget-Lösen-7").status_code == 302
    assert newcomer.get("/").status_code == 200
