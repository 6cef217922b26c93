"""Facilitator pages: the list and compliance view for coordinators, each facilitator's record,
the course catalogue for managers, and a facilitator's own profile (/me)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from rj.core.errors import ConcurrentEdit, DomainError
from rj.core.forms import show_domain_error
from rj.core.permissions import Perm, has_perm, require
from rj.core.time import local_today
from rj.extensions import db
from rj.facilitators import queries, services
from rj.facilitators.forms import (
    ConfirmForm, ConflictForm, CourseForm, CpdForm, DbsForm, FacilitatorEditForm, FacilitatorNewForm, GoalForm,
    ObservationForm, OwnDetailsForm, SupervisionForm, TrainingRecordForm,
)
from rj.facilitators.models import (
    ConflictKind, ConflictOfInterest, Course, CourseCategory, CpdEntry, DbsCheck, DbsLevel, Facilitator,
    FacilitatorKind, FacilitatorStatus, GoalStatus, ObservationOutcome, ObservedPractice, PractitionerLevel,
    SupervisionSession, TrainingPlanGoal, TrainingRecord,
)

bp = Blueprint("facilitators", __name__)


def _load(facilitator_id: int) -> Facilitator:
    facilitator = db.get_or_404(Facilitator, facilitator_id)
    if not facilitator.can_view(current_user):
        abort(404)
    return facilitator


def _child(model, facilitator: Facilitator, record_id: int):
    """A record loaded through its facilitator: a guessed id of someone else's record is a 404."""
    obj = db.session.scalar(select(model).where(model.id == record_id, model.facilitator_id == facilitator.id))
    if obj is None:
        abort(404)
    return obj


# --------------------------------------------------------------------------- list, new, compliance

@bp.get("/facilitators")
@require(Perm.FACILITATORS_MANAGE)
def facilitator_list():
    status = _status_arg()
    facilitators = queries.facilitator_list(status=status)
    return render_template("facilitators/list.html", facilitators=facilitators, status=status,
                           statuses=list(FacilitatorStatus))


def _status_arg() -> FacilitatorStatus | None:
    raw = request.args.get("status", "")
    try:
        return FacilitatorStatus(raw) if raw else None
    except ValueError:
        return None


@bp.route("/facilitators/new", methods=["GET", "POST"])
@require(Perm.FACILITATORS_MANAGE)
def facilitator_new():
    form = FacilitatorNewForm()
    if form.validate_on_submit():
        try:
            facilitator, token = services.create_facilitator(
                name=form.name.data, email=form.email.data, kind=FacilitatorKind(form.kind.data),
                practitioner_level=PractitionerLevel(form.practitioner_level.data), phone=form.phone.data,
                languages=form.languages.data, areas=form.areas.data,
                max_meetings_per_month=form.max_meetings_per_month.data, experienced=form.experienced.data,
                actor=current_user,
            )
        except DomainError as exc:
            show_domain_error(form, exc, "email")
        else:
            db.session.commit()
            session["_invite_link"] = url_for("auth.set_password", token=token, _external=True)
            flash("Facilitator added. Their set-password invitation has been created.", "success")
            return redirect(url_for("facilitators.facilitator_detail", facilitator_id=facilitator.id))
    return render_template("facilitators/new.html", form=form)


@bp.get("/facilitators/compliance")
@require(Perm.FACILITATORS_MANAGE)
def compliance():
    status = _status_arg() if "status" in request.args else FacilitatorStatus.ACTIVE
    sort = request.args.get("sort", "name")
    sort = sort if sort in queries.SORTS else "name"
    rows = queries.compliance_rows(status=status, sort=sort)
    return render_template("facilitators/compliance.html", rows=rows, items=queries.ITEMS, status=status,
                           statuses=list(FacilitatorStatus), sort=sort, sorts=queries.SORTS, today=local_today())


# --------------------------------------------------------------------------- one facilitator

def _detail_context(facilitator: Facilitator, *, own: bool) -> dict:
    today = local_today()
    cases = services.cases_facilitated(facilitator)
    return {
        "facilitator": facilitator,
        "own": own,
        "today": today,
        "cases": cases,
        "experienced": services.is_experienced(facilitator, cases=cases),
        "eligibility": {level: services.check_eligibility(facilitator, level=level, on=today) for level in (2, 3)},
        "compliance": queries.compliance_for(facilitator, today),
        "cpd": services.cpd_totals(facilitator, on=today),
        "dbs": services.current_dbs(facilitator, today),
        "dbs_years": services.dbs_renewal_years(),
        "show_supervision_notes": (not own) and has_perm(current_user, Perm.SUPERVISION_NOTES),
        "confirm_form": ConfirmForm(),
    }


