"""Read-side aggregate queries for the dashboards and reports.

Every function here runs a fixed number of SQL statements however many cases there are: counts,
GROUP BY and date arithmetic happen in the database, and only aggregates (or a short, LIMITed list)
come back. Other domains are imported lazily inside functions, so a domain that is not installed
yet makes its section empty rather than breaking the page.

Month bucketing and day differences differ by dialect; `month_bucket` and `days_between` are the
only places that know. PostgreSQL buckets in Europe/London; SQLite has no time zones, so it
buckets the stored UTC instant (a referral made between midnight and 1am local time on the first
of a month in summer lands in the previous month there: acceptable for a development database).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case as sql_case, distinct, exists, func, literal, or_, select

from rj.cases.models import Case, CaseStatus
from rj.core.time import UTC as _UTC, from_local, local_today, now_utc
from rj.extensions import db

DASHBOARD_LIMIT = 10


# --------------------------------------------------------------------------- dialect helpers

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def month_bucket(column):
    """'YYYY-MM' of an instant column, in SQL: local months on PostgreSQL, UTC months on SQLite."""
    if _dialect() == "postgresql":
        return func.to_char(func.timezone("Europe/London", column), literal("YYYY-MM"))
    return func.strftime(literal("%Y-%m"), column)


def days_between(start_col, end_col):
    """end - start in fractional days, in SQL."""
    if _dialect() == "postgresql":
        return func.extract("epoch", end_col - start_col) / 86400.0
    return func.julianday(end_col) - func.julianday(start_col)


def months_in(start: date, end: date) -> list[str]:
    """Every 'YYYY-MM' from start's month to end's month inclusive (so empty months show as 0)."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local days [start, end] inclusive as UTC instants [from, to)."""
    return from_local(start, time(0, 0)), from_local(end + timedelta(days=1), time(0, 0))


def _module(name: str):
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _enum_value(x):
    return getattr(x, "value", x)


# --------------------------------------------------------------------------- referrals

def referrals_by_month(start: date, end: date) -> list[tuple[str, int]]:
    """Referrals received per month (every month of the period, 0 where none)."""
    ref = _module("rj.referrals.models")
    lo, hi = bounds(start, end)
    bucket = month_bucket(Case.referred_at)
    stmt = select(bucket, func.count(Case.id)).where(Case.referred_at >= lo, Case.referred_at < hi)
    if ref is not None:
        stmt = stmt.join(ref.Referral, ref.Referral.case_id == Case.id)
    counts = dict(db.session.execute(stmt.group_by(bucket)).all())
    return [(m, int(counts.get(m, 0))) for m in months_in(start, end)]


PUBLIC_SOURCE = "Member of the public"
UNKNOWN_SOURCE = "Organisation not given"


def referrals_by_source(start: date, end: date) -> list[tuple[str, int]]:
    """Referrals per referring organisation (members of the public together), largest first."""
    ref = _module("rj.referrals.models")
    if ref is None:
        return []
    R = ref.Referral
    lo, hi = bounds(start, end)
    source = sql_case(
        (R.referrer_is_public.is_(True), literal(PUBLIC_SOURCE)),
        (func.coalesce(func.trim(R.referrer_organisation), "") == "", literal(UNKNOWN_SOURCE)),
        else_=func.trim(R.referrer_organisation),
    )
    rows = db.session.execute(
        select(source, func.count(R.id)).join(Case, Case.id == R.case_id)
        .where(Case.referred_at >= lo, Case.referred_at < hi).group_by(source)
    ).all()
    return sorted(((s, int(n)) for s, n in rows), key=lambda r: (-r[1], r[0].lower()))


def referrals_by_category(start: date, end: date) -> list[tuple[str, int]]:
    ref = _module("rj.referrals.models")
    if ref is None:
        return []
    R = ref.Referral
    lo, hi = bounds(start, end)
    counts = {_enum_value(c): int(n) for c, n in db.session.execute(
        select(R.category, func.count(R.id)).join(Case, Case.id == R.case_id)
        .where(Case.referred_at >= lo, Case.referred_at < hi).group_by(R.category)).all()}
    return [(c.label, counts.get(c.value, 0)) for c in ref.ReferralCategory]


