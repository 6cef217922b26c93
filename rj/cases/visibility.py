"""Which cases a user may see. Every case list starts from `visible_cases(user)`."""
from __future__ import annotations

from sqlalchemy import Select, false, select

from rj.cases.models import Case
from rj.core.permissions import Perm, has_perm


def rostered_case_ids(user) -> Select | None:
    """Case ids a facilitator is rostered to (provided by the rostering domain once it exists)."""
    try:
        from rj.rostering.queries import rostered_case_ids_for_user
    except ImportError:
        return None
    return rostered_case_ids_for_user(user)


def visible_cases(user) -> Select:
    stmt = select(Case)
    if has_perm(user, Perm.CASES_ALL):
        return stmt
    if has_perm(user, Perm.CASES_ROSTERED):
        ids = rostered_case_ids(user)
        return stmt.where(Case.id.in_(ids)) if ids is not None else stmt.where(false())
    return stmt.where(false())


def user_is_rostered(user, case: Case) -> bool:
    from rj.extensions import db

    ids = rostered_case_ids(user)
    if ids is None:
        return False
    return db.session.scalar(select(Case.id).where(Case.id == case.id, Case.id.in_(ids))) is not None
