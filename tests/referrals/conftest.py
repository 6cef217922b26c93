"""Referral tests run against stand-ins for the consent and notification hooks, so they pin the
referral rules themselves; test_integration.py exercises the real hooks when those domains exist."""
from __future__ import annotations

import sys
import types

import pytest


@pytest.fixture
def hooks(monkeypatch, request):
    """Replace rj.consent.services / rj.notifications.services with recorders."""
    calls: dict[str, list] = {"parties_from_referral": [], "queue_referral_acknowledgement": []}
    consent = types.ModuleType("rj.consent.services")
    consent.parties_from_referral = lambda case, referral, *, actor: calls["parties_from_referral"].append((case, referral, actor))
    notifications = types.ModuleType("rj.notifications.services")
    notifications.queue_referral_acknowledgement = lambda case: calls["queue_referral_acknowledgement"].append(case)
    monkeypatch.setitem(sys.modules, "rj.consent.services", consent)
    monkeypatch.setitem(sys.modules, "rj.notifications.services", notifications)
    return calls


@pytest.fixture(autouse=True)
def _isolated_hooks(hooks):
    """Overridden (as a no-op) in test_integration.py."""
    return hooks
