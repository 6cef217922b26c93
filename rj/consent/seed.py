"""Demo data: the people in each accepted case and realistic consent histories, inserted in bulk
(a few statements however many cases, so 10,000 cases take seconds)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text, update

from rj.audit.models import AuditEvent
from rj.cases.models import Case, CaseStatus, Scheme
from rj.consent.models import (
    CaseNote, ConsentKind, ConsentMethod, ConsentRecord, ConsentScope, GivenBy, InformationHow, Party, PartyRole,
    RiskAssessment, RiskItem, Suitability, SuitabilityDecision,
)
from rj.core.permissions import Perm, has_perm
from rj.extensions import db

FIRST = ["Aisha", "Ben", "Chloe", "Dan", "Ewa", "Farid", "Grace", "Harry", "Imran", "Jade", "Kyle", "Lena",
         "Mo", "Niamh", "Owen", "Priya", "Rhys", "Sana", "Tom", "Zofia"]
LAST = ["Ahmed", "Brown", "Clarke", "Dobson", "Evans", "Fletcher", "Green", "Hughes", "Iqbal", "Jones", "Kowalski",
        "Lees", "Moss", "Nowak", "Okafor", "Patel", "Quinn", "Roberts", "Shaw", "Walsh"]
SAFE = ["Text first, not before 6pm", "Phone only, do not leave voicemail", "Email is fine", "Letters to the home address",
        "Via their housing officer"]
NOTES = ["Preparation visit at home: explained the process, keen to hear an apology.",
         "Phone call: worried about meeting; talked through a shuttle approach.",
         "Met at the community centre with their supporter; agreed the ground rules.",
         "Follow-up call: happy with the plan, asked about accessible venues."]


def _insert(model, rows: list[dict]) -> None:
    """One executemany per table: Core insert, every row with the same keys (the ORM's bulk path
    splits batches by which values are None, and returns ids row by row on SQLite)."""
    if not rows:
        return
    keys = {k for row in rows for k in row}
    db.session.execute(model.__table__.insert(), [{k: row.get(k) for k in keys} for row in rows])


def _insert_with_ids(model, rows: list[dict]) -> list[int]:
    """Insert with ids chosen here (demo data only, one seeding process), then move the
    PostgreSQL sequence past them so later inserts do not collide."""
    table = model.__table__
    start = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
    ids = list(range(start, start + len(rows)))
    _insert(model, [dict(row, id=i) for row, i in zip(rows, ids)])
    if rows and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), :n)"), {"n": ids[-1]})
    return ids


def _name(rng) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _people_from_referrals(case_ids) -> dict[int, list[dict]]:
    """Referral people per case, if the referrals domain is there (one query)."""
    try:
        from rj.referrals.models import Referral, ReferralPerson
    except ImportError:
        return {}
    out: dict[int, list[dict]] = {}
    rows = db.session.execute(
        select(Referral.case_id, ReferralPerson.name, ReferralPerson.side, ReferralPerson.under_18,
               ReferralPerson.contact_safely, ReferralPerson.email, ReferralPerson.phone)
        .join(ReferralPerson, ReferralPerson.referral_id == Referral.id)
        .where(Referral.case_id.in_(case_ids)).order_by(Referral.case_id, ReferralPerson.id))
    for case_id, name, side, under_18, safe, email, phone in rows:
        out.setdefault(case_id, []).append({"name": name, "side": getattr(side, "value", side), "under_18": bool(under_18),
                                            "safe_contact": safe, "email": email, "phone": phone})
    return out


def seed_demo(ctx) -> None:
    rng = ctx.rng
    case_ids = list(ctx.extra.get("case_ids", []))
    if not case_ids:
        return
    coordinators = [u for u in ctx.users.values() if has_perm(u, Perm.CONSENT_RECORD)]
    managers = [u for u in ctx.users.values() if has_perm(u, Perm.RISK_SIGNOFF)]
    cases = []
    for start in range(0, len(case_ids), 5000):
        cases += db.session.execute(select(Case.id, Case.scheme, Case.level, Case.status, Case.referred_at,
                                           Case.accepted_at, Case.lead_coordinator_id)
                                    .where(Case.id.in_(case_ids[start:start + 5000]))).all()
    cases = [c for c in cases if c.status not in (CaseStatus.REFERRED, CaseStatus.IN_TRIAGE, CaseStatus.DECLINED)]
    if not cases:
        return
    people = {}
    for start in range(0, len(cases), 5000):
        people.update(_people_from_referrals([c.id for c in cases[start:start + 5000]]))

    # 1. principal parties and supporters
    party_rows, plan = [], []
    for case in cases:
        post = case.scheme is Scheme.POST_SENTENCE
        listed = people.get(case.id) or [
            {"name": _name(rng), "side": "harmed", "under_18": False, "safe_contact": rng.choice(SAFE),
             "email": None, "phone": "07700 900" + str(rng.randint(100, 999))},
            {"name": _name(rng), "side": "responsible", "under_18": False, "safe_contact": rng.choice(SAFE),
             "email": None, "phone": None},
        ]
        for person in listed:
            side = person["side"]
            role = PartyRole.SUPPORTER if side == "other" else (
                (PartyRole.HARMED if side == "harmed" else PartyRole.RESPONSIBLE) if post else PartyRole.PARTY)
            created = case.accepted_at or case.referred_at
            interpreter = rng.random() < 0.06
            party_rows.append({
                "case_id": case.id, "role": role, "name": person["name"], "under_18": person["under_18"],
                "email": person["email"], "phone": person["phone"], "safe_contact": person["safe_contact"],
                "preferred_contact": "email" if person["email"] else ("text" if person["phone"] else "letter"),
                "interpreter_needed": interpreter,
                "interpreter_language": rng.choice(["Polish", "Urdu", "Arabic", "Romanian"]) if interpreter else None,
                "wheelchair_access": rng.random() < 0.05, "hearing_loop": rng.random() < 0.04,
                "separate_waiting_room": side == "harmed" and rng.random() < 0.3,
                "victims_code": side == "harmed", "enhanced_rights": side == "harmed" and post and rng.random() < 0.3,
                "acknowledges_responsibility": (rng.random() < 0.8) if (post and side == "responsible") else None,
                "first_contact_at": created + timedelta(hours=rng.randint(2, 60)) if rng.random() < 0.85 else None,
                "created_at": created, "version": 1,
            })
            plan.append(case)
    party_ids = _insert_with_ids(Party, party_rows)

    # 2. a parent or guardian for every party under 18
    guardian_rows, guardian_of = [], []
    for pid, row in zip(party_ids, party_rows):
        if row["under_18"]:
            guardian_rows.append({
                "case_id": row["case_id"], "role": PartyRole.GUARDIAN, "name": _name(rng).split()[0] + " " + row["name"].split()[-1],
                "guardian_for_id": pid, "under_18": False, "phone": "07700 900" + str(rng.randint(100, 999)),
                "preferred_contact": "phone", "interpreter_needed": False, "wheelchair_access": False,
                "hearing_loop": False, "separate_waiting_room": False, "victims_code": False, "enhanced_rights": False,
                "created_at": row["created_at"], "version": 1,
            })
            guardian_of.append(pid)
    if guardian_rows:
        _insert(Party, guardian_rows)

    # 3. consent histories: information, then answers; some still to ask, a few withdrawn
    consent_rows, audit_rows = [], []
    by_case: dict[int, list[tuple[int, dict]]] = {}
    for pid, row in zip(party_ids, party_rows):
        by_case.setdefault(row["case_id"], []).append((pid, row))
    status_updates, suitability_rows, note_rows, risk_plan = [], [], [], []
    for case in cases:
        parties = by_case.get(case.id, [])
        start = case.accepted_at or case.referred_at
        recorder = case.lead_coordinator_id or (coordinators[0].id if coordinators else None)
        outcome = rng.random()
        all_agreed = True
        withdrawn_any = False
        for i, (pid, row) in enumerate(parties):
            if row["role"] is PartyRole.SUPPORTER:
                continue
            at = start + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8))
            asked = outcome > 0.15
            who = [GivenBy.PARTY] + ([GivenBy.GUARDIAN] if row["under_18"] else [])
            for given_by in who:
                if not asked:
                    continue
                how = rng.choice([InformationHow.IN_PERSON, InformationHow.PHONE, InformationHow.LETTER])
                consent_rows.append(dict(case_id=case.id, party_id=pid, kind=ConsentKind.INFORMATION_GIVEN, scope=None,
                                         method=ConsentMethod.VERBALLY if how is not InformationHow.LETTER else ConsentMethod.IN_WRITING,
                                         given_by=given_by, information_how=how,
                                         leaflet="SoRT-IT leaflet" if case.scheme is Scheme.SORTIT else "Post-sentence RJ leaflet",
                                         recorded_by_id=recorder, recorded_at=at))
                declines = rng.random() < 0.07
                indirect = rng.random() < 0.2
                scopes = [ConsentScope.TAKE_PART] if declines else (
                    [ConsentScope.TAKE_PART, ConsentScope.SHARE_DETAILS,
                     ConsentScope.INDIRECT_ONLY if indirect else ConsentScope.FACE_TO_FACE])
                kind = ConsentKind.CONSENT_DECLINED if declines else ConsentKind.CONSENT_GIVEN
                method = rng.choice([ConsentMethod.IN_WRITING, ConsentMethod.VERBALLY, ConsentMethod.ONLINE])
                answered = at + timedelta(days=rng.randint(0, 5), hours=1)
                for scope in scopes:
                    consent_rows.append(dict(case_id=case.id, party_id=pid, kind=kind, scope=scope, method=method,
                                             given_by=given_by, recorded_by_id=None if method is ConsentMethod.ONLINE else recorder,
                                             recorded_at=answered))
                audit_rows.append({"at": answered, "actor_id": None if method is ConsentMethod.ONLINE else recorder,
                                   "action": "consent.given" if not declines else "consent.declined",
                                   "object_type": "consent_party", "object_id": pid, "case_id": case.id,
                                   "detail": {"party_id": pid, "given_by": given_by.value, "seeded": True}})
                if declines or indirect:
                    all_agreed = False
                if not declines and i == 0 and outcome > 0.93:
                    gone = answered + timedelta(days=rng.randint(3, 20))
                    for scope in scopes:
                        consent_rows.append(dict(case_id=case.id, party_id=pid, kind=ConsentKind.CONSENT_WITHDRAWN,
                                                 scope=scope, method=ConsentMethod.VERBALLY, given_by=given_by,
                                                 recorded_by_id=recorder, recorded_at=gone))
                    audit_rows.append({"at": gone, "actor_id": recorder, "action": "consent.withdrawn",
                                       "object_type": "consent_party", "object_id": pid, "case_id": case.id,
                                       "detail": {"party_id": pid, "given_by": given_by.value, "seeded": True}})
                    withdrawn_any = True
            if not asked:
                all_agreed = False
        suitability_rows.append({
            "case_id": case.id, "flags": [] if rng.random() < 0.85 else [rng.choice(["hate_crime", "stalking"])],
            "under_18s": any(r["under_18"] for _, r in parties), "decision": SuitabilityDecision.SUITABLE,
            "reasons": "Both sides willing to engage; no risk indicators beyond those managed in the risk plan.",
            "decided_by_id": recorder, "decided_at": start + timedelta(hours=2)})
        note_rows.append({"case_id": case.id, "kind": "preparation", "body": rng.choice(NOTES), "author_id": recorder,
                          "created_at": start + timedelta(days=rng.randint(2, 10))})
        if case.status is CaseStatus.ACCEPTED:
            if withdrawn_any:
                status_updates.append((case.id, CaseStatus.PAUSED, CaseStatus.PREPARATION))
            elif all_agreed and outcome > 0.5:
                status_updates.append((case.id, CaseStatus.READY_TO_MEET, None))
            elif outcome > 0.3:
                status_updates.append((case.id, CaseStatus.PREPARATION, None))
        # Every accepted case is risk-assessed before facilitators are allocated to it.
        risk_plan.append((case, [pid for pid, r in parties if r["role"] is not PartyRole.SUPPORTER], recorder))

    if consent_rows:
        _insert(ConsentRecord, consent_rows)
    _insert(Suitability, suitability_rows)
    _insert(CaseNote, note_rows)

    # 4. risk assessments: Level 3 ones mostly signed off by a manager
    if risk_plan:
        manager_id = managers[0].id if managers else None
        ra_rows = []
        for case, _, recorder in risk_plan:
            at = (case.accepted_at or case.referred_at) + timedelta(days=3)
            signed = manager_id if (case.level == 3 and rng.random() < 0.7) else None
            ra_rows.append({"case_id": case.id, "stage": "initial", "assessed_by_id": recorder, "assessed_at": at,
                            "signed_off_by_id": signed, "signed_off_at": at + timedelta(days=1) if signed else None,
                            "version": 1})
        ra_ids = _insert_with_ids(RiskAssessment, ra_rows)
        item_rows = []
        for ra_id, (case, pids, _) in zip(ra_ids, risk_plan):
            for pid in pids:
                item_rows.append({"assessment_id": ra_id, "party_id": pid, "risk": "Anxiety about meeting",
                                  "management": "Separate arrival times and a quiet room"})
            item_rows.append({"assessment_id": ra_id, "party_id": None, "risk": "none identified",
                              "management": "No action needed"})
        _insert(RiskItem, item_rows)

    # 5. status moves, audited like the services do
    for target in (CaseStatus.PREPARATION, CaseStatus.READY_TO_MEET, CaseStatus.PAUSED):
        ids = [cid for cid, status, _ in status_updates if status is target]
        if not ids:
            continue
        values = {"status": target}
        if target is CaseStatus.PAUSED:
            values["status_before_pause"] = CaseStatus.PREPARATION
        for start in range(0, len(ids), 5000):
            db.session.execute(update(Case).where(Case.id.in_(ids[start:start + 5000])).values(**values)
                               .execution_options(synchronize_session=False))
        for cid in ids:
            audit_rows.append({"at": ctx.now - timedelta(days=1), "actor_id": None, "action": "case.status_changed",
                               "object_type": "rj_case", "object_id": cid, "case_id": cid,
                               "detail": {"from": "accepted", "to": target.value, "seeded": True}})
    for pid, row in zip(party_ids, party_rows):
        audit_rows.append({"at": row["created_at"], "actor_id": None, "action": "party.added",
                           "object_type": "consent_party", "object_id": pid, "case_id": row["case_id"],
                           "detail": {"role": row["role"].value, "source": "referral", "seeded": True}})
    if audit_rows:
        _insert(AuditEvent, audit_rows)
