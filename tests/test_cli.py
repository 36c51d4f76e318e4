"""The command line of API.md: users create prints only the id, users token prints only the token."""

from __future__ import annotations

from riskreg.models import User


def test_users_create_prints_id_and_token_works(app, db_session, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "Ny.Person@Region.example", "--name", "Ny Person",
                                 "--role", "ciso", "--role", "auditor", "--password", "Långt-Och-Säkert-42"])
    assert result.exit_code == 0, result.output
    user_id = int(result.output.strip())
    user = db_session.get(User, user_id)
    assert user.email == "ny.person@region.example" and {r.value for r in user.roles} == {"ciso", "auditor"}
    result = runner.invoke(args=["users", "token", "--email", "ny.person@region.example"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("rr_") and "\n" not in token
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["id"] == user_id and me["roles"] == ["auditor", "ciso"]


def test_users_create_refuses_bad_input(app, db_session):
    runner = app.test_cli_runner()
    bad = [
        ["--email", "not-an-email", "--name", "X", "--role", "ciso", "--password", "Långt-Och-Säkert-42"],
        ["--email", "a@region.example", "--name", "X", "--role", "king", "--password", "Långt-Och-Säkert-42"],
        ["--email", "a@region.example", "--name", "X", "--role", "ciso", "--password", "kort"],
        ["--email", "a@region.example", "--name", "X", "--role", "ciso", "--password", "password1234"],
        ["--email", "a@region.example", "--name", "X", "--role", "ciso", "--password", "Långt-Och-Säkert-42",
         "--org-unit", "Finns inte"],
    ]
    for args in bad:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "error" in result.output
    assert db_session.query(User).filter(User.email == "a@region.example").count() == 0
    result = runner.invoke(args=["users", "token", "--email", "nobody@region.example"])
    assert result.exit_code == 2


def test_duplicate_email_is_refused(app, db_session, make):
    user = make.user("ciso")
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", user.email.upper(), "--name", "X",
                                                "--role", "ciso", "--password", "Långt-Och-Säkert-42"])
    assert result.exit_code == 2 and "e-postadressen" in result.output
