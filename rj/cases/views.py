"""The case list and the case file a coordinator works from; status changes, closing and notes."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from rj.audit.services import case_timeline, record
from rj.auth.models import User
from rj.cases import services as case_services
from rj.cases.forms import CaseFilterForm, CloseForm, StatusForm
from rj.cases.models import Case, CaseStatus, Scheme
from rj.cases.visibility import visible_cases
from rj.consent import services as consent_services
from rj.consent.forms import ConfirmForm, NoteForm
from rj.consent.models import CaseNote, ConsentRecord, ConsentScope, GivenBy, Party, RiskAssessment
from rj.core.errors import DomainError
from rj.core.permissions import Perm, has_perm, require
from rj.core.time import local_today
from rj.extensions import db

bp = Blueprint("cases", __name__)

PAGE_SIZE = 25

# Readable labels for the timeline. Unknown actions fall back to their code in words.
TIMELINE_LABELS = {
    "case.opened": "Case file opened",
    "case.referred": "Referral received",
    "case.accepted": "Referral accepted",
    "case.declined": "Referral declined",
    "case.status_changed": "Status changed",
    "case.closed": "Case closed",
    "case.coordinator_told": "Coordinator told",
    "party.added": "Person added",
    "party.updated": "Person's details corrected",
    "party.removed": "Person removed",
    "party.first_contact": "First contact made",
    "consent.information_given": "Information about taking part given",
    "consent.given": "Consent given",
    "consent.declined": "Consent declined",
    "consent.withdrawn": "Consent withdrawn",
    "consent.link_issued": "Online consent link sent",
    "consent.link_used": "Answer given online",
    "suitability.recorded": "Suitability screened",
    "risk.assessed": "Risk assessed",
    "risk.signed_off": "Risk assessment signed off",
    "note.added": "Note added",
}


def timeline_label(action: str) -> str:
    return TIMELINE_LABELS.get(action) or action.replace("_", " ").replace(".", ": ").capitalize()


def load_case(case_id: int) -> Case:
    """Through what the user may see: a case that is not theirs is simply not found."""
    case = db.session.scalar(visible_cases(current_user).where(Case.id == case_id))
    if case is None or not case.can_view(current_user):
        abort(404)
    return case


@bp.get("/cases")
@require(Perm.CASES_ALL, Perm.CASES_ROSTERED)
def case_list():
    form = CaseFilterForm(request.args)
    stmt = visible_cases(current_user)
    if form.validate():
        if form.q.data:
            like = f"%{form.q.data}%"
            stmt = stmt.where(or_(Case.reference.ilike(like), Case.id.in_(
                select(Party.case_id).where(Party.name.ilike(like), Party.removed_at.is_(None)))))
        if form.status.data:
            stmt = stmt.where(Case.status == CaseStatus(form.status.data))
        if form.scheme.data:
            stmt = stmt.where(Case.scheme == Scheme(form.scheme.data))
        if form.level.data:
            stmt = stmt.where(Case.level == int(form.level.data))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    cases = db.session.scalars(
        stmt.options(selectinload(Case.lead_coordinator))
        .order_by(Case.referred_at.desc(), Case.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("cases/list.html", form=form, cases=cases, total=total, page=page, pages=pages,
                           args=args)


@bp.get("/cases/victims-code")
@require(Perm.CASES_ALL)
def victims_code():
    """What is due and overdue under the Victims' Code, across open cases."""
    cases = db.session.scalars(visible_cases(current_user).where(
        Case.status.notin_([CaseStatus.CLOSED, CaseStatus.DECLINED, CaseStatus.WITHDRAWN]))).all()
    items = consent_services.victims_code_clocks(cases, today=local_today())
    return render_template("cases/victims_code.html", items=items)


