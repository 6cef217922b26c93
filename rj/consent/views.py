"""Pages for recording parties, consent, suitability and risk, and the public online-consent page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user
from sqlalchemy import select

from rj.cases.models import Case
from rj.cases.visibility import visible_cases
from rj.consent import services
from rj.consent.forms import (
    ConfirmForm, ConsentForm, InformationForm, OnlineConsentForm, PartyForm, SuitabilityForm, WithdrawForm,
    risk_form_class,
)
from rj.consent.models import ConsentScope, GivenBy, Party, PartyRole, RiskAssessment, role_label
from rj.core.errors import DomainError
from rj.core.forms import show_domain_error
from rj.core.permissions import Perm, public, require
from rj.extensions import db

bp = Blueprint("consent", __name__)


def load_case(case_id: int) -> Case:
    """A case the current user may see, or 404 (a guessed id finds nothing that is not theirs)."""
    case = db.session.scalar(visible_cases(current_user).where(Case.id == case_id))
    if case is None or not case.can_view(current_user):
        abort(404)
    return case


def load_party(case: Case, party_id: int) -> Party:
    party = db.session.scalar(select(Party).where(Party.id == party_id, Party.case_id == case.id))
    if party is None:
        abort(404)
    return party


def _case_url(case: Case, anchor: str | None = None) -> str:
    return url_for("cases.case_detail", case_id=case.id, _anchor=anchor)


def _party_form(case: Case, party: Party | None = None) -> PartyForm:
    form = PartyForm(obj=party) if party is not None else PartyForm()
    form.role.choices = [(r.value, role_label(case.scheme, r)) for r in services.roles_for_scheme(case.scheme)]
    minors = [p for p in services.active_parties(case) if p.under_18 and (party is None or p.id != party.id)]
    form.guardian_for_id.choices = [("", "Not a parent or guardian")] + [(str(p.id), p.display(case.scheme)) for p in minors]
    if party is not None and not form.is_submitted():
        form.version.data = party.version
        form.guardian_for_id.data = str(party.guardian_for_id or "")
        form.preferred_contact.data = party.preferred_contact.value if party.preferred_contact else None
        form.role.data = party.role.value
        form.acknowledges_responsibility.data = {True: "yes", False: "no"}.get(party.acknowledges_responsibility, "unknown")
    return form


@bp.route("/cases/<int:case_id>/parties/new", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def party_new(case_id: int):
    case = load_case(case_id)
    form = _party_form(case)
    if form.validate_on_submit():
        try:
            services.add_party(case, actor=current_user, **form.data_for_service())
        except DomainError as exc:
            show_domain_error(form, exc, "name")
        else:
            db.session.commit()
            flash("Person added to the case", "success")
            return redirect(_case_url(case, "parties"))
    return render_template("consent/party_form.html", case=case, form=form, party=None)


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/edit", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def party_edit(case_id: int, party_id: int):
    case = load_case(case_id)
    party = load_party(case, party_id)
    form = _party_form(case, party)
    if form.validate_on_submit():
        try:
            services.update_party(party, form.data_for_service(), version=form.version.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc, "name")
            party = load_party(case, party_id)
            form.version.data = party.version
        else:
            db.session.commit()
            flash("Details saved", "success")
            return redirect(_case_url(case, "parties"))
    return render_template("consent/party_form.html", case=case, form=form, party=party)


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/remove", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def party_remove(case_id: int, party_id: int):
    case = load_case(case_id)
    party = load_party(case, party_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.remove_party(party, actor=current_user)
        db.session.commit()
        flash("Person removed from the case. Their consent history is kept.", "success")
        return redirect(_case_url(case, "parties"))
    return render_template("consent/party_remove.html", case=case, party=party, form=form)


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/first-contact", methods=["POST"])
@require(Perm.CONSENT_RECORD)
def first_contact(case_id: int, party_id: int):
    case = load_case(case_id)
    party = load_party(case, party_id)
    ConfirmForm().validate_on_submit() or abort(400)
    try:
        services.record_first_contact(party, actor=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("First contact recorded", "success")
    return redirect(_case_url(case, "parties"))


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/information", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def information(case_id: int, party_id: int):
    case = load_case(case_id)
    party = load_party(case, party_id)
    form = InformationForm()
    if form.validate_on_submit():
        try:
            services.record_information(party, how=form.how.data, leaflet=form.leaflet.data or None,
                                        given_by=form.given_by.data, actor=current_user)
        except DomainError as exc:
            show_domain_error(form, exc, "how")
        else:
            db.session.commit()
            flash("Information given is recorded", "success")
            return redirect(_case_url(case, "consent"))
    return render_template("consent/information.html", case=case, party=party, form=form)


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/consent", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def record_consent(case_id: int, party_id: int):
    case = load_case(case_id)
    party = load_party(case, party_id)
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            services.record_consent(party, kind=form.kind.data, scopes=form.scopes.data, method=form.method.data,
                                    given_by=form.given_by.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc, "scopes")
        else:
            db.session.commit()
            flash("Answer recorded", "success")
            return redirect(_case_url(case, "consent"))
    state = services.party_consent(party)
    return render_template("consent/consent_form.html", case=case, party=party, form=form, state=state,
                           scopes=list(ConsentScope), GivenBy=GivenBy)


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/withdraw", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def withdraw(case_id: int, party_id: int):
    case = load_case(case_id)
    party = load_party(case, party_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw_consent(party, method=form.method.data, given_by=form.given_by.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc, "method")
        else:
            db.session.commit()
            flash("Withdrawal recorded. The case is paused and their future meetings are cancelled.", "success")
            return redirect(_case_url(case, "consent"))
    return render_template("consent/withdraw.html", case=case, party=party, form=form)


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/link", methods=["POST"])
@require(Perm.CONSENT_RECORD)
def issue_link(case_id: int, party_id: int):
    case = load_case(case_id)
    party = load_party(case, party_id)
    ConfirmForm().validate_on_submit() or abort(400)
    try:
        token = services.issue_consent_link(party, actor=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(_case_url(case, "consent"))
    db.session.commit()
    # Shown once on the case page for copying; never stored unhashed.
    session["_consent_link"] = {"case_id": case.id, "party_id": party.id,
                                "url": url_for("consent.consent_link", token=token, _external=True),
                                "emailed": bool(party.email)}
    flash("Online consent link created" + (" and emailed" if party.email else ""), "success")
    return redirect(_case_url(case, "consent"))


@bp.route("/consent/<token>", methods=["GET", "POST"])
@public
def consent_link(token: str):
    """The plain-language page a party (or their parent or guardian) answers on. Says nothing
    about the case beyond what taking part means."""
    link = services.find_consent_link(token)
    if link is None:
        return render_template("consent/link_expired.html", public_page=True), 404
    person = link.party
    for_child = person.role is PartyRole.GUARDIAN
    form = OnlineConsentForm()
    if form.validate_on_submit():
        try:
            services.answer_consent_link(token, agree=form.agree.data == "yes", scopes=form.scopes.data or [])
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc, "scopes")
        else:
            db.session.commit()
            return render_template("consent/link_done.html", public_page=True, agreed=form.agree.data == "yes")
    return render_template("consent/link_page.html", form=form, public_page=True, for_child=for_child)


@bp.route("/cases/<int:case_id>/suitability", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def suitability(case_id: int):
    case = load_case(case_id)
    form = SuitabilityForm()
    if not form.is_submitted():
        form.under_18s.data = any(p.under_18 for p in services.active_parties(case))
    if form.validate_on_submit():
        try:
            services.record_suitability(case, flags=form.flags.data or [], under_18s=form.under_18s.data,
                                        decision=form.decision.data, reasons=form.reasons.data, actor=current_user)
        except DomainError as exc:
            show_domain_error(form, exc, "reasons")
        else:
            db.session.commit()
            flash("Suitability screening saved", "success")
            return redirect(_case_url(case, "risk"))
    return render_template("consent/suitability.html", case=case, form=form)


def _risk_subjects(case: Case) -> list[tuple[str, str, int | None]]:
    parties = [p for p in services.active_parties(case) if p.role.is_principal]
    return [(f"p{p.id}", p.display(case.scheme), p.id) for p in parties] + [("facilitators", "the facilitators", None)]


@bp.route("/cases/<int:case_id>/risk/new", methods=["GET", "POST"])
@require(Perm.CONSENT_RECORD)
def risk_new(case_id: int):
    case = load_case(case_id)
    subjects = _risk_subjects(case)
    form = risk_form_class([(k, n) for k, n, _ in subjects])()
    if form.validate_on_submit():
        items = [{"party_id": pid, "risk": form[f"risk_{k}"].data, "management": form[f"management_{k}"].data}
                 for k, _, pid in subjects]
        try:
            services.record_risk_assessment(case, stage=form.stage.data, items=items, actor=current_user)
        except DomainError as exc:
            show_domain_error(form, exc, "stage")
        else:
            db.session.commit()
            flash("Risk assessment saved" + (": a manager must sign it off" if case.level == 3 else ""), "success")
            return redirect(_case_url(case, "risk"))
    return render_template("consent/risk_form.html", case=case, form=form, subjects=subjects)


@bp.route("/cases/<int:case_id>/risk/<int:assessment_id>/sign-off", methods=["POST"])
@require(Perm.RISK_SIGNOFF)
def risk_signoff(case_id: int, assessment_id: int):
    case = load_case(case_id)
    ra = db.session.scalar(select(RiskAssessment).where(RiskAssessment.id == assessment_id,
                                                        RiskAssessment.case_id == case.id))
    if ra is None:
        abort(404)
    form = ConfirmForm()
    form.validate_on_submit() or abort(400)
    try:
        services.sign_off_risk_assessment(ra, actor=current_user, version=form.version.data)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Risk assessment signed off", "success")
    return redirect(_case_url(case, "risk"))