def cases_by_level(start: date, end: date) -> list[tuple[str, int]]:
    """All cases started in the period (Level 1 records included) by RJ level."""
    lo, hi = bounds(start, end)
    counts = {lvl: int(n) for lvl, n in db.session.execute(
        select(Case.level, func.count(Case.id)).where(Case.referred_at >= lo, Case.referred_at < hi)
        .group_by(Case.level)).all()}
    return [("Level 1", counts.get(1, 0)), ("Level 2", counts.get(2, 0)), ("Level 3", counts.get(3, 0)),
            ("Level not decided", counts.get(None, 0))]


def _conference_exists():
    """A held restorative meeting for the case: what commissioners call a conference."""
    sched = _module("rj.scheduling.models")
    if sched is None:
        return None
    M = sched.Meeting
    return exists().where(M.case_id == Case.id, M.kind == sched.MeetingKind.RESTORATIVE,
                          M.status == sched.MeetingStatus.HELD)


def conversion(start: date, end: date) -> dict:
    """Of the referrals received in the period: how many were accepted, and reached a conference."""
    ref = _module("rj.referrals.models")
    lo, hi = bounds(start, end)
    conf = _conference_exists()
    stmt = select(
        func.count(Case.id),
        func.sum(sql_case((Case.accepted_at.is_not(None), 1), else_=0)),
        func.sum(sql_case((conf, 1), else_=0)) if conf is not None else literal(0),
    ).where(Case.referred_at >= lo, Case.referred_at < hi)
    if ref is not None:
        stmt = stmt.join(ref.Referral, ref.Referral.case_id == Case.id)
    referred, accepted, conferenced = db.session.execute(stmt).one()
    return {"referred": int(referred or 0), "accepted": int(accepted or 0), "conference": int(conferenced or 0)}


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def durations(start: date, end: date) -> dict:
    """Median days from referral to first contact with anyone, and to the first conference, for
    referrals received in the period. One query each, returning one number per case."""
    lo, hi = bounds(start, end)
    out = {"first_contact": {"n": 0, "median": None}, "conference": {"n": 0, "median": None}}
    consent = _module("rj.consent.models")
    if consent is not None:
        P = consent.Party
        first = (select(P.case_id.label("case_id"), func.min(P.first_contact_at).label("at"))
                 .where(P.first_contact_at.is_not(None)).group_by(P.case_id).subquery())
        vals = [float(v) for v in db.session.scalars(
            select(days_between(Case.referred_at, first.c.at)).join(first, first.c.case_id == Case.id)
            .where(Case.referred_at >= lo, Case.referred_at < hi))]
        out["first_contact"] = {"n": len(vals), "median": _median(vals)}
    sched = _module("rj.scheduling.models")
    if sched is not None:
        M = sched.Meeting
        conf = (select(M.case_id.label("case_id"), func.min(M.starts_at).label("at"))
                .where(M.kind == sched.MeetingKind.RESTORATIVE, M.status == sched.MeetingStatus.HELD)
                .group_by(M.case_id).subquery())
        vals = [float(v) for v in db.session.scalars(
            select(days_between(Case.referred_at, conf.c.at)).join(conf, conf.c.case_id == Case.id)
            .where(Case.referred_at >= lo, Case.referred_at < hi))]
        out["conference"] = {"n": len(vals), "median": _median(vals)}
    return out


def consent_rates(start: date, end: date) -> dict:
    """People asked for consent in the period: how many gave it, declined, and later withdrew.
    Counted per person (distinct party) from the consent ledger's entries recorded in the period."""
    consent = _module("rj.consent.models")
    if consent is None:
        return {}
    CR = consent.ConsentRecord
    lo, hi = bounds(start, end)
    counts = {_enum_value(k): int(n) for k, n in db.session.execute(
        select(CR.kind, func.count(distinct(CR.party_id)))
        .where(CR.recorded_at >= lo, CR.recorded_at < hi,
               CR.kind.in_([consent.ConsentKind.CONSENT_GIVEN, consent.ConsentKind.CONSENT_DECLINED,
                            consent.ConsentKind.CONSENT_WITHDRAWN]))
        .group_by(CR.kind)).all()}
    return {"given": counts.get("consent_given", 0), "declined": counts.get("consent_declined", 0),
            "withdrawn": counts.get("consent_withdrawn", 0)}


