"""Dashboards (coordinator and facilitator home pages), managers' reports with CSV downloads and the
quarterly return, and the referrer's status check."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from rj.core.errors import DomainError
from rj.core.forms import show_domain_error
from rj.core.permissions import Perm, public, require
from rj.core.time import local_today
from rj.extensions import db, limiter
from rj.reports import services
from rj.reports.charts import chart_for
from rj.reports.csv import safe_filename, to_csv
from rj.reports.forms import PeriodForm, QuarterForm, StatusRequestForm

bp = Blueprint("reports", __name__)

# Where each dashboard section's "see all" link goes: the first endpoint that exists.
LINKS = {
    "triage": ["referrals.triage_list"],
    "cases": ["cases.case_list"],
    "clocks": ["cases.victims_code"],
    "meetings": ["rostering.roster", "scheduling.meeting_list", "cases.case_list"],
    "offers": ["rostering.offer_list", "rostering.roster"],
    "agreements": ["agreements.overdue_list", "agreements.overdue", "agreements.overdue_items"],
    "facilitators": ["facilitators.compliance", "facilitators.facilitator_list"],
    "outbox": ["notifications.outbox", "notifications.outbox_list"],
    "my_roster": ["rostering.my_roster"],
    "my_training": ["facilitators.my_profile"],
}


def _links() -> dict:
    out = {}
    # Only list pages (no object in the URL) can be linked to from a section.
    plain = {r.endpoint for r in current_app.url_map.iter_rules() if not r.arguments and "GET" in r.methods}
    for key, candidates in LINKS.items():
        endpoint = next((e for e in candidates if e in plain), None)
        out[key] = url_for(endpoint) if endpoint else None
    return out


def _case_link(case_id: int, status=None) -> str | None:
    """A case's page for a coordinator: triage while in triage, else the case file."""
    endpoints = current_app.view_functions
    if status is not None and getattr(status, "value", status) in ("referred", "in_triage") \
            and "referrals.triage_detail" in endpoints:
        return url_for("referrals.triage_detail", case_id=case_id)
    if "cases.case_detail" in endpoints:
        return url_for("cases.case_detail", case_id=case_id)
    return None


# --------------------------------------------------------------------------- dashboards

@bp.get("/home")
@require(Perm.TRIAGE)
def coordinator_home():
    data = services.coordinator_dashboard()
    return render_template("reports/coordinator_home.html", d=data, links=_links(), case_link=_case_link)


@bp.get("/me/home")
@require(Perm.ROSTER_OWN)
def facilitator_home():
    data = services.facilitator_dashboard(current_user)
    return render_template("reports/facilitator_home.html", d=data, links=_links(), case_link=_case_link)


# --------------------------------------------------------------------------- reports

def _period_from_args() -> tuple[PeriodForm, services.Period | None]:
    """The period in the query string, or the default (the last 12 months) when none is given."""
    if not any(k.startswith(("start", "end")) for k in request.args):
        period = services.default_period()
        form = PeriodForm(formdata=None, data={"start": period.start, "end": period.end})
        for f, d in ((form.start, period.start), (form.end, period.end)):
            f.raw_data = [str(d.day), str(d.month), str(d.year)]
        return form, period
    form = PeriodForm(formdata=request.args)
    if not form.validate():
        return form, None
    try:
        period = services.check_period(form.start.data, form.end.data)
    except DomainError as exc:
        show_domain_error(form, exc, "start")
        return form, None
    return form, period


@bp.get("/reports")
@require(Perm.REPORTS)
def index():
    form, period = _period_from_args()
    if period is None:
        return render_template("reports/index.html", form=form, period=None, reports=[]), 400
    reports = services.build_all(period)
    charts = {r.name: chart_for(r) for r in reports}
    query = {"start": [str(period.start.day), str(period.start.month), str(period.start.year)],
             "end": [str(period.end.day), str(period.end.month), str(period.end.year)]}
    return render_template("reports/index.html", form=form, period=period, reports=reports, charts=charts,
                           query=query)


def _csv_response(rows, filename: str) -> Response:
    response = Response(to_csv(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/reports/<name>.csv")
@require(Perm.REPORTS)
def report_csv(name: str):
    if name == "quarterly":
        ret = _quarterly_from_args()
        if ret is None:
            abort(404)
        services.record_download("quarterly", ret.period.label, actor=current_user)
        db.session.commit()
        return _csv_response(ret.csv_rows(), safe_filename("quarterly-return", ret.year, f"q{ret.quarter}"))
    if name not in services.REPORT_NAMES:
        abort(404)
    form, period = _period_from_args()
    if period is None:
        abort(400)
    report = services.build_report(name, period)
    header, rows = report.exported()
    services.record_download(name, period.label, actor=current_user)
    db.session.commit()
    return _csv_response([header, *rows], safe_filename(name, period.start, period.end))


def _quarterly_from_args():
    default_year, default_quarter = services.current_quarter()
    year = request.args.get("year", default_year, type=int)
    quarter = request.args.get("quarter", default_quarter, type=int)
    try:
        return services.quarterly_return(year, quarter)
    except DomainError:
        return None


@bp.get("/reports/quarterly")
@require(Perm.REPORTS)
def quarterly():
    ret = _quarterly_from_args()
    this_year = local_today().year
    form = QuarterForm(formdata=None)
    form.year.choices = [(y, f"April {y} to March {y + 1}") for y in range(this_year, this_year - 6, -1)]
    if ret is None:
        return render_template("reports/quarterly.html", ret=None, form=form,
                               problem="Choose a financial year and a quarter from the lists"), 400
    form.year.data, form.quarter.data = ret.year, ret.quarter
    if ret.year not in dict(form.year.choices):
        form.year.choices.append((ret.year, f"April {ret.year} to March {ret.year + 1}"))
    return render_template("reports/quarterly.html", ret=ret, form=form, problem=None)


# --------------------------------------------------------------------------- referrer's status check

def _status_limit():
    return current_app.config.get("RATELIMIT_REFERRAL_STATUS", "5 per 15 minutes")


@bp.route("/referral-status", methods=["GET", "POST"])
@public
@limiter.limit(_status_limit, methods=["POST"])
def referral_status():
    form = StatusRequestForm()
    if form.validate_on_submit():
        # The same answer whether or not the details matched, so the page cannot be used to
        # find out which references or emails exist.
        services.request_status_link(form.reference.data, form.email.data)
        db.session.commit()
        return redirect(url_for("reports.referral_status_sent"))
    return render_template("reports/referral_status.html", form=form, public_page=True), (
        400 if form.errors else 200)


@bp.get("/referral-status/sent")
@public
def referral_status_sent():
    return render_template("reports/referral_status_sent.html", public_page=True)


@bp.get("/referral-status/<token>")
@public
def referral_status_show(token: str):
    status = services.status_for_token(token)
    if status is None:
        return render_template("reports/referral_status_expired.html", public_page=True), 404
    return render_template("reports/referral_status_show.html", status=status, public_page=True)
