"""Forms for outcomes, agreements, follow-up, feedback surveys and Level 1 records. Rules are
checked in services; forms only say what is missing or badly typed."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput, GovCheckboxInput, GovDateInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from rj.agreements.models import FeedbackStage, NotHeldReason
from rj.core.forms import NoControlCharacters, VersionedForm, multiline_filter, strip_filter

YES_NO = [("yes", "Yes"), ("no", "No")]
YES_PARTLY_NO = [("yes", "Yes"), ("partly", "Partly"), ("no", "No")]


class GovDateField(DateField):
    """A GOV.UK date input (day, month, year) whose error says how to fix it. Blank is None."""

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not any(v.strip() for v in valuelist):
            self.data = None
            return
        try:
            day, month, year = (int(v) for v in valuelist)
            self.data = date(year, month, day)
        except (TypeError, ValueError):
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2026") from None
        if year < 1900:
            self.data = None
            raise ValueError(f"{self.label.text} must include a 4-digit year, like 2026")


def _text(label, max_len, *, required: str | None = None, rows=False):
    validators = [InputRequired(required)] if required else [Optional()]
    validators += [Length(max=max_len, message=f"{label} must be {max_len} characters or fewer"),
                   NoControlCharacters(label)]
    if rows:
        return TextAreaField(label, widget=GovTextArea(), filters=[multiline_filter], validators=validators)
    return StringField(label, widget=GovTextInput(), filters=[strip_filter], validators=validators)


class OutcomeForm(VersionedForm):
    went_ahead = RadioField("Did the meeting go ahead?", widget=GovRadioInput(), choices=YES_NO, validate_choice=False,
                            validators=[InputRequired("Select yes if the meeting went ahead")])
    not_held_reason = RadioField("Why did it not go ahead?", widget=GovRadioInput(), validate_choice=False,
                                 choices=[(r.value, r.label) for r in NotHeldReason], validators=[Optional()])
    attended_parties = SelectMultipleField("Which parties attended?", widget=GovCheckboxesInput(), choices=[],
                                           validate_choice=False, description="Select all that apply")
    attended_facilitators = SelectMultipleField("Which facilitators attended?", widget=GovCheckboxesInput(),
                                                choices=[], validate_choice=False)
    agreement_reached = RadioField("Was an agreement reached?", widget=GovRadioInput(), choices=YES_NO,
                                   validate_choice=False, validators=[Optional()])
    submit = SubmitField("Save outcome", widget=GovSubmitInput())


class ItemForm(FlaskForm):
    kind = RadioField("What kind of action is it?", widget=GovRadioInput(), choices=[], validate_choice=False,
                      validators=[InputRequired("Select what kind of action this is")])
    description = _text("What will be done", 1000, required="Describe what will be done", rows=True)
    party_id = RadioField("Who will do it?", widget=GovRadioInput(), choices=[], validate_choice=False,
                          validators=[Optional()])
    due_on = GovDateField("By when?", description="For example, 27 3 2026. Not before the meeting.",
                          validators=[Optional()])
    check_method = _text("How will it be checked?", 500, required="Say how the service will check it was done",
                         rows=True)
    submit = SubmitField("Add this action", widget=GovSubmitInput())


class ItemDoneForm(VersionedForm):
    evidence = _text("How do you know it was done?", 1000, required="Say how you know it was done (the evidence)",
                     rows=True)
    submit = SubmitField("Record as done", widget=GovSubmitInput())


class ItemNotKeptForm(VersionedForm):
    reason = _text("Why was it not kept?", 1000, required="Say why it was not kept", rows=True)
    submit = SubmitField("Record as not kept", widget=GovSubmitInput())


class AgreementNotKeptForm(VersionedForm):
    reason = _text("Why was the agreement not kept?", 1000, required="Say why the agreement was not kept", rows=True)
    submit = SubmitField("Record the agreement as not kept", widget=GovSubmitInput())


class ConfirmForm(VersionedForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class FollowUpForm(FlaskForm):
    due_on = GovDateField("Date of the follow-up contact", description="Usually about three months after the meeting",
                          validators=[Optional()])
    method = RadioField("How will the follow-up be made?", widget=GovRadioInput(), choices=[], validate_choice=False,
                        validators=[InputRequired("Select how the follow-up will be made")])
    submit = SubmitField("Book follow-up", widget=GovSubmitInput())


class MessageForm(FlaskForm):
    kind = RadioField("What was passed on?", widget=GovRadioInput(), choices=[], validate_choice=False,
                      validators=[InputRequired("Select what was passed on")])
    sent_on = GovDateField("Date it was passed on", validators=[Optional()])
    from_party_id = SelectField("From", widget=GovSelect(), choices=[], validate_choice=False, validators=[Optional()])
    to_party_id = SelectField("To", widget=GovSelect(), choices=[], validate_choice=False, validators=[Optional()])
    delivered = RadioField("Has it been delivered?", widget=GovRadioInput(), choices=YES_NO, validate_choice=False,
                           validators=[InputRequired("Select yes if it has been delivered")])
    delivered_on = GovDateField("Date it was delivered", validators=[Optional()])
    submit = SubmitField("Save", widget=GovSubmitInput())


class DeliveredForm(VersionedForm):
    delivered_on = GovDateField("Date it was delivered", validators=[Optional()])
    submit = SubmitField("Record as delivered", widget=GovSubmitInput())


class FeedbackRequestForm(FlaskForm):
    stage = RadioField("When is this survey for?", widget=GovRadioInput(), validate_choice=False,
                       choices=[(s.value, s.label) for s in FeedbackStage],
                       validators=[InputRequired("Select when the survey is being sent")])
    party_ids = SelectMultipleField("Who should get a survey link?", widget=GovCheckboxesInput(), choices=[],
                                    validate_choice=False, description="Each party gets their own link")
    submit = SubmitField("Create survey links", widget=GovSubmitInput())


class FeedbackForm(FlaskForm):
    satisfaction = RadioField("How satisfied are you with how it went?", widget=GovRadioInput(),
                              validate_choice=False,
                              choices=[("5", "5 – Very satisfied"), ("4", "4 – Satisfied"), ("3", "3 – Neither"),
                                       ("2", "2 – Dissatisfied"), ("1", "1 – Very dissatisfied")],
                              validators=[InputRequired("Select how satisfied you are, from 1 to 5")])
    felt_safe = RadioField("Did you feel safe?", widget=GovRadioInput(), choices=YES_PARTLY_NO, validate_choice=False,
                           validators=[InputRequired("Select yes, partly or no")])
    felt_listened_to = RadioField("Did you feel listened to?", widget=GovRadioInput(), choices=YES_PARTLY_NO,
                                  validate_choice=False, validators=[InputRequired("Select yes, partly or no")])
    would_recommend = RadioField("Would you recommend restorative justice to someone in a similar situation?",
                                 widget=GovRadioInput(), choices=YES_PARTLY_NO, validate_choice=False,
                                 validators=[InputRequired("Select yes, partly or no")])
    comments = _text("Anything else you want to tell us (optional)", 2000, rows=True)
    submit = SubmitField("Send your answers", widget=GovSubmitInput())


SIDE_CHOICES = [("", "Select"), ("harmed", "Person harmed"), ("responsible", "Person responsible"), ("other", "Other")]


class Level1Form(FlaskForm):
    occurred_on = GovDateField("Date it happened", description="For example, 27 3 2026", validators=[Optional()])
    area = _text("Where it happened (area)", 80, required="Enter where it happened (the area)")
    party1_name = _text("Party 1: first name or initials", 40)
    party1_side = SelectField("Party 1: side", widget=GovSelect(), choices=SIDE_CHOICES, validate_choice=False)
    party2_name = _text("Party 2: first name or initials", 40)
    party2_side = SelectField("Party 2: side", widget=GovSelect(), choices=SIDE_CHOICES, validate_choice=False)
    party3_name = _text("Party 3: first name or initials (optional)", 40)
    party3_side = SelectField("Party 3: side", widget=GovSelect(), choices=SIDE_CHOICES, validate_choice=False)
    party4_name = _text("Party 4: first name or initials (optional)", 40)
    party4_side = SelectField("Party 4: side", widget=GovSelect(), choices=SIDE_CHOICES, validate_choice=False)
    agreed = _text("What was agreed", 1000, required="Enter what was agreed", rows=True)
    harmed_consulted = BooleanField("The person harmed was consulted and agreed to the resolution",
                                    widget=GovCheckboxInput())
    responsible_admitted = BooleanField("The person responsible admitted it and agreed to the resolution",
                                        widget=GovCheckboxInput())
    submit = SubmitField("Record Level 1 resolution", widget=GovSubmitInput())

    def party_rows(self):
        return [(getattr(self, f"party{i}_name").data, getattr(self, f"party{i}_side").data) for i in range(1, 5)]
