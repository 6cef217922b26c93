"""The people in a case, their consent (a ledger, never edited), suitability, risk and case notes."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj.core.db import UTCDateTime, enum_column
from rj.extensions import db


class PartyRole(str, enum.Enum):
    PARTY = "party"                  # SoRT-IT: it does not decide guilt, so everyone is a "party"
    HARMED = "harmed"                # post-sentence: person harmed
    RESPONSIBLE = "responsible"      # post-sentence: person responsible
    SUPPORTER = "supporter"
    GUARDIAN = "guardian"            # parent or guardian of a party under 18

    @property
    def is_principal(self) -> bool:
        return self in (PartyRole.PARTY, PartyRole.HARMED, PartyRole.RESPONSIBLE)


class ContactMethod(str, enum.Enum):
    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    TEXT = "text"

    @property
    def label(self) -> str:
        return {"email": "Email", "phone": "Phone call", "letter": "Letter", "text": "Text message"}[self.value]


def role_label(scheme, role: PartyRole | str) -> str:
    """The one place a role becomes words. SoRT-IT screens never say "victim" or "offender"
    (nor "harmed"/"responsible"): SoRT-IT does not decide guilt, so everyone there is a party."""
    role = PartyRole(role)
    value = getattr(scheme, "value", scheme)
    if role is PartyRole.SUPPORTER:
        return "Supporter"
    if role is PartyRole.GUARDIAN:
        return "Parent or guardian"
    if value == "sortit" or role is PartyRole.PARTY:
        return "Party"
    return "Person harmed" if role is PartyRole.HARMED else "Person responsible"


class Party(db.Model):
    """A person in a case. Removing a party keeps the row (removed_at) so the consent ledger and
    audit trail still point at someone; a party under 18 is linked to by their guardian."""

    __tablename__ = "consent_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole))
    name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    under_18: Mapped[bool] = mapped_column(Boolean, default=False)
    # A guardian row points at the party under 18 it speaks for.
    guardian_for_id: Mapped[int | None] = mapped_column(ForeignKey("consent_party.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    address_line: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    # How to reach them without putting them at risk, e.g. "text only, not before 6pm".
    safe_contact: Mapped[str | None] = mapped_column(Text)
    preferred_contact: Mapped[ContactMethod | None] = mapped_column(enum_column(ContactMethod))
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    interpreter_language: Mapped[str | None] = mapped_column(String(60))
    wheelchair_access: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_loop: Mapped[bool] = mapped_column(Boolean, default=False)
    separate_waiting_room: Mapped[bool] = mapped_column(Boolean, default=False)
    # Victims' Code: a victim of crime, so first-contact and information clocks run for them.
    victims_code: Mapped[bool] = mapped_column(Boolean, default=False)
    # Victims' Code enhanced rights (e.g. serious crime, vulnerable): information within 1 working day.
    enhanced_rights: Mapped[bool] = mapped_column(Boolean, default=False)
    # Post-sentence person responsible: accepts the basic facts and responsibility (None = not yet asked).
    acknowledges_responsibility: Mapped[bool | None] = mapped_column(Boolean)
    # When the service first made contact (Victims' Code: within 2 working days of referral).
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    case = relationship("Case")
    guardian_for: Mapped[Party | None] = relationship(remote_side=[id], foreign_keys=[guardian_for_id])

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    def label(self, scheme=None) -> str:
        return role_label(scheme if scheme is not None else self.case.scheme, self.role)

    def display(self, scheme=None) -> str:
        return f"{self.name} ({self.label(scheme)})"

    def can_view(self, user) -> bool:
        return self.case.can_view(user)


class ConsentKind(str, enum.Enum):
    INFORMATION_GIVEN = "information_given"
    CONSENT_GIVEN = "consent_given"
    CONSENT_DECLINED = "consent_declined"
    CONSENT_WITHDRAWN = "consent_withdrawn"

    @property
    def label(self) -> str:
        return {"information_given": "Information given", "consent_given": "Consent given",
                "consent_declined": "Consent declined", "consent_withdrawn": "Consent withdrawn"}[self.value]


class ConsentScope(str, enum.Enum):
    TAKE_PART = "take_part"
    SHARE_DETAILS = "share_details"
    FACE_TO_FACE = "face_to_face"
    INDIRECT_ONLY = "indirect_only"   # letters or shuttle meetings, never in the same room

    @property
    def label(self) -> str:
        return {
            "take_part": "Take part",
            "share_details": "Share their details with the other parties",
            "face_to_face": "Meet face to face",
            "indirect_only": "Indirect contact only (letters, shuttle meetings)",
        }[self.value]


class ConsentMethod(str, enum.Enum):
    IN_WRITING = "in_writing"
    VERBALLY = "verbally"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return {"in_writing": "In writing", "verbally": "Verbally", "online": "Online"}[self.value]


class GivenBy(str, enum.Enum):
    PARTY = "party"          # the person themselves
    GUARDIAN = "guardian"    # their parent or guardian (needed as well as their own, under 18)

    @property
    def label(self) -> str:
        return "The person themselves" if self is GivenBy.PARTY else "Their parent or guardian"


class InformationHow(str, enum.Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    VIDEO = "video"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "phone": "By phone", "letter": "By letter", "email": "By email",
                "video": "By video call", "online": "Online consent page"}[self.value]


class ConsentRecord(db.Model):
    """One entry in a party's consent ledger. Never updated or deleted: consent changes by adding a
    later record. The current state of each scope is the latest record for it. For an
    information_given record, `given_by` says who received the information."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_party_at", "party_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("consent_party.id", ondelete="CASCADE"))
    kind: Mapped[ConsentKind] = mapped_column(enum_column(ConsentKind))
    scope: Mapped[ConsentScope | None] = mapped_column(enum_column(ConsentScope))  # None for information_given
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod))
    given_by: Mapped[GivenBy] = mapped_column(enum_column(GivenBy), default=GivenBy.PARTY)
    # Which guardian answered, when given_by is guardian.
    guardian_party_id: Mapped[int | None] = mapped_column(ForeignKey("consent_party.id", ondelete="SET NULL"))
    information_how: Mapped[InformationHow | None] = mapped_column(enum_column(InformationHow))
    leaflet: Mapped[str | None] = mapped_column(String(120))   # which leaflet or conversation
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))  # None: online
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    party = relationship("Party", foreign_keys=[party_id])
    recorded_by = relationship("User")


