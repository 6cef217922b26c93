"""Every page, every role: a page with no object in its URL answers each role as its declared
permission says. Pages that need an object are covered by their domain's view tests."""
from __future__ import annotations

import pytest

from rj.core.permissions import ROLE_PERMISSIONS, Role

ROLES = list(Role)


def _object_free_get_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods or rule.arguments:
            continue
        yield rule


def _expected(view, role: Role | None) -> set[int]:
    perms = getattr(view, "required_perms", ())
    if "public" in perms:
        return {200, 302}
    if role is None:
        return {302}
    if "login" in perms or any(p in ROLE_PERMISSIONS[role] for p in perms):
        return {200, 302}
    return {403}


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r.value if r else "anonymous")
def test_each_role_gets_each_page_or_is_refused_as_declared(app, make_user, login, role):
    client = app.test_client()
    if role is not None:
        user = make_user(role)
        if role is Role.FACILITATOR:
            # A facilitator's own pages need their profile, as every real facilitator has.
            from tests.facilitators.factories import make_facilitator

            make_facilitator(user)
        login(user, c=client)
    failures = []
    for rule in _object_free_get_rules(app):
        if rule.endpoint in {"auth.logout_confirm"} and role is None:
            continue
        view = app.view_functions[rule.endpoint]
        response = client.get(rule.rule)
        if response.status_code not in _expected(view, role):
            failures.append(f"{rule.rule}: {response.status_code}, expected {sorted(_expected(view, role))}")
        if response.status_code == 302 and role is None and "public" not in getattr(view, "required_perms", ()):
            assert "/sign-in" in response.headers["Location"], rule.rule
    assert failures == []
