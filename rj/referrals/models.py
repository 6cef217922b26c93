"""Referrals: what a referrer sent through the public form, kept as they sent it."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from rj.core.db import UTCDateTime, enum_column
from rj.extensions import db


class ReferralCategory(str, enum.Enum):
    NEIGHBOUR_DISPUTE = "neighbour_dispute"
    CRIMINAL_DAMAGE = "criminal_damage"
    BULLYING = "bullying"
    ANTI_SOCIAL_BEHAVIOUR = "anti_social_behaviour"
    LOW_LEVEL_CRIME = "low_level_crime"
    POST_SENTENCE = "post_sentence"

    @property
    def label(self) -> str:
        return {
            "anti_social_behaviour": "Anti-social behaviour",
            "post_sentence": "Post-sentence case (after a court sentence)",
        }.get(self.value, self.value.replace("_", " ").capitalize())


class PersonSide(str, enum.Enum):
    HARMED = "harmed"
    RESPONSIBLE = "responsible"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "harmed": "Harmed or affected",
            "responsible": "Responsible for the harm",
            "other": "Other (for example a witness or supporter)",
        }[self.value]


class Awareness(str, enum.Enum):
    """The referrer's impression: whether the people know of the referral / seem willing."""

    YES = "yes"
    SOME = "some"
    NO = "no"
    NOT_SURE = "not_sure"

    @property
    def label(self) -> str:
        return {"yes": "Yes, all of them", "some": "Some of them", "no": "No", "not_sure": "I'm not sure"}[self.value]


class DeclineReason(str, enum.Enum):
    NOT_SUITABLE = "not_suitable"
    OUTSIDE_AREA = "outside_area"
    NO_CONSENT = "no_consent"
    RISK_TOO_HIGH = "risk_too_high"
    ALREADY_RESOLVED = "already_resolved"
    DUPLICATE = "duplicate"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "not_suitable": "Not suitable for restorative justice",
            "outside_area": "Outside Stockport",
            "no_consent": "The people involved do not agree to take part",
            "risk_too_high": "The risk is too high",
            "already_resolved": "Already resolved",
            "duplicate": "Duplicate of another referral",
            "other": "Other reason",
        }[self.value]


# Risk flags a referrer may tick. Codes are stored; labels shown.
RISK_FLAGS: dict[str, str] = {
    "domestic_abuse": "Domestic abuse",
    "sexual_violence": "Sexual violence",
    "hate_crime": "Hate crime",
    "stalking_harassment": "Stalking or harassment",
    "weapons": "Weapons",
    "mental_health": "Serious mental-health concerns",
    "children_at_risk": "Children at risk",
}
NO_RISK_FLAGS = "none"


class Referral(db.Model):
    """A referral exactly as the referrer sent it: one per case, never rewritten by staff
    (triage decisions live on the case and in the audit trail)."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), unique=True)
    referrer_name: Mapped[str] = mapped_column(String(120))
    # True when the referrer is a member of the public rather than a front-line worker.
    referrer_is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    referrer_organisation: Mapped[str | None] = mapped_column(String(120))
    referrer_role: Mapped[str | None] = mapped_column(String(120))
    referrer_email: Mapped[str | None] = mapped_column(String(254))
    referrer_phone: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[ReferralCategory] = mapped_column(enum_column(ReferralCategory))
    incident_date: Mapped[date] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    crime_reference: Mapped[str | None] = mapped_column(String(40))
    parties_aware: Mapped[Awareness] = mapped_column(enum_column(Awareness))
    parties_willing: Mapped[Awareness] = mapped_column(enum_column(Awareness))
    risk_flags: Mapped[list] = mapped_column(JSON, default=list)  # codes from RISK_FLAGS; [] = none
    consent_to_share: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Coded triage decline reason; the free-text note is Case.triage_note.
    decline_reason: Mapped[DeclineReason | None] = mapped_column(enum_column(DeclineReason))

    case = relationship("Case", backref=backref("referral", uselist=False))
    people: Mapped[list[ReferralPerson]] = relationship(
        back_populates="referral", order_by="ReferralPerson.position", cascade="all, delete-orphan")

    @property
    def risk_flag_labels(self) -> list[str]:
        return [RISK_FLAGS[c] for c in (self.risk_flags or []) if c in RISK_FLAGS]


class ReferralPerson(db.Model):
    """Someone the referrer named. Not yet a case party: the coordinator confirms parties later."""

    __tablename__ = "referral_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # the order the referrer listed them in
    name: Mapped[str] = mapped_column(String(120))
    side: Mapped[PersonSide] = mapped_column(enum_column(PersonSide))
    under_18: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_safely: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))

    referral: Mapped[Referral] = relationship(back_populates="people")


class ReferralDraft(db.Model):
    """A referral being filled in. Answers stay on the server (not in the cookie), found by a
    random token whose hash is stored; drafts expire after a day and are deleted on submit."""

    __tablename__ = "referral_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