@event.listens_for(ConsentRecord, "before_update")
def _consent_is_append_only(mapper, connection, target):
    raise RuntimeError("consent records are never edited: add a new record instead")


@event.listens_for(ConsentRecord, "before_delete")
def _consent_is_never_deleted(mapper, connection, target):
    raise RuntimeError("consent records are never deleted: add a new record instead")


class ConsentLink(db.Model):
    """A one-time link a party (or their guardian) uses to read about RJ and answer online.
    Random, stored hashed, expiring, single use; the URL says nothing about the case."""

    __tablename__ = "consent_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("consent_party.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    party = relationship("Party")


class SuitabilityDecision(str, enum.Enum):
    SUITABLE = "suitable"
    UNSUITABLE = "unsuitable"

    @property
    def label(self) -> str:
        return self.value.capitalize()


SENSITIVE_FLAGS = {
    "domestic_abuse": "Domestic abuse",
    "sexual_violence": "Sexual violence",
    "hate_crime": "Hate crime",
    "stalking": "Stalking or harassment",
    "child_sexual_exploitation": "Child sexual exploitation",
    "trafficking": "Trafficking or modern slavery",
}


class Suitability(db.Model):
    """A suitability screening, made on accepting a case. Kept as history: the latest one counts."""

    __tablename__ = "consent_suitability"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), index=True)
    flags: Mapped[list] = mapped_column(JSON, default=list)   # codes from SENSITIVE_FLAGS
    under_18s: Mapped[bool] = mapped_column(Boolean, default=False)
    decision: Mapped[SuitabilityDecision] = mapped_column(enum_column(SuitabilityDecision))
    reasons: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    decided_by = relationship("User")

    @property
    def flag_labels(self) -> list[str]:
        return [SENSITIVE_FLAGS.get(f, f) for f in self.flags or []]


class RiskStage(str, enum.Enum):
    INITIAL = "initial"
    AFTER_PREPARATION = "after_preparation"

    @property
    def label(self) -> str:
        return "Initial (before facilitators are allocated)" if self is RiskStage.INITIAL else "After preparation meetings"


class RiskAssessment(db.Model):
    """Risks to each party and to facilitators, and how each is managed. A Level 3 case needs the
    latest assessment signed off by a manager before any face-to-face meeting."""

    __tablename__ = "consent_risk_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), index=True)
    stage: Mapped[RiskStage] = mapped_column(enum_column(RiskStage))
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    assessed_by = relationship("User", foreign_keys=[assessed_by_id])
    signed_off_by = relationship("User", foreign_keys=[signed_off_by_id])
    items: Mapped[list[RiskItem]] = relationship(back_populates="assessment", order_by="RiskItem.id",
                                                 cascade="all, delete-orphan")


class RiskItem(db.Model):
    """One risk, to one party or to the facilitators, and how it is managed."""

    __tablename__ = "consent_risk_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("consent_risk_assessment.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("consent_party.id", ondelete="SET NULL"))  # None: facilitators
    risk: Mapped[str] = mapped_column(Text)
    management: Mapped[str] = mapped_column(Text)

    assessment: Mapped[RiskAssessment] = relationship(back_populates="items")
    party = relationship("Party")


class CaseNote(db.Model):
    """A note on the case file (preparation notes and others), with who wrote it."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="preparation")  # preparation | general
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author = relationship("User")
