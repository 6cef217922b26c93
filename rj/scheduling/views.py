"""Pages for venues, availability, a case's meetings, and finding a time (including the public answer page)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rj.cases.models import Case
from rj.core.errors import DomainError
from rj.core.permissions import Perm, has_perm, public, require
from rj.core.forms import show_domain_error
from rj.core.time import LocalTimeError, from_local, to_local
from rj.extensions import db, limiter
from rj.scheduling import forms as f
from rj.scheduling import services
from rj.scheduling.models import (
    AvailabilityException, AvailabilityWindow, ExceptionKind, Meeting, MeetingKind, MeetingMode, Room, SlotPoll,
    Venue, VenueKind,
)

bp = Blueprint("scheduling", __name__)


# --------------------------------------------------------------------------- venues

@bp.get("/venues")
@require(Perm.VENUES_MANAGE, Perm.MEETINGS_BOOK)
def venue_list():
    venues = db.session.scalars(select(Venue).options(selectinload(Venue.rooms)).order_by(Venue.active.desc(),
                                                                                          Venue.name)).all()
    return render_template("scheduling/venue_list.html", venues=venues, weekdays=f.WEEKDAYS)


def _venue_data(form: f.VenueForm) -> dict:
    return {"name": form.name.data, "kind": VenueKind(form.kind.data), "address_line": form.address_line.data or "",
            "town": form.town.data or "Stockport", "postcode": (form.postcode.data or "").upper(),
            "phone": form.phone.data or None, "accessibility_notes": form.accessibility_notes.data or None,
            "step_free_access": form.step_free_access.data, "hearing_loop": form.hearing_loop.data,
            "separate_waiting_areas": form.separate_waiting_areas.data, "opening_hours": form.opening_hours(),
            "active": form.active.data}


@bp.route("/venues/new", methods=["GET", "POST"])
@require(Perm.VENUES_MANAGE)
def venue_new():
    form = f.VenueForm()
    if request.method == "GET":
        for d in range(5):
            getattr(form, f"open_{d}").data, getattr(form, f"close_{d}").data = "09:00", "17:00"
    errors = []
    if form.validate_on_submit():
        try:
            venue = services.create_venue(actor=current_user, **_venue_data(form))
        except DomainError as exc:
            db.session.rollback()
            errors = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("Venue added. Now add its rooms.", "success")
            return redirect(url_for("scheduling.venue_edit", venue_id=venue.id))
    return render_template("scheduling/venue_form.html", form=form, venue=None, errors=errors,
                           weekdays=f.WEEKDAYS), 400 if form.errors or errors else 200


@bp.route("/venues/<int:venue_id>", methods=["GET", "POST"])
@require(Perm.VENUES_MANAGE)
def venue_edit(venue_id: int):
    venue = db.session.get(Venue, venue_id) or abort(404)
    form = f.VenueForm(obj=venue)
    if request.method == "GET":
        form.kind.data = venue.kind.value
        form.version.data = venue.version
        for d in range(7):
            hours = venue.hours_on(d)
            if hours:
                getattr(form, f"open_{d}").data = hours[0][0].strftime("%H:%M")
                getattr(form, f"close_{d}").data = hours[0][1].strftime("%H:%M")
    errors = []
    if form.validate_on_submit():
        try:
            services.update_venue(venue, actor=current_user, version=form.version.data, **_venue_data(form))
        except DomainError as exc:
            db.session.rollback()
            errors = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("Venue saved", "success")
            return redirect(url_for("scheduling.venue_list"))
    return render_template("scheduling/venue_form.html", form=form, venue=venue, errors=errors,
                           weekdays=f.WEEKDAYS), 400 if form.errors or errors else 200


def _room_data(form: f.RoomForm) -> dict:
    return {k: getattr(form, k).data for k in ("name", "capacity", "step_free_access", "hearing_loop",
                                                "separate_waiting_area", "active")} | {"notes": form.notes.data or None}


@bp.route("/venues/<int:venue_id>/rooms/new", methods=["GET", "POST"])
@require(Perm.VENUES_MANAGE)
def room_new(venue_id: int):
    venue = db.session.get(Venue, venue_id) or abort(404)
    form = f.RoomForm()
    errors = []
    if form.validate_on_submit():
        try:
            services.create_room(venue, actor=current_user, **_room_data(form))
        except DomainError as exc:
            db.session.rollback()
            errors = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("Room added", "success")
            return redirect(url_for("scheduling.venue_edit", venue_id=venue.id))
    return render_template("scheduling/room_form.html", form=form, venue=venue, room=None, errors=errors), \
        400 if form.errors or errors else 200


@bp.route("/venues/<int:venue_id>/rooms/<int:room_id>", methods=["GET", "POST"])
@require(Perm.VENUES_MANAGE)
def room_edit(venue_id: int, room_id: int):
    venue = db.session.get(Venue, venue_id) or abort(404)
    room = db.session.scalar(select(Room).where(Room.id == room_id, Room.venue_id == venue.id)) or abort(404)
    form = f.RoomForm(obj=room)
    if request.method == "GET":
        form.version.data = room.version
    errors = []
    if form.validate_on_submit():
        try:
            services.update_room(room, actor=current_user, version=form.version.data, **_room_data(form))
        except DomainError as exc:
            db.session.rollback()
            errors = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("Room saved", "success")
            return redirect(url_for("scheduling.venue_edit", venue_id=venue.id))
    return render_template("scheduling/room_form.html", form=form, venue=venue, room=room, errors=errors), \
        400 if form.errors or errors else 200


# --------------------------------------------------------------------------- availability

def _own_facilitator():
    from rj.facilitators.services import facilitator_for_user

    return facilitator_for_user(current_user) or abort(404)


def _managed_facilitator(facilitator_id: int):
    from rj.facilitators.models import Facilitator

    return db.session.get(Facilitator, facilitator_id) or abort(404)


def _availability_page(facilitator, *, own: bool):
    window_form, exception_form = f.WindowForm(prefix="w"), f.ExceptionForm(prefix="x")
    errors: list[str] = []
    action = request.form.get("action") if request.method == "POST" else None
    try:
        if action == "window" and window_form.validate_on_submit():
            services.add_availability_window(
                facilitator, weekday=int(window_form.weekday.data), start_time=f.parse_hhmm(window_form.start_time.data),
                end_time=f.parse_hhmm(window_form.end_time.data), actor=current_user)
            db.session.commit()
            flash("Weekly times added", "success")
            return redirect(request.path)
        if action == "exception" and exception_form.validate_on_submit():
            services.add_availability_exception(
                facilitator, kind=ExceptionKind(exception_form.kind.data), starts_on=exception_form.starts_on.data,
                ends_on=exception_form.ends_on.data, actor=current_user)
            db.session.commit()
            flash("Added", "success")
            return redirect(request.path)
        if action in ("remove_window", "remove_exception") and f.RemoveForm().validate_on_submit():
            model = AvailabilityWindow if action == "remove_window" else AvailabilityException
            obj = db.session.scalar(select(model).where(model.id == request.form.get("item_id", type=int),
                                                        model.facilitator_id == facilitator.id)) or abort(404)
            (services.remove_availability_window if model is AvailabilityWindow
             else services.remove_availability_exception)(obj, actor=current_user)
            db.session.commit()
            flash("Removed", "success")
            return redirect(request.path)
    except DomainError as exc:
        db.session.rollback()
        form = window_form if action == "window" else exception_form
        errors = show_domain_error(form, exc)
    windows = db.session.scalars(select(AvailabilityWindow).where(AvailabilityWindow.facilitator_id == facilitator.id)
                                 .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_time)).all()
    exceptions = db.session.scalars(select(AvailabilityException).where(
        AvailabilityException.facilitator_id == facilitator.id).order_by(AvailabilityException.starts_on)).all()
    status = 400 if (window_form.errors or exception_form.errors or errors) else 200
    return render_template("scheduling/availability.html", facilitator=facilitator, own=own, windows=windows,
                           exceptions=exceptions, window_form=window_form, exception_form=exception_form,
                           remove_form=f.RemoveForm(), errors=errors, action=action), status


@bp.route("/my-availability", methods=["GET", "POST"])
@require(Perm.ROSTER_OWN)
def my_availability():
    return _availability_page(_own_facilitator(), own=True)


@bp.route("/availability/facilitators/<int:facilitator_id>", methods=["GET", "POST"])
@require(Perm.FACILITATORS_MANAGE)
def facilitator_availability(facilitator_id: int):
    return _availability_page(_managed_facilitator(facilitator_id), own=False)


# --------------------------------------------------------------------------- meetings

def _case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not case.can_view(current_user):
        abort(404)
    return case


def _meeting(case: Case, meeting_id: int) -> Meeting:
    meeting = db.session.scalar(select(Meeting).where(Meeting.id == meeting_id, Meeting.case_id == case.id))
    if meeting is None or not meeting.can_view(current_user):
        abort(404)
    return meeting


def _choices(case: Case, form, *, include_room=True):
    """Rooms, the case's parties and active facilitators for a booking form."""
    from rj.facilitators.models import Facilitator, FacilitatorStatus

    try:
        from rj.consent.services import active_parties

        parties = active_parties(case)
    except ImportError:
        parties = []
    form.party_ids.choices = [(str(p.id), p.display() if hasattr(p, "display") else p.name) for p in parties]
    facilitators = db.session.scalars(select(Facilitator).where(Facilitator.status == FacilitatorStatus.ACTIVE)).all()
    facilitators = sorted(facilitators, key=lambda x: x.name)
    people = [("", "Choose a facilitator")] + [(str(x.id), x.name) for x in facilitators]
    form.lead_id.choices, form.co_id.choices = people, [("", "None")] + people[1:]
    if include_room:
        rooms = db.session.scalars(select(Room).join(Venue).where(Room.active, Venue.active)
                                   .options(selectinload(Room.venue)).order_by(Venue.name, Room.name)).all()
        form.room_id.choices = [("", "No room (phone or video)")] + [
            (str(r.id), f"{r.venue.name}: {r.name} (up to {r.capacity})") for r in rooms]
    return {p.id: p for p in parties}, {x.id: x for x in facilitators}