@bp.get("/facilitators/<int:facilitator_id>")
@require(Perm.FACILITATORS_MANAGE)
def facilitator_detail(facilitator_id: int):
    facilitator = _load(facilitator_id)
    invite_link = session.pop("_invite_link", None)
    return render_template("facilitators/detail.html", invite_link=invite_link,
                           **_detail_context(facilitator, own=False))


@bp.route("/facilitators/<int:facilitator_id>/edit", methods=["GET", "POST"])
@require(Perm.FACILITATORS_MANAGE)
def facilitator_edit(facilitator_id: int):
    facilitator = _load(facilitator_id)
    form = FacilitatorEditForm(obj=facilitator)
    if request.method == "GET":
        form.name.data = facilitator.name
        form.kind.data = facilitator.kind.value
        form.status.data = facilitator.status.value
        form.practitioner_level.data = facilitator.practitioner_level.value
    if form.validate_on_submit():
        try:
            services.update_facilitator(
                facilitator, version=form.version.data, actor=current_user, name=form.name.data,
                kind=FacilitatorKind(form.kind.data), status=FacilitatorStatus(form.status.data),
                practitioner_level=PractitionerLevel(form.practitioner_level.data), phone=form.phone.data,
                languages=form.languages.data, areas=form.areas.data,
                max_meetings_per_month=form.max_meetings_per_month.data, experienced=form.experienced.data,
                joined_on=form.joined_on.data,
            )
        except ConcurrentEdit as exc:
            return _stale(form, exc, "facilitators/profile_form.html", facilitator=facilitator, own=False)
        except DomainError as exc:
            show_domain_error(form, exc, "name")
        else:
            db.session.commit()
            flash("Profile saved", "success")
            return redirect(url_for("facilitators.facilitator_detail", facilitator_id=facilitator.id))
    return render_template("facilitators/profile_form.html", form=form, facilitator=facilitator, own=False)


def _stale(form, exc, template, **context):
    """Keep what they typed, show the message, and move the form to the current version."""
    db.session.rollback()
    obj = context.get("obj") or context.get("facilitator")
    db.session.refresh(obj)
    form.version.data = obj.version
    return render_template(template, form=form, stale_message=exc.message, **context), 409


# --------------------------------------------------------------------------- conflicts (coordinator and own)

def _add_conflict(facilitator: Facilitator, back: str):
    form = ConflictForm()
    if form.validate_on_submit():
        try:
            services.add_conflict(facilitator, kind=ConflictKind(form.kind.data), value=form.value.data,
                                  private_note=form.private_note.data, actor=current_user)
        except DomainError as exc:
            show_domain_error(form, exc, "value")
        else:
            db.session.commit()
            flash("Conflict of interest declared", "success")
            return redirect(back)
    return render_template("facilitators/conflict_form.html", form=form, facilitator=facilitator, back=back)


def _remove_conflict(facilitator: Facilitator, conflict_id: int, back: str):
    conflict = _child(ConflictOfInterest, facilitator, conflict_id)
    ConfirmForm().validate_on_submit() or abort(400)
    services.remove_conflict(conflict, actor=current_user)
    db.session.commit()
    flash("Conflict of interest removed", "success")
    return redirect(back)


@bp.route("/facilitators/<int:facilitator_id>/conflicts/new", methods=["GET", "POST"])
@require(Perm.FACILITATORS_MANAGE)
def conflict_new(facilitator_id: int):
    facilitator = _load(facilitator_id)
    return _add_conflict(facilitator, url_for("facilitators.facilitator_detail", facilitator_id=facilitator.id,
                                              _anchor="conflicts"))


@bp.post("/facilitators/<int:facilitator_id>/conflicts/<int:conflict_id>/remove")
@require(Perm.FACILITATORS_MANAGE)
def conflict_remove(facilitator_id: int, conflict_id: int):
    facilitator = _load(facilitator_id)
    return _remove_conflict(facilitator, conflict_id,
                            url_for("facilitators.facilitator_detail", facilitator_id=facilitator.id,
                                    _anchor="conflicts"))


# --------------------------------------------------------------------------- records (coordinator)

