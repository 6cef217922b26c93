"""Reports: periods, the figures of each report as tables, disclosure control, and the referrer's
status link.

Disclosure control (for anything that leaves the service: CSV downloads and the quarterly return):
- primary suppression: a count from 1 to 4 is shown as "<5" (0 is shown: it reveals nobody);
- secondary suppression: in every line of a table that has a total (a row with its row total, a
  column with its column total), a single suppressed cell could be worked out by subtracting the
  others from the total. So wherever a line has exactly one suppressed cell, the smallest other
  non-zero cell of that line (the total itself if nothing else is left) is withheld too, shown as
  "[c]", and this repeats until no line has exactly one suppressed cell. Totals stay exact where
  they can. Rates and medians are shown only when the counts they come from are shown.
The pages managers see inside the service show exact figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from rj.cases.models import Case, CaseStatus
from rj.core.errors import DomainError
from rj.core.time import local_today, now_utc
from rj.extensions import db
from rj.reports import queries
from rj.reports.models import ReferralStatusLink

SMALL = "<5"
SECONDARY = "[c]"
MAX_PERIOD_DAYS = 5 * 366
STATUS_LINK_HOURS = 24


# --------------------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    start: date   # first local day
    end: date     # last local day (inclusive)

    @property
    def label(self) -> str:
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"


def add_months(day: date, months: int) -> date:
    import calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_period(today: date | None = None) -> Period:
    """The last 12 months, ending today."""
    today = today or local_today()
    return Period(add_months(today, -12) + timedelta(days=1), today)


def check_period(start: date | None, end: date | None, *, today: date | None = None) -> Period:
    """A period a report can be run for: start on or before end, not in the future, at most 5 years."""
    today = today or local_today()
    if start is None:
        raise DomainError("Enter the start date", field="start")
    if end is None:
        raise DomainError("Enter the end date", field="end")
    if start.year < 2000:
        raise DomainError("The start date must be in or after the year 2000", field="start")
    if start > today:
        raise DomainError("The start date must be today or in the past", field="start")
    if start > end:
        raise DomainError("The start date must be before the end date", field="start")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise DomainError("The period must be 5 years or shorter: choose a later start date", field="start")
    return Period(start, end)


def quarter_period(year: int, quarter: int) -> Period:
    """Financial-year quarters as commissioners use them: Q1 is April to June of `year`."""
    if quarter not in (1, 2, 3, 4):
        raise DomainError("Choose a quarter from 1 to 4", field="quarter")
    if not 2000 <= year <= 2100:
        raise DomainError("Enter a year from 2000 to 2100", field="year")
    first_month = 4 + 3 * (quarter - 1)
    y = year + (first_month - 1) // 12
    m = (first_month - 1) % 12 + 1
    start = date(y, m, 1)
    return Period(start, add_months(start, 3) - timedelta(days=1))


def current_quarter(today: date | None = None) -> tuple[int, int]:
    """(financial year, quarter) of the last completed quarter."""
    today = today or local_today()
    fy = today.year if today.month >= 4 else today.year - 1
    q = (today.month - 4) % 12 // 3 + 1
    q -= 1
    if q == 0:
        fy, q = fy - 1, 4
    return fy, q


# --------------------------------------------------------------------------- disclosure control

def is_small(n) -> bool:
    return isinstance(n, int) and 1 <= n <= 4


def suppress_grid(grid: list[list[int]], *, row_totals: bool = True, col_totals: bool = True) -> dict:
    """Primary and secondary suppression of a table of counts with its totals.

    Returns {"cells": rows of str, "row_totals": [str], "col_totals": [str], "total": str}
    (totals present only when asked for). See the module docstring for the rule."""
    nrows = len(grid)
    ncols = len(grid[0]) if grid else 0
    values: dict[tuple[int, int], int] = {}
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            values[(i, j)] = int(v)
    R, C = nrows, ncols  # index of the totals row / column
    if row_totals:
        for i in range(nrows):
            values[(i, C)] = sum(grid[i])
    if col_totals:
        for j in range(ncols):
            values[(R, j)] = sum(grid[i][j] for i in range(nrows))
    if row_totals and col_totals:
        values[(R, C)] = sum(sum(r) for r in grid)

    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        lines += [[(i, j) for j in range(ncols)] + [(i, C)] for i in range(nrows)]
        if col_totals:
            lines.append([(R, j) for j in range(ncols)] + [(R, C)])
    if col_totals:
        lines += [[(i, j) for i in range(nrows)] + [(R, j)] for j in range(ncols)]
        if row_totals:
            lines.append([(i, C) for i in range(nrows)] + [(R, C)])

    primary = {k for k, v in values.items() if is_small(v)}
    suppressed = set(primary)
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [k for k in line if k in suppressed]
            if len(hidden) != 1:
                continue
            total_key = line[-1]
            candidates = [k for k in line if k not in suppressed and values[k] > 0 and k != total_key]
            if not candidates and total_key not in suppressed and values[total_key] > 0:
                candidates = [total_key]
            if candidates:
                suppressed.add(min(candidates, key=lambda k: (values[k], k)))
                changed = True

    def show(k) -> str:
        if k in primary:
            return SMALL
        if k in suppressed:
            return SECONDARY
        return str(values[k])

    out = {"cells": [[show((i, j)) for j in range(ncols)] for i in range(nrows)]}
    if row_totals:
        out["row_totals"] = [show((i, C)) for i in range(nrows)]
    if col_totals:
        out["col_totals"] = [show((R, j)) for j in range(ncols)]
    if row_totals and col_totals:
        out["total"] = show((R, C))
    return out


def suppress_list(counts: list[int], *, with_total: bool = True) -> tuple[list[str], str | None]:
    """A single column of counts with (optionally) its total, suppressed as a table."""
    if not counts:
        return [], ("0" if with_total else None)
    result = suppress_grid([[n] for n in counts], row_totals=False, col_totals=with_total)
    return [r[0] for r in result["cells"]], (result["col_totals"][0] if with_total else None)


def safe_count(n: int) -> str:
    return SMALL if is_small(n) else str(n)


def safe_rate(numerator: int, denominator: int) -> str:
    """A percentage, only when neither count it comes from would be suppressed."""
    if not denominator or is_small(numerator) or is_small(denominator):
        return "" if not denominator else SECONDARY
    return f"{100 * numerator / denominator:.0f}%"


def rate(numerator: int, denominator: int) -> str:
    return f"{100 * numerator / denominator:.0f}%" if denominator else "–"


# --------------------------------------------------------------------------- report tables

@dataclass
class Report:
    """One report: a title, its table (exact figures) and how it leaves the service (suppressed)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list]                 # first cell a label, then figures
    count_columns: tuple[int, ...] = ()   # indexes (into the row) of counts
    total: bool = False              # add a total row to the counts (additive reports only)
    row_totals: bool = False         # add a total column across the count columns
    chart: str | None = None         # "bar" | "column"
    description: str = ""
    notes: list[str] = field(default_factory=list)
    # Rate columns: index -> (numerator column, denominator), the denominator being a column index,
    # "first" (the first row's numerator column) or "row_total" (the row's total of counts).
    rates: dict = field(default_factory=dict)
    # Columns shown only when the count column given is shown (medians, hours).
    depends_on: dict = field(default_factory=dict)
    # Columns withheld entirely when any count of the report is suppressed (rates whose
    # denominator is a sum of other rows, which would give the hidden count away).
    guard_columns: tuple[int, ...] = ()

    def chart_items(self) -> list[tuple[str, float]]:
        col = self.count_columns[0] if self.count_columns else 1
        return [(str(r[0]), float(r[col] or 0)) for r in self.rows]

    def row_total(self, row) -> int:
        return sum(int(row[c] or 0) for c in self.count_columns)

    def totals_row(self) -> list | None:
        if not self.total:
            return None
        row = ["Total"] + [""] * (len(self.columns) - 1)
        for c in self.count_columns:
            row[c] = sum(int(r[c]) for r in self.rows)
        return row

    def exported(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows for a CSV, with small counts suppressed and totals protected."""
        header = list(self.columns) + (["Total"] if self.row_totals else [])
        cols = list(self.count_columns)
        grid = [[int(r[c] or 0) for c in cols] for r in self.rows]
        shown = suppress_grid(grid, row_totals=self.row_totals, col_totals=self.total) if grid else {"cells": []}
        out = []
        for i, r in enumerate(self.rows):
            row = [str(x) if x is not None else "" for x in r]
            for k, c in enumerate(cols):
                row[c] = shown["cells"][i][k]
            for c, (num, den) in self.rates.items():
                if den == "first":
                    d_shown, d_value = shown["cells"][0][cols.index(num)], self.rows[0][num]
                elif den == "row_total":
                    d_shown, d_value = shown["row_totals"][i], sum(grid[i])
                else:
                    d_shown, d_value = row[den], r[den]
                row[c] = _rate_shown(row[num], d_shown, r[num], d_value)
            for c, dep in self.depends_on.items():
                if row[dep] in (SMALL, SECONDARY):
                    row[c] = SECONDARY
            if self.row_totals:
                row.append(shown["row_totals"][i])
            out.append(row)
        if self.guard_columns and any(v in (SMALL, SECONDARY) for cells in shown["cells"] for v in cells):
            for row in out:
                for c in self.guard_columns:
                    row[c] = SECONDARY
        if self.total and grid:
            total = ["Total"] + [""] * (len(self.columns) - 1)
            for k, c in enumerate(cols):
                total[c] = shown["col_totals"][k]
            if self.row_totals:
                total.append(shown["total"])
            out.append(total)
        return header, out


def _rate_shown(num_shown: str, den_shown: str, num, den) -> str:
    if num_shown in (SMALL, SECONDARY) or den_shown in (SMALL, SECONDARY):
        return SECONDARY
    return rate(int(num or 0), int(den or 0))


def _median_text(value) -> str | None:
    return None if value is None else f"{value:.1f}"


REPORT_NAMES = [
    "referrals-by-month", "referrals-by-source", "referrals-by-category", "cases-by-level", "conversion",
    "time-to-contact", "consent", "agreements", "satisfaction", "victims-code", "facilitator-activity",
    "training-compliance",
]


def build_report(name: str, period: Period) -> Report:
    """One report by its name (the CSV download's name). Unknown names raise KeyError."""
    builder = _BUILDERS[name]
    return builder(period)


def build_all(period: Period) -> list[Report]:
    return [build_report(n, period) for n in REPORT_NAMES]


def _referrals_by_month(p: Period) -> Report:
    rows = [[_month_label(m), n] for m, n in queries.referrals_by_month(p.start, p.end)]
    return Report("referrals-by-month", "Referrals by month", ["Month", "Referrals"], rows, (1,), total=True,
                  chart="column", description="Referrals received each month of the period.")


def _month_label(m: str) -> str:
    y, mm = m.split("-")
    return date(int(y), int(mm), 1).strftime("%b %Y")


def _referrals_by_source(p: Period) -> Report:
    rows = [[s, n] for s, n in queries.referrals_by_source(p.start, p.end)]
    return Report("referrals-by-source", "Referrals by source", ["Referred by", "Referrals"], rows, (1,),
                  total=True, chart="bar", description="Who referred: the referring organisation, or members of the public.")


def _referrals_by_category(p: Period) -> Report:
    rows = [[c, n] for c, n in queries.referrals_by_category(p.start, p.end)]
    return Report("referrals-by-category", "Referrals by category", ["Category", "Referrals"], rows, (1,),
                  total=True, chart="bar", description="What the referrals were about.")


def _cases_by_level(p: Period) -> Report:
    rows = [[lvl, n] for lvl, n in queries.cases_by_level(p.start, p.end)]
    return Report("cases-by-level", "Cases by level", ["Level", "Cases"], rows, (1,), total=True, chart="bar",
                  description="Cases started in the period by restorative justice level (Level 1 records included).")


def _conversion(p: Period) -> Report:
    c = queries.conversion(p.start, p.end)
    rows = [["Referrals received", c["referred"], rate(c["referred"], c["referred"])],
            ["Accepted", c["accepted"], rate(c["accepted"], c["referred"])],
            ["Reached a conference (restorative meeting held)", c["conference"], rate(c["conference"], c["referred"])]]
    return Report("conversion", "Conversion from referral to conference", ["Stage", "Cases", "Of referrals received"],
                  rows, (1,), chart="bar", rates={2: (1, "first")},
                  description="Of the referrals received in the period, how many were accepted and reached a conference.")


def _time_to_contact(p: Period) -> Report:
    d = queries.durations(p.start, p.end)
    rows = [["Referral to first contact", d["first_contact"]["n"], _median_text(d["first_contact"]["median"])],
            ["Referral to conference", d["conference"]["n"], _median_text(d["conference"]["median"])]]
    report = Report("time-to-contact", "Time from referral to first contact and to conference",
                    ["Measure", "Cases", "Median days"], rows, (1,), depends_on={2: 1},
                    description="Median calendar days, for referrals received in the period.")
    for r in report.rows:
        if r[2] is None:
            r[2] = "–"
    return report


def _consent(p: Period) -> Report:
    c = queries.consent_rates(p.start, p.end)
    if not c:
        return Report("consent", "Consent and withdrawal", ["Answer", "People", "Rate"], [], (1,))
    asked = c["given"] + c["declined"]
    rows = [["Gave consent", c["given"], rate(c["given"], asked)],
            ["Declined", c["declined"], rate(c["declined"], asked)],
            ["Withdrew consent", c["withdrawn"], rate(c["withdrawn"], c["given"])]]
    report = Report("consent", "Consent and withdrawal", ["Answer", "People", "Rate"], rows, (1,), chart="bar",
                    description="People whose consent was recorded in the period. Consent and decline rates are of "
                                "everyone who answered; the withdrawal rate is of those who gave consent.",
                    depends_on={2: 1}, guard_columns=(2,))
    return report


def _agreements(p: Period) -> Report:
    a = queries.agreements(p.start, p.end)
    if not a:
        return Report("agreements", "Agreements reached and kept", ["Measure", "Number"], [], (1,))
    ended = a["completed"] + a["not_kept"]
    rows = [["Meetings that went ahead", a["meetings_went_ahead"], ""],
            ["Meetings where an agreement was reached", a["agreement_reached"],
             rate(a["agreement_reached"], a["meetings_went_ahead"])],
            ["Agreements completed (kept)", a["completed"], rate(a["completed"], ended)],
            ["Agreements not kept", a["not_kept"], rate(a["not_kept"], ended)],
            ["Agreements still being followed up", a["active"], ""]]
    return Report("agreements", "Agreements reached and kept", ["Measure", "Number", "Rate"], rows, (1,), chart="bar",
                  description="Outcomes recorded and agreements made in the period. The kept rate is of agreements "
                              "that have ended.", depends_on={2: 1}, guard_columns=(2,))


SCORES = {1: "1 Very dissatisfied", 2: "2 Dissatisfied", 3: "3 Neither", 4: "4 Satisfied", 5: "5 Very satisfied"}


def _satisfaction(p: Period) -> Report:
    s = queries.satisfaction(p.start, p.end)
    if not s:
        return Report("satisfaction", "Participant satisfaction", ["Answer", "Responses"], [], (1,))
    rows = [[SCORES[k], s["satisfaction"].get(k, 0)] for k in range(1, 6)]
    report = Report("satisfaction", "Participant satisfaction", ["Answer", "Responses"], rows, (1,), total=True,
                    chart="bar", description="Answers to \"How satisfied were you with the restorative process?\" "
                                             "given in the period.")
    responses = s["responses"]
    report.notes.append(f"{rate(s['satisfied'], responses)} satisfied or very satisfied, of {responses} "
                        f"responses to {s['requests_sent']} surveys sent.")
    return report


def _victims_code(p: Period) -> Report:
    v = queries.victims_code(p.start, p.end)
    names = {"first_contact": "First contact (2 working days)",
             "rj_information": "Information about restorative justice (5 working days, 1 with enhanced rights)"}
    rows = [[names[k], v[k]["on_time"], v[k]["late"], v[k]["overdue"], v[k]["due"],
             rate(v[k]["on_time"], v[k]["total"])] for k in names if k in v]
    return Report("victims-code", "Victims' Code compliance",
                  ["Entitlement", "Met on time", "Met late", "Overdue", "Not yet due", "On time"], rows, (1, 2, 3, 4),
                  row_totals=True, total=False, rates={5: (1, "row_total")},
                  description="For people a Victims' Code applies to, in cases referred in the period. "
                              "Weekends and bank holidays do not count.")


def _facilitator_activity(p: Period) -> Report:
    rows = [[f["name"], f["meetings"], f"{f['hours']:.1f}"] for f in queries.facilitator_activity(p.start, p.end)]
    return Report("facilitator-activity", "Facilitator hours and meetings", ["Facilitator", "Meetings held", "Hours"],
                  rows, (1,), total=True, chart="bar", depends_on={2: 1},
                  description="Meetings held in the period that each facilitator attended, and their length.")


def _training(p: Period) -> Report:
    rows = [[r["item"], r["ok"], r["expiring"], r["not_ok"]] for r in queries.training_compliance(min(p.end, local_today()))]
    return Report("training-compliance", "Training compliance",
                  ["Requirement", "In date", "Expiring within 60 days", "Missing, expired or below target"],
                  rows, (1, 2, 3), row_totals=True,
                  description="Active facilitators on the last day of the period (or today).")


_BUILDERS = {
    "referrals-by-month": _referrals_by_month, "referrals-by-source": _referrals_by_source,
    "referrals-by-category": _referrals_by_category, "cases-by-level": _cases_by_level, "conversion": _conversion,
    "time-to-contact": _time_to_contact, "consent": _consent, "agreements": _agreements,
    "satisfaction": _satisfaction, "victims-code": _victims_code, "facilitator-activity": _facilitator_activity,
    "training-compliance": _training,
}

# --------------------------------------------------------------------------- quarterly return

LEVELS = [(1, "Level 1"), (2, "Level 2"), (3, "Level 3"), (None, "Level not decided")]
INITIATORS = [("victim", "Victim-initiated"), ("agency", "Agency-initiated")]


@dataclass
class QuarterlyReturn:
    year: int
    quarter: int
    period: Period
    received: dict          # suppressed grid: levels x initiators
    concluded: dict         # suppressed grid: levels x outcomes
    satisfaction: list      # [(label, shown)]
    level_labels: list = field(default_factory=lambda: [label for _, label in LEVELS])
    initiator_labels: list = field(default_factory=lambda: [label for _, label in INITIATORS])
    outcome_labels: list = field(default_factory=lambda: [label for _, label in queries.OUTCOME_COLUMNS])

    @property
    def label(self) -> str:
        return f"Quarter {self.quarter} of {self.year} to {str(self.year + 1)[-2:]} ({self.period.label})"

    def csv_rows(self) -> list[list[str]]:
        rows = [["Quarterly return", self.label], [],
                ["Cases started, by level and who initiated them"],
                ["Level"] + self.initiator_labels + ["Total"]]
        for label, cells, total in zip(self.level_labels, self.received["cells"], self.received["row_totals"]):
            rows.append([label] + cells + [total])
        rows.append(["Total"] + self.received["col_totals"] + [self.received["total"]])
        rows += [[], ["Cases concluded, by level and outcome"], ["Level"] + self.outcome_labels + ["Total"]]
        for label, cells, total in zip(self.level_labels, self.concluded["cells"], self.concluded["row_totals"]):
            rows.append([label] + cells + [total])
        rows.append(["Total"] + self.concluded["col_totals"] + [self.concluded["total"]])
        rows += [[], ["Participant satisfaction"]] + [[label, shown] for label, shown in self.satisfaction]
        rows += [[], ["<5: between 1 and 4. [c]: withheld so that a small number cannot be worked out from a total."]]
        return rows


def quarterly_return(year: int, quarter: int) -> QuarterlyReturn:
    """The return commissioners ask for, with disclosure control applied throughout."""
    period = quarter_period(year, quarter)
    received = queries.received_by_level_and_initiator(period.start, period.end)
    concluded = queries.concluded_by_level_and_outcome(period.start, period.end)
    rgrid = [[received.get(lvl, {}).get(k, 0) for k, _ in INITIATORS] for lvl, _ in LEVELS]
    cgrid = [[concluded.get(lvl, {}).get(k, 0) for k, _ in queries.OUTCOME_COLUMNS] for lvl, _ in LEVELS]
    sat = queries.satisfaction(period.start, period.end)
    responses = sat.get("responses", 0) if sat else 0
    satisfied = sat.get("satisfied", 0) if sat else 0
    unsatisfied = responses - satisfied
    # Satisfied + not satisfied = responses: a line with a total, suppressed like a table.
    (sat_shown, unsat_shown), resp_shown = suppress_list([satisfied, unsatisfied])
    safe = sat.get("felt_safe", {}).get("yes", 0) if sat else 0
    recommend = sat.get("would_recommend", {}).get("yes", 0) if sat else 0
    satisfaction = [
        ("Survey responses", resp_shown),
        ("Satisfied or very satisfied", sat_shown),
        ("Not satisfied (neutral or dissatisfied)", unsat_shown),
        ("Satisfied (percentage of responses)", _rate_shown(sat_shown, resp_shown, satisfied, responses)),
        ("Felt safe", safe_count(safe)),
        ("Would recommend restorative justice", safe_count(recommend)),
    ]
    return QuarterlyReturn(year, quarter, period, suppress_grid(rgrid), suppress_grid(cgrid), satisfaction)


# --------------------------------------------------------------------------- referrer status

PUBLIC_STATUS = {
    CaseStatus.REFERRED: "Received",
    CaseStatus.IN_TRIAGE: "Being assessed",
    CaseStatus.DECLINED: "Not taken forward",
    CaseStatus.CLOSED: "Closed",
    CaseStatus.WITHDRAWN: "Closed",
}


def public_status(case: Case) -> str:
    """What a referrer may know: received, being assessed, accepted, not taken forward or closed."""
    return PUBLIC_STATUS.get(case.status, "Accepted")


def normalise_reference(reference: str | None) -> str:
    return "".join((reference or "").split()).upper()


def request_status_link(reference: str | None, email: str | None, *, now: datetime | None = None) -> bool:
    """If the reference and the referrer's email match a referral, email the referrer a link to its
    status. Returns whether it matched, for tests and audit only: the page must answer the same
    either way, so the caller never shows it."""
    from rj.core.tokens import new_token

    now = now or now_utc()
    ref = normalise_reference(reference)
    email = (email or "").strip().lower()
    if not ref or not email or len(ref) > 16 or len(email) > 254:
        return False
    try:
        from rj.referrals.models import Referral
    except ImportError:
        return False
    case = db.session.scalar(
        select(Case).join(Referral, Referral.case_id == Case.id)
        .where(Case.reference == ref, func.lower(Referral.referrer_email) == email))
    if case is None:
        return False
    token, token_hash = new_token()
    link = ReferralStatusLink(case_id=case.id, token_hash=token_hash, created_at=now,
                              expires_at=now + timedelta(hours=STATUS_LINK_HOURS))
    db.session.add(link)
    db.session.flush()
    _send_status_email(case, email, token, now=now)
    from rj.audit.services import record

    record("referral_status.link_sent", link, actor=None, case_id=case.id, now=now)
    return True


def _status_url(token: str) -> str:
    try:
        from rj.notifications.services import external_url
    except ImportError:  # pragma: no cover - notifications is part of the service
        from flask import url_for

        return url_for("reports.referral_status_show", token=token, _external=True)
    return external_url("reports.referral_status_show", token=token)


def _send_status_email(case: Case, email: str, token: str, *, now: datetime) -> None:
    try:
        from rj.notifications.services import queue_email
    except ImportError:  # pragma: no cover
        return
    from flask import current_app

    service = current_app.config["SERVICE_NAME"]
    url = _status_url(token)
    text = (f"You asked to check the progress of a referral you made to {service}.\n\n"
            f"Use this link to see its status. It works for {STATUS_LINK_HOURS} hours:\n{url}\n\n"
            "If you did not ask for this, you can ignore this email.\n")
    queue_email(recipient=email, subject="The status of your referral", text=text, kind="referral_status",
                case_id=case.id, now=now)


def find_status_link(token: str | None, *, now: datetime | None = None):
    """The link for a token if it exists and has not expired, else None."""
    from rj.core.tokens import hash_token

    if not token or len(token) > 100:
        return None
    now = now or now_utc()
    link = db.session.scalar(select(ReferralStatusLink).where(ReferralStatusLink.token_hash == hash_token(token)))
    if link is None or link.expires_at <= now:
        return None
    return link


def status_for_token(token: str | None, *, now: datetime | None = None) -> str | None:
    link = find_status_link(token, now=now)
    if link is None:
        return None
    case = db.session.get(Case, link.case_id)
    return public_status(case) if case is not None else None


def purge_expired_status_links(*, now: datetime | None = None) -> int:
    """Delete links that can no longer be used (a sweeper a job may call)."""
    from sqlalchemy import delete

    result = db.session.execute(delete(ReferralStatusLink).where(ReferralStatusLink.expires_at <= (now or now_utc())))
    return result.rowcount or 0


# --------------------------------------------------------------------------- dashboards

def coordinator_dashboard(*, now: datetime | None = None) -> dict:
    """Everything a coordinator's day starts with. A fixed number of queries: counts and short,
    LIMITed lists. A section whose domain is not there yet is None (the page leaves it out)."""
    from rj.core.time import to_local, working_days_between

    now = now or now_utc()
    today = local_today(now)
    triage_total, triage_cases = queries.triage_waiting()
    clocks = queries.clocks_due(today)
    consent_total, consent_cases = queries.waiting_for_consent()
    return {
        "today": today,
        "triage": {"total": triage_total,
                   "rows": [(c, working_days_between(to_local(c.referred_at).date(), today)) for c in triage_cases]},
        "clocks": {"overdue": sum(1 for c in clocks if c.status == "overdue"),
                   "due": sum(1 for c in clocks if c.status == "due"), "rows": clocks[: queries.DASHBOARD_LIMIT]},
        "consent": {"total": consent_total, "rows": consent_cases},
        "meetings": queries.meetings_this_week(today, now=now) or None,
        "offers": queries.pending_offers(),
        "overdue_items": queries.overdue_agreement_items(today),
        "expiring": queries.expiring_checks(now=now),
        "failed_messages": queries.failed_messages(),
    }


def facilitator_dashboard(user, *, now: datetime | None = None) -> dict:
    """A facilitator's own next meetings, offers waiting for them and what is due in their training."""
    now = now or now_utc()
    facilitator = None
    try:
        from rj.facilitators.services import facilitator_for_user
    except ImportError:
        facilitator_for_user = None
    if facilitator_for_user is not None:
        facilitator = facilitator_for_user(user)
    if facilitator is None:
        return {"facilitator": None, "meetings": [], "offers": None, "training": []}
    return {
        "facilitator": facilitator,
        "meetings": queries.next_meetings_for(facilitator.id, now=now),
        "offers": queries.pending_offers(facilitator_id=facilitator.id),
        "training": queries.training_due_for(facilitator, local_today(now)),
    }


def record_download(name: str, period_label: str, *, actor, now: datetime | None = None) -> None:
    """Figures leaving the service are audited: which report, for which period, by whom."""
    from rj.audit.services import record

    record("report.downloaded", actor=actor, object_type="report", now=now,
           detail={"report": name, "period": period_label})
