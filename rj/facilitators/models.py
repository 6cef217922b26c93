"""Facilitators, their declared conflicts, and the training record that decides what they may facilitate.

Rule 4 of the domain: a facilitator may be rostered only to a level their current, unexpired training
qualifies them for, with a valid DBS check, and never to a case where they declared a conflict of
interest. The rule itself lives in services.check_eligibility; these models hold the facts it reads.
"""
from __future__ import annotations

import calendar
import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj.core.db import UTCDateTime, enum_column
from rj.core.permissions import Perm, has_perm
from rj.extensions import db

# Where in Stockport a facilitator can travel to: the borough's districts and larger neighbourhoods.
STOCKPORT_AREAS = [
    "Adswood", "Bramhall", "Bredbury", "Brinnington", "Cheadle", "Cheadle Hulme", "Compstall",
    "Davenport", "Edgeley", "Gatley", "Great Moor", "Hazel Grove", "Heald Green", "Heaton Chapel",
    "Heaton Mersey", "Heaton Moor", "Heaton Norris", "High Lane", "Marple", "Offerton", "Reddish",
    "Romiley", "Shaw Heath", "Stockport town centre", "Woodley",
]

LANGUAGES = [
    "English", "Arabic", "Bengali", "British Sign Language", "Cantonese", "French", "Kurdish",
    "Panjabi", "Polish", "Romanian", "Somali", "Spanish", "Urdu",
]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clipped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class FacilitatorKind(str, enum.Enum):
    VOLUNTEER = "volunteer"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class FacilitatorStatus(str, enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"    # taking a break: keeps their record, is offered nothing
    LEFT = "left"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class PractitionerLevel(str, enum.Enum):
    """The Restorative Justice Council practitioner level, which sets the yearly CPD target."""

    FOUNDATION = "foundation"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def cpd_target_hours(self) -> int:
        return {"foundation": 6, "intermediate": 12, "advanced": 16}[self.value]


class Facilitator(db.Model):
    """A facilitator's profile, one per user account. Only `active` facilitators may be offered work."""

    __tablename__ = "facilitator"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    kind: Mapped[FacilitatorKind] = mapped_column(enum_column(FacilitatorKind), default=FacilitatorKind.VOLUNTEER)
    status: Mapped[FacilitatorStatus] = mapped_column(enum_column(FacilitatorStatus), default=FacilitatorStatus.ACTIVE,
                                                      index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    languages: Mapped[list] = mapped_column(JSON, default=list)
    areas: Mapped[list] = mapped_column(JSON, default=list)
    max_meetings_per_month: Mapped[int] = mapped_column(Integer, default=4)
    practitioner_level: Mapped[PractitionerLevel] = mapped_column(enum_column(PractitionerLevel),
                                                                  default=PractitionerLevel.FOUNDATION)
    # Set by a coordinator: counts as experienced whatever the number of cases facilitated here
    # (e.g. a practitioner who came with years of RJ work elsewhere).
    experienced: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    user = relationship("User", lazy="joined", innerjoin=True)
    conflicts: Mapped[list[ConflictOfInterest]] = relationship(back_populates="facilitator",
                                                               order_by="ConflictOfInterest.id")
    training_records: Mapped[list[TrainingRecord]] = relationship(back_populates="facilitator",
                                                                  order_by="TrainingRecord.completed_on.desc()")
    goals: Mapped[list[TrainingPlanGoal]] = relationship(order_by="TrainingPlanGoal.target_date")
    supervision_sessions: Mapped[list[SupervisionSession]] = relationship(
        order_by="SupervisionSession.held_on.desc()")
    observations: Mapped[list[ObservedPractice]] = relationship(order_by="ObservedPractice.observed_on.desc()")
    cpd_entries: Mapped[list[CpdEntry]] = relationship(order_by="CpdEntry.done_on.desc()")
    dbs_checks: Mapped[list[DbsCheck]] = relationship(order_by="DbsCheck.issued_on.desc()")

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def email(self) -> str:
        return self.user.email

    def can_view(self, user) -> bool:
        """Coordinators and managers see every facilitator; a facilitator only themselves."""
        if has_perm(user, Perm.FACILITATORS_MANAGE):
            return True
        return has_perm(user, Perm.OWN_PROFILE) and user.id == self.user_id

    def __repr__(self) -> str:
        return f"<Facilitator {self.id}>"


class ConflictKind(str, enum.Enum):
    PERSON = "person"
    ADDRESS = "address"            # an address or a street
    ORGANISATION = "organisation"

    @property
    def label(self) -> str:
        return {"person": "Person", "address": "Address or street", "organisation": "Organisation"}[self.value]


class ConflictOfInterest(db.Model):
    """Something a facilitator declared they must not be rostered near. Matched case-insensitively
    against a case's parties and referrer; a match makes the facilitator ineligible for that case."""

    __tablename__ = "facilitator_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConflictKind] = mapped_column(enum_column(ConflictKind))
    value: Mapped[str] = mapped_column(String(200))
    # The facilitator's own explanation; never shown in eligibility reasons or to other facilitators.
    private_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    facilitator: Mapped[Facilitator] = relationship(back_populates="conflicts")


class CourseCategory(str, enum.Enum):
    """A qualifying course makes someone a facilitator for its levels; the others are supplementary.
    Of the supplementary ones, safeguarding is required for eligibility (see services.check_eligibility)."""

    QUALIFYING = "qualifying"
    SAFEGUARDING = "safeguarding"
    DATA_PROTECTION = "data_protection"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"qualifying": "Qualifying (facilitation)", "safeguarding": "Safeguarding",
                "data_protection": "Data protection", "other": "Other (supplementary)"}[self.value]


class Course(db.Model):
    """A course in the catalogue kept by managers. `levels` are the RJ levels a qualifying course
    qualifies for; `validity_months` None means it does not expire."""

    __tablename__ = "training_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    provider: Mapped[str] = mapped_column(String(160))
    category: Mapped[CourseCategory] = mapped_column(enum_column(CourseCategory))
    levels: Mapped[list] = mapped_column(JSON, default=list)
    validity_months: Mapped[int | None] = mapped_column(Integer)
    # A retired course stays on old records but is not offered for new ones.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def levels_label(self) -> str:
        if not self.levels:
            return "None"
        return ", ".join(f"Level {n}" for n in sorted(self.levels))

    def expiry_for(self, completed_on: date) -> date | None:
        return add_months(completed_on, self.validity_months) if self.validity_months else None


class TrainingRecord(db.Model):
    """A course a facilitator completed. Valid up to and including `expires_on` (None: never expires).
    Once verified by a coordinator, the facilitator cannot change it."""

    __tablename__ = "training_record"
    __table_args__ = (
        UniqueConstraint("facilitator_id", "course_id", "completed_on", name="uq_training_record_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id"))
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    evidence_reference: Mapped[str | None] = mapped_column(String(120))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    facilitator: Mapped[Facilitator] = relationship(back_populates="training_records")
    course: Mapped[Course] = relationship(lazy="joined", innerjoin=True)
    verified_by = relationship("User", foreign_keys=[verified_by_id])

    def valid_on(self, day: date) -> bool:
        return self.completed_on <= day and (self.expires_on is None or self.expires_on >= day)


class GoalStatus(str, enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class TrainingPlanGoal(db.Model):
    """A goal in a facilitator's training plan, set and reviewed with the coordinator."""

    __tablename__ = "training_plan_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    target_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(enum_column(GoalStatus), default=GoalStatus.PLANNED)
    progress_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class SupervisionSession(db.Model):
    """Supervision, due at least every 12 weeks (RJC practitioner code). Notes are for
    SUPERVISION_NOTES holders only: never the facilitator, never coordinators."""

    __tablename__ = "supervision_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    supervisor_name: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ObservationOutcome(str, enum.Enum):
    MEETS_STANDARD = "meets_standard"
    DEVELOPMENT_NEEDED = "development_needed"
    NOT_YET = "not_yet"

    @property
    def label(self) -> str:
        return {"meets_standard": "Meets the standard", "development_needed": "Development needed",
                "not_yet": "Not yet meeting the standard"}[self.value]


class ObservedPractice(db.Model):
    """An observed session: at least one a year."""

    __tablename__ = "observed_practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"), index=True)
    observed_on: Mapped[date] = mapped_column(Date)
    observer_name: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[ObservationOutcome] = mapped_column(enum_column(ObservationOutcome))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CpdEntry(db.Model):
    """Continuing professional development, counted over a rolling 12 months against the
    practitioner level's target, at least half of it RJC-approved."""

    __tablename__ = "cpd_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"), index=True)
    done_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    activity: Mapped[str] = mapped_column(String(200))
    rjc_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class DbsLevel(str, enum.Enum):
    ENHANCED = "enhanced"
    ENHANCED_BARRED_CHILDREN = "enhanced_barred_children"
    ENHANCED_BARRED_ADULTS = "enhanced_barred_adults"
    ENHANCED_BARRED_BOTH = "enhanced_barred_both"

    @property
    def label(self) -> str:
        return {
            "enhanced": "Enhanced",
            "enhanced_barred_children": "Enhanced with children's barred list",
            "enhanced_barred_adults": "Enhanced with adults' barred list",
            "enhanced_barred_both": "Enhanced with children's and adults' barred lists",
        }[self.value]


class DbsCheck(db.Model):
    """A Disclosure and Barring Service certificate. The newest one counts; it must be renewed
    DBS_RENEWAL_YEARS after issue and is valid up to and including that day."""

    __tablename__ = "dbs_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"), index=True)
    level: Mapped[DbsLevel] = mapped_column(enum_column(DbsLevel))
    certificate_number: Mapped[str] = mapped_column(String(12))
    issued_on: Mapped[date] = mapped_column(Date)
    update_service: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def masked_number(self) -> str:
        return mask_certificate(self.certificate_number)

    def renewal_due(self, years: int) -> date:
        return add_months(self.issued_on, 12 * years)


def mask_certificate(number: str | None) -> str:
    """A certificate number as ********1234: enough to match a paper copy, not to reuse."""
    if not number:
        return ""
    return "*" * max(len(number) - 4, 0) + number[-4:]
