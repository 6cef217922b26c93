"""Template filters and globals: local time, navigation by permission, CSP nonce."""
from __future__ import annotations

from flask import Flask, g, url_for
from flask_login import current_user

from rj.core.permissions import Perm, has_perm
from rj.core.time import format_local, to_local

# (label, endpoint, permissions any of which shows the item)
NAV = [
    ("Home", "core.home", None),
    ("Referrals", "referrals.triage_list", (Perm.TRIAGE,)),
    ("Cases", "cases.case_list", (Perm.CASES_ALL, Perm.CASES_ROSTERED)),
    ("Roster", "rostering.roster", (Perm.ROSTER_VIEW_ALL,)),
    ("My roster", "rostering.my_roster", (Perm.ROSTER_OWN,)),
    ("My availability", "scheduling.my_availability", (Perm.ROSTER_OWN,)),
    ("Facilitators", "facilitators.facilitator_list", (Perm.FACILITATORS_MANAGE,)),
    ("My training", "facilitators.my_profile", (Perm.OWN_PROFILE,)),
    ("My calendar", "notifications.my_calendar", (Perm.ROSTER_OWN,)),
    ("Venues", "scheduling.venue_list", (Perm.VENUES_MANAGE,)),
    ("Overdue actions", "agreements.overdue", (Perm.OUTCOMES_RECORD,)),
    ("Level 1", "agreements.level1_list", (Perm.LEVEL1_RECORD,)),
    ("Emails", "notifications.outbox", (Perm.OUTBOX_VIEW,)),
    ("Reports", "reports.index", (Perm.REPORTS,)),
    ("Users", "auth.user_list", (Perm.USERS_MANAGE,)),
]


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {
            "csp_nonce": getattr(g, "csp_nonce", ""),
            "nav_items": nav_items,
            "endpoints": app.view_functions,
            "Perm": Perm,
            "has_perm": has_perm,
        }

    def nav_items():
        from flask import request

        items = []
        if not current_user.is_authenticated:
            return [{"href": url_for("auth.login"), "text": "Sign in"}] if "auth.login" in app.view_functions else []
        for label, endpoint, perms in NAV:
            if endpoint not in app.view_functions:
                continue
            if perms and not any(has_perm(current_user, p) for p in perms):
                continue
            href = url_for(endpoint)
            items.append({"href": href, "text": label,
                          "active": request.path == href or (href != "/" and request.path.startswith(href))})
        items.append({"href": url_for("auth.logout_confirm"), "text": "Sign out"})
        return items

    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["local_date"] = lambda dt: format_local(dt, "%-d %B %Y")
    app.jinja_env.filters["local_time"] = lambda dt: format_local(dt, "%-I:%M%p")
    app.jinja_env.filters["date"] = lambda d: d.strftime("%-d %B %Y") if d else ""
    app.jinja_env.filters["to_local"] = to_local
