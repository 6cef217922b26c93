"""Demo venues in and around Stockport, facilitators' weekly availability, and meetings for recent cases
(held ones in the past, booked ones to come) placed so no facilitator, party or room is double-booked."""
from __future__ import annotations

import secrets
from datetime import time, timedelta

from sqlalchemy import insert, select, update

from rj.core.time import from_local, is_working_day, to_local
from rj.extensions import db
from rj.scheduling.models import (
    AvailabilityWindow, FacilitatorRole, Meeting, MeetingFacilitator, MeetingKind, MeetingMode, MeetingParty,
    MeetingStatus, Room, Venue, VenueKind,
)

WEEKDAYS_9_TO_9 = {str(d): [["09:00", "21:00"]] for d in range(5)} | {"5": [["10:00", "16:00"]]}
OFFICE_HOURS = {str(d): [["09:00", "17:00"]] for d in range(5)}

VENUES = [
    dict(name="Edgeley Community Centre", kind=VenueKind.COMMUNITY, address_line="Castle Street, Edgeley",
         postcode="SK3 9JH", step_free_access=True, hearing_loop=True, separate_waiting_areas=True,
         accessibility_notes="Level access from Castle Street; accessible toilet on the ground floor.",
         opening_hours=WEEKDAYS_9_TO_9, rooms=[("Community room", 12), ("Quiet room", 4)]),
    dict(name="Brinnington Library", kind=VenueKind.COMMUNITY, address_line="Brinnington Road, Brinnington",
         postcode="SK5 8BS", step_free_access=True, hearing_loop=False, separate_waiting_areas=False,
         accessibility_notes="Meeting room on the ground floor. Waiting is in the library itself.",
         opening_hours={str(d): [["09:30", "19:00"]] for d in range(5)}, rooms=[("Meeting room", 8)]),
    dict(name="Stockport Town Hall", kind=VenueKind.OFFICE, address_line="Edward Street",
         postcode="SK1 3XE", step_free_access=True, hearing_loop=True, separate_waiting_areas=True,
         accessibility_notes="Step-free entrance on Wellington Road South; lifts to all floors.",
         opening_hours=OFFICE_HOURS, rooms=[("Committee Room 1", 10), ("Committee Room 2", 6), ("Interview room", 4)]),
    dict(name="HMP Forest Bank", kind=VenueKind.PRISON, address_line="Agecroft Road, Pendlebury, Salford",
         town="Salford", postcode="M27 8FB", step_free_access=True, hearing_loop=False, separate_waiting_areas=True,
         accessibility_notes="Level 3 (post-sentence) meetings only. Book through the prison's RJ lead; "
                             "bring photo ID. Visiting times apply.",
         opening_hours={str(d): [["09:30", "11:30"], ["14:00", "16:00"]] for d in range(5)},
         rooms=[("Legal visits room", 6), ("Chapel meeting room", 8)]),
]

# Evening and daytime patterns volunteers and staff typically offer (weekday, start, end).
PATTERNS = [
    [(1, 18, 21), (3, 18, 21)],
    [(0, 9, 17), (2, 9, 17), (4, 9, 13)],
    [(1, 10, 16), (2, 17, 21), (5, 10, 14)],
    [(0, 17, 21), (3, 9, 17)],
    [(0, 9, 21), (1, 9, 21), (2, 9, 21), (3, 9, 21), (4, 9, 17)],
]

MEETING_CASES = 300   # meetings only for the most recent cases, so 10,000 cases stay fast


def seed_demo(ctx) -> None:
    if db.session.scalar(select(Venue.id).limit(1)) is not None:
        return
    rng, now = ctx.rng, ctx.now
    rooms_by_venue = {}
    for spec in VENUES:
        spec = dict(spec)
        rooms = spec.pop("rooms")
        venue = Venue(**spec)
        venue.rooms = [Room(name=n, capacity=c, step_free_access=venue.step_free_access,
                            hearing_loop=venue.hearing_loop, separate_waiting_area=venue.separate_waiting_areas)
                       for n, c in rooms]
        db.session.add(venue)
        rooms_by_venue[spec["name"]] = venue.rooms
    db.session.flush()

    facilitator_ids = list(ctx.extra.get("facilitator_ids", []))
    windows = []
    for i, fid in enumerate(facilitator_ids):
        for wd, a, b in PATTERNS[i % len(PATTERNS)] if i else PATTERNS[-1]:
            windows.append({"facilitator_id": fid, "weekday": wd, "start_time": time(a), "end_time": time(b)})
    if windows:
        db.session.execute(insert(AvailabilityWindow), windows)
    _seed_meetings(ctx, rng, now, facilitator_ids, rooms_by_venue)