def _people(form, parties, facilitators):
    chosen = [parties[int(i)] for i in form.party_ids.data or [] if i.isdigit() and int(i) in parties]
    lead = facilitators.get(int(form.lead_id.data)) if (form.lead_id.data or "").isdigit() else None
    co = facilitators.get(int(form.co_id.data)) if (form.co_id.data or "").isdigit() else None
    room = db.session.get(Room, int(form.room_id.data)) if (form.room_id.data or "").isdigit() else None
    return chosen, lead, co, room


def _when(form) -> tuple:
    """The form's local date and time as UTC; a clock-change hour is a clear error on the time field."""
    try:
        starts = from_local(form.day.data, f.parse_hhmm(form.start.data))
    except LocalTimeError as exc:
        form.start.errors.append(str(exc))
        return None, None
    return starts, starts + timedelta(minutes=int(form.duration.data))


@bp.get("/cases/<int:case_id>/meetings")
@require(Perm.MEETINGS_BOOK, Perm.ROSTER_VIEW_ALL, Perm.ROSTER_OWN)
def meeting_list(case_id: int):
    case = _case(case_id)
    meetings = [m for m in services.meetings_for_case(case) if m.can_view(current_user)]
    return render_template("scheduling/meeting_list.html", case=case, meetings=meetings,
                           can_book=has_perm(current_user, Perm.MEETINGS_BOOK))