def agreements(start: date, end: date) -> dict:
    """Meetings whose outcome was recorded in the period and agreements made in it, by status."""
    ag = _module("rj.agreements.models")
    if ag is None:
        return {}
    lo, hi = bounds(start, end)
    MO, A = ag.MeetingOutcome, ag.Agreement
    held, reached = db.session.execute(
        select(func.sum(sql_case((MO.went_ahead.is_(True), 1), else_=0)),
               func.sum(sql_case((MO.agreement_reached.is_(True), 1), else_=0)))
        .where(MO.recorded_at >= lo, MO.recorded_at < hi)).one()
    by_status = {_enum_value(s): int(n) for s, n in db.session.execute(
        select(A.status, func.count(A.id)).where(A.agreed_on >= start, A.agreed_on <= end, A.meeting_id.is_not(None))
        .group_by(A.status)).all()}
    return {"meetings_went_ahead": int(held or 0), "agreement_reached": int(reached or 0),
            "active": by_status.get("active", 0), "completed": by_status.get("completed", 0),
            "not_kept": by_status.get("not_kept", 0)}


def satisfaction(start: date, end: date) -> dict:
    svc = _module("rj.agreements.services")
    if svc is None or not hasattr(svc, "feedback_summary"):
        return {}
    lo, hi = bounds(start, end)
    return svc.feedback_summary(lo, hi)


def victims_code(start: date, end: date) -> dict:
    """Victims' Code clocks of cases referred in the period: met on time, met late, overdue, due.

    The rule is rj.consent.services.victims_code_clocks' (first contact within 2 working days of
    the referral, information about RJ within 5, or 1 with enhanced rights); this applies it to
    plain rows from one query rather than thousands of loaded parties, so a year's report stays
    fast. tests/reports/test_figures.py checks the two agree."""
    consent = _module("rj.consent.models")
    if consent is None:
        return {}
    from rj.core.time import add_working_days, to_local

    P, CR = consent.Party, consent.ConsentRecord
    lo, hi = bounds(start, end)
    informed = (select(CR.party_id.label("party_id"), func.min(CR.recorded_at).label("at"))
                .where(CR.kind == consent.ConsentKind.INFORMATION_GIVEN, CR.given_by == consent.GivenBy.PARTY)
                .group_by(CR.party_id).subquery())
    rows = db.session.execute(
        select(Case.referred_at, P.enhanced_rights, P.first_contact_at, informed.c.at)
        .join(P, P.case_id == Case.id).outerjoin(informed, informed.c.party_id == P.id)
        .where(Case.referred_at >= lo, Case.referred_at < hi, P.victims_code.is_(True), P.removed_at.is_(None))
    ).all()
    today = local_today()
    due_cache: dict[tuple[date, int], date] = {}

    def due(day: date, days: int) -> date:
        key = (day, days)
        if key not in due_cache:
            due_cache[key] = add_working_days(day, days)
        return due_cache[key]

    out = {k: {"on_time": 0, "late": 0, "overdue": 0, "due": 0, "total": 0} for k in ("first_contact", "rj_information")}
    for referred_at, enhanced, contacted, informed_at in rows:
        day = to_local(referred_at).date()
        for clock, days, done in (("first_contact", 2, contacted), ("rj_information", 1 if enhanced else 5, informed_at)):
            deadline = due(day, days)
            bucket = out[clock]
            bucket["total"] += 1
            if done is not None:
                done = done if done.tzinfo else done.replace(tzinfo=_UTC)
                bucket["on_time" if to_local(done).date() <= deadline else "late"] += 1
            else:
                bucket["overdue" if today > deadline else "due"] += 1
    return out


def _local_day(dt: datetime) -> date:
    from rj.core.time import to_local

    return to_local(dt).date()


def facilitator_activity(start: date, end: date) -> list[dict]:
    """Held meetings and hours per facilitator in the period (one grouped query)."""
    sched = _module("rj.scheduling.models")
    fac = _module("rj.facilitators.models")
    if sched is None or fac is None:
        return []
    from rj.auth.models import User

    M, MF, F = sched.Meeting, sched.MeetingFacilitator, fac.Facilitator
    lo, hi = bounds(start, end)
    rows = db.session.execute(
        select(F.id, User.name, func.count(M.id), func.sum(days_between(M.starts_at, M.ends_at) * 24.0))
        .join(MF, MF.facilitator_id == F.id).join(M, M.id == MF.meeting_id).join(User, User.id == F.user_id)
        .where(M.status == sched.MeetingStatus.HELD, M.starts_at >= lo, M.starts_at < hi,
               or_(MF.attended.is_(None), MF.attended.is_(True)))
        .group_by(F.id, User.name).order_by(User.name)).all()
    return [{"facilitator_id": fid, "name": name, "meetings": int(n), "hours": round(float(h or 0), 1)}
            for fid, name, n, h in rows]


