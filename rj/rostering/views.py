"""Rostering pages: the coordinators' roster, a case's team, the auto-roster, and 'my roster'."""
from __future__ import annotations

from datetime import date, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rj.cases.models import Case
from rj.core.errors import DomainError
from rj.core.forms import show_domain_error
from rj.core.permissions import Perm, require
from rj.core.time import from_local, local_today, now_utc, to_local
from rj.extensions import db
from rj.rostering import queries, services
from rj.rostering.forms import (
    AllocateTeamForm, AnswerOfferForm, AutoRosterForm, ConfirmForm, DecideRunForm, OfferForm, ReplaceMemberForm,
    RosterFilterForm,
)
from rj.rostering.models import Offer, OfferStatus, RosterProposal, RosterRun, TeamRole

bp = Blueprint("rostering", __name__)


def _facilitator_for(user):
    from rj.facilitators.services import facilitator_for_user

    return facilitator_for_user(user)


# --------------------------------------------------------------------------- coordinators' roster

def _period(view: str, start: date) -> tuple[date, date]:
    if view == "month":
        first = start.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1)
    first = queries.local_week_start(start)
    return first, first + timedelta(days=7)


@bp.get("/roster")
@require(Perm.ROSTER_VIEW_ALL)
def roster():
    from rj.facilitators.models import Facilitator
    from rj.scheduling.models import Venue

    form = RosterFilterForm(request.args)
    venues = db.session.scalars(select(Venue).order_by(Venue.name)).all()
    facilitators = db.session.scalars(select(Facilitator).order_by(Facilitator.id)).all()
    form.venue.choices = [("", "Any venue")] + [(str(v.id), v.name) for v in venues]
    form.facilitator.choices = [("", "Anyone")] + sorted(((str(f.id), f.user.name) for f in facilitators),
                                                          key=lambda c: c[1].lower())
    valid = form.validate() if request.args else True
    view = form.view.data if valid and form.view.data in ("week", "month") else "week"
    try:
        start = date.fromisoformat(form.start.data) if valid and form.start.data else local_today()
    except ValueError:
        start, valid = local_today(), False
        form.start.errors = list(form.start.errors) + ["Enter a real date, like 2027-03-01"]
    first, after = _period(view, start)
    filters = {"venue_id": form.venue.data if valid else None, "facilitator_id": form.facilitator.data if valid else None,
               "level": form.level.data if valid else None}
    meetings = queries.roster_meetings(from_local(first, time(0)), from_local(after, time(0)), **filters)
    days: dict[date, list] = {}
    d = first
    while d < after:
        days[d] = []
        d += timedelta(days=1)
    for m in meetings:
        days.setdefault(to_local(m.starts_at).date(), []).append(m)
    unfilled = sum(1 for m in meetings if len(m.facilitators) < 2)
    if view == "month":
        prev_start = (first - timedelta(days=1)).replace(day=1)
        next_start = after
    else:
        prev_start, next_start = first - timedelta(days=7), after
    args = {k: v for k, v in request.args.items() if k not in ("start", "submit")}
    return render_template("rostering/roster.html", form=form, view=view, first=first, last=after - timedelta(days=1),
                           days=days, meetings=meetings, unfilled=unfilled,
                           prev_url=url_for("rostering.roster", **args, start=prev_start.isoformat()),
                           next_url=url_for("rostering.roster", **args, start=next_start.isoformat()),
                           other_view_url=url_for("rostering.roster", **{**args, "view": "week" if view == "month" else "month"},
                                                  start=first.isoformat()))


# --------------------------------------------------------------------------- a case's team

def _load_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not case.can_view(current_user):
        abort(404)
    return case


