from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SubmitField
from wtforms.validators import InputRequired

from rj.notifications.models import Delivery


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF-protected, no fields."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class DeliveryForm(FlaskForm):
    delivery = RadioField(
        "How do you want meetings to reach your calendar?", widget=GovRadioInput(),
        choices=[(Delivery.INVITES.value, "Emailed invites (one email per meeting, with updates and cancellations)"),
                 (Delivery.FEED.value, "My calendar feed (no invite emails)")],
        validators=[InputRequired(message="Choose emailed invites or your calendar feed")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())
