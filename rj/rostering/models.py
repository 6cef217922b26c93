"""Rostering: the team on each case, offers facilitators answer, and auto-roster proposals.

Domain rule 4: meetings are run by two facilitators, and a newly trained one is paired with an
experienced one. Continuity: a case keeps one team (lead and co-facilitator) from the first
preparation meeting to the follow-up; a replacement is a recorded change with a reason.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj.core.db import StatusMixin, UTCDateTime, enum_column
from rj.extensions import db


class TeamRole(str, enum.Enum):
    LEAD = "lead"
    CO = "co"

    @property
    def label(self) -> str:
        return "Lead facilitator" if self is TeamRole.LEAD else "Co-facilitator"

    @property
    def other(self) -> TeamRole:
        return TeamRole.CO if self is TeamRole.LEAD else TeamRole.LEAD


class TeamStatus(str, enum.Enum):
    ACTIVE = "active"
    ENDED = "ended"      # the case closed, or the team was stood down


# Coded reasons for a replacement: never a narrative about a person.
REPLACEMENT_REASONS = {
    "unavailable": "No longer available for this case",
    "unwell": "Unwell",
    "conflict_of_interest": "Conflict of interest found",
    "left_service": "Left the service or paused",
    "party_request": "A party asked for a change",
    "workload": "Workload",
    "other": "Other",
}


class CaseTeam(db.Model):
    """The two facilitators on a case. At most one active team per case (partial unique index);
    the lead and co-facilitator are different people; changes are kept in TeamChange rows."""

    __tablename__ = "case_team"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    lead_facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id"), index=True)
    co_facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id"), index=True)
    status: Mapped[TeamStatus] = mapped_column(enum_column(TeamStatus), default=TeamStatus.ACTIVE)
    formed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    formed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("lead_facilitator_id <> co_facilitator_id", name="team_two_people"),
        Index("uq_case_team_active", "case_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    case = relationship("Case")
    lead_facilitator = relationship("Facilitator", foreign_keys=[lead_facilitator_id])
    co_facilitator = relationship("Facilitator", foreign_keys=[co_facilitator_id])
    changes: Mapped[list[TeamChange]] = relationship(back_populates="team", order_by="TeamChange.id")

    def member_ids(self) -> tuple[int, int]:
        return self.lead_facilitator_id, self.co_facilitator_id


class TeamChange(db.Model):
    """One entry in a team's history: formed, a member replaced (with a coded reason), or ended."""

    __tablename__ = "case_team_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("case_team.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # formed | replaced | swapped | ended
    role: Mapped[TeamRole | None] = mapped_column(enum_column(TeamRole))
    old_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"))
    new_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"))
    reason: Mapped[str | None] = mapped_column(String(40))  # a key of REPLACEMENT_REASONS
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    team: Mapped[CaseTeam] = relationship(back_populates="changes")
    old_facilitator = relationship("Facilitator", foreign_keys=[old_facilitator_id])
    new_facilitator = relationship("Facilitator", foreign_keys=[new_facilitator_id])
    by = relationship("User")

    @property
    def reason_label(self) -> str:
        return REPLACEMENT_REASONS.get(self.reason or "", "")


class OfferStatus(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    RELEASED = "released"      # not answered in time: the place went to the next suggestion
    WITHDRAWN = "withdrawn"    # the coordinator took it back (the place was filled another way)

    @property
    def label(self) -> str:
        return self.value.capitalize()


O = OfferStatus


class Offer(StatusMixin, db.Model):
    """A place on a case team (or one meeting) offered to a facilitator, who accepts or declines it
    before expires_at. Only pending offers move; an accepted lead and co pair forms the CaseTeam."""

    __tablename__ = "roster_offer"

    TRANSITIONS = {
        O.PENDING: (O.ACCEPTED, O.DECLINED, O.RELEASED, O.WITHDRAWN),
        O.ACCEPTED: (O.WITHDRAWN,),
        O.DECLINED: (),
        O.RELEASED: (),
        O.WITHDRAWN: (),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    role: Mapped[TeamRole] = mapped_column(enum_column(TeamRole))
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), default=OfferStatus.PENDING)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The auto-roster run this offer came from, if any.
    roster_run_id: Mapped[int | None] = mapped_column(ForeignKey("roster_run.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_roster_offer_due", "status", "expires_at"),)

    facilitator = relationship("Facilitator")
    case = relationship("Case")
    meeting = relationship("Meeting")

    @property
    def is_pending(self) -> bool:
        return self.status is OfferStatus.PENDING


class RosterRunStatus(str, enum.Enum):
    DRAFT = "draft"            # proposed, waiting for the coordinator's review
    CONFIRMED = "confirmed"    # turned into offers
    DISCARDED = "discarded"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class RosterRun(db.Model):
    """One auto-roster proposal for a period. Nothing is offered until a coordinator confirms it."""

    __tablename__ = "roster_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)   # local dates, inclusive
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[RosterRunStatus] = mapped_column(enum_column(RosterRunStatus), default=RosterRunStatus.DRAFT)
    method: Mapped[str] = mapped_column(String(60))    # cp-sat, or greedy when the solver found nothing better
    solver_status: Mapped[str] = mapped_column(String(60), default="")
    solve_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    items: Mapped[list[RosterProposal]] = relationship(back_populates="run", order_by="RosterProposal.id",
                                                       cascade="all, delete-orphan")
    created_by = relationship("User")


class RosterProposal(db.Model):
    """One case in a roster run: the proposed team, or none (unfilled, with why)."""

    __tablename__ = "roster_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("roster_run.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"))
    lead_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"))
    co_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"))
    meetings: Mapped[int] = mapped_column(Integer, default=0)  # meetings of the case in the period
    # Why no team could be proposed (coded, e.g. too_few_candidates), when unfilled.
    unfilled_reason: Mapped[str | None] = mapped_column(String(40))

    run: Mapped[RosterRun] = relationship(back_populates="items")
    case = relationship("Case")
    lead_facilitator = relationship("Facilitator", foreign_keys=[lead_facilitator_id])
    co_facilitator = relationship("Facilitator", foreign_keys=[co_facilitator_id])

    @property
    def filled(self) -> bool:
        return self.lead_facilitator_id is not None
