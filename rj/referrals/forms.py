"""The public referral form (one question group per page) and the triage forms."""
from __future__ import annotations


from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount, GovCheckboxesInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea,
    GovTextInput,
)
from wtforms import EmailField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from rj.cases.models import Scheme
from rj.core.forms import (DateRequired, GovDateField, NoControlCharacters, NotInFuture, UKPhone, VersionedForm,
                           multiline_filter, strip_filter)
from rj.referrals.models import NO_RISK_FLAGS, RISK_FLAGS, Awareness, DeclineReason, PersonSide, ReferralCategory
from rj.referrals.services import LIMITS

YES_NO = [("yes", "Yes"), ("no", "No")]


def _length(field: str, label: str) -> Length:
    limit = LIMITS[field]
    return Length(max=limit, message=f"{label} must be {limit} characters or fewer")


# --- the public form ------------------------------------------------------------------------------

class AboutYouForm(FlaskForm):
    referrer_name = StringField("Your full name", widget=GovTextInput(), filters=[strip_filter],
                                validators=[InputRequired("Enter your full name"), _length("referrer_name", "Your name"),
                                            NoControlCharacters("Your name")])
    referrer_type = RadioField("Are you referring as part of your job?", widget=GovRadioInput(),
                               choices=[("professional", "Yes, I work for an organisation (for example police, housing, a school or the council)"),
                                        ("public", "No, I am a member of the public")],
                               validators=[InputRequired("Select whether you are referring as part of your job")])
    referrer_organisation = StringField("Organisation", widget=GovTextInput(), filters=[strip_filter],
                                        description="If you are referring as part of your job",
                                        validators=[Optional(), _length("referrer_organisation", "Organisation"),
                                                    NoControlCharacters("Organisation")])
    referrer_role = StringField("Your role", widget=GovTextInput(), filters=[strip_filter],
                                description="For example, neighbourhood police officer or housing officer",
                                validators=[Optional(), _length("referrer_role", "Your role"), NoControlCharacters("Your role")])
    referrer_email = EmailField("Email address", widget=GovTextInput(), filters=[strip_filter],
                                description="We will send your reference number to this address",
                                validators=[Optional(), _length("referrer_email", "Email address"),
                                            Email("Enter an email address in the correct format, like name@example.com")])
    referrer_phone = StringField("Phone number", widget=GovTextInput(), filters=[strip_filter],
                                 description="For international numbers include the country code",
                                 validators=[Optional(), _length("referrer_phone", "Phone number"),
                                             UKPhone("Enter a phone number, like 01632 960 001 or 07700 900 982")])
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.referrer_type.data == "professional" and not self.referrer_organisation.data \
                and not self.referrer_organisation.errors:
            self.referrer_organisation.errors = ["Enter the organisation you work for"]
            ok = False
        if not self.referrer_email.data and not self.referrer_phone.data \
                and not self.referrer_email.errors and not self.referrer_phone.errors:
            self.referrer_email.errors = ["Enter an email address or a phone number so we can contact you"]
            ok = False
        return ok


