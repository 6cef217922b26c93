"""Facilitator pages for each role: coordinators and managers manage, a facilitator sees only
their own record at /me, an admin sees none of it, and anonymous users are sent to sign in."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rj.core.time import local_today
from rj.facilitators import services
from rj.facilitators.models import (
    ConflictKind, CpdEntry, DbsLevel, Facilitator, GoalStatus, TrainingPlanGoal, TrainingRecord,
)
from tests.facilitators.factories import make_course, make_eligible, make_facilitator

TODAY = local_today()


def d(day):
    return [str(day.day), str(day.month), str(day.year)]


@pytest.fixture
def fac(db):
    f = make_eligible(make_facilitator(), on=TODAY)
    services.add_supervision_session(f, held_on=TODAY, supervisor_name="Sup", notes="SECRET-SUPERVISION-NOTE",
                                     actor=None)
    services.add_conflict(f, kind=ConflictKind.PERSON, value="Jordan Smith", private_note="PRIVATE-WHY", actor=None)
    db.session.commit()
    return f


def pages(f):
    return [
        "/facilitators", "/facilitators/new", "/facilitators/compliance", f"/facilitators/{f.id}",
        f"/facilitators/{f.id}/edit", f"/facilitators/{f.id}/conflicts/new",
        f"/facilitators/{f.id}/training/new", f"/facilitators/{f.id}/goals/new",
        f"/facilitators/{f.id}/supervision/new", f"/facilitators/{f.id}/observations/new",
        f"/facilitators/{f.id}/cpd/new", f"/facilitators/{f.id}/dbs/new",
        f"/facilitators/{f.id}/training/{f.training_records[0].id}/edit",
        f"/facilitators/{f.id}/dbs/{f.dbs_checks[0].id}/edit",
        f"/facilitators/{f.id}/supervision/{f.supervision_sessions[0].id}/edit",
    ]


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_coordinators_and_managers_see_every_facilitator_page(as_role, fac, role):
    client, _ = as_role(role)
    for url in pages(fac):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["admin", "facilitator"])
def test_admins_and_facilitators_may_not_open_the_management_pages(as_role, fac, role):
    client, _ = as_role(role)
    for url in pages(fac) + ["/facilitators/courses", "/facilitators/courses/new"]:
        assert client.get(url).status_code == 403, url


def test_anonymous_users_are_sent_to_sign_in(client, fac):
    for url in pages(fac) + ["/me", "/me/cpd/new", "/facilitators/courses"]:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url


def test_course_catalogue_is_for_managers_only(as_role, db):
    course = make_course()
    db.session.commit()
    client, _ = as_role("coordinator")
    assert client.get("/facilitators/courses").status_code == 403
    client.post("/sign-out")
    client, _ = as_role("manager")
    for url in ["/facilitators/courses", "/facilitators/courses/new", f"/facilitators/courses/{course.id}/edit"]:
        assert client.get(url).status_code == 200, url


def test_a_manager_adds_a_course_and_a_bad_one_keeps_what_was_typed(as_role, db):
    client, _ = as_role("manager")
    response = client.post("/facilitators/courses/new", data={
        "name": "Level 3 refresher", "provider": "RJC", "category": "qualifying", "validity_months": "24"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Choose the RJ levels" in html and 'value="Level 3 refresher"' in html
    response = client.post("/facilitators/courses/new", data={
        "name": "Level 3 refresher", "provider": "RJC", "category": "qualifying", "levels": ["3"],
        "validity_months": "24"})
    assert response.status_code == 302


def test_supervision_notes_are_shown_to_managers_only(as_role, fac, login, client):
    coordinator_client, _ = as_role("coordinator")
    assert "SECRET-SUPERVISION-NOTE" not in coordinator_client.get(f"/facilitators/{fac.id}").get_data(as_text=True)
    edit = coordinator_client.get(f"/facilitators/{fac.id}/supervision/{fac.supervision_sessions[0].id}/edit")
    assert "SECRET-SUPERVISION-NOTE" not in edit.get_data(as_text=True)
    client.post("/sign-out")
    manager_client, _ = as_role("manager")
    assert "SECRET-SUPERVISION-NOTE" in manager_client.get(f"/facilitators/{fac.id}").get_data(as_text=True)


def test_a_coordinator_editing_supervision_does_not_wipe_the_private_notes(as_role, fac, db):
    client, _ = as_role("coordinator")
    session = fac.supervision_sessions[0]
    response = client.post(f"/facilitators/{fac.id}/supervision/{session.id}/edit", data={
        "version": session.version, "held_on": d(TODAY), "supervisor_name": "New name"})
    assert response.status_code == 302
    db.session.refresh(session)
    assert session.supervisor_name == "New name" and session.notes == "SECRET-SUPERVISION-NOTE"


def test_a_coordinator_creates_a_facilitator_and_sees_the_invitation_link(as_role, db):
    client, _ = as_role("coordinator")
    response = client.post("/facilitators/new", data={
        "name": "Kasia Nowak", "email": "kasia.nowak@rj-test.org.uk", "kind": "volunteer",
        "practitioner_level": "foundation", "languages": ["English", "Polish"], "areas": ["Reddish"],
        "max_meetings_per_month": "3"})
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/account/set-password/" in detail and "Kasia Nowak" in detail
    f = db.session.scalar(select(Facilitator))
    assert f.languages == ["English", "Polish"] and f.areas == ["Reddish"]


def test_the_detail_page_masks_the_dbs_number_and_shows_eligibility(as_role, fac):
    client, _ = as_role("coordinator")
    html = client.get(f"/facilitators/{fac.id}").get_data(as_text=True)
    assert "********1234" in html and "001234561234" not in html
    assert "Eligible" in html and "No qualifying training for Level 3 on record" in html
    edit = client.get(f"/facilitators/{fac.id}/dbs/{fac.dbs_checks[0].id}/edit").get_data(as_text=True)
    assert "001234561234" not in edit and "********1234" in edit


def test_bad_training_dates_show_errors_on_the_field_and_keep_the_input(as_role, fac, db):
    client, _ = as_role("coordinator")
    course = fac.training_records[0].course
    response = client.post(f"/facilitators/{fac.id}/training/new", data={
        "course_id": course.id, "completed_on": d(TODAY - timedelta(days=10)), "expires_on": d(TODAY - timedelta(days=20)),
        "evidence_reference": "CERT-777"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The expiry date must be the same as or after the completion date" in html
    assert 'value="CERT-777"' in html
    response = client.post(f"/facilitators/{fac.id}/training/new", data={
        "course_id": course.id, "completed_on": ["31", "2", "2025"]})
    assert "Completed on must be a real date" in response.get_data(as_text=True)
    response = client.post(f"/facilitators/{fac.id}/training/new", data={
        "course_id": course.id, "completed_on": d(TODAY - timedelta(days=3)), "expires_on": ["", "3", "2027"]})
    assert "Expires on must be a real date" in response.get_data(as_text=True)
    response = client.post(f"/facilitators/{fac.id}/training/new", data={
        "course_id": course.id, "completed_on": d(TODAY + timedelta(days=1))})
    assert "must be today or in the past" in response.get_data(as_text=True)
    response = client.post(f"/facilitators/{fac.id}/dbs/new", data={
        "level": "enhanced", "certificate_number": "12345", "issued_on": d(TODAY)})
    assert "Enter the 12-digit certificate number" in response.get_data(as_text=True)


def test_a_stale_edit_is_refused_and_keeps_what_was_typed(as_role, fac, db):
    client, _ = as_role("coordinator")
    goal = services.add_plan_goal(fac, title="Lead a conference", target_date=None, status=GoalStatus.PLANNED,
                                  progress_notes=None, actor=None)
    db.session.commit()
    old_version = goal.version
    services.update_plan_goal(goal, version=goal.version, title="Changed elsewhere", target_date=None,
                              status=GoalStatus.IN_PROGRESS, progress_notes=None, actor=None)
    db.session.commit()
    response = client.post(f"/facilitators/{fac.id}/goals/{goal.id}/edit", data={
        "version": old_version, "title": "My stale edit", "status": "achieved"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this record" in html and 'value="My stale edit"' in html
    db.session.expire_all()
    assert db.session.get(TrainingPlanGoal, goal.id).title == "Changed elsewhere"


def test_a_record_of_another_facilitator_is_not_found_through_this_one(as_role, fac, db):
    other = make_eligible(make_facilitator(), on=TODAY)
    client, _ = as_role("coordinator")
    assert client.get(f"/facilitators/{fac.id}/training/{other.training_records[0].id}/edit").status_code == 404
    assert client.get("/facilitators/99999").status_code == 404


def test_the_compliance_view_filters_by_status(as_role, fac, db):
    from rj.facilitators.models import FacilitatorStatus

    paused = make_facilitator(status=FacilitatorStatus.PAUSED)
    client, _ = as_role("coordinator")
    html = client.get("/facilitators/compliance").get_data(as_text=True)
    assert f'data-facilitator="{fac.id}"' in html and f'data-facilitator="{paused.id}"' not in html
    html = client.get("/facilitators/compliance?status=paused&sort=worst").get_data(as_text=True)
    assert f'data-facilitator="{paused.id}"' in html and f'data-facilitator="{fac.id}"' not in html
    html = client.get("/facilitators/compliance?status=").get_data(as_text=True)
    assert f'data-facilitator="{paused.id}"' in html and f'data-facilitator="{fac.id}"' in html


def test_verifying_a_training_record(as_role, fac, db):
    client, user = as_role("coordinator")
    rec = fac.training_records[0]
    assert client.post(f"/facilitators/{fac.id}/training/{rec.id}/verify").status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingRecord, rec.id).verified_by_id == user.id


# --------------------------------------------------------------------------- self-service

@pytest.fixture
def me(db, make_user, login, client):
    user = make_user("facilitator")
    f = make_eligible(make_facilitator(user), on=TODAY)
    services.add_supervision_session(f, held_on=TODAY, supervisor_name="Sup", notes="SECRET-SUPERVISION-NOTE",
                                     actor=None)
    db.session.commit()
    login(user)
    return f


def test_a_facilitator_sees_their_own_record_without_supervision_notes(client, me):
    response = client.get("/me")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert me.name in html and "Log CPD" in html and "********1234" in html
    assert "SECRET-SUPERVISION-NOTE" not in html
    assert "Mark verified" not in html and f"/facilitators/{me.id}" not in html


def test_a_facilitator_without_a_profile_is_told_to_ask(as_role):
    client, _ = as_role("facilitator")
    response = client.get("/me")
    assert response.status_code == 200 and "has not been set up" in response.get_data(as_text=True)
    assert client.get("/me/cpd/new").headers["Location"].endswith("/me")


@pytest.mark.parametrize("role", ["coordinator", "manager", "admin"])
def test_only_facilitators_have_a_me_page(as_role, role):
    client, _ = as_role(role)
    assert client.get("/me").status_code == 403


def test_a_facilitator_logs_cpd_and_bad_hours_are_refused(client, me, db):
    response = client.post("/me/cpd/new", data={"done_on": d(TODAY), "hours": "30", "activity": "Webinar",
                                                "rjc_approved": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "24 or fewer" in html and 'value="Webinar"' in html
    response = client.post("/me/cpd/new", data={"done_on": d(TODAY), "hours": "1.5", "activity": "Webinar",
                                                "rjc_approved": "y"})
    assert response.status_code == 302
    entry = db.session.scalar(select(CpdEntry).where(CpdEntry.facilitator_id == me.id))
    assert entry.hours == 1.5 and entry.rjc_approved


def test_a_facilitator_may_edit_their_unverified_cpd_but_not_a_verified_one(client, me, db, make_user):
    entry = services.add_cpd_entry(me, done_on=TODAY, hours=1, activity="Reading", rjc_approved=False, actor=me.user)
    db.session.commit()
    response = client.post(f"/me/cpd/{entry.id}/edit", data={"version": entry.version, "done_on": d(TODAY),
                                                             "hours": "2", "activity": "Reading"})
    assert response.status_code == 302
    services.verify_cpd_entry(db.session.get(CpdEntry, entry.id), actor=make_user("coordinator"))
    db.session.commit()
    assert client.get(f"/me/cpd/{entry.id}/edit").status_code == 403
    assert client.post(f"/me/cpd/{entry.id}/edit", data={"done_on": d(TODAY), "hours": "9",
                                                         "activity": "Reading"}).status_code == 403


def test_a_facilitator_cannot_reach_another_facilitators_records(client, me, db):
    other = make_eligible(make_facilitator(), on=TODAY)
    entry = services.add_cpd_entry(other, done_on=TODAY, hours=1, activity="Reading", rjc_approved=False,
                                   actor=None)
    conflict = services.add_conflict(other, kind=ConflictKind.PERSON, value="Someone", actor=None)
    db.session.commit()
    assert client.get(f"/me/cpd/{entry.id}/edit").status_code == 404
    assert client.post(f"/me/conflicts/{conflict.id}/remove").status_code == 404
    assert client.get(f"/facilitators/{other.id}").status_code == 403
    assert client.get(f"/facilitators/{me.id}").status_code == 403
    assert client.get(f"/facilitators/{me.id}/training/new").status_code == 403
    assert client.post(f"/facilitators/{me.id}/training/{me.training_records[0].id}/verify").status_code == 403


def test_a_facilitator_updates_phone_languages_areas_and_declares_conflicts(client, me, db):
    response = client.post("/me/details", data={"version": me.version, "phone": "07700 900 982",
                                                "languages": ["English", "Somali"], "areas": ["Offerton"]})
    assert response.status_code == 302
    response = client.post("/me/details", data={"version": me.version + 1, "phone": "not a phone"})
    assert "Enter a telephone number" in response.get_data(as_text=True)
    response = client.post("/me/conflicts/new", data={"kind": "address", "value": "Hillside Road",
                                                      "private_note": "Family"})
    assert response.status_code == 302
    db.session.expire_all()
    f = db.session.get(Facilitator, me.id)
    assert f.phone == "07700 900 982" and f.languages == ["English", "Somali"] and f.areas == ["Offerton"]
    conflict = f.conflicts[0]
    assert conflict.kind is ConflictKind.ADDRESS
    assert client.post(f"/me/conflicts/{conflict.id}/remove").status_code == 302


def test_the_dbs_level_labels_say_which_barred_lists():
    assert DbsLevel.ENHANCED_BARRED_BOTH.label == "Enhanced with children's and adults' barred lists"
