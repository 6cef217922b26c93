"""Demo referrals and cases: fictional people and Stockport places, a realistic mix of statuses.

Bulk inserts, so `seed-demo --cases 10000` takes seconds; deterministic from ctx.rng. Names are
invented; phone numbers are from Ofcom's drama ranges; emails use example domains.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from rj.audit.models import AuditEvent
from rj.cases.models import Case, CaseStatus, Scheme
from rj.core.permissions import Perm, has_perm
from rj.core.time import to_local
from rj.extensions import db
from rj.referrals.models import (
    RISK_FLAGS, Awareness, DeclineReason, PersonSide, Referral, ReferralCategory, ReferralPerson,
)
from rj.referrals.services import REFERENCE_ALPHABET, REFERENCE_LENGTH

FIRST_NAMES = [
    "Aaron", "Abigail", "Adam", "Aisha", "Alan", "Alice", "Amir", "Amy", "Andrew", "Bethany", "Bilal", "Brian",
    "Callum", "Carol", "Charlotte", "Chloe", "Connor", "Craig", "Daniel", "Danielle", "Darren", "David", "Dean",
    "Declan", "Eileen", "Elaine", "Ellie", "Emma", "Fatima", "Gareth", "Gemma", "George", "Grace", "Hannah",
    "Harry", "Hassan", "Helen", "Ian", "Imran", "Jack", "Jade", "James", "Janet", "Jason", "Jennifer", "Joanne",
    "Joe", "Joshua", "Karen", "Kayleigh", "Kelly", "Kieran", "Kyle", "Laura", "Leah", "Liam", "Lisa", "Lucy",
    "Mark", "Martin", "Megan", "Michelle", "Mohammed", "Nadia", "Naomi", "Nathan", "Nicola", "Oliver", "Paul",
    "Pauline", "Priya", "Rachel", "Rebecca", "Reece", "Richard", "Ryan", "Sadia", "Samantha", "Sarah", "Scott",
    "Shaun", "Sophie", "Stephen", "Stuart", "Susan", "Tariq", "Thomas", "Tracey", "Tyler", "Vicky", "Wayne", "Zara",
]
SURNAMES = [
    "Ahmed", "Ali", "Ashworth", "Bailey", "Barlow", "Begum", "Bennett", "Booth", "Bradshaw", "Brennan", "Brown",
    "Butterworth", "Chadwick", "Clarke", "Collins", "Cooper", "Davies", "Dawson", "Doyle", "Evans", "Fletcher",
    "Gallagher", "Green", "Hall", "Hardy", "Holt", "Howarth", "Hughes", "Hussain", "Jackson", "Jones", "Kaur",
    "Kelly", "Khan", "Lees", "Lloyd", "Lomax", "Marsden", "Mellor", "Murphy", "Nolan", "O'Brien", "Ogden",
    "Parkinson", "Patel", "Pickering", "Quinn", "Rhodes", "Roberts", "Robinson", "Shaw", "Singh", "Smith",
    "Stott", "Sutcliffe", "Taylor", "Thompson", "Walsh", "Whitehead", "Whitworth", "Wilson", "Wood", "Wright",
]
PLACES = {
    "Edgeley": ["Castle Street", "Dale Street", "Bulkeley Street", "Grenville Street"],
    "Brinnington": ["Brinnington Road", "Middlesex Road", "Northumberland Road", "Cumberland Road"],
    "Reddish": ["Gorton Road", "Broadstone Road", "Houldsworth Square", "Greg Street"],
    "Heaton Norris": ["Manchester Road", "Green Lane", "Belmont Way", "Lancashire Hill"],
    "Cheadle Hulme": ["Station Road", "Ack Lane East", "Church Road", "Hulme Hall Road"],
    "Marple": ["Stockport Road", "Church Lane", "Market Street", "Hibbert Lane"],
    "Offerton": ["Hall Street", "Marple Road", "Dialstone Lane", "Offerton Green"],
    "Adswood": ["Adswood Road", "Garners Lane", "Bridge Lane"],
    "Hazel Grove": ["London Road", "Commercial Road", "Torkington Road"],
    "Bramhall": ["Bramhall Lane South", "Woodford Road", "Ack Lane West"],
    "Cheadle": ["High Street", "Wilmslow Road", "Gatley Road"],
    "Romiley": ["Compstall Road", "Stockport Road", "Sandy Lane"],
    "Stockport town centre": ["Merseyway", "Princes Street", "Underbank", "Mersey Square"],
}
PLACES_FIXED = list(PLACES)  # a stable order for the random draws
ORGANISATIONS = [
    ("Greater Manchester Police", "Neighbourhood police officer"),
    ("Greater Manchester Police", "PCSO"),
    ("Stockport Homes", "Housing officer"),
    ("Stockport Homes", "Tenancy enforcement officer"),
    ("Stockport Council", "Anti-social behaviour officer"),
    ("Stockport Council", "Youth worker"),
    ("Reddish Vale High School", "Head of year"),
    ("Stockport Academy", "Pastoral lead"),
    ("Probation Service (Greater Manchester)", "Probation officer"),
    ("HMP Forest Bank", "Offender manager"),
    ("Victim Support", "Caseworker"),
]
DESCRIPTIONS = {
    ReferralCategory.NEIGHBOUR_DISPUTE: [
        "Long-running dispute between neighbours about noise late at night and parking across a shared drive.",
        "Disagreement over a boundary hedge has escalated to shouting in the street; both households are distressed.",
        "Complaints about a barking dog and bins left out have turned into arguments involving both families.",
    ],
    ReferralCategory.CRIMINAL_DAMAGE: [
        "Garden fence kicked down and plant pots smashed. The person responsible has admitted it to the officer.",
        "Car wing mirror broken and paintwork scratched outside the house; a local teenager was seen.",
        "Graffiti sprayed on the community centre wall; the young people involved have been identified.",
    ],
    ReferralCategory.BULLYING: [
        "Year 9 pupil being called names and excluded by a group at school and online; both families are aware.",
        "Repeated unkind messages in a class group chat; the school would like the pupils to talk it through.",
    ],
    ReferralCategory.ANTI_SOCIAL_BEHAVIOUR: [
        "Group of young people gathering outside the shops in the evening, shouting and throwing litter at residents.",
        "Motorbikes ridden across the park at speed; residents feel intimidated and have complained to the council.",
    ],
    ReferralCategory.LOW_LEVEL_CRIME: [
        "Shoplifting from a local corner shop; the shopkeeper would like to explain the impact on the business.",
        "Minor assault outside a pub after an argument; both people would like to resolve it without it happening again.",
    ],
    ReferralCategory.POST_SENTENCE: [
        "Burglary, sentenced last year. The person harmed has asked whether they can meet the person responsible.",
        "Robbery of a delivery driver, custodial sentence. The person responsible has asked to apologise.",
        "Assault causing injury, community order. Probation feels a restorative meeting could help both people.",
    ],
}
SORTIT_CATEGORIES = [c for c in ReferralCategory if c is not ReferralCategory.POST_SENTENCE]
CONTACT_NOTES = [
    None, "Evenings after 6pm", "Do not leave voicemails", "Through their support worker",
    "Text first, they work shifts", "Contact via the school", "Not at home address: use mobile",
]


def _name(rng) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def _phone(rng) -> str:
    return f"07700 900{rng.randrange(1000):03d}"


def _email(rng, name: str) -> str:
    local = name.lower().replace("'", "").replace(" ", ".")
    return f"{local}{rng.randrange(100)}@example.org.uk"


def _status_plan(rng):
    """(status, scheme, level): most accepted (SoRT-IT level 2, some post-sentence level 3)."""
    roll = rng.random()
    if roll < 0.60:
        kind = rng.random()
        if kind < 0.78:
            return CaseStatus.ACCEPTED, Scheme.SORTIT, 2
        if kind < 0.83:
            return CaseStatus.ACCEPTED, Scheme.SORTIT, 1
        return CaseStatus.ACCEPTED, Scheme.POST_SENTENCE, 3
    if roll < 0.75:
        return CaseStatus.REFERRED, None, None
    if roll < 0.85:
        return CaseStatus.IN_TRIAGE, None, None
    return CaseStatus.DECLINED, None, None


def _read_back(stmt, column, keys: list, chunk: int = 900) -> dict:
    found = {}
    for start in range(0, len(keys), chunk):
        found.update((k, v) for k, v in db.session.execute(stmt.where(column.in_(keys[start:start + chunk]))))
    return found


def seed_demo(ctx) -> None:
    rng = ctx.rng
    n = int(ctx.cases or 0)
    ctx.extra.setdefault("case_ids", [])
    if n <= 0:
        return
    leads = [u for u in ctx.users.values() if has_perm(u, Perm.TRIAGE)]
    actor_id = leads[0].id if leads else None
    taken = set(db.session.scalars(select(Case.reference)))

    def reference(year: int) -> str:
        while True:
            ref = f"RJ-{year}-" + "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
            if ref not in taken:
                taken.add(ref)
                return ref

    case_rows, details = [], []
    for _ in range(n):
        status, scheme, level = _status_plan(rng)
        waiting = status in (CaseStatus.REFERRED, CaseStatus.IN_TRIAGE)
        age_days = rng.randint(0, 30) if waiting else rng.randint(7, 540)
        referred_at = (ctx.now - timedelta(days=age_days, minutes=rng.randint(0, 12 * 60))).replace(microsecond=0)
        triaged_at = None if status is CaseStatus.REFERRED else min(
            referred_at + timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 6)), ctx.now)
        category = ReferralCategory.POST_SENTENCE if scheme is Scheme.POST_SENTENCE else (
            rng.choice(SORTIT_CATEGORIES) if status is CaseStatus.ACCEPTED or rng.random() < 0.9
            else ReferralCategory.POST_SENTENCE)
        lead = rng.choice(leads) if (leads and status is CaseStatus.ACCEPTED) else None
        decline_reason = rng.choice(list(DeclineReason)) if status is CaseStatus.DECLINED else None
        case_rows.append({
            "reference": reference(to_local(referred_at).year),
            "status": status, "scheme": scheme, "level": level,
            "lead_coordinator_id": lead.id if lead else None,
            "referred_at": referred_at,
            "triaged_at": triaged_at,
            "accepted_at": triaged_at if status is CaseStatus.ACCEPTED else None,
            "triage_note": {
                CaseStatus.IN_TRIAGE: "Asked the referrer for a contact number for the second household.",
                CaseStatus.DECLINED: "Other reason: see the referrer's email." if decline_reason is DeclineReason.OTHER else None,
            }.get(status),
            "version": 1,
        })
        details.append((category, referred_at, decline_reason))

    # Plain executemany (no RETURNING, which is slow in bulk); ids are read back by reference.
    db.session.execute(insert(Case.__table__), case_rows)
    ids_by_ref = _read_back(select(Case.reference, Case.id), Case.reference, [r["reference"] for r in case_rows])
    case_ids = [ids_by_ref[r["reference"]] for r in case_rows]

    referral_rows, people_plan = [], []
    for case_id, (category, referred_at, decline_reason) in zip(case_ids, details):
        area = rng.choice(PLACES_FIXED)
        public = category is not ReferralCategory.POST_SENTENCE and rng.random() < 0.25
        organisation, role = (None, None) if public else (
            ORGANISATIONS[rng.randrange(8, 10)] if category is ReferralCategory.POST_SENTENCE
            else ORGANISATIONS[rng.randrange(0, 8)])
        referrer = _name(rng)
        flags = [] if rng.random() < 0.7 else rng.sample(list(RISK_FLAGS), rng.randint(1, 2))
        referral_rows.append({
            "case_id": case_id,
            "referrer_name": referrer,
            "referrer_is_public": public,
            "referrer_organisation": organisation,
            "referrer_role": role,
            "referrer_email": _email(rng, referrer) if rng.random() < 0.9 else None,
            "referrer_phone": _phone(rng),
            "category": category,
            "incident_date": (to_local(referred_at) - timedelta(days=rng.randint(1, 60 if category is not ReferralCategory.POST_SENTENCE else 700))).date(),
            "location": f"{rng.choice(PLACES[area])}, {area}",
            "description": rng.choice(DESCRIPTIONS[category]),
            "crime_reference": f"GMP/{rng.randint(10, 99)}/{rng.randint(100000, 999999)}"
            if category in (ReferralCategory.CRIMINAL_DAMAGE, ReferralCategory.LOW_LEVEL_CRIME,
                            ReferralCategory.POST_SENTENCE) else None,
            "parties_aware": rng.choice(list(Awareness)),
            "parties_willing": rng.choice(list(Awareness)),
            "risk_flags": flags,
            "consent_to_share": rng.random() < 0.95,
            "submitted_at": referred_at,
            "decline_reason": decline_reason,
        })
        people_plan.append(category)

    db.session.execute(insert(Referral.__table__), referral_rows)
    ids_by_case = _read_back(select(Referral.case_id, Referral.id), Referral.case_id, case_ids)
    referral_ids = [ids_by_case[case_id] for case_id in case_ids]

    person_rows = []
    for referral_id, category in zip(referral_ids, people_plan):
        young = category is ReferralCategory.BULLYING or (category is ReferralCategory.ANTI_SOCIAL_BEHAVIOUR and rng.random() < 0.5)
        sides = [PersonSide.HARMED, PersonSide.RESPONSIBLE]
        if rng.random() < 0.4:
            sides.append(rng.choice([PersonSide.HARMED, PersonSide.RESPONSIBLE, PersonSide.OTHER]))
        for position, side in enumerate(sides):
            name = _name(rng)
            under_18 = young and side is not PersonSide.OTHER
            person_rows.append({
                "referral_id": referral_id, "position": position, "name": name, "side": side,
                "under_18": under_18,
                "contact_safely": "Contact the parent or guardian first" if under_18 else rng.choice(CONTACT_NOTES),
                "email": _email(rng, name) if rng.random() < 0.5 else None,
                "phone": _phone(rng) if rng.random() < 0.8 else None,
            })
    db.session.execute(insert(ReferralPerson.__table__), person_rows)

    audit_rows = []
    for case_id, referral_id, row in zip(case_ids, referral_ids, case_rows):
        audit_rows.append({"at": row["referred_at"], "actor_id": None, "action": "referral.submitted",
                           "object_type": "referral", "object_id": referral_id, "case_id": case_id,
                           "detail": {"seeded": True}})
        if row["status"] in (CaseStatus.ACCEPTED, CaseStatus.DECLINED, CaseStatus.IN_TRIAGE):
            action = {CaseStatus.ACCEPTED: "case.accepted", CaseStatus.DECLINED: "case.declined",
                      CaseStatus.IN_TRIAGE: "case.more_information_requested"}[row["status"]]
            audit_rows.append({"at": row["triaged_at"], "actor_id": row["lead_coordinator_id"] or actor_id,
                               "action": action, "object_type": "rj_case", "object_id": case_id,
                               "case_id": case_id, "detail": {"from": "referred", "to": row["status"].value}})
    db.session.execute(insert(AuditEvent.__table__), audit_rows)
    ctx.extra["case_ids"].extend(case_ids)
