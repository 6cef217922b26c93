"""Demo facilitators with realistic training histories: most in date, some expiring soon, some
expired, one paused and one who has left. The demo facilitator account is eligible for Level 2 now."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from rj.audit.services import record
from rj.core.time import local_today
from rj.extensions import db
from rj.facilitators import services
from rj.facilitators.models import (
    LANGUAGES, STOCKPORT_AREAS, ConflictKind, Course, CourseCategory, DbsLevel, Facilitator, FacilitatorKind,
    FacilitatorStatus, GoalStatus, ObservationOutcome, PractitionerLevel, add_months,
)

STARTER_CATALOGUE = [
    # name, provider, category, levels, validity in months (None: does not expire)
    ("SoRT-IT facilitator training", "SoRT-IT charity partner", CourseCategory.QUALIFYING, [1, 2], 36),
    ("Accredited restorative justice facilitator training", "RJC-accredited training provider",
     CourseCategory.QUALIFYING, [3], 36),
    ("Safeguarding children and adults", "Stockport Safeguarding Partnership", CourseCategory.SAFEGUARDING, [], 24),
    ("Data protection", "Stockport Council information governance", CourseCategory.DATA_PROTECTION, [], 12),
    ("Working with young people in conflict", "SoRT-IT charity partner", CourseCategory.OTHER, [], None),
]

FIRST = ["Aisha", "Ben", "Carys", "Dev", "Ella", "Farhan", "Grace", "Harry", "Imogen", "Jamal", "Kasia", "Liam",
         "Maya", "Nathan", "Olivia", "Pawel", "Quinn", "Rosa", "Sanjay", "Tara", "Umar", "Vicky", "Wes", "Yasmin",
         "Zoe", "Adam", "Bethan", "Callum", "Daniela", "Ethan"]
LAST = ["Ahmed", "Barnes", "Clarke", "Doyle", "Evans", "Fletcher", "Gill", "Hughes", "Iqbal", "Jones", "Kowalski",
        "Lomax", "Murphy", "Nowak", "Owen", "Patel", "Quinlan", "Rahman", "Shaw", "Taylor", "Udeh", "Walsh",
        "Yates", "Zielinski", "Bradley", "Hassan", "Kerr", "Moss", "Pearson", "Riley"]
SUPERVISORS = ["Morgan Manager", "Helen Cartwright (external supervisor)", "Priya Coordinator"]
CPD_ACTIVITIES = [("RJC webinar: trauma-informed practice", True), ("Peer practice evening", False),
                  ("RJC conference workshop", True), ("Reading: restorative practice journal", False),
                  ("Mediation skills refresher", True), ("Shadowing an experienced facilitator", False)]


def _courses(ctx) -> dict[str, Course]:
    found = {c.name: c for c in db.session.scalars(select(Course))}
    for name, provider, category, levels, months in STARTER_CATALOGUE:
        if name not in found:
            found[name] = services.add_course(name=name, provider=provider, category=category, levels=levels,
                                              validity_months=months, actor=None, now=ctx.now)
    return found


def _history(ctx, f: Facilitator, courses, *, today: date, qualifying: str, qualified_on: date,
             safeguarding_on: date | None, dbs_on: date | None, supervised_days_ago: int | None,
             observed_days_ago: int | None, cpd_hours: list[tuple[int, str, bool]], verifier) -> None:
    rng = ctx.rng
    services.add_training_record(f, course=courses[qualifying], completed_on=qualified_on,
                                 evidence_reference=f"CERT-{rng.randint(10000, 99999)}", actor=verifier,
                                 verified=True, now=ctx.now)
    if safeguarding_on:
        services.add_training_record(f, course=courses["Safeguarding children and adults"],
                                     completed_on=safeguarding_on, actor=verifier, verified=True, now=ctx.now)
    if rng.random() < 0.7:
        services.add_training_record(f, course=courses["Data protection"],
                                     completed_on=today - timedelta(days=rng.randint(20, 420)), actor=verifier,
                                     now=ctx.now)
    if dbs_on:
        level = DbsLevel.ENHANCED_BARRED_BOTH if rng.random() < 0.7 else DbsLevel.ENHANCED_BARRED_CHILDREN
        services.add_dbs_check(f, level=level, certificate_number=f"{rng.randint(0, 10**12 - 1):012d}",
                               issued_on=dbs_on, update_service=rng.random() < 0.5, actor=verifier, now=ctx.now)
    if supervised_days_ago is not None:
        for k in range(3):
            held = today - timedelta(days=supervised_days_ago + 80 * k)
            if held > qualified_on:
                services.add_supervision_session(f, held_on=held, supervisor_name=rng.choice(SUPERVISORS),
                                                 notes="Reflective discussion; no concerns." if k == 0 else None,
                                                 actor=verifier, now=ctx.now)
    if observed_days_ago is not None:
        services.add_observed_practice(f, observed_on=today - timedelta(days=observed_days_ago),
                                       observer_name=rng.choice(SUPERVISORS[:2]),
                                       outcome=rng.choice([ObservationOutcome.MEETS_STANDARD] * 3
                                                          + [ObservationOutcome.DEVELOPMENT_NEEDED]),
                                       actor=verifier, now=ctx.now)
    for days_ago, activity, approved in cpd_hours:
        services.add_cpd_entry(f, done_on=today - timedelta(days=days_ago), hours=rng.choice([1, 1.5, 2, 3]),
                               activity=activity, rjc_approved=approved, actor=f.user, now=ctx.now)


def _cpd(rng, n: int) -> list[tuple[int, str, bool]]:
    picks = rng.sample(CPD_ACTIVITIES, k=min(n, len(CPD_ACTIVITIES)))
    return [(rng.randint(5, 340), activity, approved) for activity, approved in picks]


def seed_demo(ctx) -> None:
    from rj.auth.services import create_user
    from rj.core.permissions import Role

    today = local_today(ctx.now)
    rng = ctx.rng
    courses = _courses(ctx)
    verifier = ctx.users.get("manager@rj.example")
    demo_user = ctx.users.get("facilitator@rj.example")
    ids: list[int] = []

    if demo_user is not None:
        existing = services.facilitator_for_user(demo_user)
        if existing is not None:  # already seeded
            ctx.extra["facilitator_ids"] = list(db.session.scalars(select(Facilitator.id).order_by(Facilitator.id)))
            return
        demo = Facilitator(user=demo_user, kind=FacilitatorKind.VOLUNTEER, status=FacilitatorStatus.ACTIVE,
                           phone="07700 900 123", languages=["English", "Urdu"],
                           areas=["Edgeley", "Cheadle", "Stockport town centre"], max_meetings_per_month=4,
                           practitioner_level=PractitionerLevel.FOUNDATION, experienced=False,
                           joined_on=add_months(today, -9), created_at=ctx.now)
        db.session.add(demo)
        db.session.flush()
        record("facilitator.created", demo, actor=None, now=ctx.now)
        _history(ctx, demo, courses, today=today, qualifying="SoRT-IT facilitator training",
                 qualified_on=add_months(today, -8), safeguarding_on=add_months(today, -5),
                 dbs_on=add_months(today, -12), supervised_days_ago=21, observed_days_ago=120,
                 cpd_hours=[(30, "RJC webinar: trauma-informed practice", True), (60, "Peer practice evening", False),
                            (90, "Mediation skills refresher", True)], verifier=verifier)
        services.add_conflict(demo, kind=ConflictKind.ADDRESS, value="Hillside Road",
                              private_note="My sister lives on this street.", actor=demo_user, now=ctx.now)
        services.add_plan_goal(demo, title="Co-facilitate three conferences with an experienced facilitator",
                               target_date=add_months(today, 3), status=GoalStatus.IN_PROGRESS,
                               progress_notes="One preparation meeting shadowed so far.", actor=verifier, now=ctx.now)
        ids.append(demo.id)

    count = 100 if ctx.cases >= 1000 else 25
    for i in range(count):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7 + i // len(FIRST)) % len(LAST)]
        name = f"{first} {last}"
        email = f"{first}.{last}{i + 1}@volunteers.rj.example".lower()
        user = create_user(email=email, name=name, role=Role.FACILITATOR, actor=None, now=ctx.now)
        level3 = i % 6 == 0
        status = FacilitatorStatus.ACTIVE
        if i == 7:
            status = FacilitatorStatus.PAUSED
        elif i == 19:
            status = FacilitatorStatus.LEFT
        f = Facilitator(
            user=user, kind=FacilitatorKind.STAFF if level3 else FacilitatorKind.VOLUNTEER, status=status,
            phone=f"07700 900 {rng.randint(100, 999)}",
            languages=["English"] + rng.sample(LANGUAGES[1:], k=rng.choice([0, 0, 1, 2])),
            areas=rng.sample(STOCKPORT_AREAS, k=rng.randint(2, 6)), max_meetings_per_month=rng.choice([2, 3, 4, 6, 8]),
            practitioner_level=(PractitionerLevel.ADVANCED if level3
                                else rng.choice([PractitionerLevel.FOUNDATION, PractitionerLevel.INTERMEDIATE])),
            experienced=level3 or rng.random() < 0.3, joined_on=today - timedelta(days=rng.randint(120, 2000)),
            created_at=ctx.now,
        )
        db.session.add(f)
        db.session.flush()
        record("facilitator.created", f, actor=None, now=ctx.now)

        # A training history, with the situations a coordinator has to act on.
        qualified_on = add_months(today, -rng.randint(3, 30))
        safeguarding_on = add_months(today, -rng.randint(2, 20))
        dbs_on = add_months(today, -rng.randint(2, 30))
        supervised, observed = rng.randint(5, 70), rng.randint(20, 330)
        case = i % 10
        if case == 1:      # qualifying training runs out within a week
            qualified_on = add_months(today, -36) + timedelta(days=rng.randint(0, 6))
        elif case == 2:    # safeguarding within a month
            safeguarding_on = add_months(today, -24) + timedelta(days=rng.randint(8, 29))
        elif case == 3:    # DBS renewal within two months
            dbs_on = add_months(today, -36) + timedelta(days=rng.randint(31, 59))
        elif case == 4:    # safeguarding expired
            safeguarding_on = add_months(today, -25)
        elif case == 5:    # supervision overdue, observation overdue
            supervised, observed = rng.randint(90, 120), rng.randint(380, 420)
        elif case == 6 and i > 10:  # no DBS yet
            dbs_on = None
        elif case == 8:    # qualifying training expired
            qualified_on = add_months(today, -37)
        _history(ctx, f, courses, today=today,
                 qualifying="Accredited restorative justice facilitator training" if level3
                 else "SoRT-IT facilitator training",
                 qualified_on=qualified_on, safeguarding_on=safeguarding_on, dbs_on=dbs_on,
                 supervised_days_ago=supervised, observed_days_ago=observed,
                 cpd_hours=_cpd(rng, rng.randint(1, 6)), verifier=verifier)
        if level3 and rng.random() < 0.5:  # level 3 practitioners usually came through SoRT-IT too
            services.add_training_record(f, course=courses["SoRT-IT facilitator training"],
                                         completed_on=add_months(today, -rng.randint(6, 30)), actor=verifier,
                                         verified=True, now=ctx.now)
        if rng.random() < 0.2:
            kind, value = rng.choice([(ConflictKind.ORGANISATION, "Stockport Homes"),
                                      (ConflictKind.ADDRESS, "Lancashire Hill"),
                                      (ConflictKind.PERSON, f"{rng.choice(FIRST)} {rng.choice(LAST)}")])
            services.add_conflict(f, kind=kind, value=value, actor=user, now=ctx.now)
        if rng.random() < 0.5:
            services.add_plan_goal(f, title=rng.choice(["Complete safeguarding refresher", "Observed practice this year",
                                                        "Lead a conference with a co-facilitator",
                                                        "Start accredited Level 3 training"]),
                                   target_date=today + timedelta(days=rng.randint(20, 200)),
                                   status=rng.choice(list(GoalStatus)[:2]), progress_notes=None, actor=verifier,
                                   now=ctx.now)
        ids.append(f.id)

    ctx.extra["facilitator_ids"] = ids
