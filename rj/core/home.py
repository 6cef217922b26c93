"""Which page each role lands on after signing in."""
from __future__ import annotations

from flask import current_app

from rj.core.permissions import Role

# First endpoint that exists wins, so later features take over the home page as they land.
HOME_BY_ROLE = {
    Role.COORDINATOR: ["reports.coordinator_home", "referrals.triage_list"],
    Role.MANAGER: ["reports.coordinator_home", "referrals.triage_list"],
    Role.FACILITATOR: ["reports.facilitator_home", "rostering.my_roster", "facilitators.my_profile", "auth.account"],
    Role.ADMIN: ["auth.user_list"],
}


def home_endpoint_for(user) -> str | None:
    for endpoint in HOME_BY_ROLE.get(user.role, []):
        if endpoint in current_app.view_functions:
            return endpoint
    return "auth.account"