def _course_choices(current_id: int | None = None):
    courses = db.session.scalars(select(Course).order_by(Course.name)).all()
    return [(c.id, c.name) for c in courses if c.active or c.id == current_id]


class _Kind:
    """How one kind of record is added and edited through the shared record form."""

    def __init__(self, model, form, title, anchor, add, update, first_field):
        self.model, self.form, self.title, self.anchor = model, form, title, anchor
        self.add, self.update, self.first_field = add, update, first_field


def _training_kw(form):
    course = db.session.get(Course, form.course_id.data) if form.course_id.data else None
    return {"course": course, "completed_on": form.completed_on.data, "expires_on": form.expires_on.data,
            "evidence_reference": form.evidence_reference.data}


def _goal_kw(form):
    return {"title": form.title.data, "target_date": form.target_date.data, "status": GoalStatus(form.status.data),
            "progress_notes": form.progress_notes.data}


def _supervision_kw(form):
    return {"held_on": form.held_on.data, "supervisor_name": form.supervisor_name.data,
            "notes": form.notes.data if getattr(form, "notes", None) is not None else None}


def _observation_kw(form):
    return {"observed_on": form.observed_on.data, "observer_name": form.observer_name.data,
            "outcome": ObservationOutcome(form.outcome.data)}


def _cpd_kw(form):
    return {"done_on": form.done_on.data, "hours": form.hours.data, "activity": form.activity.data,
            "rjc_approved": form.rjc_approved.data}


def _dbs_kw(form):
    return {"level": DbsLevel(form.level.data), "certificate_number": form.certificate_number.data,
            "issued_on": form.issued_on.data, "update_service": form.update_service.data}


def _update_supervision(obj, **kw):
    keep = not has_perm(current_user, Perm.SUPERVISION_NOTES)
    return services.update_supervision_session(obj, keep_notes=keep, **kw)


KINDS = {
    "training": _Kind(TrainingRecord, TrainingRecordForm, "training record", "training",
                      lambda f, **kw: services.add_training_record(f, **_training_kw(kw.pop("form")), **kw),
                      lambda o, **kw: services.update_training_record(o, **_training_kw(kw.pop("form")), **kw),
                      "course_id"),
    "goals": _Kind(TrainingPlanGoal, GoalForm, "training plan goal", "plan",
                   lambda f, **kw: services.add_plan_goal(f, **_goal_kw(kw.pop("form")), **kw),
                   lambda o, **kw: services.update_plan_goal(o, **_goal_kw(kw.pop("form")), **kw), "title"),
    "supervision": _Kind(SupervisionSession, SupervisionForm, "supervision session", "supervision",
                         lambda f, **kw: services.add_supervision_session(f, **_supervision_kw(kw.pop("form")), **kw),
                         lambda o, **kw: _update_supervision(o, **_supervision_kw(kw.pop("form")), **kw), "held_on"),
    "observations": _Kind(ObservedPractice, ObservationForm, "observed practice", "observations",
                          lambda f, **kw: services.add_observed_practice(f, **_observation_kw(kw.pop("form")), **kw),
                          lambda o, **kw: services.update_observed_practice(o, **_observation_kw(kw.pop("form")), **kw),
                          "observed_on"),
    "cpd": _Kind(CpdEntry, CpdForm, "CPD entry", "cpd",
                 lambda f, **kw: services.add_cpd_entry(f, **_cpd_kw(kw.pop("form")), **kw),
                 lambda o, **kw: services.update_cpd_entry(o, **_cpd_kw(kw.pop("form")), **kw), "activity"),
    "dbs": _Kind(DbsCheck, DbsForm, "DBS check", "dbs",
                 lambda f, **kw: services.add_dbs_check(f, **_dbs_kw(kw.pop("form")), **kw),
                 lambda o, **kw: services.update_dbs_check(o, **_dbs_kw(kw.pop("form")), **kw),
                 "certificate_number"),
}
_KIND_PATH = "any(" + ", ".join(KINDS) + ")"


def _prepare_form(kind: str, obj=None):
    spec = KINDS[kind]
    form = spec.form(obj=obj)
    if kind == "training":
        form.course_id.choices = _course_choices(getattr(obj, "course_id", None))
    if kind == "supervision" and not has_perm(current_user, Perm.SUPERVISION_NOTES):
        del form.notes
    if kind == "dbs":
        if obj is not None:
            if request.method == "GET":
                form.certificate_number.data = ""
            form.certificate_number.description = (f"12 digits. Leave empty to keep {obj.masked_number}")
    return form