def training_compliance(on: date) -> list[dict]:
    """Active facilitators per compliance item and bucket (rj.facilitators.queries)."""
    q = _module("rj.facilitators.queries")
    fac = _module("rj.facilitators.models")
    if q is None or fac is None or not hasattr(q, "compliance_rows"):
        return []
    rows = q.compliance_rows(on=on, status=fac.FacilitatorStatus.ACTIVE)
    out = []
    for key, label in q.ITEMS:
        counts = {"ok": 0, "expiring": 0, "not_ok": 0}
        for r in rows:
            status = r.items[key].status
            if status == "in_date":
                counts["ok"] += 1
            elif status in ("expiring_7", "expiring_30", "expiring_60"):
                counts["expiring"] += 1
            else:
                counts["not_ok"] += 1
        out.append({"item": label, **counts, "total": len(rows)})
    return out


# --------------------------------------------------------------------------- quarterly return

OUTCOME_COLUMNS = [
    ("agreement_completed", "Agreement completed"),
    ("agreement_not_kept", "Agreement not kept"),
    ("party_withdrew", "A party withdrew"),
    ("unsuitable", "Not suitable"),
    ("no_contact", "No contact"),
    ("declined", "Not taken forward at triage"),
    ("other", "Other"),
]


def concluded_by_level_and_outcome(start: date, end: date) -> dict[int | None, dict[str, int]]:
    """Cases concluded (closed, declined or withdrawn) in the period, by level and outcome."""
    lo, hi = bounds(start, end)
    outcome = sql_case(
        (Case.status == CaseStatus.DECLINED, literal("declined")),
        (Case.status == CaseStatus.WITHDRAWN, literal("party_withdrew")),
        else_=func.coalesce(Case.close_reason, literal("other")),
    )
    # A declined case has no closed_at; its triage time is when it ended.
    ended = func.coalesce(Case.closed_at, Case.triaged_at)
    rows = db.session.execute(
        select(Case.level, outcome, func.count(Case.id))
        .where(Case.status.in_([CaseStatus.CLOSED, CaseStatus.DECLINED, CaseStatus.WITHDRAWN]),
               ended >= lo, ended < hi)
        .group_by(Case.level, outcome)).all()
    out: dict = {}
    for level, key, n in rows:
        key = _enum_value(key)
        if key not in dict(OUTCOME_COLUMNS):
            key = "other"
        out.setdefault(level, {}).setdefault(key, 0)
        out[level][key] += int(n)
    return out


def received_by_level_and_initiator(start: date, end: date) -> dict[int | None, dict[str, int]]:
    """Cases started in the period by level and who initiated them.

    The rule: a referral whose referrer said they are a member of the public (not referring as
    part of their job) is victim-initiated, since members of the public refer as the person harmed
    or on their behalf; a referral from a front-line worker is agency-initiated; a Level 1 record
    (an on-the-spot resolution recorded by staff) has no referral and is agency-initiated."""
    ref = _module("rj.referrals.models")
    lo, hi = bounds(start, end)
    if ref is not None:
        R = ref.Referral
        who = sql_case((R.referrer_is_public.is_(True), literal("victim")), else_=literal("agency"))
        stmt = select(Case.level, who, func.count(Case.id)).outerjoin(R, R.case_id == Case.id)
    else:
        who = literal("agency")
        stmt = select(Case.level, who, func.count(Case.id))
    rows = db.session.execute(stmt.where(Case.referred_at >= lo, Case.referred_at < hi)
                              .group_by(Case.level, who)).all()
    out: dict = {}
    for level, key, n in rows:
        out.setdefault(level, {}).setdefault(key, 0)
        out[level][key] += int(n)
    return out


# --------------------------------------------------------------------------- coordinator home

