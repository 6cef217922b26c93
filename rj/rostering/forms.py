"""Rostering forms: roster filters, team allocation and replacement, offers, auto-roster."""
from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp

from rj.core.forms import VersionedForm, strip_filter
from rj.rostering.models import REPLACEMENT_REASONS, TeamRole


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class RosterFilterForm(FlaskForm):
    """GET filters for the coordinators' roster (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    view = RadioField("Show", widget=GovRadioInput(), choices=[("week", "Week"), ("month", "Month")], default="week",
                      validators=[Optional(), AnyOf(["week", "month"], message="Choose week or month")])
    start = StringField("Starting", filters=[strip_filter],
                        validators=[Optional(), Length(max=10),
                                    Regexp(r"^\d{4}-\d{2}-\d{2}$", message="Enter a date like 2027-03-01")])
    venue = SelectField("Venue", widget=GovSelect(), coerce=_int_or_none, validate_choice=False)
    facilitator = SelectField("Facilitator", widget=GovSelect(), coerce=_int_or_none, validate_choice=False)
    level = SelectField("Case level", widget=GovSelect(), coerce=_int_or_none,
                        choices=[("", "Any level"), ("2", "Level 2"), ("3", "Level 3")], validate_choice=False)
    submit = SubmitField("Filter", widget=GovSubmitInput())


class AllocateTeamForm(FlaskForm):
    lead_facilitator_id = SelectField("Lead facilitator", widget=GovSelect(), coerce=_int_or_none,
                                      validators=[InputRequired("Choose the lead facilitator")])
    co_facilitator_id = SelectField("Co-facilitator", widget=GovSelect(), coerce=_int_or_none,
                                    validators=[InputRequired("Choose the co-facilitator")])
    submit = SubmitField("Allocate team", widget=GovSubmitInput())


class ReplaceMemberForm(VersionedForm):
    role = RadioField("Who is being replaced", widget=GovRadioInput(),
                      choices=[(r.value, r.label) for r in TeamRole],
                      validators=[InputRequired("Choose whether the lead or the co-facilitator is being replaced")])
    facilitator_id = SelectField("New facilitator", widget=GovSelect(), coerce=_int_or_none,
                                 validators=[InputRequired("Choose who takes their place")])
    reason = SelectField("Reason", widget=GovSelect(),
                         choices=[("", "Choose a reason")] + list(REPLACEMENT_REASONS.items()),
                         validators=[InputRequired("Choose why the facilitator is being replaced")])
    submit = SubmitField("Replace facilitator", widget=GovSubmitInput())


class OfferForm(FlaskForm):
    facilitator_id = HiddenField(validators=[InputRequired(), Regexp(r"^\d+$")])
    role = HiddenField(validators=[InputRequired(), AnyOf([r.value for r in TeamRole])])
    submit = SubmitField("Offer", widget=GovSubmitInput())


class AnswerOfferForm(VersionedForm):
    submit = SubmitField("Send", widget=GovSubmitInput())


class AutoRosterForm(FlaskForm):
    month = SelectField("Month to roster", widget=GovSelect(), validate_choice=True,
                        validators=[InputRequired("Choose the month to roster")])
    submit = SubmitField("Propose a roster", widget=GovSubmitInput())


class DecideRunForm(VersionedForm):
    submit = SubmitField("Confirm and send offers", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())
