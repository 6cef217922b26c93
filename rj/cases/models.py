"""A case: one referral's journey from triage to closure."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj.core.db import StatusMixin, UTCDateTime, enum_column
from rj.core.permissions import Perm, has_perm
from rj.extensions import db


class CaseStatus(str, enum.Enum):
    REFERRED = "referred"
    IN_TRIAGE = "in_triage"          # being assessed, or waiting for more information
    ACCEPTED = "accepted"
    PREPARATION = "preparation"
    READY_TO_MEET = "ready_to_meet"
    MEETING_BOOKED = "meeting_booked"
    MEETING_HELD = "meeting_held"
    MONITORING = "monitoring"        # monitoring the agreement
    FOLLOW_UP = "follow_up"
    PAUSED = "paused"                # a party withdrew consent; may resume if it is given again
    CLOSED = "closed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            "in_triage": "In triage", "ready_to_meet": "Ready to meet", "meeting_booked": "Meeting booked",
            "meeting_held": "Meeting held", "monitoring": "Monitoring agreement", "follow_up": "Follow-up",
        }.get(self.value, self.value.replace("_", " ").capitalize())


class Scheme(str, enum.Enum):
    SORTIT = "sortit"                # community RJ: "parties" only, never victim/offender
    POST_SENTENCE = "post_sentence"

    @property
    def label(self) -> str:
        return "SoRT-IT (community)" if self is Scheme.SORTIT else "Post-sentence"


class CloseReason(str, enum.Enum):
    AGREEMENT_COMPLETED = "agreement_completed"
    AGREEMENT_NOT_KEPT = "agreement_not_kept"
    PARTY_WITHDREW = "party_withdrew"
    UNSUITABLE = "unsuitable"
    NO_CONTACT = "no_contact"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


S = CaseStatus
_ACTIVE = (S.ACCEPTED, S.PREPARATION, S.READY_TO_MEET, S.MEETING_BOOKED, S.MEETING_HELD, S.MONITORING, S.FOLLOW_UP)


class Case(StatusMixin, db.Model):
    """A case and its lifecycle. Status only moves along TRANSITIONS; every move is audited."""

    __tablename__ = "rj_case"

    TRANSITIONS = {
        S.REFERRED: (S.IN_TRIAGE, S.ACCEPTED, S.DECLINED),
        S.IN_TRIAGE: (S.ACCEPTED, S.DECLINED),
        S.ACCEPTED: (S.PREPARATION, S.READY_TO_MEET, S.MEETING_BOOKED, S.PAUSED, S.WITHDRAWN, S.CLOSED),
        S.PREPARATION: (S.READY_TO_MEET, S.MEETING_BOOKED, S.PAUSED, S.WITHDRAWN, S.CLOSED),
        S.READY_TO_MEET: (S.PREPARATION, S.MEETING_BOOKED, S.PAUSED, S.WITHDRAWN, S.CLOSED),
        S.MEETING_BOOKED: (S.READY_TO_MEET, S.PREPARATION, S.MEETING_HELD, S.PAUSED, S.WITHDRAWN, S.CLOSED),
        S.MEETING_HELD: (S.MONITORING, S.FOLLOW_UP, S.MEETING_BOOKED, S.READY_TO_MEET, S.CLOSED, S.PAUSED, S.WITHDRAWN),
        S.MONITORING: (S.FOLLOW_UP, S.CLOSED, S.PAUSED, S.WITHDRAWN),
        S.FOLLOW_UP: (S.MONITORING, S.CLOSED, S.PAUSED, S.WITHDRAWN),
        S.PAUSED: (S.ACCEPTED, S.PREPARATION, S.READY_TO_MEET, S.WITHDRAWN, S.CLOSED),
        S.CLOSED: (),
        S.DECLINED: (),
        S.WITHDRAWN: (),
    }
    ACTIVE_STATUSES = _ACTIVE

    id: Mapped[int] = mapped_column(primary_key=True)
    # What a referrer quotes, e.g. RJ-2026-7KQ4M: random, so it does not reveal case volume.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.REFERRED, index=True)
    scheme: Mapped[Scheme | None] = mapped_column(enum_column(Scheme))
    level: Mapped[int | None] = mapped_column(Integer)  # RJ level 1, 2 or 3
    lead_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    referred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[CloseReason | None] = mapped_column(enum_column(CloseReason))
    # Coded triage outcome note (declined / more information needed), written by staff.
    triage_note: Mapped[str | None] = mapped_column(Text)
    # Where a paused case goes back to if consent is given again.
    status_before_pause: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    lead_coordinator = relationship("User", foreign_keys=[lead_coordinator_id])

    @property
    def is_open(self) -> bool:
        return self.status not in (S.CLOSED, S.DECLINED, S.WITHDRAWN)

    def can_view(self, user) -> bool:
        """Coordinators and managers see every case; a facilitator only the cases they are rostered to."""
        if has_perm(user, Perm.CASES_ALL):
            return True
        if has_perm(user, Perm.CASES_ROSTERED):
            from rj.cases.visibility import user_is_rostered

            return user_is_rostered(user, self)
        return False

    def can_edit(self, user) -> bool:
        return has_perm(user, Perm.CASES_ALL)
