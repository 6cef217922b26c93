"""Read-side queries over facilitators: compliance per item, and what is about to expire.

Each runs a fixed number of queries however many facilitators there are: the facilitators, then one
query per related collection (selectinload), then one grouped count of cases facilitated.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rj.auth.models import User
from rj.core.time import local_today, now_utc
from rj.extensions import db
from rj.facilitators import services
from rj.facilitators.models import (
    CourseCategory, Facilitator, FacilitatorStatus, TrainingRecord, add_months,
)

# Buckets, worst first. An item is valid up to and including its due day, so "expires today" is
# still in the 7-day bucket and becomes "expired" tomorrow.
BUCKETS = ["missing", "expired", "expiring_7", "expiring_30", "expiring_60", "in_date"]
BUCKET_LABELS = {
    "missing": "Missing", "expired": "Expired", "expiring_7": "Expires within 7 days",
    "expiring_30": "Expires within 30 days", "expiring_60": "Expires within 60 days", "in_date": "In date",
    "below_target": "Below target",
}
BUCKET_TAGS = {
    "missing": "govuk-tag--red", "expired": "govuk-tag--red", "expiring_7": "govuk-tag--orange",
    "expiring_30": "govuk-tag--yellow", "expiring_60": "govuk-tag--blue", "in_date": "govuk-tag--green",
    "below_target": "govuk-tag--orange",
}
ITEMS = [
    ("qualifying_training", "Qualifying training"),
    ("safeguarding", "Safeguarding"),
    ("dbs", "DBS check"),
    ("supervision", "Supervision"),
    ("observed_practice", "Observed practice"),
    ("cpd", "CPD hours"),
]
ITEM_LABELS = dict(ITEMS)


def eligibility_options():
    """Loader options so check_eligibility over many facilitators adds no query per facilitator."""
    return (
        selectinload(Facilitator.training_records).joinedload(TrainingRecord.course),
        selectinload(Facilitator.supervision_sessions),
        selectinload(Facilitator.dbs_checks),
        selectinload(Facilitator.conflicts),
    )


def bucket_for(due: date | None, today: date) -> str:
    """in date / expiring in 60, 30 or 7 days / expired, for an item valid through `due`."""
    if due is None:
        return "in_date"
    days = (due - today).days
    if days < 0:
        return "expired"
    if days <= 7:
        return "expiring_7"
    if days <= 30:
        return "expiring_30"
    if days <= 60:
        return "expiring_60"
    return "in_date"


@dataclass
class ComplianceItem:
    key: str
    status: str               # one of BUCKETS, or "below_target" for CPD
    due: date | None = None   # last valid day; None for "never expires" or missing
    detail: str = ""

    @property
    def label(self) -> str:
        return ITEM_LABELS[self.key]

    @property
    def status_label(self) -> str:
        return BUCKET_LABELS[self.status]

    @property
    def tag(self) -> str:
        return BUCKET_TAGS[self.status]


@dataclass
class ComplianceRow:
    facilitator: Facilitator
    items: dict[str, ComplianceItem]

    @property
    def urgency(self) -> tuple[int, ...]:
        """Every item's bucket rank, worst first: more missing or expired items sort earlier."""
        order = {b: i for i, b in enumerate(BUCKETS)}
        order["below_target"] = order["expiring_30"]
        return tuple(sorted(order[i.status] for i in self.items.values()))

    @property
    def next_due(self) -> date:
        dues = [i.due for i in self.items.values() if i.due is not None]
        return min(dues) if dues else date.max


def _training_item(key: str, records: list[TrainingRecord], today: date) -> ComplianceItem:
    done = [r for r in records if r.completed_on <= today]
    if not done:
        return ComplianceItem(key, "missing")
    valid = [r for r in done if r.valid_on(today)]
    if valid:
        never = [r for r in valid if r.expires_on is None]
        if never:
            return ComplianceItem(key, "in_date", None, never[0].course.name)
        best = max(valid, key=lambda r: r.expires_on)
        return ComplianceItem(key, bucket_for(best.expires_on, today), best.expires_on, best.course.name)
    last = max(done, key=lambda r: r.expires_on)
    return ComplianceItem(key, "expired", last.expires_on, last.course.name)