def _seed_meetings(ctx, rng, now, facilitator_ids, rooms_by_venue) -> None:
    from rj.cases.models import Case, CaseStatus

    try:
        from rj.consent.models import Party
    except ImportError:
        return
    case_ids = list(ctx.extra.get("case_ids", []))
    if len(facilitator_ids) < 2 or not case_ids:
        return
    S = CaseStatus
    past_states = (S.MEETING_HELD, S.MONITORING, S.FOLLOW_UP, S.CLOSED)
    future_states = (S.PREPARATION, S.READY_TO_MEET, S.MEETING_BOOKED)
    cases = db.session.execute(
        select(Case.id, Case.status, Case.level).where(Case.id.in_(case_ids),
                                                       Case.status.in_(past_states + future_states))
        .order_by(Case.id.desc()).limit(MEETING_CASES)).all()
    parties: dict[int, list[int]] = {}
    for pid, cid in db.session.execute(select(Party.id, Party.case_id).where(
            Party.case_id.in_([c.id for c in cases]), Party.removed_at.is_(None)).order_by(Party.id)):
        parties.setdefault(cid, []).append(pid)

    community = rooms_by_venue["Edgeley Community Centre"] + rooms_by_venue["Brinnington Library"] + \
        rooms_by_venue["Stockport Town Hall"]
    prison = rooms_by_venue["HMP Forest Bank"]
    busy: dict[str, list[tuple]] = {}
    gap = timedelta(minutes=30)

    def free(keys, s, e, pad):
        return all(not (a < e + pad and s - pad < b) for k in keys for a, b in busy.get(k, ()))

    def place(keys, pads, day, hours):
        """The first free slot on or after `day` (working days) at one of `hours`."""
        for _ in range(40):
            if is_working_day(day):
                for h in hours:
                    s = from_local(day, time(h))
                    e = s + timedelta(minutes=90)
                    if all(free([k], s, e, pads[k]) for k in keys):
                        for k in keys:
                            busy.setdefault(k, []).append((s, e))
                        return s, e
            day += timedelta(days=1)
        return None

    # The demo facilitator sees a real roster: co-facilitator on a few cases with meetings to come.
    from rj.facilitators.services import facilitator_for_user

    demo_user = ctx.users.get("facilitator@rj.example")
    demo = facilitator_for_user(demo_user) if demo_user is not None else None
    demo_fid = demo.id if demo is not None and demo.id in facilitator_ids else None
    demo_cases = 0

    today = to_local(now).date()
    meetings, held_ids_index = [], []
    new_status: dict = {}
    for c in cases:
        pids = parties.get(c.id, [])
        if not pids:
            continue
        lead, co = rng.sample(facilitator_ids, 2)
        if demo_fid and demo_cases < 3 and c.status in future_states and demo_fid != lead:
            co, demo_cases = demo_fid, demo_cases + 1
        past_day = today - timedelta(days=rng.randint(20, 80))
        future_day = today + timedelta(days=rng.randint(3, 30))
        together = len(pids) >= 2
        held_prep = [(MeetingKind.PREPARATION, [p], past_day) for p in pids[:2]]
        plan = []
        if c.status in past_states:
            plan = held_prep + ([(MeetingKind.RESTORATIVE, pids, past_day + timedelta(days=10))] if together else [])
        elif c.status is S.READY_TO_MEET and together:
            r = rng.random()
            if r < 0.4:
                plan = held_prep + [(MeetingKind.RESTORATIVE, pids, past_day + timedelta(days=10))]
                new_status[c.id] = S.MEETING_HELD
            elif r < 0.75:
                plan = held_prep + [(MeetingKind.RESTORATIVE, pids, future_day)]
                new_status[c.id] = S.MEETING_BOOKED
            else:
                plan = held_prep
        elif c.status is S.MEETING_BOOKED and together:
            plan = held_prep + [(MeetingKind.RESTORATIVE, pids, future_day)]
        else:
            plan = [(MeetingKind.PREPARATION, [pids[0]], future_day)]
        for kind, who, day in plan:
            in_person = c.level == 3 or kind is MeetingKind.RESTORATIVE or rng.random() < 0.6
            room = rng.choice(prison if c.level == 3 else community) if in_person else None
            keys = [f"f{lead}", f"f{co}"] + [f"p{p}" for p in who] + ([f"r{room.id}"] if room else [])
            pads = {k: (gap if k[0] == "f" else timedelta(0)) for k in keys}
            hours = (10, 14) if c.level == 3 else (10, 14, 18)
            slot = place(keys, pads, day, hours)
            if slot is None:
                continue
            s, e = slot
            past = e < now
            meetings.append(dict(
                case_id=c.id, kind=kind, status=MeetingStatus.HELD if past else MeetingStatus.BOOKED,
                starts_at=s, ends_at=e, mode=MeetingMode.IN_PERSON if room else rng.choice(
                    [MeetingMode.PHONE, MeetingMode.VIDEO]), venue_id=room.venue_id if room else None,
                room_id=room.id if room else None, ical_uid=secrets.token_hex(16) + "@rj", ical_sequence=0,
                created_at=min(now, s - timedelta(days=7)), version=1,
                _who=who, _team=(lead, co), _past=past))
    if not meetings:
        return
    rows = [{k: v for k, v in m.items() if not k.startswith("_")} for m in meetings]
    db.session.execute(insert(Meeting), rows)
    uid_to_id = dict(db.session.execute(select(Meeting.ical_uid, Meeting.id).where(
        Meeting.ical_uid.in_([r["ical_uid"] for r in rows]))).all())
    party_rows, fac_rows = [], []
    for m in meetings:
        mid = uid_to_id[m["ical_uid"]]
        attended = True if m["_past"] else None
        party_rows += [{"meeting_id": mid, "party_id": p, "attended": attended} for p in m["_who"]]
        fac_rows += [{"meeting_id": mid, "facilitator_id": f, "role": r, "attended": attended}
                     for f, r in zip(m["_team"], (FacilitatorRole.LEAD, FacilitatorRole.CO))]
        if m["_past"] and m["kind"] is MeetingKind.RESTORATIVE:
            held_ids_index.append(mid)
    db.session.execute(insert(MeetingParty), party_rows)
    db.session.execute(insert(MeetingFacilitator), fac_rows)
    for status in set(new_status.values()):
        ids = [cid for cid, st in new_status.items() if st is status]
        db.session.execute(update(Case).where(Case.id.in_(ids)).values(status=status))
    ctx.extra["held_meeting_ids"] = held_ids_index
    ctx.extra["meeting_ids"] = list(uid_to_id.values())
