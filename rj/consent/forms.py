"""Forms for parties, consent, suitability and risk. Each error says how to fix it."""
from __future__ import annotations


from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput, GovCheckboxInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, EmailField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from rj.consent.models import (
    SENSITIVE_FLAGS, ConsentMethod, ConsentScope, ContactMethod, GivenBy, InformationHow, RiskStage,
    SuitabilityDecision,
)
from rj.core.forms import GovDateField, NoControlCharacters, UKPhone, VersionedForm, multiline_filter, strip_filter


def _text(label: str, limit: int, *, required: str | None = None, **kwargs) -> StringField:
    validators = [InputRequired(required)] if required else [Optional()]
    validators += [Length(max=limit, message=f"{label} must be {limit} characters or fewer"), NoControlCharacters(label)]
    return StringField(label, widget=GovTextInput(), filters=[strip_filter], validators=validators, **kwargs)


def _area(label: str, limit: int, *, required: str | None = None, **kwargs) -> TextAreaField:
    validators = [InputRequired(required)] if required else [Optional()]
    validators += [Length(max=limit, message=f"{label} must be {limit} characters or fewer")]
    return TextAreaField(label, widget=GovTextArea(), filters=[multiline_filter], validators=validators, **kwargs)


class PartyForm(VersionedForm):
    role = RadioField("Role in the case", widget=GovRadioInput(), validators=[InputRequired("Select the person's role")])
    name = _text("Full name", 120, required="Enter the person's full name")
    date_of_birth = GovDateField("Date of birth (optional)", what="Date of birth", example="27 3 2010",
                                   description="For example, 27 3 2010. Leave blank if not known.")
    under_18 = BooleanField("This person is under 18", widget=GovCheckboxInput(), false_values=("", "false", "n"))
    guardian_for_id = SelectField("Parent or guardian of", widget=GovSelect(), coerce=str, validate_choice=False,
                                  description="Only for a parent or guardian: the party under 18 they speak for.")
    email = EmailField("Email address", widget=GovTextInput(), filters=[strip_filter],
                       validators=[Optional(), Email("Enter an email address in the correct format, like name@example.com"),
                                   Length(max=254, message="Email address must be 254 characters or fewer")])
    phone = StringField("Phone number", widget=GovTextInput(), filters=[strip_filter],
                        validators=[Optional(), Length(max=30, message="Phone number must be 30 characters or fewer"), UKPhone()])
    address_line = _text("Address", 200)
    postcode = _text("Postcode", 10)
    safe_contact = _area("Safe way to contact them", 500,
                         description="For example: text only, not before 6pm; do not leave voicemail.")
    preferred_contact = RadioField("Preferred way to contact them", widget=GovRadioInput(), validators=[Optional()],
                                   choices=[(c.value, c.label) for c in ContactMethod])
    interpreter_needed = BooleanField("Needs an interpreter", widget=GovCheckboxInput())
    interpreter_language = _text("Interpreter language", 60)
    wheelchair_access = BooleanField("Needs wheelchair access", widget=GovCheckboxInput())
    hearing_loop = BooleanField("Needs a hearing loop", widget=GovCheckboxInput())
    separate_waiting_room = BooleanField("Needs a separate waiting room", widget=GovCheckboxInput())
    victims_code = BooleanField("The Victims' Code applies (harmed by a crime)", widget=GovCheckboxInput(),
                                description="Starts the first-contact and information clocks.")
    enhanced_rights = BooleanField("Has enhanced rights under the Victims' Code", widget=GovCheckboxInput(),
                                   description="Information about restorative justice is then due within 1 working day.")
    acknowledges_responsibility = RadioField(
        "Has the person responsible acknowledged the basic facts and accepted responsibility?",
        widget=GovRadioInput(), validators=[Optional()],
        choices=[("yes", "Yes"), ("no", "No"), ("unknown", "Not asked yet")], default="unknown")
    submit = SubmitField("Save", widget=GovSubmitInput())

    def data_for_service(self) -> dict:
        ack = {"yes": True, "no": False}.get(self.acknowledges_responsibility.data)
        return {
            "role": self.role.data, "name": self.name.data, "date_of_birth": self.date_of_birth.data,
            "under_18": bool(self.under_18.data), "guardian_for_id": self.guardian_for_id.data or None,
            "email": self.email.data or None, "phone": self.phone.data or None,
            "address_line": self.address_line.data or None, "postcode": self.postcode.data or None,
            "safe_contact": self.safe_contact.data or None, "preferred_contact": self.preferred_contact.data or None,
            "interpreter_needed": bool(self.interpreter_needed.data),
            "interpreter_language": self.interpreter_language.data or None,
            "wheelchair_access": bool(self.wheelchair_access.data), "hearing_loop": bool(self.hearing_loop.data),
            "separate_waiting_room": bool(self.separate_waiting_room.data),
            "victims_code": bool(self.victims_code.data), "enhanced_rights": bool(self.enhanced_rights.data),
            "acknowledges_responsibility": ack,
        }


