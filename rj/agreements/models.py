"""Outcomes and follow-up: what a meeting decided, whether it was kept, what the parties
thought of it, and Level 1 (on-the-spot) resolutions recorded after the fact."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj.core.db import StatusMixin, UTCDateTime, enum_column
from rj.extensions import db


class ItemKind(str, enum.Enum):
    APOLOGY_SPOKEN = "apology_spoken"
    APOLOGY_WRITTEN = "apology_written"
    REPAIR_DAMAGE = "repair_damage"
    COMMUNITY_ACTIVITY = "community_activity"      # or unpaid work for a charity
    KEEP_INFORMED = "keep_informed"                # keeping the person harmed informed of progress
    PROGRAMME = "programme"                        # attending a programme or support service
    FUTURE_BEHAVIOUR = "future_behaviour"
    FINANCIAL_REPARATION = "financial_reparation"  # post-sentence only; never in SoRT-IT
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "apology_spoken": "Apology (spoken)",
            "apology_written": "Apology (written)",
            "repair_damage": "Repairing damage",
            "community_activity": "Community activity or unpaid work for a charity",
            "keep_informed": "Keeping the person harmed informed of progress",
            "programme": "Attending a programme or support service",
            "future_behaviour": "A commitment about future behaviour",
            "financial_reparation": "Financial reparation",
            "other": "Other",
        }[self.value]


class ItemStatus(str, enum.Enum):
    PENDING = "pending"
    DONE = "done"
    NOT_KEPT = "not_kept"

    @property
    def label(self) -> str:
        return {"pending": "Pending", "done": "Done", "not_kept": "Not kept"}[self.value]


class AgreementStatus(str, enum.Enum):
    ACTIVE = "active"          # items still being followed up
    COMPLETED = "completed"    # every item done
    NOT_KEPT = "not_kept"      # recorded as not kept (or some item was not kept)

    @property
    def label(self) -> str:
        return {"active": "Being followed up", "completed": "Completed", "not_kept": "Not kept"}[self.value]


class NotHeldReason(str, enum.Enum):
    PARTY_DID_NOT_ATTEND = "party_did_not_attend"
    PARTY_WITHDREW = "party_withdrew"
    FACILITATOR_UNAVAILABLE = "facilitator_unavailable"
    SAFETY_CONCERN = "safety_concern"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "party_did_not_attend": "A party did not attend",
            "party_withdrew": "A party withdrew on the day",
            "facilitator_unavailable": "A facilitator was not available",
            "safety_concern": "A safety concern",
            "other": "Another reason",
        }[self.value]


class MeetingOutcome(db.Model):
    """What happened at one meeting: whether it went ahead and whether an agreement was reached.
    One per meeting; correcting it is an edit of the same row (versioned, audited)."""

    __tablename__ = "meeting_outcome"
    __table_args__ = (UniqueConstraint("meeting_id", name="uq_meeting_outcome_meeting"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    went_ahead: Mapped[bool] = mapped_column(Boolean)
    not_held_reason: Mapped[NotHeldReason | None] = mapped_column(enum_column(NotHeldReason))
    agreement_reached: Mapped[bool | None] = mapped_column(Boolean)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Agreement(StatusMixin, db.Model):
    """What the parties agreed to put things right. In a SoRT-IT case it holds no payment, fine or
    punishment and records no guilt; a post-sentence agreement may include reparation, never a fine.
    It is complete when every item is done, or not kept when recorded so (rule 6)."""

    __tablename__ = "agreement"

    TRANSITIONS = {
        AgreementStatus.ACTIVE: (AgreementStatus.COMPLETED, AgreementStatus.NOT_KEPT),
        AgreementStatus.COMPLETED: (),
        AgreementStatus.NOT_KEPT: (),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    # The restorative meeting or indirect process it came from (none for a Level 1 record).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    status: Mapped[AgreementStatus] = mapped_column(enum_column(AgreementStatus), default=AgreementStatus.ACTIVE)
    agreed_on: Mapped[date] = mapped_column(Date)
    not_kept_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    case = relationship("Case")
    items: Mapped[list[AgreementItem]] = relationship(
        back_populates="agreement", order_by="AgreementItem.id", cascade="all, delete-orphan")

    @property
    def all_resolved(self) -> bool:
        return bool(self.items) and all(i.status is not ItemStatus.PENDING for i in self.items)

    def can_view(self, user) -> bool:
        from rj.agreements.services import can_record_for_meeting
        from rj.core.permissions import Perm, has_perm

        if has_perm(user, Perm.OUTCOMES_RECORD):
            return True
        return self.meeting_id is not None and can_record_for_meeting(user, self.meeting_id)


class AgreementItem(StatusMixin, db.Model):
    """One agreed action: what, who (a party of the case), by when (not before the meeting) and how
    it will be checked. Pending until verified done (with evidence) or recorded as not kept."""

    __tablename__ = "agreement_item"
    __table_args__ = (Index("ix_agreement_item_status_due", "status", "due_on"),)

    TRANSITIONS = {
        ItemStatus.PENDING: (ItemStatus.DONE, ItemStatus.NOT_KEPT),
        ItemStatus.NOT_KEPT: (ItemStatus.DONE,),   # kept late after all
        ItemStatus.DONE: (),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"), index=True)
    # Copied from the agreement so the overdue sweep and audit need no join.
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind))
    description: Mapped[str] = mapped_column(Text)
    party_id: Mapped[int] = mapped_column(ForeignKey("consent_party.id"))
    due_on: Mapped[date] = mapped_column(Date)
    check_method: Mapped[str] = mapped_column(Text)
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus), default=ItemStatus.PENDING)
    evidence: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_kept_reason: Mapped[str | None] = mapped_column(Text)
    # When the worker last reminded the coordinator, so a reminder is sent once per item.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    agreement: Mapped[Agreement] = relationship(back_populates="items")
    party = relationship("Party")
    verified_by = relationship("User", foreign_keys=[verified_by_id])


class IndirectMessage(db.Model):
    """A letter or message passed between parties in an indirect ("shuttle") process. Only the
    fact of it is recorded here (date, from, to, delivered), not its contents."""

    __tablename__ = "indirect_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    kind: Mapped[str] = mapped_column(String(16))  # letter | message | recording
    sent_on: Mapped[date] = mapped_column(Date)
    from_party_id: Mapped[int] = mapped_column(ForeignKey("consent_party.id"))
    to_party_id: Mapped[int] = mapped_column(ForeignKey("consent_party.id"))
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    from_party = relationship("Party", foreign_keys=[from_party_id])
    to_party = relationship("Party", foreign_keys=[to_party_id])


class FollowUpContact(db.Model):
    """A follow-up contact planned with the parties (say three months after the meeting)."""

    __tablename__ = "follow_up_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreement.id"))
    due_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16))  # phone | visit | email | letter | meeting
    # The follow-up meeting booked through scheduling, when one was.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedbackStage(str, enum.Enum):
    AFTER_MEETING = "after_meeting"
    FOLLOW_UP = "follow_up"

    @property
    def label(self) -> str:
        return {"after_meeting": "After the meeting", "follow_up": "At follow-up"}[self.value]


class FeedbackRequest(db.Model):
    """A survey link sent to one party: a random token stored hashed, no log-in, single use,
    expiring. The answer is stored once; a second answer or an expired link stores nothing."""

    __tablename__ = "feedback_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("consent_party.id"))
    stage: Mapped[FeedbackStage] = mapped_column(enum_column(FeedbackStage))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    party = relationship("Party")
    response: Mapped[FeedbackResponse | None] = relationship(back_populates="request", uselist=False)


class FeedbackResponse(db.Model):
    """A party's answers. Linked to the case for the coordinator; reports see only counts."""

    __tablename__ = "feedback_response"
    __table_args__ = (UniqueConstraint("request_id", name="uq_feedback_response_request"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    stage: Mapped[FeedbackStage] = mapped_column(enum_column(FeedbackStage))
    satisfaction: Mapped[int] = mapped_column(Integer)  # 1 (very dissatisfied) to 5 (very satisfied)
    felt_safe: Mapped[str] = mapped_column(String(8))        # yes | partly | no
    felt_listened_to: Mapped[str] = mapped_column(String(8))
    would_recommend: Mapped[str] = mapped_column(String(8))
    comments: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    request: Mapped[FeedbackRequest] = relationship(back_populates="response")


class Level1Record(db.Model):
    """A Level 1 (on-the-spot) resolution recorded after the fact, with its own closed case so it
    counts in reports. Recorded only when the basic standards were met: the person harmed was
    consulted and agreed, and the person responsible admitted it and agreed."""

    __tablename__ = "level1_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), unique=True)
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    area: Mapped[str] = mapped_column(String(80))
    agreed: Mapped[str] = mapped_column(Text)
    harmed_consulted_and_agreed: Mapped[bool] = mapped_column(Boolean)
    responsible_admitted_and_agreed: Mapped[bool] = mapped_column(Boolean)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case = relationship("Case")
    recorded_by = relationship("User")
    parties: Mapped[list[Level1Party]] = relationship(
        back_populates="record", order_by="Level1Party.id", cascade="all, delete-orphan")


class Level1Party(db.Model):
    """Minimal details of a party to a Level 1 resolution: first name or initials, and side."""

    __tablename__ = "level1_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("level1_record.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(16))  # harmed | responsible | other

    record: Mapped[Level1Record] = relationship(back_populates="parties")