@bp.route("/cases/<int:case_id>/meetings/new", methods=["GET", "POST"])
@require(Perm.MEETINGS_BOOK)
def meeting_new(case_id: int):
    case = _case(case_id)
    form = f.MeetingForm()
    parties, facilitators = _choices(case, form)
    if request.method == "GET":
        form.kind.data = request.args.get("kind", MeetingKind.PREPARATION.value)
        lead, co = services.default_team(case)
        form.lead_id.data = str(lead.id) if lead else ""
        form.co_id.data = str(co.id) if co else ""
    errors, warnings = [], []
    if form.validate_on_submit():
        starts, ends = _when(form)
        if starts is not None:
            chosen, lead, co, room = _people(form, parties, facilitators)
            try:
                meeting = services.run_booking(lambda: services.book_meeting(
                    case, kind=MeetingKind(form.kind.data), starts_at=starts, ends_at=ends,
                    mode=MeetingMode(form.mode.data), room=room, parties=chosen, lead=lead, co=co,
                    joining_notes=form.joining_notes.data, confirm_warnings=form.confirm_warnings.data,
                    actor=current_user))
            except services.NeedsConfirmation as exc:
                warnings = exc.reasons
            except DomainError as exc:
                errors = exc.reasons
            else:
                flash("Meeting booked", "success")
                return redirect(url_for("scheduling.meeting_detail", case_id=case_id, meeting_id=meeting.id))
    failed = bool(form.errors or errors or warnings)
    return render_template("scheduling/meeting_form.html", form=form, case=case, meeting=None, errors=errors,
                           warnings=warnings), 400 if failed else 200