def triage_waiting(limit: int = DASHBOARD_LIMIT) -> tuple[int, list]:
    """(count, oldest cases) of referrals waiting for triage."""
    waiting = (CaseStatus.REFERRED, CaseStatus.IN_TRIAGE)
    total = db.session.scalar(select(func.count(Case.id)).where(Case.status.in_(waiting))) or 0
    cases = list(db.session.scalars(select(Case).where(Case.status.in_(waiting))
                                    .order_by(Case.referred_at, Case.id).limit(limit)))
    return total, cases


def clocks_due(today: date | None = None) -> list:
    """Victims' Code clocks due or overdue on open cases (rj.consent.services.victims_code_clocks)."""
    consent = _module("rj.consent.models")
    consent_services = _module("rj.consent.services")
    if consent is None or consent_services is None or not hasattr(consent_services, "victims_code_clocks"):
        return []
    P, CR = consent.Party, consent.ConsentRecord
    open_statuses = [s for s in CaseStatus if s not in (CaseStatus.CLOSED, CaseStatus.DECLINED, CaseStatus.WITHDRAWN)]
    # Only cases with a clock still running: a Victims' Code party not yet contacted or not yet informed.
    informed = exists().where(CR.party_id == P.id, CR.kind == consent.ConsentKind.INFORMATION_GIVEN,
                              CR.given_by == consent.GivenBy.PARTY)
    # Light rows stand in for cases (the clock rule reads id and referred_at; the page shows
    # reference and status): thousands of ORM objects would make the home page slow.
    cases = list(db.session.execute(select(Case.id, Case.referred_at, Case.reference, Case.status).where(
        Case.status.in_(open_statuses),
        exists().where(P.case_id == Case.id, P.victims_code.is_(True), P.removed_at.is_(None),
                       or_(P.first_contact_at.is_(None), ~informed)))))
    return consent_services.victims_code_clocks(cases, today=today or local_today())


def waiting_for_consent(limit: int = DASHBOARD_LIMIT) -> tuple[int, list]:
    """Accepted cases, not yet ready to meet, where an active principal party has never given consent."""
    consent = _module("rj.consent.models")
    if consent is None:
        return 0, []
    P, CR = consent.Party, consent.ConsentRecord
    principal = [consent.PartyRole.PARTY, consent.PartyRole.HARMED, consent.PartyRole.RESPONSIBLE]
    no_consent = exists().where(
        P.case_id == Case.id, P.removed_at.is_(None), P.role.in_(principal),
        ~exists().where(CR.party_id == P.id, CR.kind == consent.ConsentKind.CONSENT_GIVEN))
    cond = and_(Case.status.in_([CaseStatus.ACCEPTED, CaseStatus.PREPARATION]), no_consent)
    total = db.session.scalar(select(func.count(Case.id)).where(cond)) or 0
    cases = list(db.session.scalars(select(Case).where(cond).order_by(Case.accepted_at, Case.id).limit(limit)))
    return total, cases


def week_bounds(today: date) -> tuple[datetime, datetime]:
    monday = today - timedelta(days=today.weekday())
    return from_local(monday, time(0, 0)), from_local(monday + timedelta(days=7), time(0, 0))


def meetings_this_week(today: date | None = None, *, now: datetime | None = None) -> dict:
    """Active meetings this (Monday to Sunday) week, and upcoming active meetings with fewer than
    two facilitators. Facilitator counts come from one grouped subquery."""
    sched = _module("rj.scheduling.models")
    if sched is None:
        return {}
    M, MF = sched.Meeting, sched.MeetingFacilitator
    now = now or now_utc()
    lo, hi = week_bounds(today or local_today(now))
    active = [sched.MeetingStatus.PROPOSED, sched.MeetingStatus.BOOKED]
    nfac = (select(MF.meeting_id.label("meeting_id"), func.count(MF.id).label("n"))
            .group_by(MF.meeting_id).subquery())
    count_col = func.coalesce(nfac.c.n, 0)
    week = db.session.execute(
        select(M, Case.reference, count_col).join(Case, Case.id == M.case_id)
        .outerjoin(nfac, nfac.c.meeting_id == M.id)
        .where(M.status.in_(active), M.starts_at >= lo, M.starts_at < hi)
        .order_by(M.starts_at, M.id).limit(50)).all()
    week_total = db.session.scalar(select(func.count(M.id)).where(
        M.status.in_(active), M.starts_at >= lo, M.starts_at < hi)) or 0
    short_cond = and_(M.status.in_(active), M.starts_at >= now, count_col < 2)
    short_total = db.session.scalar(select(func.count(M.id)).outerjoin(nfac, nfac.c.meeting_id == M.id)
                                    .where(short_cond)) or 0
    short = db.session.execute(
        select(M, Case.reference, count_col).join(Case, Case.id == M.case_id)
        .outerjoin(nfac, nfac.c.meeting_id == M.id).where(short_cond)
        .order_by(M.starts_at, M.id).limit(DASHBOARD_LIMIT)).all()
    return {"week": week, "week_total": week_total, "short": short, "short_total": short_total}