def hours_text(hours) -> str:
    """2.0 -> "2", 12.50 -> "12.5"."""
    return f"{Decimal(hours).normalize():f}"


def compliance_for(facilitator: Facilitator, today: date) -> dict[str, ComplianceItem]:
    """Every compliance item of one facilitator on `today` (relationships must be loaded or loadable)."""
    items: dict[str, ComplianceItem] = {}
    items["qualifying_training"] = _training_item(
        "qualifying_training",
        [r for r in facilitator.training_records if r.course.category is CourseCategory.QUALIFYING], today)
    items["safeguarding"] = _training_item("safeguarding", services.safeguarding_records(facilitator), today)

    dbs = services.current_dbs(facilitator, today)
    if dbs is None:
        items["dbs"] = ComplianceItem("dbs", "missing")
    else:
        due = dbs.renewal_due(services.dbs_renewal_years())
        items["dbs"] = ComplianceItem("dbs", bucket_for(due, today), due, dbs.level.label)

    due = services.supervision_due(facilitator, today)
    items["supervision"] = (ComplianceItem("supervision", "missing") if due is None
                            else ComplianceItem("supervision", bucket_for(due, today), due))

    observed = [o.observed_on for o in facilitator.observations if o.observed_on <= today]
    if observed:
        due = add_months(max(observed), 12)
        items["observed_practice"] = ComplianceItem("observed_practice", bucket_for(due, today), due)
    else:
        items["observed_practice"] = ComplianceItem("observed_practice", "missing")

    totals = services.cpd_totals(facilitator, on=today)
    detail = f"{hours_text(totals.total)} of {totals.target} hours ({hours_text(totals.approved)} RJC-approved)"
    if totals.met:
        status = "in_date"
    elif totals.total == 0:
        status = "missing"
    else:
        status = "below_target"
    items["cpd"] = ComplianceItem("cpd", status, None, detail)
    return items


def _facilitators(statuses=None):
    stmt = (
        select(Facilitator).join(Facilitator.user)
        .options(*eligibility_options(), selectinload(Facilitator.observations),
                 selectinload(Facilitator.cpd_entries))
        .order_by(User.name, Facilitator.id)
    )
    if statuses:
        stmt = stmt.where(Facilitator.status.in_(list(statuses)))
    return list(db.session.scalars(stmt).unique())


SORTS = {"name": "Name", "worst": "Most urgent first", "next_due": "Next due date"}


def compliance_rows(*, on: date | None = None, status: FacilitatorStatus | None = None,
                    sort: str = "name") -> list[ComplianceRow]:
    """The compliance view: every facilitator (optionally of one status), every item's bucket."""
    today = on or local_today()
    rows = [ComplianceRow(f, compliance_for(f, today)) for f in _facilitators([status] if status else None)]
    if sort == "worst":
        rows.sort(key=lambda r: (r.urgency, r.next_due, r.facilitator.name.lower()))
    elif sort == "next_due":
        rows.sort(key=lambda r: (r.next_due, r.facilitator.name.lower()))
    return rows


@dataclass
class ExpiringItem:
    facilitator: Facilitator
    item: str          # ITEMS key
    due: date          # last valid day
    days_left: int     # 0 means it expires today

    @property
    def label(self) -> str:
        return ITEM_LABELS[self.item]


def expiring_items(now: datetime | None = None, within_days: int = 60) -> list[ExpiringItem]:
    """Items of active facilitators still valid today that run out within `within_days` days
    (0 = today), soonest first. The reminder job sends from this; it is read-only."""
    today = local_today(now or now_utc())
    found = []
    for f in _facilitators([FacilitatorStatus.ACTIVE]):
        for key, item in compliance_for(f, today).items():
            if item.due is None or item.status in ("missing", "expired"):
                continue
            days = (item.due - today).days
            if 0 <= days <= within_days:
                found.append(ExpiringItem(f, key, item.due, days))
    found.sort(key=lambda e: (e.due, e.facilitator.id, e.item))
    return found


def facilitator_list(*, status: FacilitatorStatus | None = None) -> list[Facilitator]:
    stmt = select(Facilitator).join(Facilitator.user).order_by(User.name, Facilitator.id)
    if status:
        stmt = stmt.where(Facilitator.status == status)
    return list(db.session.scalars(stmt).unique())
