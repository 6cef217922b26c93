"""Demo data: teams for most open cases (the people already on a case's meetings where scheduling
seeded some, otherwise an experienced facilitator with a second one qualified for the level), a
few cases left for the auto-roster, and pending offers for the demo facilitator. Rows are inserted
in bulk so 10,000 cases seed quickly; running it twice adds nothing new."""
from __future__ import annotations

from sqlalchemy import insert, select

from rj.audit.models import AuditEvent
from rj.cases.models import Case
from rj.core.errors import DomainError
from rj.extensions import db
from rj.rostering.models import CaseTeam, TeamChange, TeamRole, TeamStatus

UNALLOCATED_SHARE = 0.15  # left without a team, for the auto-roster and the offers to fill


def _meeting_teams(case_ids) -> dict[int, dict[str, int]]:
    """Who scheduling already put on each case's meetings: case id -> {"lead": id, "co": id}."""
    try:
        from rj.scheduling.models import Meeting, MeetingFacilitator
    except ImportError:
        return {}
    out: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(Meeting.case_id, MeetingFacilitator.facilitator_id, MeetingFacilitator.role)
        .join(MeetingFacilitator, MeetingFacilitator.meeting_id == Meeting.id)
        .where(Meeting.case_id.in_(case_ids)).order_by(Meeting.starts_at))
    for case_id, fid, role in rows:
        out.setdefault(case_id, {}).setdefault(getattr(role, "value", role), fid)
    return out


def seed_demo(ctx) -> None:
    from rj.facilitators.models import Facilitator, FacilitatorStatus
    from rj.facilitators.queries import eligibility_options
    from rj.facilitators.services import check_eligibility
    from rj.rostering import services

    rng, now = ctx.rng, ctx.now
    case_ids = list(ctx.extra.get("case_ids") or [])
    facilitator_ids = list(ctx.extra.get("facilitator_ids") or [])
    if not case_ids or not facilitator_ids:
        return
    facilitators = list(db.session.scalars(
        select(Facilitator).where(Facilitator.id.in_(facilitator_ids), Facilitator.status == FacilitatorStatus.ACTIVE)
        .options(*eligibility_options())).unique())
    # Who may take each level today (conflicts of interest are checked when offers are made).
    pools = {level: [f for f in facilitators if check_eligibility(f, level=level, on=now).eligible] for level in (2, 3)}
    experienced = {level: [f for f in pool if f.experienced] for level, pool in pools.items()}

    if db.session.scalar(select(CaseTeam.id).where(CaseTeam.case_id.in_(case_ids)).limit(1)) is not None:
        return  # already seeded
    cases = db.session.execute(
        select(Case.id, Case.level).where(Case.id.in_(case_ids), Case.status.in_(Case.ACTIVE_STATUSES),
                                          Case.level.in_(services.ROSTERED_LEVELS))
        .order_by(Case.id)).all()
    from_meetings = _meeting_teams([cid for cid, _ in cases])

    team_rows, left = [], []
    for cid, level in cases:
        seeded = from_meetings.get(cid, {})
        if "lead" in seeded and "co" in seeded and seeded["lead"] != seeded["co"]:
            team_rows.append({"case_id": cid, "lead_facilitator_id": seeded["lead"], "co_facilitator_id": seeded["co"]})
            continue
        if rng.random() < UNALLOCATED_SHARE or len(pools[level]) < 2 or not experienced[level]:
            left.append((cid, level))
            continue
        lead = rng.choice(experienced[level])
        co = rng.choice([f for f in pools[level] if f.id != lead.id] or [lead])
        if co.id == lead.id:
            left.append((cid, level))
            continue
        team_rows.append({"case_id": cid, "lead_facilitator_id": lead.id, "co_facilitator_id": co.id})

    if team_rows:
        db.session.execute(insert(CaseTeam), [
            {**r, "status": TeamStatus.ACTIVE, "formed_at": now, "formed_by_id": None, "version": 1} for r in team_rows])
        ids = dict(db.session.execute(select(CaseTeam.case_id, CaseTeam.id).where(
            CaseTeam.status == TeamStatus.ACTIVE, CaseTeam.case_id.in_([r["case_id"] for r in team_rows]))).all())
        changes, events = [], []
        for r in team_rows:
            tid = ids[r["case_id"]]
            for role, key in ((TeamRole.LEAD, "lead_facilitator_id"), (TeamRole.CO, "co_facilitator_id")):
                changes.append({"team_id": tid, "case_id": r["case_id"], "kind": "formed", "role": role,
                                "new_facilitator_id": r[key], "at": now, "by_id": None})
            events.append({"at": now, "actor_id": None, "action": "case_team.formed", "object_type": "case_team",
                           "object_id": tid, "case_id": r["case_id"], "fields": None,
                           "detail": {"lead_facilitator_id": r["lead_facilitator_id"],
                                      "co_facilitator_id": r["co_facilitator_id"], "seeded": True}})
        db.session.execute(insert(TeamChange), changes)
        db.session.execute(insert(AuditEvent), events)

    # Pending offers for the demo facilitator: an experienced lead and the demo facilitator as co.
    demo_user = ctx.users.get("facilitator@rj.example")
    demo = next((f for f in facilitators if demo_user is not None and f.user_id == demo_user.id), None)
    coordinator = ctx.users.get("coordinator@rj.example")
    if demo is None:
        return
    made = 0
    for cid, level in left:
        if made >= 3:
            break
        if demo not in pools[level] or not experienced[level]:
            continue
        case = db.session.get(Case, cid)
        lead = rng.choice([f for f in experienced[level] if f.id != demo.id])
        try:
            with db.session.begin_nested():
                services.make_offer(lead, case, TeamRole.LEAD, actor=coordinator, now=now)
                services.make_offer(demo, case, TeamRole.CO, actor=coordinator, now=now)
        except DomainError:
            continue  # a conflict of interest with this case: try the next one
        made += 1
