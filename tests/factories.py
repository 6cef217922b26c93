"""Small factories shared by every domain's tests. Domain-specific ones live in tests/<domain>/factories.py."""
from __future__ import annotations

import secrets
from datetime import datetime

from rj.cases.models import Case, CaseStatus, Scheme
from rj.core.time import now_utc
from rj.extensions import db


def make_case(*, scheme: Scheme = Scheme.SORTIT, level: int = 2, status: CaseStatus = CaseStatus.ACCEPTED,
              referred_at: datetime | None = None, lead_coordinator=None, commit: bool = True,
              risk_assessed: bool = False) -> Case:
    case = Case(
        reference=f"RJ-2026-{secrets.token_hex(3).upper()[:5]}",
        status=status, scheme=scheme, level=level, referred_at=referred_at or now_utc(),
        lead_coordinator_id=getattr(lead_coordinator, "id", None),
    )
    if status not in (CaseStatus.REFERRED, CaseStatus.IN_TRIAGE):
        case.accepted_at = case.referred_at
    db.session.add(case)
    if risk_assessed:
        # Facilitators are allocated only to risk-assessed cases (rostering checks it).
        from rj.consent.models import RiskAssessment, RiskItem, RiskStage

        db.session.flush()
        ra = RiskAssessment(case_id=case.id, stage=RiskStage.INITIAL, assessed_at=case.referred_at)
        ra.items.append(RiskItem(party_id=None, risk="none identified", management="none needed"))
        db.session.add(ra)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return case


def make_consenting_party(case, name: str = "Jordan Example", *, actor, now: datetime,
                          consent=("take_part", "face_to_face")):
    """A SoRT-IT party added through the consent domain, told what taking part means two days
    before `now` and consenting to `consent` (nothing when empty)."""
    from datetime import timedelta

    from rj.consent import services as cs
    from rj.consent.models import ConsentKind, PartyRole

    party = cs.add_party(case, role=PartyRole.PARTY, name=name, actor=actor, now=now - timedelta(days=3))
    if consent:
        cs.record_information(party, how="in_person", leaflet="SoRT-IT leaflet", actor=actor,
                              now=now - timedelta(days=2))
        cs.record_consent(party, kind=ConsentKind.CONSENT_GIVEN, scopes=list(consent), method="in_writing",
                          actor=actor, now=now - timedelta(days=2))
    db.session.flush()
    return party