def _who_field():
    return RadioField("Who is answering?", widget=GovRadioInput(), default=GivenBy.PARTY.value,
                      choices=[(g.value, g.label) for g in GivenBy],
                      validators=[InputRequired("Select who is answering")])


class InformationForm(FlaskForm):
    given_by = _who_field()
    how = RadioField("How was the information given?", widget=GovRadioInput(),
                     choices=[(h.value, h.label) for h in InformationHow if h is not InformationHow.ONLINE],
                     validators=[InputRequired("Select how the information was given")])
    leaflet = _text("Which leaflet or conversation", 120,
                    description="For example: SoRT-IT leaflet (2025), or a phone call explaining the process.")
    submit = SubmitField("Record information given", widget=GovSubmitInput())


class ConsentForm(FlaskForm):
    given_by = _who_field()
    kind = RadioField("Their answer", widget=GovRadioInput(),
                      choices=[("consent_given", "They agree"), ("consent_declined", "They do not agree")],
                      validators=[InputRequired("Select whether they agree or not")])
    scopes = SelectMultipleField("What does the answer cover?", widget=GovCheckboxesInput(),
                                 choices=[(s.value, s.label) for s in ConsentScope],
                                 description="Select all that apply. Meeting face to face and indirect contact only cannot both be agreed.",
                                 validators=[InputRequired("Select what the answer covers")])
    method = RadioField("How did they answer?", widget=GovRadioInput(),
                        choices=[(m.value, m.label) for m in ConsentMethod if m is not ConsentMethod.ONLINE],
                        validators=[InputRequired("Select how they answered")])
    submit = SubmitField("Record answer", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    given_by = _who_field()
    method = RadioField("How did they withdraw?", widget=GovRadioInput(),
                        choices=[(m.value, m.label) for m in ConsentMethod if m is not ConsentMethod.ONLINE],
                        validators=[InputRequired("Select how they withdrew")])
    submit = SubmitField("Record withdrawal", widget=GovSubmitInput())


class OnlineConsentForm(FlaskForm):
    agree = RadioField("Do you want to take part?", widget=GovRadioInput(),
                       choices=[("yes", "Yes, I want to take part"), ("no", "No, I do not want to take part")],
                       validators=[InputRequired("Select yes if you want to take part, or no if you do not")])
    scopes = SelectMultipleField("If you take part, what are you happy with?", widget=GovCheckboxesInput(),
                                 choices=[(ConsentScope.SHARE_DETAILS.value, "My name and contact details can be shared with the other people involved"),
                                          (ConsentScope.FACE_TO_FACE.value, "I am willing to meet the other people face to face"),
                                          (ConsentScope.INDIRECT_ONLY.value, "I only want contact through letters or messages passed on by the facilitators")],
                                 description="Select all that apply. You can change your mind at any time.",
                                 validators=[Optional()])
    submit = SubmitField("Send my answer", widget=GovSubmitInput())


class SuitabilityForm(FlaskForm):
    flags = SelectMultipleField("Sensitive-case flags", widget=GovCheckboxesInput(),
                                choices=list(SENSITIVE_FLAGS.items()), validators=[Optional()],
                                description="Select all that apply.")
    under_18s = BooleanField("Someone under 18 is involved", widget=GovCheckboxInput())
    decision = RadioField("Is the case suitable for restorative justice?", widget=GovRadioInput(),
                          choices=[(d.value, d.label) for d in SuitabilityDecision],
                          validators=[InputRequired("Select whether the case is suitable")])
    reasons = _area("Reasons for the decision", 2000, required="Give the reasons for the decision")
    submit = SubmitField("Save screening", widget=GovSubmitInput())


class NoteForm(FlaskForm):
    kind = RadioField("Kind of note", widget=GovRadioInput(), default="preparation",
                      choices=[("preparation", "Preparation note"), ("general", "Other note")],
                      validators=[InputRequired("Select the kind of note")])
    body = _area("Note", 5000, required="Enter the note")
    submit = SubmitField("Add note", widget=GovSubmitInput())


class ConfirmForm(VersionedForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())


def risk_form_class(subjects: list[tuple[str, str]]):
    """A risk form with one risk and one management box per subject (each party, the facilitators)."""

    class RiskForm(FlaskForm):
        stage = RadioField("Stage", widget=GovRadioInput(), choices=[(s.value, s.label) for s in RiskStage],
                           validators=[InputRequired("Select the stage of this assessment")])
        submit = SubmitField("Save risk assessment", widget=GovSubmitInput())

    for key, name in subjects:
        setattr(RiskForm, f"risk_{key}", TextAreaField(
            f"Risks to {name}", widget=GovTextArea(), filters=[multiline_filter],
            description="Write 'none identified' if there are none.",
            validators=[InputRequired(f"Describe the risks to {name}, or write 'none identified'"),
                        Length(max=2000, message="Risks must be 2000 characters or fewer")]))
        setattr(RiskForm, f"management_{key}", TextAreaField(
            f"How the risks to {name} are managed", widget=GovTextArea(), filters=[multiline_filter],
            validators=[Optional(), Length(max=2000, message="Management must be 2000 characters or fewer")]))
    return RiskForm
