"""The report period chooser and the referrer's status request."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import EmailField, Field, SelectField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from rj.core.forms import NoControlCharacters, strip_filter


class DateInputField(Field):
    """A GOV.UK date input (day, month, year boxes) with the Design System's error messages."""

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, *, what: str = "The date", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what = what
        self._problem: str | None = None

    def _value(self):
        return ""

    def process_formdata(self, valuelist):
        parts = [(v or "").strip() for v in list(valuelist or [])[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        self._problem = None
        day, month, year = parts
        if not any(parts):
            self._problem = f"Enter {self.what.lower()}"
            return
        missing = [name for name, v in (("day", day), ("month", month), ("year", year)) if not v]
        if missing:
            self._problem = f"{self.what} must include a {' and a '.join(missing)}"
            return
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            self._problem = f"{self.what} must be a real date, written in numbers"
            return
        if len(year) != 4:
            self._problem = "Year must include 4 numbers"
            return
        try:
            self.data = date(int(year), int(month), int(day))
        except ValueError:
            self._problem = f"{self.what} must be a real date"

    def pre_validate(self, form):
        if self._problem:
            raise ValidationError(self._problem)


class PeriodForm(FlaskForm):
    """Read from the query string (a GET form: the period is in the URL so a report can be bookmarked)."""

    class Meta:
        csrf = False

    start = DateInputField("Start date", what="The start date", description="For example, 1 4 2025")
    end = DateInputField("End date", what="The end date", description="For example, 31 3 2026")
    submit = SubmitField("Show reports", widget=GovSubmitInput())


class QuarterForm(FlaskForm):
    class Meta:
        csrf = False

    year = SelectField("Financial year", widget=GovSelect(), coerce=int)
    quarter = SelectField("Quarter", widget=GovSelect(), coerce=int, choices=[
        (1, "Quarter 1 (April to June)"), (2, "Quarter 2 (July to September)"),
        (3, "Quarter 3 (October to December)"), (4, "Quarter 4 (January to March)")])
    submit = SubmitField("Show the return", widget=GovSubmitInput())


class StatusRequestForm(FlaskForm):
    reference = StringField(
        "Referral reference", widget=GovTextInput(), filters=[strip_filter],
        description="The reference we gave you when you made the referral, for example RJ-2026-7KQ4M",
        validators=[InputRequired("Enter your referral reference"),
                    Length(max=20, message="The reference must be 20 characters or fewer"),
                    NoControlCharacters("The reference")])
    email = EmailField(
        "Email address", widget=GovTextInput(), filters=[strip_filter],
        description="The email address you gave when you made the referral",
        validators=[InputRequired("Enter your email address"),
                    Length(max=254, message="The email address must be 254 characters or fewer"),
                    Email("Enter an email address in the correct format, like name@example.com",
                          check_deliverability=False)])
    submit = SubmitField("Send me a link", widget=GovSubmitInput())
