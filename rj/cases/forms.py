"""Forms for the case file: filtering the list, changing status, closing with a reason."""
from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from rj.cases.models import CaseStatus, CloseReason, Scheme
from rj.core.forms import VersionedForm, strip_filter


class CaseFilterForm(FlaskForm):
    """GET filters on the case list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Reference or name", widget=GovTextInput(), filters=[strip_filter],
                    validators=[Optional(), Length(max=80, message="Search must be 80 characters or fewer")])
    status = SelectField("Status", widget=GovSelect(), validators=[Optional()],
                         choices=[("", "Any status")] + [(s.value, s.label) for s in CaseStatus])
    scheme = SelectField("Scheme", widget=GovSelect(), validators=[Optional()],
                         choices=[("", "Any scheme")] + [(s.value, s.label) for s in Scheme])
    level = SelectField("Level", widget=GovSelect(), validators=[Optional()],
                        choices=[("", "Any level"), ("1", "Level 1"), ("2", "Level 2"), ("3", "Level 3")])
    submit = SubmitField("Filter", widget=GovSubmitInput())


class StatusForm(VersionedForm):
    status = RadioField("Move the case to", widget=GovRadioInput(),
                        validators=[InputRequired("Select the status to move the case to")])
    submit = SubmitField("Change status", widget=GovSubmitInput())


class CloseForm(VersionedForm):
    reason = RadioField("Why is the case closing?", widget=GovRadioInput(),
                        choices=[(r.value, r.label) for r in CloseReason],
                        validators=[InputRequired("Select why the case is closing")])
    submit = SubmitField("Close case", widget=GovSubmitInput())
