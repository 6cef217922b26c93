"""Accounts and sessions: sign-in, server-side log-out, passwords, disabled accounts, throttling."""
from __future__ import annotations

from datetime import timedelta

import pytest

from rj.auth import services
from rj.auth.models import AccountToken, UserSession
from rj.core.permissions import Role
from rj.core.time import now_utc


def test_passwords_are_stored_with_argon2(make_user):
    user = make_user(Role.COORDINATOR)
    assert user.password_hash.startswith("$argon2")


def test_a_failed_sign_in_gives_one_generic_message(client, make_user):
    user = make_user()
    wrong = client.post("/sign-in", data={"email": user.email, "password": "wrong password!!"})
    unknown = client.post("/sign-in", data={"email": "nobody@rj-test.org.uk", "password": "wrong password!!"})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Enter a correct email address and password" in response.get_data(as_text=True)


def test_sign_in_keeps_the_email_typed_after_an_error(client, make_user):
    user = make_user()
    html = client.post("/sign-in", data={"email": user.email, "password": "nope"}).get_data(as_text=True)
    assert f'value="{user.email}"' in html


def test_repeated_failures_lock_the_account_for_a_while(app, db, make_user):
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        with pytest.raises(services.LoginFailed):
            services.authenticate(user.email, "wrong password", config=app.config)
    with pytest.raises(services.LoginFailed):
        services.authenticate(user.email, "correct horse battery", config=app.config)
    later = now_utc() + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] + 1)
    assert services.authenticate(user.email, "correct horse battery", config=app.config, now=later) == user


def test_a_copied_session_cookie_stops_working_after_sign_out(app, client, make_user, login):
    user = make_user()
    login(user)
    assert client.get("/account").status_code == 200
    cookie = client.get_cookie("session").value
    client.post("/sign-out")
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    assert thief.get("/account").status_code == 302


def test_changing_password_ends_every_other_session(app, client, make_user, login):
    user = make_user()
    other = app.test_client()
    login(user, c=other)
    login(user)
    response = client.post("/account/password", data={
        "current_password": "correct horse battery", "password": "a brand new passphrase", "confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_disabling_an_account_ends_its_sessions_at_once(app, client, db, make_user, login):
    user = make_user(Role.FACILITATOR)
    login(user)
    admin = make_user(Role.ADMIN)
    services.set_active(user, False, actor=admin)
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_sessions_expire_after_inactivity(app, db, make_user):
    user = make_user()
    token = services.start_session(user)
    db.session.commit()
    idle = app.config["SESSION_IDLE_MINUTES"]
    assert services.load_session_user(token, idle_minutes=idle) == user
    later = now_utc() + timedelta(minutes=idle + 1)
    assert services.load_session_user(token, idle_minutes=idle, now=later) is None


def test_set_password_link_is_single_use_and_expires(app, client, db, make_user):
    admin = make_user(Role.ADMIN)
    user = services.create_user(email="new@rj-test.org.uk", name="New Person", role=Role.FACILITATOR, actor=admin)
    token = services.issue_account_token(user, actor=admin, hours=72)
    db.session.commit()
    assert token not in {t.token_hash for t in db.session.query(AccountToken)}
    ok = client.post(f"/account/set-password/{token}", data={"password": "my own good passphrase", "confirm": "my own good passphrase"})
    assert ok.status_code == 302
    again = client.get(f"/account/set-password/{token}")
    assert again.status_code == 404
    token2 = services.issue_account_token(user, actor=admin, hours=72)
    db.session.commit()
    assert services.find_account_token(token2, now=now_utc() + timedelta(hours=73)) is None


def test_new_passwords_must_be_long_enough(client, make_user, login):
    user = make_user()
    login(user)
    html = client.post("/account/password", data={
        "current_password": "correct horse battery", "password": "short", "confirm": "short"}).get_data(as_text=True)
    assert "12 characters or more" in html


def test_sign_in_redirects_only_to_local_pages(client, make_user):
    user = make_user()
    response = client.post("/sign-in?next=https://evil.example/", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_signed_in_pages_are_not_cached(client, make_user, login):
    login(make_user())
    assert client.get("/account").headers["Cache-Control"] == "no-store"


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
def test_sign_in_attempts_are_rate_limited_per_client(client):
    codes = [client.post("/sign-in", data={"email": "x@rj-test.org.uk", "password": "y"}).status_code for _ in range(5)]
    assert codes[-1] == 429


@pytest.mark.parametrize("role,status", [
    (Role.ADMIN, 200), (Role.MANAGER, 200), (Role.COORDINATOR, 403), (Role.FACILITATOR, 403)])
def test_only_managers_and_admins_manage_accounts(as_role, role, status):
    client, _ = as_role(role)
    assert client.get("/users").status_code == status
    assert client.get("/users/new").status_code == status


def test_creating_an_account_issues_a_set_password_link_and_is_audited(as_role, db):
    from rj.audit.models import AuditEvent

    client, admin = as_role(Role.ADMIN)
    response = client.post("/users/new", data={"name": "Jo Volunteer", "email": "jo@rj-test.org.uk", "role": "facilitator"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/account/set-password/" in page
    actions = {e.action for e in db.session.query(AuditEvent)}
    assert {"user.created", "user.invitation_issued"} <= actions


def test_a_duplicate_email_is_refused_with_a_clear_message(as_role):
    client, admin = as_role(Role.ADMIN)
    html = client.post("/users/new", data={"name": "Dup", "email": admin.email.upper(), "role": "admin"}).get_data(as_text=True)
    assert "already exists" in html and "Dup" in html


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/users")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