def _team_page(case, *, allocate=None, replace=None, status=200):
    from rj.scheduling.models import Meeting

    meeting = None
    meeting_id = request.args.get("meeting", type=int)
    if meeting_id:
        meeting = db.session.scalar(select(Meeting).where(Meeting.id == meeting_id, Meeting.case_id == case.id))
        if meeting is None:
            abort(404)
    team = services.active_team(case)
    ranked, excluded = services.suggest_facilitators(case, meeting=meeting)
    choices = [("", "Choose a facilitator")] + [(str(s.facilitator.id), s.name) for s in ranked]
    allocate = allocate or AllocateTeamForm()
    allocate.lead_facilitator_id.choices = choices
    allocate.co_facilitator_id.choices = choices
    replace = replace or ReplaceMemberForm(version=team.version if team else None)
    replace.facilitator_id.choices = choices
    offers = queries.case_offers(case)
    open_roles = {o.role for o in offers if o.status in (OfferStatus.PENDING, OfferStatus.ACCEPTED)}
    return render_template(
        "rostering/team.html", case=case, team=team, history=services.team_history(case), ranked=ranked,
        excluded=excluded, meeting=meeting, allocate=allocate, replace=replace, offers=offers, open_roles=open_roles,
        roles=list(TeamRole), offer_form=OfferForm(), confirm=ConfirmForm(),
    ), status


@bp.get("/cases/<int:case_id>/team")
@require(Perm.ROSTER_VIEW_ALL)
def case_team(case_id: int):
    return _team_page(_load_case(case_id))


def _facilitator_or_error(fid):
    from rj.facilitators.models import Facilitator

    f = db.session.get(Facilitator, fid) if fid else None
    if f is None:
        raise DomainError("Choose a facilitator from the list")
    return f


@bp.post("/cases/<int:case_id>/team/allocate")
@require(Perm.ROSTER_VIEW_ALL)
def allocate_team(case_id: int):
    case = _load_case(case_id)
    form = AllocateTeamForm()
    form.lead_facilitator_id.choices = form.co_facilitator_id.choices = []
    form.lead_facilitator_id.validate_choice = form.co_facilitator_id.validate_choice = False
    if form.validate_on_submit():
        try:
            services.allocate_team(case, lead=_facilitator_or_error(form.lead_facilitator_id.data),
                                   co=_facilitator_or_error(form.co_facilitator_id.data), actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc, "lead_facilitator_id")
        else:
            db.session.commit()
            flash("Team allocated. Their future meetings on this case are theirs too.", "success")
            return redirect(url_for("rostering.case_team", case_id=case.id))
    return _team_page(case, allocate=form, status=400)


@bp.post("/cases/<int:case_id>/team/replace")
@require(Perm.ROSTER_VIEW_ALL)
def replace_member(case_id: int):
    case = _load_case(case_id)
    form = ReplaceMemberForm()
    form.facilitator_id.choices = []
    form.facilitator_id.validate_choice = False
    if form.validate_on_submit():
        try:
            services.replace_team_member(case, role=TeamRole(form.role.data),
                                         new=_facilitator_or_error(form.facilitator_id.data), reason=form.reason.data,
                                         version=form.version.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc, "facilitator_id")
        else:
            db.session.commit()
            flash("Facilitator replaced. The change and its reason are in the team's history.", "success")
            return redirect(url_for("rostering.case_team", case_id=case.id))
    return _team_page(case, replace=form, status=400)


