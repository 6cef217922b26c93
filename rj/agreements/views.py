"""Pages for outcomes, agreements, follow-up, feedback surveys and Level 1 records."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rj.agreements import services
from rj.agreements.forms import (
    AgreementNotKeptForm, ConfirmForm, DeliveredForm, FeedbackForm, FeedbackRequestForm, FollowUpForm, ItemDoneForm,
    ItemForm, ItemNotKeptForm, Level1Form, MessageForm, OutcomeForm,
)
from rj.agreements.models import (
    Agreement, AgreementItem, AgreementStatus, FollowUpContact, IndirectMessage, Level1Record,
    MeetingOutcome,
)
from rj.cases.models import Case, Scheme
from rj.core.errors import DomainError
from rj.core.forms import show_domain_error
from rj.core.permissions import Perm, public, require
from rj.extensions import db, limiter

bp = Blueprint("agreements", __name__)

# Outcome pages are open to coordinators and to facilitators for the meetings they were on.
OUTCOME_PERMS = (Perm.OUTCOMES_RECORD, Perm.CASES_ROSTERED)


# --- loading objects through their parents -------------------------------------------------------

def _meeting_or_404(meeting_id: int):
    from rj.scheduling.models import Meeting, MeetingFacilitator

    meeting = db.session.scalar(select(Meeting).where(Meeting.id == meeting_id).options(
        selectinload(Meeting.parties), selectinload(Meeting.facilitators).selectinload(MeetingFacilitator.facilitator)))
    if meeting is None or not services.can_record_for_meeting(current_user, meeting):
        abort(404)
    return meeting


def _agreement_or_404(agreement_id: int) -> Agreement:
    agreement = db.session.scalar(select(Agreement).where(Agreement.id == agreement_id).options(
        selectinload(Agreement.items).selectinload(AgreementItem.party), selectinload(Agreement.case)))
    if agreement is None or not agreement.can_view(current_user):
        abort(404)
    return agreement


def _item_or_404(agreement: Agreement, item_id: int) -> AgreementItem:
    item = next((i for i in agreement.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


def _case_or_404(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not case.can_view(current_user):
        abort(404)
    return case


def _parties(case: Case):
    from rj.consent.models import Party

    return list(db.session.scalars(select(Party).where(Party.case_id == case.id, Party.removed_at.is_(None))
                                   .order_by(Party.id)))


def _party_choices(case: Case):
    return [(str(p.id), p.display(case.scheme)) for p in _parties(case)]


# --- recording the meeting -------------------------------------------------------------------------

@bp.route("/agreements/meetings/<int:meeting_id>/outcome", methods=["GET", "POST"])
@require(*OUTCOME_PERMS)
def record_outcome(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    outcome = services.get_outcome(meeting)
    form = OutcomeForm(obj=None)
    form.attended_parties.choices = [(str(mp.party_id), mp.party.display(meeting.case.scheme)) for mp in meeting.parties]
    form.attended_facilitators.choices = [(str(mf.facilitator_id), f"{mf.facilitator.name} ({mf.role.label})")
                                          for mf in meeting.facilitators]
    if not form.is_submitted():
        if outcome is not None:
            form.version.data = outcome.version
            form.went_ahead.data = "yes" if outcome.went_ahead else "no"
            form.agreement_reached.data = {True: "yes", False: "no"}.get(outcome.agreement_reached)
            form.not_held_reason.data = outcome.not_held_reason.value if outcome.not_held_reason else None
        form.attended_parties.data = [str(mp.party_id) for mp in meeting.parties if mp.attended is not False]
        form.attended_facilitators.data = [str(mf.facilitator_id) for mf in meeting.facilitators
                                           if mf.attended is not False]
    extra = []
    if form.validate_on_submit():
        try:
            services.record_meeting_outcome(
                meeting, went_ahead=form.went_ahead.data == "yes",
                attended_party_ids=form.attended_parties.data or [],
                attended_facilitator_ids=form.attended_facilitators.data or [],
                agreement_reached={"yes": True, "no": False}.get(form.agreement_reached.data),
                not_held_reason=form.not_held_reason.data, actor=current_user,
                version=form.version.data if outcome is not None else None)
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("The meeting outcome has been saved", "success")
            agreement = services._agreement_for_meeting(meeting)
            if agreement is not None:
                return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
            if current_user.can(Perm.OUTCOMES_RECORD):
                return redirect(url_for("agreements.case_outcomes", case_id=meeting.case_id))
            return redirect(url_for("agreements.record_outcome", meeting_id=meeting.id))
    return render_template("agreements/outcome.html", form=form, meeting=meeting, outcome=outcome, extra=extra), \
        (400 if form.errors or extra else 200)


# --- the agreement -------------------------------------------------------------------------------

@bp.get("/agreements/<int:agreement_id>")
@require(*OUTCOME_PERMS)
def agreement_detail(agreement_id: int):
    agreement = _agreement_or_404(agreement_id)
    follow_ups = db.session.scalars(select(FollowUpContact).where(FollowUpContact.agreement_id == agreement.id)
                                    .order_by(FollowUpContact.due_on)).all()
    close_problem = None
    if agreement.case.is_open:
        try:
            services.close_reason_for(agreement.case)
        except DomainError as exc:
            close_problem = exc.message
    return render_template("agreements/agreement.html", agreement=agreement, case=agreement.case,
                           follow_ups=follow_ups, close_problem=close_problem, form=ConfirmForm(),
                           can_follow_up=current_user.can(Perm.OUTCOMES_RECORD))


@bp.route("/agreements/<int:agreement_id>/items/new", methods=["GET", "POST"])
@require(*OUTCOME_PERMS)
def item_new(agreement_id: int):
    agreement = _agreement_or_404(agreement_id)
    case = agreement.case
    if agreement.status is not AgreementStatus.ACTIVE or not case.is_open:
        flash("This agreement is no longer being followed up, so actions cannot be added")
        return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
    form = ItemForm()
    form.kind.choices = [(k.value, k.label) for k in services.item_kinds_for(case.scheme)]
    form.party_id.choices = _party_choices(case)
    extra = []
    if form.validate_on_submit():
        try:
            services.add_item(agreement, kind=form.kind.data, description=form.description.data,
                              party_id=form.party_id.data, due_on=form.due_on.data,
                              check_method=form.check_method.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc, "description")
        else:
            db.session.commit()
            flash("The action has been added to the agreement", "success")
            return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
    return render_template("agreements/item_new.html", form=form, agreement=agreement, case=case,
                           sortit=case.scheme is not Scheme.POST_SENTENCE, extra=extra), \
        (400 if form.errors or extra else 200)


@bp.post("/agreements/<int:agreement_id>/items/<int:item_id>/remove")
@require(*OUTCOME_PERMS)
def item_remove(agreement_id: int, item_id: int):
    agreement = _agreement_or_404(agreement_id)
    item = _item_or_404(agreement, item_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.remove_item(item, actor=current_user, version=form.version.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message)
    else:
        db.session.commit()
        flash("The action has been removed", "success")
    return redirect(url_for("agreements.agreement_detail", agreement_id=agreement_id))


@bp.get("/agreements/<int:agreement_id>/print")
@require(*OUTCOME_PERMS)
def agreement_print(agreement_id: int):
    from rj.scheduling.models import Meeting

    agreement = _agreement_or_404(agreement_id)
    meeting = db.session.get(Meeting, agreement.meeting_id) if agreement.meeting_id else None
    signers = []
    if meeting is not None:
        signers = [mp.party for mp in meeting.parties if mp.attended]
    for item in agreement.items:
        if item.party not in signers:
            signers.append(item.party)
    facilitators = [mf.facilitator for mf in meeting.facilitators if mf.attended] if meeting else []
    return render_template("agreements/print.html", agreement=agreement, case=agreement.case, meeting=meeting,
                           signers=signers, facilitators=facilitators,
                           sortit=agreement.case.scheme is not Scheme.POST_SENTENCE)


def _versioned_item_action(agreement_id, item_id, form_cls, template, action, success):
    agreement = _agreement_or_404(agreement_id)
    item = _item_or_404(agreement, item_id)
    form = form_cls()
    if not form.is_submitted():
        form.version.data = item.version
    extra = []
    if form.validate_on_submit():
        try:
            action(item, form)
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(success, "success")
            return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
    return render_template(template, form=form, agreement=agreement, item=item, case=agreement.case, extra=extra), \
        (400 if form.errors or extra else 200)


@bp.route("/agreements/<int:agreement_id>/items/<int:item_id>/done", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def item_done(agreement_id: int, item_id: int):
    return _versioned_item_action(
        agreement_id, item_id, ItemDoneForm, "agreements/item_done.html",
        lambda item, form: services.mark_item_done(item, evidence=form.evidence.data, actor=current_user,
                                                   version=form.version.data),
        "The action has been recorded as done")


@bp.route("/agreements/<int:agreement_id>/items/<int:item_id>/not-kept", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def item_not_kept(agreement_id: int, item_id: int):
    return _versioned_item_action(
        agreement_id, item_id, ItemNotKeptForm, "agreements/item_not_kept.html",
        lambda item, form: services.mark_item_not_kept(item, reason=form.reason.data, actor=current_user,
                                                       version=form.version.data),
        "The action has been recorded as not kept")


@bp.route("/agreements/<int:agreement_id>/not-kept", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def agreement_not_kept(agreement_id: int):
    agreement = _agreement_or_404(agreement_id)
    form = AgreementNotKeptForm()
    if not form.is_submitted():
        form.version.data = agreement.version
    extra = []
    if form.validate_on_submit():
        try:
            services.record_agreement_not_kept(agreement, reason=form.reason.data, actor=current_user,
                                               version=form.version.data)
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("The agreement has been recorded as not kept", "success")
            return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
    return render_template("agreements/agreement_not_kept.html", form=form, agreement=agreement,
                           case=agreement.case, extra=extra), (400 if form.errors or extra else 200)


# --- the case's outcomes, closing and follow-up ---------------------------------------------------

@bp.get("/agreements/cases/<int:case_id>")
@require(Perm.OUTCOMES_RECORD)
def case_outcomes(case_id: int):
    from rj.scheduling.models import Meeting

    case = _case_or_404(case_id)
    meetings = db.session.scalars(select(Meeting).where(
        Meeting.case_id == case.id, Meeting.kind.in_(services.OUTCOME_KINDS)).order_by(Meeting.starts_at)).all()
    outcomes = {o.meeting_id: o for o in db.session.scalars(
        select(MeetingOutcome).where(MeetingOutcome.case_id == case.id))}
    messages = db.session.scalars(select(IndirectMessage).where(IndirectMessage.case_id == case.id).options(
        selectinload(IndirectMessage.from_party), selectinload(IndirectMessage.to_party))
        .order_by(IndirectMessage.sent_on, IndirectMessage.id)).all()
    follow_ups = db.session.scalars(select(FollowUpContact).where(FollowUpContact.case_id == case.id)
                                    .order_by(FollowUpContact.due_on)).all()
    close_problem = None
    try:
        if case.is_open:
            services.close_reason_for(case)
    except DomainError as exc:
        close_problem = exc.message
    from rj.core.time import now_utc

    return render_template("agreements/case.html", case=case, meetings=meetings, outcomes=outcomes,
                           agreements=services.agreements_for_case(case), messages=messages,
                           follow_ups=follow_ups, feedback=services.feedback_for_case(case),
                           close_problem=close_problem, form=ConfirmForm(), now=now_utc(),
                           survey_links=session.pop("_survey_links", None),
                           party_names={p.id: p.name for p in _parties(case)})


@bp.route("/agreements/cases/<int:case_id>/close", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def case_close(case_id: int):
    case = _case_or_404(case_id)
    form = ConfirmForm()
    if not form.is_submitted():
        form.version.data = case.version
    extra, reason = [], None
    try:
        reason = services.close_reason_for(case) if case.is_open else None
    except DomainError as exc:
        extra = [exc.message]
    if form.validate_on_submit():
        try:
            services.close_case_on_agreement(case, actor=current_user, version=form.version.data)
        except DomainError as exc:
            db.session.rollback()
            extra = [exc.message]
        else:
            db.session.commit()
            flash(f"The case has been closed: {case.close_reason.label.lower()}", "success")
            return redirect(url_for("agreements.case_outcomes", case_id=case.id))
    return render_template("agreements/case_close.html", case=case, form=form, reason=reason, extra=extra), \
        (400 if form.is_submitted() and extra else 200)


@bp.route("/agreements/cases/<int:case_id>/follow-up", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def follow_up_new(case_id: int):
    case = _case_or_404(case_id)
    agreements = services.agreements_for_case(case)
    agreement = agreements[-1] if agreements else None
    form = FollowUpForm()
    form.method.choices = list(services.FOLLOW_UP_METHODS.items())
    if not form.is_submitted() and agreement is not None:
        form.due_on.data = services.default_follow_up_date(agreement)
    extra = []
    if form.validate_on_submit():
        try:
            services.book_follow_up(case, due_on=form.due_on.data, method=form.method.data, agreement=agreement,
                                    actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("The follow-up contact has been booked", "success")
            return redirect(url_for("agreements.case_outcomes", case_id=case.id))
    return render_template("agreements/follow_up.html", case=case, form=form, extra=extra), \
        (400 if form.errors or extra else 200)


@bp.post("/agreements/cases/<int:case_id>/follow-up/<int:contact_id>/done")
@require(Perm.OUTCOMES_RECORD)
def follow_up_done(case_id: int, contact_id: int):
    case = _case_or_404(case_id)
    contact = db.session.get(FollowUpContact, contact_id)
    if contact is None or contact.case_id != case.id:
        abort(404)
    ConfirmForm().validate_on_submit() or abort(400)
    try:
        services.complete_follow_up(contact, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message)
    else:
        db.session.commit()
        flash("The follow-up has been recorded as done", "success")
    return redirect(url_for("agreements.case_outcomes", case_id=case.id))


@bp.get("/agreements/overdue")
@require(Perm.OUTCOMES_RECORD)
def overdue():
    return render_template("agreements/overdue.html", items=services.overdue_items())


# --- indirect restorative justice --------------------------------------------------------------------

@bp.route("/agreements/cases/<int:case_id>/messages/new", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def message_new(case_id: int):
    case = _case_or_404(case_id)
    form = MessageForm()
    choices = [("", "Select a party")] + _party_choices(case)
    form.from_party_id.choices = form.to_party_id.choices = choices
    form.kind.choices = list(services.MESSAGE_KINDS.items())
    extra = []
    if form.validate_on_submit():
        try:
            services.record_indirect_message(
                case, kind=form.kind.data, sent_on=form.sent_on.data, from_party_id=form.from_party_id.data,
                to_party_id=form.to_party_id.data, delivered=form.delivered.data == "yes",
                delivered_on=form.delivered_on.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("The letter or message has been recorded", "success")
            return redirect(url_for("agreements.case_outcomes", case_id=case.id))
    return render_template("agreements/message_new.html", case=case, form=form, extra=extra), \
        (400 if form.errors or extra else 200)


@bp.route("/agreements/cases/<int:case_id>/messages/<int:message_id>/delivered", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def message_delivered(case_id: int, message_id: int):
    case = _case_or_404(case_id)
    message = db.session.get(IndirectMessage, message_id)
    if message is None or message.case_id != case.id:
        abort(404)
    form = DeliveredForm()
    if not form.is_submitted():
        form.version.data = message.version
    extra = []
    if form.validate_on_submit():
        try:
            services.mark_message_delivered(message, delivered_on=form.delivered_on.data, actor=current_user,
                                            version=form.version.data)
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            flash("Recorded as delivered", "success")
            return redirect(url_for("agreements.case_outcomes", case_id=case.id))
    return render_template("agreements/message_delivered.html", case=case, message=message, form=form,
                           extra=extra), (400 if form.errors or extra else 200)


# --- feedback ----------------------------------------------------------------------------------------

@bp.route("/agreements/cases/<int:case_id>/feedback/new", methods=["GET", "POST"])
@require(Perm.OUTCOMES_RECORD)
def feedback_new(case_id: int):
    case = _case_or_404(case_id)
    form = FeedbackRequestForm()
    parties = services.survey_parties(case)
    form.party_ids.choices = [(str(p.id), p.display(case.scheme)) for p in parties]
    if not form.is_submitted():
        form.party_ids.data = [str(p.id) for p in parties]
    extra = []
    if form.validate_on_submit():
        try:
            created = services.create_feedback_requests(case, stage=form.stage.data, actor=current_user,
                                                        party_ids=form.party_ids.data or [])
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            # Shown once, to copy into a text or letter: the database keeps only a hash.
            session["_survey_links"] = [
                {"party_id": req.party_id, "link": url_for("agreements.feedback_form", token=token, _external=True)}
                for req, token in created]
            flash("Survey links created. Parties who prefer email have been sent theirs.", "success")
            return redirect(url_for("agreements.case_outcomes", case_id=case.id))
    return render_template("agreements/feedback_new.html", case=case, form=form, extra=extra), \
        (400 if form.errors or extra else 200)


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def feedback_form(token: str):
    req, state = services.find_feedback_request(token)
    if state != "open":
        return render_template("agreements/feedback_closed.html", state=state, public_page=True), \
            (404 if state == "unknown" else 410)
    form = FeedbackForm()
    extra = []
    if form.validate_on_submit():
        try:
            services.submit_feedback(token, satisfaction=form.satisfaction.data, felt_safe=form.felt_safe.data,
                                     felt_listened_to=form.felt_listened_to.data,
                                     would_recommend=form.would_recommend.data, comments=form.comments.data)
        except services.FeedbackLinkUnusable as exc:
            db.session.rollback()
            return render_template("agreements/feedback_closed.html", state=exc.state, public_page=True), 410
        except DomainError as exc:
            db.session.rollback()
            extra = show_domain_error(form, exc)
        else:
            db.session.commit()
            return render_template("agreements/feedback_thanks.html", public_page=True)
    return render_template("agreements/feedback_form.html", form=form, extra=extra, public_page=True), \
        (400 if form.errors or extra else 200)


# --- Level 1 -----------------------------------------------------------------------------------------

@bp.get("/level-1")
@require(Perm.LEVEL1_RECORD)
def level1_list():
    records = db.session.scalars(select(Level1Record).options(
        selectinload(Level1Record.parties), selectinload(Level1Record.case), selectinload(Level1Record.recorded_by))
        .order_by(Level1Record.occurred_on.desc(), Level1Record.id.desc()).limit(200)).all()
    return render_template("agreements/level1_list.html", records=records)


@bp.route("/level-1/new", methods=["GET", "POST"])
@require(Perm.LEVEL1_RECORD)
def level1_new():
    form = Level1Form()
    extra = []
    if form.validate_on_submit():
        try:
            rec = services.record_level1(
                occurred_on=form.occurred_on.data, area=form.area.data, parties=form.party_rows(),
                agreed=form.agreed.data, harmed_consulted_and_agreed=form.harmed_consulted.data,
                responsible_admitted_and_agreed=form.responsible_admitted.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            mapping = {"parties": "party1_name",
                       "standards": "harmed_consulted" if not form.harmed_consulted.data else "responsible_admitted"}
            extra = show_domain_error(form, exc, mapping=mapping)
        else:
            db.session.commit()
            flash(f"Level 1 resolution recorded as {rec.case.reference}", "success")
            return redirect(url_for("agreements.level1_list"))
    return render_template("agreements/level1_new.html", form=form, extra=extra), \
        (400 if form.errors or extra else 200)