@bp.route(f"/facilitators/<int:facilitator_id>/<{_KIND_PATH}:kind>/new", methods=["GET", "POST"])
@require(Perm.FACILITATORS_MANAGE)
def record_new(facilitator_id: int, kind: str):
    facilitator = _load(facilitator_id)
    spec = KINDS[kind]
    form = _prepare_form(kind)
    back = url_for("facilitators.facilitator_detail", facilitator_id=facilitator.id, _anchor=spec.anchor)
    if form.validate_on_submit():
        try:
            spec.add(facilitator, form=form, actor=current_user)
        except DomainError as exc:
            show_domain_error(form, exc, spec.first_field)
        else:
            db.session.commit()
            flash(f"{spec.title.capitalize()} added", "success")
            return redirect(back)
    return render_template("facilitators/record_form.html", form=form, facilitator=facilitator, spec=spec,
                           back=back, editing=False)


@bp.route(f"/facilitators/<int:facilitator_id>/<{_KIND_PATH}:kind>/<int:record_id>/edit", methods=["GET", "POST"])
@require(Perm.FACILITATORS_MANAGE)
def record_edit(facilitator_id: int, kind: str, record_id: int):
    facilitator = _load(facilitator_id)
    spec = KINDS[kind]
    obj = _child(spec.model, facilitator, record_id)
    form = _prepare_form(kind, obj)
    back = url_for("facilitators.facilitator_detail", facilitator_id=facilitator.id, _anchor=spec.anchor)
    if form.validate_on_submit():
        try:
            spec.update(obj, form=form, version=form.version.data, actor=current_user)
        except ConcurrentEdit as exc:
            return _stale(form, exc, "facilitators/record_form.html", obj=obj, facilitator=facilitator,
                          spec=spec, back=back, editing=True)
        except DomainError as exc:
            show_domain_error(form, exc, spec.first_field)
        else:
            db.session.commit()
            flash(f"{spec.title.capitalize()} saved", "success")
            return redirect(back)
    return render_template("facilitators/record_form.html", form=form, facilitator=facilitator, spec=spec,
                           back=back, editing=True, obj=obj)


@bp.post(f"/facilitators/<int:facilitator_id>/<any(training, cpd):kind>/<int:record_id>/verify")
@require(Perm.FACILITATORS_MANAGE)
def record_verify(facilitator_id: int, kind: str, record_id: int):
    facilitator = _load(facilitator_id)
    obj = _child(KINDS[kind].model, facilitator, record_id)
    ConfirmForm().validate_on_submit() or abort(400)
    if kind == "training":
        services.verify_training_record(obj, actor=current_user)
    else:
        services.verify_cpd_entry(obj, actor=current_user)
    db.session.commit()
    flash("Marked as verified", "success")
    return redirect(url_for("facilitators.facilitator_detail", facilitator_id=facilitator.id,
                            _anchor=KINDS[kind].anchor))


# --------------------------------------------------------------------------- course catalogue (managers)

@bp.get("/facilitators/courses")
@require(Perm.TRAINING_CATALOGUE)
def course_list():
    courses = db.session.scalars(select(Course).order_by(Course.active.desc(), Course.name)).all()
    return render_template("facilitators/course_list.html", courses=courses)


def _course_kw(form):
    return {"name": form.name.data, "provider": form.provider.data,
            "category": CourseCategory(form.category.data), "levels": form.levels.data or [],
            "validity_months": form.validity_months.data}


@bp.route("/facilitators/courses/new", methods=["GET", "POST"])
@require(Perm.TRAINING_CATALOGUE)
def course_new():
    form = CourseForm()
    if form.validate_on_submit():
        try:
            services.add_course(actor=current_user, **_course_kw(form))
        except DomainError as exc:
            show_domain_error(form, exc, "name")
        else:
            db.session.commit()
            flash("Course added to the catalogue", "success")
            return redirect(url_for("facilitators.course_list"))
    return render_template("facilitators/course_form.html", form=form, course=None)