class WhatHappenedForm(FlaskForm):
    category = RadioField("What kind of harm or dispute is it?", widget=GovRadioInput(),
                          choices=[(c.value, c.label) for c in ReferralCategory],
                          validators=[InputRequired("Select what kind of harm or dispute it is")])
    # The id is the day box's, so the error summary link lands on the first box (GOV.UK pattern).
    incident_date = GovDateField("When did it happen?", what="The date it happened", id="incident_date-day",
                                 description="If it went on for a while, give the date of the most recent incident. For example, 27 3 2026",
                                 validators=[DateRequired("Enter the date it happened"),
                                             NotInFuture("The date it happened must be today or in the past")])
    location = StringField("Where did it happen?", widget=GovTextInput(), filters=[strip_filter],
                           description="A street, estate or area of Stockport, for example Edgeley or Brinnington",
                           validators=[InputRequired("Enter where it happened"), _length("location", "Where it happened"),
                                       NoControlCharacters("Where it happened")])
    description = TextAreaField("Briefly, what happened?", widget=GovCharacterCount(), filters=[multiline_filter],
                                description="Describe the harm or dispute and how it affects the people involved. Do not include anything you would not want them to read.",
                                validators=[InputRequired("Describe what happened"),
                                            _length("description", "The description"),
                                            NoControlCharacters("The description")])
    crime_reference = StringField("Crime or incident reference (optional)", widget=GovTextInput(), filters=[strip_filter],
                                  description="If the police or another service gave one, for example a crime number",
                                  validators=[Optional(), _length("crime_reference", "The reference"),
                                              NoControlCharacters("The reference")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class PersonForm(FlaskForm):
    name = StringField("Their name", widget=GovTextInput(), filters=[strip_filter],
                       validators=[InputRequired("Enter the person's name"), _length("name", "Their name"),
                                   NoControlCharacters("Their name")])
    side = RadioField("Which side of the harm are they on?", widget=GovRadioInput(),
                      choices=[(s.value, s.label) for s in PersonSide],
                      validators=[InputRequired("Select which side of the harm they are on")])
    under_18 = RadioField("Are they under 18?", widget=GovRadioInput(), choices=YES_NO,
                          validators=[InputRequired("Select yes if they are under 18")])
    contact_safely = TextAreaField("How can we contact them safely? (optional)", widget=GovTextArea(), filters=[multiline_filter],
                                   description="For example, times to avoid, or not to leave voicemails",
                                   validators=[Optional(), _length("contact_safely", "How to contact them"),
                                               NoControlCharacters("How to contact them")])
    email = EmailField("Their email address (optional)", widget=GovTextInput(), filters=[strip_filter],
                       validators=[Optional(), _length("email", "Their email address"),
                                   Email("Enter their email address in the correct format, like name@example.com")])
    phone = StringField("Their phone number (optional)", widget=GovTextInput(), filters=[strip_filter],
                        validators=[Optional(), _length("phone", "Their phone number"),
                                    UKPhone("Enter their phone number, like 01632 960 001 or 07700 900 982")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class AddAnotherForm(FlaskForm):
    add_another = RadioField("Do you need to add another person?", widget=GovRadioInput(), choices=YES_NO,
                             validators=[InputRequired("Select yes if you need to add another person")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RemovePersonForm(FlaskForm):
    """Removing a person from the draft: a POST with its CSRF token, nothing else."""


class AwarenessForm(FlaskForm):
    parties_aware = RadioField("Do the people involved know about this referral?", widget=GovRadioInput(),
                               choices=[(a.value, a.label) for a in Awareness],
                               validators=[InputRequired("Select whether the people involved know about this referral")])
    parties_willing = RadioField("Do they seem willing to take part?", widget=GovRadioInput(),
                                 choices=[(a.value, a.label) for a in Awareness],
                                 validators=[InputRequired("Select whether the people involved seem willing to take part")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RisksForm(FlaskForm):
    risk_flags = SelectMultipleField("Do any of these apply?", widget=GovCheckboxesInput(),
                                     description="Select all that apply. This helps us keep everyone safe.",
                                     choices=list(RISK_FLAGS.items()) + [(NO_RISK_FLAGS, "None of these")],
                                     validators=[InputRequired("Select any risks that apply, or select 'None of these'")])
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate_risk_flags(self, field):
        if NO_RISK_FLAGS in (field.data or []) and len(field.data) > 1:
            raise ValidationError("Select the risks that apply, or 'None of these', not both")


class ConsentForm(FlaskForm):
    consent_to_share = RadioField("Do you have consent to share these details with us?", widget=GovRadioInput(),
                                  description="Members of the public can answer yes if they are sharing their own details and what they know.",
                                  choices=YES_NO,
                                  validators=[InputRequired("Select yes if you have consent to share these details")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SubmitReferralForm(FlaskForm):
    # Honeypot: hidden from people, filled in by bots. Anything here means "pretend, store nothing".
    website = StringField("Leave this blank", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Send referral", widget=GovSubmitInput())


# --- triage -------------------------------------------------------------------------------------------

class AcceptForm(VersionedForm):
    scheme = RadioField("Scheme", widget=GovRadioInput(), choices=[(s.value, s.label) for s in Scheme],
                        validators=[InputRequired("Select the scheme")])
    level = RadioField("RJ level", widget=GovRadioInput(), coerce=str,
                       choices=[("1", "Level 1: on-street, instant"), ("2", "Level 2: community conference"),
                                ("3", "Level 3: complex or post-sentence")],
                       validators=[InputRequired("Select the RJ level")])
    lead_coordinator = SelectField("Lead coordinator", widget=GovSelect(), choices=[],
                                   validators=[InputRequired("Select a lead coordinator")])
    submit = SubmitField("Accept as a case", widget=GovSubmitInput())


class DeclineForm(VersionedForm):
    reason = RadioField("Reason", widget=GovRadioInput(), choices=[(r.value, r.label) for r in DeclineReason],
                        validators=[InputRequired("Select why the referral is declined")])
    note = TextAreaField("Note (optional)", widget=GovTextArea(), filters=[multiline_filter],
                         description="Needed if the reason is 'Other'. Staff only: not sent to the referrer.",
                         validators=[Optional(), Length(max=1000, message="The note must be 1000 characters or fewer"),
                                     NoControlCharacters("The note")])
    submit = SubmitField("Decline referral", widget=GovSubmitInput())


class MoreInfoForm(VersionedForm):
    note = TextAreaField("What information is needed?", widget=GovTextArea(), filters=[multiline_filter],
                         validators=[InputRequired("Say what information is needed"),
                                     Length(max=1000, message="The note must be 1000 characters or fewer"),
                                     NoControlCharacters("The note")])
    submit = SubmitField("Mark as needing more information", widget=GovSubmitInput())