@bp.get("/cases/<int:case_id>/meetings/<int:meeting_id>")
@require(Perm.MEETINGS_BOOK, Perm.ROSTER_VIEW_ALL, Perm.ROSTER_OWN)
def meeting_detail(case_id: int, meeting_id: int):
    case = _case(case_id)
    meeting = _meeting(case, meeting_id)
    return render_template("scheduling/meeting_detail.html", case=case, meeting=meeting,
                           can_book=has_perm(current_user, Perm.MEETINGS_BOOK), remove_form=f.RemoveForm())


@bp.route("/cases/<int:case_id>/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@require(Perm.MEETINGS_BOOK)
def meeting_edit(case_id: int, meeting_id: int):
    case = _case(case_id)
    meeting = _meeting(case, meeting_id)
    form = f.MeetingForm()
    form.kind.validators = []
    parties, facilitators = _choices(case, form)
    if request.method == "GET":
        local = to_local(meeting.starts_at)
        form.kind.data = meeting.kind.value
        form.day.data, form.start.data = local.date(), local.strftime("%H:%M")
        minutes = int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
        if str(minutes) not in dict(f.DURATIONS):
            form.duration.choices = form.duration.choices + [(str(minutes), f"{minutes} minutes")]
        form.duration.data = str(minutes)
        form.mode.data = meeting.mode.value
        form.room_id.data = str(meeting.room_id or "")
        form.party_ids.data = [str(mp.party_id) for mp in meeting.parties]
        form.lead_id.data = str(meeting.lead.id) if meeting.lead else ""
        form.co_id.data = str(meeting.co_facilitator.id) if meeting.co_facilitator else ""
        form.joining_notes.data = meeting.joining_notes or ""
        form.version.data = meeting.version
    else:
        form.duration.choices = form.duration.choices + [(request.form.get("duration", ""), "Custom")]
    errors, warnings = [], []
    if form.validate_on_submit():
        starts, ends = _when(form)
        if starts is not None:
            chosen, lead, co, room = _people(form, parties, facilitators)
            try:
                services.run_booking(lambda: services.reschedule_meeting(
                    meeting, starts_at=starts, ends_at=ends, mode=MeetingMode(form.mode.data), room=room,
                    keep_room=False, parties=chosen, lead=lead, co=co, joining_notes=form.joining_notes.data or "",
                    version=form.version.data, confirm_warnings=form.confirm_warnings.data, actor=current_user))
            except services.NeedsConfirmation as exc:
                warnings = exc.reasons
            except DomainError as exc:
                errors = exc.reasons
            else:
                flash("Meeting changed. Everyone on it will be sent the update.", "success")
                return redirect(url_for("scheduling.meeting_detail", case_id=case_id, meeting_id=meeting_id))
    failed = bool(form.errors or errors or warnings)
    return render_template("scheduling/meeting_form.html", form=form, case=case, meeting=meeting, errors=errors,
                           warnings=warnings), 400 if failed else 200


@bp.route("/cases/<int:case_id>/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@require(Perm.MEETINGS_BOOK)
def meeting_cancel(case_id: int, meeting_id: int):
    case = _case(case_id)
    meeting = _meeting(case, meeting_id)
    form = f.CancelForm()
    if request.method == "GET":
        form.version.data = meeting.version
    errors = []
    if form.validate_on_submit():
        fn = services.postpone_meeting if form.postpone.data else services.cancel_meeting
        try:
            fn(meeting, actor=current_user, reason=form.reason.data, version=form.version.data)
        except DomainError as exc:
            db.session.rollback()
            errors = exc.reasons
        else:
            db.session.commit()
            flash("Meeting postponed" if form.postpone.data else "Meeting cancelled", "success")
            return redirect(url_for("scheduling.meeting_detail", case_id=case_id, meeting_id=meeting_id))
    return render_template("scheduling/meeting_cancel.html", form=form, case=case, meeting=meeting,
                           errors=errors), 400 if form.errors or errors else 200


@bp.route("/cases/<int:case_id>/meetings/<int:meeting_id>/outcome", methods=["GET", "POST"])
@require(Perm.MEETINGS_BOOK)
def meeting_outcome(case_id: int, meeting_id: int):
    case = _case(case_id)
    meeting = _meeting(case, meeting_id)
    form = f.OutcomeForm()
    form.absent_ids.choices = [(f"p{mp.party_id}", mp.party.name) for mp in meeting.parties] + [
        (f"f{mf.facilitator_id}", mf.facilitator.name) for mf in meeting.facilitators]
    if request.method == "GET":
        form.version.data = meeting.version
    errors = []
    if form.validate_on_submit():
        absent = form.absent_ids.data or []
        parties = [int(a[1:]) for a in absent if a.startswith("p")]
        facs = [int(a[1:]) for a in absent if a.startswith("f")]
        try:
            from rj.core.errors import check_version

            check_version(meeting, form.version.data)
            if form.outcome.data == "held":
                services.mark_meeting_held(meeting, actor=current_user, absent_party_ids=parties,
                                           absent_facilitator_ids=facs)
            else:
                if not form.reason.data:
                    raise DomainError("Select why the meeting did not go ahead", field="reason")
                services.mark_meeting_did_not_go_ahead(meeting, actor=current_user, reason=form.reason.data,
                                                       absent_party_ids=parties, absent_facilitator_ids=facs)
        except DomainError as exc:
            db.session.rollback()
            errors = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("Saved", "success")
            return redirect(url_for("scheduling.meeting_detail", case_id=case_id, meeting_id=meeting_id))
    return render_template("scheduling/meeting_outcome.html", form=form, case=case, meeting=meeting,
                           errors=errors), 400 if form.errors or errors else 200


@bp.post("/cases/<int:case_id>/meetings/<int:meeting_id>/facilitators/<int:facilitator_id>/remove")
@require(Perm.MEETINGS_BOOK)
def meeting_remove_facilitator(case_id: int, meeting_id: int, facilitator_id: int):
    case = _case(case_id)
    meeting = _meeting(case, meeting_id)
    link = next((mf for mf in meeting.facilitators if mf.facilitator_id == facilitator_id), None) or abort(404)
    f.RemoveForm().validate_on_submit() or abort(400)
    try:
        services.remove_facilitator_from_meeting(meeting, link.facilitator, actor=current_user, reason="coordinator")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Facilitator taken off the meeting. They will be told.", "success")
    return redirect(url_for("scheduling.meeting_detail", case_id=case_id, meeting_id=meeting_id))


# --------------------------------------------------------------------------- finding a time

def _poll(case: Case, poll_id: int) -> SlotPoll:
    return db.session.scalar(select(SlotPoll).where(SlotPoll.id == poll_id, SlotPoll.case_id == case.id)) or abort(404)


@bp.route("/cases/<int:case_id>/find-a-time/new", methods=["GET", "POST"])
@require(Perm.MEETINGS_BOOK)
def poll_new(case_id: int):
    case = _case(case_id)
    form = f.PollForm()
    parties, facilitators = _choices(case, form)
    if request.method == "GET":
        form.kind.data = MeetingKind.RESTORATIVE.value
        lead, co = services.default_team(case)
        form.lead_id.data = str(lead.id) if lead else ""
        form.co_id.data = str(co.id) if co else ""
    errors = []
    if form.validate_on_submit():
        starts = []
        for i in range(1, f.POLL_SLOTS + 1):
            d, t = getattr(form, f"slot_{i}_date"), getattr(form, f"slot_{i}_time")
            if d.data and t.data:
                try:
                    starts.append(from_local(d.data, f.parse_hhmm(t.data)))
                except LocalTimeError as exc:
                    t.errors.append(str(exc))
            elif d.data or t.data:
                (t if d.data else d).errors.append(f"Enter both a date and a start time for time {i}")
        if not any(getattr(form, f"slot_{i}_time").errors or getattr(form, f"slot_{i}_date").errors
                   for i in range(1, f.POLL_SLOTS + 1)):
            chosen, lead, co, room = _people(form, parties, facilitators)
            try:
                poll, links = services.create_slot_poll(
                    case, kind=MeetingKind(form.kind.data), starts=starts, duration_minutes=int(form.duration.data),
                    mode=MeetingMode(form.mode.data), room=room, parties=chosen, lead=lead, co=co, actor=current_user)
            except DomainError as exc:
                db.session.rollback()
                errors = exc.reasons
            else:
                rows = [(r.facilitator.name if r.facilitator_id else r.party.name, services.poll_link_url(t))
                        for r, t in links]
                db.session.commit()
                return render_template("scheduling/poll_links.html", case=case, poll=poll, rows=rows)
    return render_template("scheduling/poll_new.html", form=form, case=case, errors=errors,
                           slots=range(1, f.POLL_SLOTS + 1)), 400 if form.errors or errors else 200


@bp.route("/cases/<int:case_id>/find-a-time/<int:poll_id>", methods=["GET", "POST"])
@require(Perm.MEETINGS_BOOK)
def poll_detail(case_id: int, poll_id: int):
    case = _case(case_id)
    poll = _poll(case, poll_id)
    rows, counts, best = services.poll_table(poll)
    form = f.PollBookForm()
    form.option_id.choices = [(str(o.id), f"{to_local(o.starts_at):%A %-d %B %Y, %H:%M}") for o in poll.options]
    if request.method == "GET" and best is not None:
        form.option_id.data = str(best.id)
    errors, warnings = [], []
    if form.validate_on_submit():
        option = next(o for o in poll.options if str(o.id) == form.option_id.data)
        try:
            meeting = services.run_booking(lambda: services.book_from_poll(
                poll, option, actor=current_user, confirm_warnings=form.confirm_warnings.data))
        except services.NeedsConfirmation as exc:
            warnings = exc.reasons
        except DomainError as exc:
            errors = exc.reasons
        else:
            flash("Meeting booked", "success")
            return redirect(url_for("scheduling.meeting_detail", case_id=case_id, meeting_id=meeting.id))
    return render_template("scheduling/poll_detail.html", case=case, poll=poll, rows=rows, counts=counts, best=best,
                           form=form, errors=errors, warnings=warnings), \
        400 if form.errors or errors or warnings else 200


@bp.post("/cases/<int:case_id>/find-a-time/<int:poll_id>/responses/<int:response_id>/renew")
@require(Perm.MEETINGS_BOOK)
def poll_renew_link(case_id: int, poll_id: int, response_id: int):
    case = _case(case_id)
    poll = _poll(case, poll_id)
    response = next((r for r in poll.responses if r.id == response_id), None) or abort(404)
    f.RemoveForm().validate_on_submit() or abort(400)
    try:
        token = services.renew_slot_link(response, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("scheduling.poll_detail", case_id=case_id, poll_id=poll_id))
    who = response.facilitator.name if response.facilitator_id else response.party.name
    db.session.commit()
    return render_template("scheduling/poll_links.html", case=case, poll=poll,
                           rows=[(who, services.poll_link_url(token))])


def _public_link_limit():
    return current_app.config["RATELIMIT_PUBLIC_LINKS"]


@bp.route("/times/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_public_link_limit)
def poll_answer(token: str):
    response = services.slot_response_for_token(token)
    if response is None:
        return render_template("scheduling/poll_expired.html"), 404
    form = f.PollAnswerForm()
    form.option_ids.choices = [(str(o.id), f"{to_local(o.starts_at):%A %-d %B %Y, %H:%M} to "
                                           f"{to_local(o.ends_at):%H:%M}") for o in response.poll.options]
    if request.method == "GET" and response.available_option_ids:
        form.option_ids.data = [str(i) for i in response.available_option_ids]
    if form.validate_on_submit():
        services.answer_slot_poll(response, option_ids=[int(i) for i in form.option_ids.data or []])
        db.session.commit()
        return render_template("scheduling/poll_thanks.html")
    poll = response.poll
    return render_template("scheduling/poll_answer.html", form=form, poll=poll,
                           place=("Phone" if poll.mode is MeetingMode.PHONE else "Video call"
                                  if poll.mode is MeetingMode.VIDEO else (poll.venue.name if poll.venue else "")))