@bp.route("/facilitators/courses/<int:course_id>/edit", methods=["GET", "POST"])
@require(Perm.TRAINING_CATALOGUE)
def course_edit(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = CourseForm(obj=course)
    if request.method == "GET":
        form.category.data = course.category.value
    if form.validate_on_submit():
        try:
            services.update_course(course, version=form.version.data, active=form.active.data,
                                   actor=current_user, **_course_kw(form))
        except ConcurrentEdit as exc:
            return _stale(form, exc, "facilitators/course_form.html", obj=course, course=course)
        except DomainError as exc:
            show_domain_error(form, exc, "name")
        else:
            db.session.commit()
            flash("Course saved", "success")
            return redirect(url_for("facilitators.course_list"))
    return render_template("facilitators/course_form.html", form=form, course=course)


# --------------------------------------------------------------------------- self-service (/me)

def _me() -> Facilitator | None:
    return services.facilitator_for_user(current_user)


class _NoProfile(Exception):
    """The signed-in facilitator has no profile yet: their pages send them to /me, which says so."""


def _my_profile() -> Facilitator:
    facilitator = _me()
    if facilitator is None:
        raise _NoProfile()
    return facilitator


@bp.errorhandler(_NoProfile)
def _no_profile(exc):
    return redirect(url_for("facilitators.my_profile"))


@bp.get("/me")
@require(Perm.OWN_PROFILE)
def my_profile():
    facilitator = _me()
    if facilitator is None:
        return render_template("facilitators/no_profile.html")
    return render_template("facilitators/detail.html", invite_link=None, **_detail_context(facilitator, own=True))


@bp.route("/me/details", methods=["GET", "POST"])
@require(Perm.OWN_PROFILE)
def my_details():
    facilitator = _my_profile()
    form = OwnDetailsForm(obj=facilitator)
    if form.validate_on_submit():
        try:
            services.update_own_details(facilitator, version=form.version.data, phone=form.phone.data,
                                        languages=form.languages.data, areas=form.areas.data, actor=current_user)
        except ConcurrentEdit as exc:
            return _stale(form, exc, "facilitators/profile_form.html", facilitator=facilitator, own=True)
        except DomainError as exc:
            show_domain_error(form, exc, "phone")
        else:
            db.session.commit()
            flash("Your details have been saved", "success")
            return redirect(url_for("facilitators.my_profile"))
    return render_template("facilitators/profile_form.html", form=form, facilitator=facilitator, own=True)


@bp.route("/me/cpd/new", methods=["GET", "POST"])
@require(Perm.OWN_PROFILE)
def my_cpd_new():
    facilitator = _my_profile()
    form = CpdForm()
    back = url_for("facilitators.my_profile", _anchor="cpd")
    if form.validate_on_submit():
        try:
            services.add_cpd_entry(facilitator, actor=current_user, **_cpd_kw(form))
        except DomainError as exc:
            show_domain_error(form, exc, "activity")
        else:
            db.session.commit()
            flash("CPD entry logged", "success")
            return redirect(back)
    return render_template("facilitators/record_form.html", form=form, facilitator=facilitator, spec=KINDS["cpd"],
                           back=back, editing=False, own=True)


@bp.route("/me/cpd/<int:entry_id>/edit", methods=["GET", "POST"])
@require(Perm.OWN_PROFILE)
def my_cpd_edit(entry_id: int):
    facilitator = _my_profile()
    entry = _child(CpdEntry, facilitator, entry_id)
    if entry.verified_at is not None:
        abort(403)
    form = CpdForm(obj=entry)
    back = url_for("facilitators.my_profile", _anchor="cpd")
    if form.validate_on_submit():
        try:
            services.update_cpd_entry(entry, version=form.version.data, actor=current_user, by_owner=True,
                                      **_cpd_kw(form))
        except ConcurrentEdit as exc:
            return _stale(form, exc, "facilitators/record_form.html", obj=entry, facilitator=facilitator,
                          spec=KINDS["cpd"], back=back, editing=True, own=True)
        except DomainError as exc:
            show_domain_error(form, exc, "activity")
        else:
            db.session.commit()
            flash("CPD entry saved", "success")
            return redirect(back)
    return render_template("facilitators/record_form.html", form=form, facilitator=facilitator, spec=KINDS["cpd"],
                           back=back, editing=True, own=True, obj=entry)


@bp.route("/me/conflicts/new", methods=["GET", "POST"])
@require(Perm.OWN_PROFILE)
def my_conflict_new():
    return _add_conflict(_my_profile(), url_for("facilitators.my_profile", _anchor="conflicts"))


@bp.post("/me/conflicts/<int:conflict_id>/remove")
@require(Perm.OWN_PROFILE)
def my_conflict_remove(conflict_id: int):
    return _remove_conflict(_my_profile(), conflict_id, url_for("facilitators.my_profile", _anchor="conflicts"))
