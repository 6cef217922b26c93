"""The public referral form (/refer) and the triage pages for coordinators and managers (/referrals)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from rj.cases.models import Case, Scheme
from rj.cases.visibility import visible_cases
from rj.core.errors import ConcurrentEdit, DomainError
from rj.core.permissions import Perm, public, require
from rj.core.time import local_today, to_local, working_days_between
from rj.extensions import db, limiter
from rj.referrals import services
from rj.referrals.forms import (
    AboutYouForm, AcceptForm, AddAnotherForm, AwarenessForm, ConsentForm, DeclineForm, MoreInfoForm, PersonForm,
    RemovePersonForm, RisksForm, SubmitReferralForm, WhatHappenedForm,
)
from rj.referrals.models import (
    RISK_FLAGS, Awareness, PersonSide, Referral, ReferralCategory,
)

bp = Blueprint("referrals", __name__)

SESSION_KEY = "referral_draft"
DONE_KEY = "referral_reference"
PAGE_SIZE = 50

# The question pages in order: (section key in the draft, endpoint).
STEPS = [
    ("about", "referrals.about_you"),
    ("what", "referrals.what_happened"),
    ("people", "referrals.people"),
    ("awareness", "referrals.awareness"),
    ("risks", "referrals.risks"),
    ("consent", "referrals.consent"),
]


# --- drafts in the session ---------------------------------------------------------------------------

def _draft():
    return services.find_draft(session.get(SESSION_KEY))


def _draft_or_new():
    draft = _draft()
    if draft is None:
        draft, token = services.start_draft()
        session[SESSION_KEY] = token
    return draft


def _answers() -> dict:
    draft = _draft()
    return dict(draft.answers or {}) if draft else {}


def _section_done(answers: dict, section: str) -> bool:
    if section == "people":
        return bool(answers.get("people")) and bool(answers.get("people_done"))
    return section in answers


def _next_url(answers: dict) -> str:
    """After any page: the first unanswered question, or check your answers when all are done."""
    for section, endpoint in STEPS:
        if not _section_done(answers, section):
            return url_for(endpoint)
    return url_for("referrals.check")


def _back(endpoint: str) -> str:
    return url_for(endpoint)


def _form_values(form, skip=("submit", "csrf_token")) -> dict:
    values = {}
    for name, field in form._fields.items():
        if name in skip:
            continue
        value = field.data
        values[name] = value.isoformat() if isinstance(value, date) else value
    return values


def _question(section: str, form_cls, template: str, back: str, **context):
    """One question page: prefilled from the draft, saved to the draft, then on to the next page."""
    saved = _answers().get(section)
    form = form_cls(data=_prefill(saved) if request.method == "GET" and saved else None)
    if form.validate_on_submit():
        draft = _draft_or_new()
        services.save_draft_answers(draft, section, _form_values(form))
        db.session.commit()
        return redirect(_next_url(draft.answers))
    status = 400 if form.errors else 200
    return render_template(template, form=form, back=back, public_page=True, **context), status


def _prefill(saved: dict) -> dict:
    data = dict(saved)
    if isinstance(data.get("incident_date"), str):
        data["incident_date"] = date.fromisoformat(data["incident_date"])
    return data


# --- public pages ---------------------------------------------------------------------------------------

@bp.get("/refer")
@public
def start():
    return render_template("referrals/start.html", public_page=True)


@bp.route("/refer/about-you", methods=["GET", "POST"])
@public
def about_you():
    return _question("about", AboutYouForm, "referrals/about_you.html", _back("referrals.start"))


@bp.route("/refer/what-happened", methods=["GET", "POST"])
@public
def what_happened():
    return _question("what", WhatHappenedForm, "referrals/what_happened.html", _back("referrals.about_you"))


@bp.route("/refer/people", methods=["GET", "POST"])
@public
def people():
    answers = _answers()
    listed = answers.get("people") or []
    if not listed:
        return redirect(url_for("referrals.person_add"))
    form = AddAnotherForm()
    if form.validate_on_submit():
        draft = _draft_or_new()
        if form.add_another.data == "yes":
            if len(listed) >= services.MAX_PEOPLE:
                form.add_another.errors = [f"You can add up to {services.MAX_PEOPLE} people. "
                                           "Tell us about anyone else in the description"]
            else:
                services.save_draft_answers(draft, "people_done", False)
                db.session.commit()
                return redirect(url_for("referrals.person_add"))
        else:
            services.save_draft_answers(draft, "people_done", True)
            db.session.commit()
            return redirect(_next_url(draft.answers))
    status = 400 if form.errors else 200
    return render_template("referrals/people.html", form=form, people=listed, sides=PersonSide,
                           back=_back("referrals.what_happened"), public_page=True), status


def _person_page(index: int | None):
    answers = _answers()
    listed = list(answers.get("people") or [])
    if index is not None and not (0 <= index < len(listed)):
        abort(404)
    if index is None and len(listed) >= services.MAX_PEOPLE:
        return redirect(url_for("referrals.people"))
    form = PersonForm(data=listed[index] if index is not None and request.method == "GET" else None)
    if form.validate_on_submit():
        draft = _draft_or_new()
        listed = list((draft.answers or {}).get("people") or [])
        values = _form_values(form)
        if index is None:
            listed.append(values)
        elif index < len(listed):
            listed[index] = values
        services.save_draft_answers(draft, "people", listed)
        db.session.commit()
        return redirect(url_for("referrals.people"))
    status = 400 if form.errors else 200
    number = (index if index is not None else len(listed)) + 1
    return render_template("referrals/person.html", form=form, number=number, editing=index is not None,
                           back=url_for("referrals.people") if listed else _back("referrals.what_happened"),
                           public_page=True), status


@bp.route("/refer/people/add", methods=["GET", "POST"])
@public
def person_add():
    return _person_page(None)


@bp.route("/refer/people/<int:index>", methods=["GET", "POST"])
@public
def person_change(index: int):
    return _person_page(index)


@bp.route("/refer/people/<int:index>/remove", methods=["GET", "POST"])
@public
def person_remove(index: int):
    draft = _draft()
    listed = list((draft.answers or {}).get("people") or []) if draft else []
    if not (0 <= index < len(listed)):
        abort(404)
    form = RemovePersonForm()
    if form.validate_on_submit():
        listed.pop(index)
        services.save_draft_answers(draft, "people", listed)
        if not listed:
            services.save_draft_answers(draft, "people_done", False)
        db.session.commit()
        return redirect(url_for("referrals.people"))
    return render_template("referrals/person_remove.html", form=form, person=listed[index], public_page=True)


@bp.route("/refer/do-they-know", methods=["GET", "POST"])
@public
def awareness():
    return _question("awareness", AwarenessForm, "referrals/awareness.html", _back("referrals.people"))


@bp.route("/refer/risks", methods=["GET", "POST"])
@public
def risks():
    return _question("risks", RisksForm, "referrals/risks.html", _back("referrals.awareness"))


@bp.route("/refer/consent", methods=["GET", "POST"])
@public
def consent():
    return _question("consent", ConsentForm, "referrals/consent.html", _back("referrals.risks"))


def _referral_limit():
    return current_app.config["RATELIMIT_REFERRAL"]


@bp.route("/refer/check", methods=["GET", "POST"])
@public
@limiter.limit(_referral_limit, methods=["POST"])
def check():
    draft = _draft()
    answers = dict(draft.answers or {}) if draft else {}
    form = SubmitReferralForm()
    if request.method == "POST" and form.validate_on_submit() and form.website.data:
        # A bot filled the honeypot: look like success, keep nothing.
        if draft is not None:
            services.discard_draft(draft)
            db.session.commit()
        session.pop(SESSION_KEY, None)
        session[DONE_KEY] = services.generate_reference()
        return redirect(url_for("referrals.confirmation"))
    next_url = _next_url(answers)
    if draft is None or next_url != url_for("referrals.check"):
        return redirect(next_url if draft is not None else url_for("referrals.start"))
    problem = None
    if form.validate_on_submit():
        try:
            case = services.submit_referral(services.referral_data_from_answers(answers))
            services.discard_draft(draft)
            services.acknowledge_referral(case)
        except DomainError as exc:
            db.session.rollback()
            problem = exc.message
        else:
            db.session.commit()
            session.pop(SESSION_KEY, None)
            session[DONE_KEY] = case.reference
            return redirect(url_for("referrals.confirmation"))
    flags = (answers.get("risks") or {}).get("risk_flags") or []
    risk_text = ", ".join(RISK_FLAGS[f] for f in flags if f in RISK_FLAGS) or "None of these"
    return render_template("referrals/check.html", form=form, a=answers, problem=problem, risk_text=risk_text,
                           incident_date=date.fromisoformat(answers["what"]["incident_date"]),
                           categories=ReferralCategory, sides=PersonSide, awareness=Awareness,
                           back=_back("referrals.consent"),
                           public_page=True), (400 if problem or form.errors else 200)


@bp.get("/refer/confirmation")
@public
def confirmation():
    reference = session.get(DONE_KEY)
    if not reference:
        return redirect(url_for("referrals.start"))
    return render_template("referrals/confirmation.html", reference=reference, public_page=True)


# --- triage -------------------------------------------------------------------------------------------

def _triage_cases():
    return visible_cases(current_user).join(Referral, Referral.case_id == Case.id)


@bp.get("/referrals")
@require(Perm.TRIAGE)
def triage_list():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    base = _triage_cases().where(Case.status.in_(services.TRIAGE_STATUSES))
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    cases = db.session.scalars(
        base.options(joinedload(Case.referral)).order_by(Case.referred_at, Case.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).unique().all()
    today = local_today()
    rows = [(case, working_days_between(to_local(case.referred_at).date(), today)) for case in cases]
    return render_template("referrals/triage_list.html", rows=rows, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), categories=ReferralCategory)


def _load(case_id: int) -> Case:
    case = db.session.scalar(
        _triage_cases().where(Case.id == case_id)
        .options(joinedload(Case.referral).selectinload(Referral.people))
    )
    if case is None or not case.can_view(current_user):
        abort(404)
    return case


def _forms(case: Case, *, accept=None, decline=None, info=None):
    accept = accept or AcceptForm(prefix="accept", data={"version": case.version, "lead_coordinator": str(current_user.id)}
                                  if request.method == "GET" else None)
    decline = decline or DeclineForm(prefix="decline", data={"version": case.version} if request.method == "GET" else None)
    info = info or MoreInfoForm(prefix="info", data={"version": case.version} if request.method == "GET" else None)
    accept.lead_coordinator.choices = [("", "Choose a coordinator")] + [
        (str(u.id), u.name) for u in services.eligible_lead_coordinators()]
    for form in (accept, decline, info):
        if request.method == "GET" or form.version.data in (None, ""):
            form.version.data = case.version
    return accept, decline, info


def _render_detail(case: Case, *, status: int = 200, problem: str | None = None, **forms):
    accept, decline, info = _forms(case, **forms)
    today = local_today()
    return render_template(
        "referrals/triage_detail.html", case=case, referral=case.referral, accept=accept, decline=decline,
        info=info, problem=problem, can_triage=case.status in services.TRIAGE_STATUSES,
        waited=working_days_between(to_local(case.referred_at).date(), today),
        risk_labels=RISK_FLAGS,
    ), status


@bp.get("/referrals/<int:case_id>")
@require(Perm.TRIAGE)
def triage_detail(case_id: int):
    case = _load(case_id)
    services.record_case_opened(case, actor=current_user)
    db.session.commit()
    return _render_detail(case)


def _apply(case: Case, form, action, success: str, **forms):
    """Validate, run one service, commit; on a rule broken, show it on the form with the input kept."""
    problem = None
    if form.validate_on_submit():
        try:
            action()
        except ConcurrentEdit as exc:
            db.session.rollback()
            case = _load(case.id)
            problem = exc.message
        except DomainError as exc:
            db.session.rollback()
            case = _load(case.id)
            field = getattr(form, exc.field, None) if exc.field else None
            if field is not None:
                field.errors = list(field.errors) + [exc.message]
            else:
                problem = exc.message
        else:
            db.session.commit()
            flash(success, "success")
            return redirect(url_for("referrals.triage_detail", case_id=case.id))
    return _render_detail(case, status=409 if problem and "changed this record" in problem else 400,
                          problem=problem, **forms)


@bp.post("/referrals/<int:case_id>/accept")
@require(Perm.TRIAGE)
def accept(case_id: int):
    case = _load(case_id)
    form = AcceptForm(prefix="accept")
    form.lead_coordinator.choices = [("", "Choose a coordinator")] + [
        (str(u.id), u.name) for u in services.eligible_lead_coordinators()]

    def act():
        from rj.auth.models import User

        lead = db.session.get(User, int(form.lead_coordinator.data))
        services.accept_referral(case, scheme=Scheme(form.scheme.data), level=int(form.level.data),
                                 lead_coordinator=lead, actor=current_user, expected_version=form.version.data)

    return _apply(case, form, act, "Referral accepted as a case", accept=form)


@bp.post("/referrals/<int:case_id>/decline")
@require(Perm.TRIAGE)
def decline(case_id: int):
    case = _load(case_id)
    form = DeclineForm(prefix="decline")

    def act():
        services.decline_referral(case, reason=form.reason.data, note=form.note.data, actor=current_user,
                                  expected_version=form.version.data)

    return _apply(case, form, act, "Referral declined", decline=form)


@bp.post("/referrals/<int:case_id>/more-information")
@require(Perm.TRIAGE)
def more_information(case_id: int):
    case = _load(case_id)
    form = MoreInfoForm(prefix="info")

    def act():
        services.request_more_information(case, note=form.note.data, actor=current_user,
                                          expected_version=form.version.data)

    return _apply(case, form, act, "Referral marked as needing more information", info=form)

