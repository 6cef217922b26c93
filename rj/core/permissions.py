"""Who may do what. Denied by default: a role has only the permissions listed here.

Routes declare a permission with @require(...); objects answer `can_view(user)` /
`can_edit(user)` themselves, and every list query starts from what the user may see.
"""
from __future__ import annotations

import enum
from functools import wraps

from flask import abort
from flask_login import current_user


class Role(str, enum.Enum):
    COORDINATOR = "coordinator"
    FACILITATOR = "facilitator"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Perm(str, enum.Enum):
    TRIAGE = "triage"                      # see and triage referrals
    CASES_ALL = "cases_all"                # see and work every case
    CASES_ROSTERED = "cases_rostered"      # see the cases one is rostered to
    CONSENT_RECORD = "consent_record"
    RISK_SIGNOFF = "risk_signoff"          # Level 3 risk sign-off
    FACILITATORS_MANAGE = "facilitators_manage"
    TRAINING_CATALOGUE = "training_catalogue"
    SUPERVISION_NOTES = "supervision_notes"
    OWN_PROFILE = "own_profile"            # a facilitator's own profile, training, CPD
    VENUES_MANAGE = "venues_manage"
    MEETINGS_BOOK = "meetings_book"
    ROSTER_VIEW_ALL = "roster_view_all"
    ROSTER_OWN = "roster_own"
    OUTCOMES_RECORD = "outcomes_record"
    LEVEL1_RECORD = "level1_record"
    REPORTS = "reports"
    OUTBOX_VIEW = "outbox_view"
    USERS_MANAGE = "users_manage"
    SETTINGS = "settings"
    AUDIT_VIEW = "audit_view"


_COORDINATOR = {
    Perm.TRIAGE, Perm.CASES_ALL, Perm.CONSENT_RECORD, Perm.FACILITATORS_MANAGE,
    Perm.VENUES_MANAGE, Perm.MEETINGS_BOOK, Perm.ROSTER_VIEW_ALL, Perm.OUTCOMES_RECORD,
    Perm.LEVEL1_RECORD, Perm.OUTBOX_VIEW,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.COORDINATOR: frozenset(_COORDINATOR),
    Role.MANAGER: frozenset(_COORDINATOR | {
        Perm.RISK_SIGNOFF, Perm.TRAINING_CATALOGUE, Perm.SUPERVISION_NOTES, Perm.REPORTS,
        Perm.USERS_MANAGE, Perm.AUDIT_VIEW,
    }),
    Role.FACILITATOR: frozenset({Perm.CASES_ROSTERED, Perm.OWN_PROFILE, Perm.ROSTER_OWN}),
    Role.ADMIN: frozenset({Perm.USERS_MANAGE, Perm.SETTINGS, Perm.AUDIT_VIEW}),
}


def has_perm(user, perm: Perm) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return perm in ROLE_PERMISSIONS.get(user.role, frozenset())


def require(*perms: Perm):
    """Route decorator: signed in, and holding at least one of `perms`; otherwise 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from rj.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(has_perm(current_user, p) for p in perms):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_perms = perms
        return wrapped

    return decorator


def require_login(view):
    """Route decorator for pages every signed-in user may see (their own account)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        from rj.extensions import login_manager

        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.required_perms = ("login",)
    return wrapped


def public(view):
    """Marks a route as deliberately open to everyone (checked by the route-coverage test)."""
    view.required_perms = ("public",)
    return view