@bp.post("/cases/<int:case_id>/team/offer")
@require(Perm.ROSTER_VIEW_ALL)
def offer_place(case_id: int):
    case = _load_case(case_id)
    form = OfferForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.make_offer(_facilitator_or_error(int(form.facilitator_id.data)), case, TeamRole(form.role.data),
                            actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Offer sent. They will see it in their roster.", "success")
    return redirect(url_for("rostering.case_team", case_id=case.id))


@bp.post("/cases/<int:case_id>/team/offers/<int:offer_id>/withdraw")
@require(Perm.ROSTER_VIEW_ALL)
def withdraw_offer(case_id: int, offer_id: int):
    case = _load_case(case_id)
    offer = db.session.scalar(select(Offer).where(Offer.id == offer_id, Offer.case_id == case.id)) or abort(404)
    ConfirmForm().validate_on_submit() or abort(400)
    try:
        services.withdraw_offer(offer, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Offer withdrawn", "success")
    return redirect(url_for("rostering.case_team", case_id=case.id))


# --------------------------------------------------------------------------- auto-roster

def _month_choices(today: date) -> list[tuple[str, str]]:
    first = today.replace(day=1)
    out = []
    for _ in range(3):
        out.append((first.isoformat(), first.strftime("%B %Y")))
        first = (first + timedelta(days=32)).replace(day=1)
    return out


@bp.route("/roster/auto", methods=["GET", "POST"])
@require(Perm.ROSTER_VIEW_ALL)
def auto_roster():
    form = AutoRosterForm()
    form.month.choices = [("", "Choose a month")] + _month_choices(local_today())
    if form.validate_on_submit():
        first = date.fromisoformat(form.month.data)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        try:
            run = services.auto_roster(max(first, local_today()), last, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.month.errors.append(exc.message)
        else:
            db.session.commit()
            return redirect(url_for("rostering.roster_run", run_id=run.id))
    return render_template("rostering/auto.html", form=form, runs=queries.roster_runs()), 400 if form.errors else 200


@bp.get("/roster/auto/<int:run_id>")
@require(Perm.ROSTER_VIEW_ALL)
def roster_run(run_id: int):
    run = db.session.scalar(select(RosterRun).where(RosterRun.id == run_id).options(
        selectinload(RosterRun.items).selectinload(RosterProposal.case),
        selectinload(RosterRun.items).selectinload(RosterProposal.lead_facilitator),
        selectinload(RosterRun.items).selectinload(RosterProposal.co_facilitator))) or abort(404)
    loads: dict[int, list] = {}
    for item in run.items:
        for f in (item.lead_facilitator, item.co_facilitator):
            if f is not None:
                loads.setdefault(f.id, [f, 0, 0])
                loads[f.id][1] += 1
                loads[f.id][2] += item.meetings
    return render_template("rostering/run.html", run=run, decide=DecideRunForm(version=run.version),
                           discard=DecideRunForm(version=run.version), reasons=services.UNFILLED_REASONS,
                           loads=sorted(loads.values(), key=lambda r: (-r[2], r[0].user.name)))


@bp.post("/roster/auto/<int:run_id>/confirm")
@require(Perm.ROSTER_VIEW_ALL)
def confirm_run(run_id: int):
    run = db.session.get(RosterRun, run_id) or abort(404)
    form = DecideRunForm()
    form.validate_on_submit() or abort(400)
    try:
        offers = services.confirm_roster_run(run, actor=current_user, version=form.version.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"{len(offers)} offers sent. Facilitators answer them in their roster.", "success")
    return redirect(url_for("rostering.roster_run", run_id=run_id))


@bp.post("/roster/auto/<int:run_id>/discard")
@require(Perm.ROSTER_VIEW_ALL)
def discard_run(run_id: int):
    run = db.session.get(RosterRun, run_id) or abort(404)
    form = DecideRunForm()
    form.validate_on_submit() or abort(400)
    try:
        services.discard_roster_run(run, actor=current_user, version=form.version.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Proposal discarded: nothing was offered", "success")
    return redirect(url_for("rostering.auto_roster"))


# --------------------------------------------------------------------------- my roster

@bp.get("/my-roster")
@require(Perm.ROSTER_OWN)
def my_roster():
    facilitator = _facilitator_for(current_user)
    if facilitator is None:
        return render_template("rostering/my_roster.html", facilitator=None, meetings=[], offers=[], forms={})
    now = now_utc()
    offers = queries.pending_offers_for(facilitator)
    return render_template("rostering/my_roster.html", facilitator=facilitator,
                           meetings=queries.my_upcoming_meetings(facilitator, now), offers=offers, now=now,
                           forms={o.id: AnswerOfferForm(version=o.version, prefix=f"o{o.id}") for o in offers})


def _own_offer(offer_id: int) -> Offer:
    facilitator = _facilitator_for(current_user)
    offer = db.session.get(Offer, offer_id)
    if facilitator is None or offer is None or offer.facilitator_id != facilitator.id:
        abort(404)
    return offer


@bp.post("/my-roster/offers/<int:offer_id>/<any(accept, decline):answer>")
@require(Perm.ROSTER_OWN)
def answer_offer(offer_id: int, answer: str):
    offer = _own_offer(offer_id)
    form = AnswerOfferForm(prefix=f"o{offer.id}")
    form.validate_on_submit() or abort(400)
    fn = services.accept_offer if answer == "accept" else services.decline_offer
    try:
        fn(offer, actor=current_user, version=form.version.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Offer accepted: thank you" if answer == "accept" else "Offer declined", "success")
    return redirect(url_for("rostering.my_roster"))
