"""Rostering pages: each role allowed or denied, facilitators see only their own, fixed query counts."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select

from rj.core.permissions import Role
from rj.rostering import services as rs
from rj.rostering.models import CaseTeam, Offer, OfferStatus, RosterRun, TeamRole
from tests.factories import make_case
from tests.rostering.conftest import NOW

PAGES = ["/roster", "/roster?view=month", "/roster/auto"]


@pytest.mark.parametrize("path", PAGES + ["/my-roster"])
def test_anonymous_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["facilitator", "admin"])
def test_coordinator_pages_are_refused_to_other_roles(as_role, path, role):
    client, _ = as_role(role)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "admin", "manager"])
def test_my_roster_is_for_facilitators_only(as_role, role):
    client, _ = as_role(role)
    assert client.get("/my-roster").status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_roster_week_and_month_show_meetings_and_unfilled_places(as_role, role, db, make_facilitator, make_party,
                                                                 book):
    client, _ = as_role(role)
    case = make_case(risk_assessed=True, level=2)
    lead = make_facilitator("Ann Lead", experienced=True)
    book(case, parties=[make_party(case)], lead=lead, day=date(2027, 3, 9))
    db.session.commit()
    week = client.get("/roster?start=2027-03-08")
    assert week.status_code == 200
    text = week.get_data(as_text=True)
    assert case.reference in text and "Ann Lead" in text and "1 place unfilled" in text
    month = client.get("/roster?view=month&start=2027-03-01")
    assert month.status_code == 200 and case.reference in month.get_data(as_text=True)
    other_level = client.get("/roster?view=month&start=2027-03-01&level=3")
    assert case.reference not in other_level.get_data(as_text=True)


def test_roster_view_runs_a_fixed_number_of_queries(as_role, db, make_facilitator, make_party, book):
    client, _ = as_role("coordinator")
    lead = make_facilitator(experienced=True)
    co = make_facilitator()

    def add(n, offset):
        for i in range(n):
            c = make_case(risk_assessed=True, level=2)
            book(c, parties=[make_party(c, f"Pat Person{offset + i}")], lead=lead, co=co,
                 day=date(2027, 3, 8 + (offset + i) % 5), start=f"{9 + 2 * ((offset + i) // 5):02d}:00", minutes=60)
        db.session.commit()

    def measure():
        counter = {"n": 0}

        def before(*a, **k):
            counter["n"] += 1

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            assert client.get("/roster?start=2027-03-08").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return counter["n"]

    add(1, 0)
    few = measure()
    add(4, 1)
    assert measure() == few


def test_case_team_page_shows_suggestions_and_exclusions(as_role, db, make_facilitator):
    client, _ = as_role("coordinator")
    case = make_case(risk_assessed=True, level=2)
    make_facilitator("Ann Able", experienced=True)
    make_facilitator("Bo Blocked", eligible=False)
    db.session.commit()
    response = client.get(f"/cases/{case.id}/team")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ann Able" in text and "Bo Blocked" in text and "No DBS check on record" in text


@pytest.mark.parametrize("role", ["facilitator", "admin"])
def test_case_team_page_is_refused_to_other_roles(as_role, role, db):
    client, _ = as_role(role)
    case = make_case(risk_assessed=True, level=2)
    assert client.get(f"/cases/{case.id}/team").status_code == 403


def test_case_team_page_for_a_missing_case_is_404(as_role):
    client, _ = as_role("coordinator")
    assert client.get("/cases/99999/team").status_code == 404


def test_allocating_a_team_through_the_page(as_role, db, make_facilitator):
    client, _ = as_role("coordinator")
    case = make_case(risk_assessed=True, level=2)
    a, b = make_facilitator(experienced=True), make_facilitator()
    db.session.commit()
    response = client.post(f"/cases/{case.id}/team/allocate",
                           data={"lead_facilitator_id": a.id, "co_facilitator_id": b.id})
    assert response.status_code == 302
    assert rs.current_team(case) == (a, b)


def test_allocating_two_new_facilitators_shows_the_reason_on_the_form(as_role, db, make_facilitator):
    client, _ = as_role("coordinator")
    case = make_case(risk_assessed=True, level=2)
    a, b = make_facilitator(), make_facilitator()
    db.session.commit()
    response = client.post(f"/cases/{case.id}/team/allocate",
                           data={"lead_facilitator_id": a.id, "co_facilitator_id": b.id})
    assert response.status_code == 400
    assert "pair a new facilitator with an experienced one" in response.get_data(as_text=True)
    assert db.session.scalar(select(CaseTeam)) is None


def test_replacing_through_the_page_needs_a_reason(as_role, db, make_facilitator):
    client, user = as_role("coordinator")
    case = make_case(risk_assessed=True, level=2)
    a, b, c = make_facilitator(experienced=True), make_facilitator(), make_facilitator()
    team = rs.allocate_team(case, lead=a, co=b, actor=user, now=NOW)
    db.session.commit()
    bad = client.post(f"/cases/{case.id}/team/replace",
                      data={"role": "co", "facilitator_id": c.id, "reason": "", "version": team.version})
    assert bad.status_code == 400 and "Choose why" in bad.get_data(as_text=True)
    ok = client.post(f"/cases/{case.id}/team/replace",
                     data={"role": "co", "facilitator_id": c.id, "reason": "unwell", "version": team.version})
    assert ok.status_code == 302
    db.session.expire_all()
    assert rs.current_team(case) == (a, c)


def test_offer_from_the_team_page(as_role, db, make_facilitator):
    client, _ = as_role("coordinator")
    case = make_case(risk_assessed=True, level=2)
    a = make_facilitator(experienced=True)
    db.session.commit()
    assert client.post(f"/cases/{case.id}/team/offer", data={"facilitator_id": a.id, "role": "lead"}).status_code == 302
    offer = db.session.scalar(select(Offer))
    assert offer.facilitator_id == a.id and offer.status is OfferStatus.PENDING


def test_auto_roster_page_runs_reviews_and_confirms(as_role, db, make_facilitator, monkeypatch):
    from rj.rostering import views

    client, _ = as_role("coordinator")
    monkeypatch.setattr(views, "local_today", lambda: date(2027, 3, 1))
    make_case(risk_assessed=True, level=2)
    make_facilitator(experienced=True), make_facilitator()
    db.session.commit()
    assert client.get("/roster/auto").status_code == 200
    response = client.post("/roster/auto", data={"month": "2027-03-01"})
    assert response.status_code == 302
    run = db.session.scalar(select(RosterRun))
    review = client.get(f"/roster/auto/{run.id}")
    assert review.status_code == 200 and "1 of 1 cases have a proposed team" in review.get_data(as_text=True)
    assert client.post(f"/roster/auto/{run.id}/confirm", data={"version": run.version}).status_code == 302
    db.session.expire_all()
    assert len(db.session.scalars(select(Offer)).all()) == 2


# --------------------------------------------------------------------------- facilitators

def test_my_roster_lists_only_my_meetings_with_minimal_party_details(login, make_user, db, make_facilitator,
                                                                      make_party, book, client, monkeypatch):
    from rj.rostering import views

    monkeypatch.setattr(views, "now_utc", lambda: NOW)
    me_user = make_user(Role.FACILITATOR, name="Sam Facilitator")
    me = make_facilitator(user=me_user, experienced=True)
    partner = make_facilitator("Pat Partner")
    stranger = make_facilitator("Ray Stranger", experienced=True)
    mine, theirs = make_case(risk_assessed=True, level=2), make_case(risk_assessed=True, level=2)
    party = make_party(mine, "Jordan Example")
    party.address_line, party.phone, party.wheelchair_access = "12 Secret Road", "07700 900123", True
    book(mine, parties=[party], lead=me, co=partner, day=date(2027, 3, 9))
    book(theirs, parties=[make_party(theirs, "Hidden Person")], lead=stranger, day=date(2027, 3, 10))
    db.session.commit()
    login(me_user)
    text = client.get("/my-roster").get_data(as_text=True)
    assert mine.reference in text and "Pat Partner" in text
    assert "Jordan" in text and "Wheelchair access" in text
    assert "Example" not in text and "12 Secret Road" not in text and "07700" not in text
    assert theirs.reference not in text and "Hidden" not in text


def test_facilitator_accepts_their_own_offer_and_cannot_touch_others(login, make_user, db, make_facilitator, client):
    case = make_case(risk_assessed=True, level=2)
    me_user = make_user(Role.FACILITATOR)
    me = make_facilitator(user=me_user, experienced=True)
    other = make_facilitator(experienced=True)
    coordinator = make_user(Role.COORDINATOR)
    mine = rs.make_offer(me, case, TeamRole.LEAD, actor=coordinator)
    theirs = rs.make_offer(other, case, TeamRole.CO, actor=coordinator)
    db.session.commit()
    login(me_user)
    page = client.get("/my-roster").get_data(as_text=True)
    assert case.reference in page and "Accept" in page
    assert client.post(f"/my-roster/offers/{theirs.id}/accept", data={f"o{theirs.id}-version": theirs.version}).status_code == 404
    response = client.post(f"/my-roster/offers/{mine.id}/accept", data={f"o{mine.id}-version": mine.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Offer, mine.id).status is OfferStatus.ACCEPTED
    assert db.session.get(Offer, theirs.id).status is OfferStatus.PENDING


# --------------------------------------------------------------------------- case visibility

def test_rostered_facilitator_sees_the_case_and_an_unrostered_one_gets_404(login, make_user, db, make_facilitator,
                                                                             client):
    case = make_case(risk_assessed=True, level=2)
    on_user, off_user = make_user(Role.FACILITATOR), make_user(Role.FACILITATOR)
    on = make_facilitator(user=on_user, experienced=True)
    make_facilitator(user=off_user, experienced=True)
    partner = make_facilitator()
    rs.allocate_team(case, lead=on, co=partner, actor=make_user(Role.COORDINATOR), now=NOW)
    db.session.commit()
    login(on_user)
    assert client.get(f"/cases/{case.id}").status_code == 200
    client.post("/sign-out")
    other = client.application.test_client()
    login(off_user, c=other)
    assert other.get(f"/cases/{case.id}").status_code == 404


def test_roster_with_a_bad_start_date_says_how_to_fix_it(as_role):
    client, _ = as_role("coordinator")
    response = client.get("/roster?start=2027-02-31")
    assert response.status_code == 200
    assert "Enter a real date" in response.get_data(as_text=True)
    assert client.get("/roster?start=nonsense&view=sideways").status_code == 200


def test_team_page_for_a_meeting_ranks_for_its_time_and_refuses_another_cases_meeting(
        as_role, db, make_facilitator, make_party, book):
    client, _ = as_role("coordinator")
    case, other = make_case(risk_assessed=True, level=2), make_case(risk_assessed=True, level=2)
    lead = make_facilitator("Ann Lead", experienced=True)
    make_facilitator("Bo Away", windows=False)
    meeting = book(case, parties=[make_party(case)], lead=lead, day=date(2027, 3, 9))
    other_meeting = book(other, parties=[make_party(other, "Cy Other")], lead=lead, day=date(2027, 3, 10))
    db.session.commit()
    response = client.get(f"/cases/{case.id}/team?meeting={meeting.id}")
    assert response.status_code == 200 and "Not available on Tuesdays" in response.get_data(as_text=True)
    assert client.get(f"/cases/{case.id}/team?meeting={other_meeting.id}").status_code == 404