@bp.get("/cases/<int:case_id>")
@require(Perm.CASES_ALL, Perm.CASES_ROSTERED)
def case_detail(case_id: int):
    case = load_case(case_id)
    record("case.opened", case, actor=current_user, case_id=case.id)
    db.session.commit()

    parties = list(db.session.scalars(select(Party).where(Party.case_id == case.id).order_by(Party.id)))
    active = [p for p in parties if p.removed_at is None]
    states = consent_services.consent_states(active)
    principals = [p for p in active if p.role.is_principal]
    gates = {kind: consent_services.check_meeting_gate(case, principals, kind=kind)
             for kind in ("restorative", "indirect")} if principals else {}
    history = list(db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.case_id == case.id)
        .options(selectinload(ConsentRecord.recorded_by))
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())))
    suitability = consent_services.latest_suitability_for(case)
    assessments = list(db.session.scalars(
        select(RiskAssessment).where(RiskAssessment.case_id == case.id)
        .options(selectinload(RiskAssessment.items), selectinload(RiskAssessment.assessed_by),
                 selectinload(RiskAssessment.signed_off_by))
        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())))
    notes = list(db.session.scalars(
        select(CaseNote).where(CaseNote.case_id == case.id).options(selectinload(CaseNote.author))
        .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())))
    events = case_timeline(case.id)
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    clocks = consent_services.victims_code_clocks([case], today=local_today(), include_done=True)
    link = session.get("_consent_link")
    if link and link.get("case_id") == case.id:
        session.pop("_consent_link")
    else:
        link = None
    party_names = {p.id: p.display(case.scheme) for p in parties}
    return render_template(
        "cases/detail.html", case=case, parties=parties, active=active, states=states, gates=gates,
        history=history, suitability=suitability, assessments=assessments, notes=notes, events=events,
        actors=actors, clocks=clocks, link=link, party_names=party_names, Scope=ConsentScope, GivenBy=GivenBy,
        timeline_label=timeline_label, confirm=ConfirmForm(),
        can_edit=has_perm(current_user, Perm.CASES_ALL), can_consent=has_perm(current_user, Perm.CONSENT_RECORD),
        can_sign=has_perm(current_user, Perm.RISK_SIGNOFF),
    )


@bp.route("/cases/<int:case_id>/status", methods=["GET", "POST"])
@require(Perm.CASES_ALL)
def change_status(case_id: int):
    case = load_case(case_id)
    form = StatusForm()
    form.status.choices = [(s.value, s.label) for s in case.TRANSITIONS.get(case.status, ())
                           if s not in (CaseStatus.CLOSED,)]
    if not form.is_submitted():
        form.version.data = case.version
    if form.validate_on_submit():
        try:
            from rj.core.errors import check_version

            check_version(case, form.version.data)
            case_services.change_case_status(case, CaseStatus(form.status.data), actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.status.errors = list(form.status.errors) + [exc.message]
        else:
            db.session.commit()
            flash(f"Status changed to {case.status.label.lower()}", "success")
            return redirect(url_for("cases.case_detail", case_id=case.id))
    return render_template("cases/status.html", case=case, form=form)


@bp.route("/cases/<int:case_id>/close", methods=["GET", "POST"])
@require(Perm.CASES_ALL)
def close(case_id: int):
    case = load_case(case_id)
    form = CloseForm()
    if not form.is_submitted():
        form.version.data = case.version
    if form.validate_on_submit():
        try:
            from rj.core.errors import check_version

            check_version(case, form.version.data)
            case_services.close_case(case, reason=form.reason.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.reason.errors = list(form.reason.errors) + [exc.message]
        else:
            db.session.commit()
            flash("Case closed", "success")
            return redirect(url_for("cases.case_detail", case_id=case.id))
    return render_template("cases/close.html", case=case, form=form)


@bp.route("/cases/<int:case_id>/notes/new", methods=["GET", "POST"])
@require(Perm.CASES_ALL)
def note_new(case_id: int):
    case = load_case(case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            consent_services.add_case_note(case, body=form.body.data, kind=form.kind.data, actor=current_user)
        except DomainError as exc:
            form.body.errors = list(form.body.errors) + [exc.message]
        else:
            db.session.commit()
            flash("Note added", "success")
            return redirect(url_for("cases.case_detail", case_id=case.id, _anchor="notes"))
    return render_template("cases/note.html", case=case, form=form)