def pending_offers(*, facilitator_id: int | None = None, limit: int = DASHBOARD_LIMIT) -> dict | None:
    """Offers waiting for an answer (rj.rostering Offer), all or one facilitator's. None when the
    rostering domain has no offers."""
    rost = _module("rj.rostering.models")
    if rost is None or not hasattr(rost, "Offer"):
        return None
    O = rost.Offer
    status_enum = getattr(rost, "OfferStatus", None)
    pending = status_enum("pending") if status_enum is not None else "pending"
    cond = [O.status == pending]
    if facilitator_id is not None:
        cond.append(O.facilitator_id == facilitator_id)
    total = db.session.scalar(select(func.count(O.id)).where(*cond)) or 0
    from rj.auth.models import User
    from rj.facilitators.models import Facilitator

    rows = db.session.execute(
        select(O, Case.reference, User.name).join(Case, Case.id == O.case_id)
        .join(Facilitator, Facilitator.id == O.facilitator_id).join(User, User.id == Facilitator.user_id)
        .where(*cond).order_by(O.expires_at, O.id).limit(limit)).all()
    return {"total": total, "offers": rows}


def overdue_agreement_items(today: date | None = None, limit: int = DASHBOARD_LIMIT) -> dict | None:
    """Agreed actions past their date and still pending (the rule of rj.agreements.services.overdue_items)."""
    ag = _module("rj.agreements.models")
    if ag is None:
        return None
    I, A = ag.AgreementItem, ag.Agreement
    today = today or local_today()
    cond = and_(I.status == ag.ItemStatus.PENDING, I.due_on < today, A.status == ag.AgreementStatus.ACTIVE)
    total = db.session.scalar(select(func.count(I.id)).join(A, A.id == I.agreement_id).where(cond)) or 0
    rows = db.session.execute(
        select(I.id, I.case_id, I.kind, I.due_on, Case.reference).join(A, A.id == I.agreement_id)
        .join(Case, Case.id == I.case_id).where(cond).order_by(I.due_on, I.id).limit(limit)).all()
    return {"total": total, "items": rows}


def expiring_checks(now: datetime | None = None, within_days: int = 30) -> list | None:
    q = _module("rj.facilitators.queries")
    if q is None or not hasattr(q, "expiring_items"):
        return None
    return q.expiring_items(now=now, within_days=within_days)


def failed_messages() -> int | None:
    svc = _module("rj.notifications.services")
    if svc is None or not hasattr(svc, "outbox_counts"):
        return None
    return svc.outbox_counts().get("failed", 0)


# --------------------------------------------------------------------------- facilitator home

def next_meetings_for(facilitator_id: int, *, now: datetime | None = None, limit: int = DASHBOARD_LIMIT) -> list:
    sched = _module("rj.scheduling.models")
    if sched is None:
        return []
    M, MF = sched.Meeting, sched.MeetingFacilitator
    return list(db.session.execute(
        select(M, MF.role, Case.reference).join(MF, MF.meeting_id == M.id).join(Case, Case.id == M.case_id)
        .where(MF.facilitator_id == facilitator_id, M.starts_at >= (now or now_utc()),
               M.status.in_([sched.MeetingStatus.PROPOSED, sched.MeetingStatus.BOOKED]))
        .order_by(M.starts_at, M.id).limit(limit)).all())


def training_due_for(facilitator, today: date) -> list:
    """A facilitator's compliance items that are not simply in date."""
    q = _module("rj.facilitators.queries")
    if q is None or not hasattr(q, "compliance_for"):
        return []
    items = q.compliance_for(facilitator, today)
    return [i for i in items.values() if i.status != "in_date"]
