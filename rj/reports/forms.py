"""The report period chooser and the referrer's status request."""
from __future__ import annotations


from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length

from rj.core.forms import GovDateField, NoControlCharacters, strip_filter


class PeriodForm(FlaskForm):
    """Read from the query string (a GET form: the period is in the URL so a report can be bookmarked)."""

    class Meta:
        csrf = False

    start = GovDateField("Start date", what="The start date", required="Enter the start date",
                         example="1 4 2025", description="For example, 1 4 2025")
    end = GovDateField("End date", what="The end date", required="Enter the end date",
                       example="31 3 2026", description="For example, 31 3 2026")
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
