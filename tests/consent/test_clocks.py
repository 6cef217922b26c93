"""Victims' Code clocks: working days, weekends, bank holidays, enhanced rights, fixed queries."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import event

from rj.cases.models import Scheme
from rj.consent import services
from rj.consent.models import PartyRole
from rj.core.time import UTC
from tests.factories import make_case


def clocks_by_kind(items):
    return {(i.party.name, i.clock): i for i in items}


def test_clocks_skip_good_friday_and_easter_monday(db, add_party):
    # Thursday 2 April 2026; Good Friday 3 April and Easter Monday 6 April are bank holidays.
    case = make_case(scheme=Scheme.POST_SENTENCE, referred_at=datetime(2026, 4, 2, 10, tzinfo=UTC))
    add_party(case, role=PartyRole.HARMED, name="Harriet H", victims_code=True)
    add_party(case, role=PartyRole.HARMED, name="Enid E", victims_code=True, enhanced_rights=True)
    add_party(case, role=PartyRole.RESPONSIBLE, name="Rob R")
    items = clocks_by_kind(services.victims_code_clocks([case], today=date(2026, 4, 7)))
    assert items[("Harriet H", "first_contact")].due == date(2026, 4, 8)
    assert items[("Harriet H", "rj_information")].due == date(2026, 4, 13)
    assert items[("Enid E", "rj_information")].due == date(2026, 4, 7)
    assert items[("Enid E", "rj_information")].status == "due"
    assert not any(name == "Rob R" for name, _ in items)
    later = clocks_by_kind(services.victims_code_clocks([case], today=date(2026, 4, 9)))
    assert later[("Harriet H", "first_contact")].status == "overdue"
    assert later[("Enid E", "rj_information")].status == "overdue"
    assert later[("Harriet H", "rj_information")].status == "due"


def test_a_friday_referral_is_due_on_tuesday(db, add_party):
    case = make_case(referred_at=datetime(2026, 11, 6, 15, tzinfo=UTC))  # Friday
    add_party(case, name="Pat P", victims_code=True)
    items = clocks_by_kind(services.victims_code_clocks([case], today=date(2026, 11, 10)))
    assert items[("Pat P", "first_contact")].due == date(2026, 11, 10)
    assert items[("Pat P", "first_contact")].status == "due"


def test_the_clock_starts_on_the_local_day_of_the_referral(db, add_party):
    # 23:30 UTC on Friday 5 June 2026 is 00:30 on Saturday in Stockport (BST).
    case = make_case(referred_at=datetime(2026, 6, 5, 23, 30, tzinfo=UTC))
    add_party(case, name="Pat P", victims_code=True)
    items = clocks_by_kind(services.victims_code_clocks([case], today=date(2026, 6, 6)))
    assert items[("Pat P", "first_contact")].due == date(2026, 6, 9)


def test_done_clocks_drop_off_the_list(db, add_party, coordinator):
    case = make_case(referred_at=datetime(2026, 11, 2, 9, tzinfo=UTC))
    party = add_party(case, name="Pat P", victims_code=True)
    services.record_first_contact(party, at=datetime(2026, 11, 3, 9, tzinfo=UTC), actor=coordinator,
                                  now=datetime(2026, 11, 3, 10, tzinfo=UTC))
    services.record_information(party, how="phone", actor=coordinator, now=datetime(2026, 11, 3, 10, tzinfo=UTC))
    assert services.victims_code_clocks([case], today=date(2026, 12, 1)) == []
    done = services.victims_code_clocks([case], today=date(2026, 12, 1), include_done=True)
    assert {i.status for i in done} == {"done"}


def test_clocks_run_a_fixed_number_of_queries_however_many_cases(db, add_party):
    cases = []
    for n in range(12):
        case = make_case(referred_at=datetime(2026, 11, 2, 9, tzinfo=UTC), commit=False)
        add_party(case, name=f"Person {n}", victims_code=True)
        cases.append(case)
    db.session.commit()
    cases = [db.session.get(type(c), c.id) for c in cases]
    statements = []

    def count(*args, **kwargs):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        items = services.victims_code_clocks(cases, today=date(2026, 11, 20))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(items) == 24
    assert len(statements) <= 2
