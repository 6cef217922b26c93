"""Forms for facilitator profiles, conflicts, the course catalogue and training records."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput, GovCheckboxInput, GovDateInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField, EmailField, Field, IntegerField, RadioField, SelectField, SelectMultipleField, StringField,
    SubmitField, TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, StopValidation

from rj.core.forms import NoControlCharacters, UKPhone, VersionedForm, multiline_filter, strip_filter
from rj.facilitators.models import (
    LANGUAGES, STOCKPORT_AREAS, ConflictKind, CourseCategory, DbsLevel, FacilitatorKind, FacilitatorStatus,
    GoalStatus, ObservationOutcome, PractitionerLevel,
)


class DayField(Field):
    """A GOV.UK date input (day, month, year boxes) giving a `date`, with messages that say how to fix it."""

    widget = GovDateInput()

    def _value(self):
        return self.data.strftime("%d %m %Y") if self.data else ""

    def process_formdata(self, valuelist):
        if len(valuelist) != 3:  # the widget re-renders from raw_data and needs day, month and year
            self.raw_data = (list(valuelist) + ["", "", ""])[:3]
        parts = [(v or "").strip() for v in valuelist]
        name = self.label.text.replace(" (optional)", "")
        if not any(parts):
            self.data = None
            return
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            self.data = None
            raise ValueError(f"{name} must be a real date, like 27 3 2025")
        day, month, year = (int(p) for p in parts)
        if year < 1900 or year > 2200:
            self.data = None
            raise ValueError(f"{name} must include a 4-digit year, like 2025")
        try:
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{name} must be a real date, like 27 3 2025") from None


class DayRequired:
    """Required date: "enter the date" when all three boxes are empty, otherwise the date's own error."""

    field_flags = {"required": True}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.data is None and not any((v or "").strip() for v in (field.raw_data or [])):
            field.errors[:] = []
            raise StopValidation(self.message)


class DayOptional:
    """Optional date: skipped only when all three boxes are empty (a half-typed date is an error)."""

    field_flags = {"optional": True}

    def __call__(self, form, field):
        if field.data is None and not any((v or "").strip() for v in (field.raw_data or [])):
            field.errors[:] = []
            raise StopValidation()


def _text(label, max_len, required: str | None = None, **kw):
    validators = [InputRequired(required)] if required else [Optional()]
    validators += [Length(max=max_len, message=f"{label} must be {max_len} characters or fewer"),
                   NoControlCharacters(label)]
    return StringField(label, widget=GovTextInput(), filters=[strip_filter], validators=validators, **kw)


def _notes(label, max_len=4000, **kw):
    return TextAreaField(label, widget=GovTextArea(), filters=[multiline_filter],
                         validators=[Optional(), Length(max=max_len, message=f"{label} must be {max_len} characters or fewer")],
                         **kw)


def _radio(label, enum_cls, message):
    return RadioField(label, widget=GovRadioInput(), choices=[(e.value, e.label) for e in enum_cls],
                      validators=[InputRequired(message)])


def _checkboxes(label, options, **kw):
    return SelectMultipleField(label, widget=GovCheckboxesInput(), choices=[(o, o) for o in options],
                               validate_choice=True, **kw)


class _ProfileFields:
    phone = StringField(
        "Phone number (optional)", widget=GovTextInput(), filters=[strip_filter],
        validators=[Optional(), Length(max=20), UKPhone()])
    languages = _checkboxes("Languages they can facilitate in", LANGUAGES)
    areas = _checkboxes("Areas of Stockport they can travel to", STOCKPORT_AREAS)


class FacilitatorNewForm(FlaskForm):
    name = _text("Full name", 120, "Enter the facilitator's full name")
    email = EmailField("Email address", widget=GovTextInput(), filters=[strip_filter],
                       description="The set-password invitation goes here",
                       validators=[InputRequired("Enter an email address"),
                                   Email("Enter an email address in the correct format, like name@example.com"),
                                   Length(max=254)])
    kind = _radio("Volunteer or staff", FacilitatorKind, "Select volunteer or staff")
    practitioner_level = _radio("Practitioner level", PractitionerLevel, "Select the practitioner level")
    phone = _ProfileFields.phone
    languages = _ProfileFields.languages
    areas = _ProfileFields.areas
    max_meetings_per_month = IntegerField(
        "Most meetings a month", widget=GovTextInput(), default=4,
        validators=[InputRequired("Enter the most meetings a month, like 4"),
                    NumberRange(0, 31, "Enter the most meetings a month as a number from 0 to 31")])
    experienced = BooleanField("Counts as experienced (for example, experienced elsewhere)", widget=GovCheckboxInput())
    submit = SubmitField("Create facilitator and invitation", widget=GovSubmitInput())


class FacilitatorEditForm(VersionedForm):
    name = _text("Full name", 120, "Enter the facilitator's full name")
    kind = _radio("Volunteer or staff", FacilitatorKind, "Select volunteer or staff")
    status = _radio("Status", FacilitatorStatus, "Select a status")
    practitioner_level = _radio("Practitioner level", PractitionerLevel, "Select the practitioner level")
    phone = _ProfileFields.phone
    languages = _ProfileFields.languages
    areas = _ProfileFields.areas
    max_meetings_per_month = IntegerField(
        "Most meetings a month", widget=GovTextInput(),
        validators=[InputRequired("Enter the most meetings a month, like 4"),
                    NumberRange(0, 31, "Enter the most meetings a month as a number from 0 to 31")])
    experienced = BooleanField("Counts as experienced whatever the number of cases", widget=GovCheckboxInput())
    joined_on = DayField("Date joined", validators=[DayOptional()])
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class OwnDetailsForm(VersionedForm):
    phone = _ProfileFields.phone
    languages = _ProfileFields.languages
    areas = _ProfileFields.areas
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ConflictForm(FlaskForm):
    kind = _radio("What is the conflict with?", ConflictKind, "Select a person, an address or an organisation")
    value = _text("Name, address or street, or organisation", 200,
                  "Enter the name, address or street, or organisation")
    private_note = _notes("Why (optional, private)", 1000,
                          description="Only you, coordinators and managers see this. It is never shown with a case.")
    submit = SubmitField("Declare conflict", widget=GovSubmitInput())


class CourseForm(VersionedForm):
    name = _text("Course name", 160, "Enter the course name")
    provider = _text("Provider", 160, "Enter who provides the course")
    category = _radio("Kind of course", CourseCategory, "Select the kind of course")
    levels = SelectMultipleField("RJ levels it qualifies for (qualifying courses only)", widget=GovCheckboxesInput(),
                                 choices=[(1, "Level 1"), (2, "Level 2"), (3, "Level 3")], coerce=int)
    validity_months = IntegerField("Valid for (months)", widget=GovTextInput(),
                                   description="Leave empty if it does not expire",
                                   validators=[Optional(), NumberRange(1, 120, "Enter a number of months from 1 to 120")])
    active = BooleanField("Offered for new training records", widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Save course", widget=GovSubmitInput())


class TrainingRecordForm(VersionedForm):
    course_id = SelectField("Course", widget=GovSelect(), coerce=int,
                            validators=[InputRequired("Choose the course")])
    completed_on = DayField("Completed on", validators=[DayRequired("Enter the date the course was completed")])
    expires_on = DayField("Expires on (optional)", validators=[DayOptional()],
                          description="Leave empty to use the course's validity")
    evidence_reference = _text("Evidence reference (optional)", 120,
                               description="For example a certificate number or where the evidence is filed")
    submit = SubmitField("Save training record", widget=GovSubmitInput())


class GoalForm(VersionedForm):
    title = _text("Goal", 200, "Enter the goal")
    target_date = DayField("Target date (optional)", validators=[DayOptional()])
    status = _radio("Status", GoalStatus, "Select a status")
    progress_notes = _notes("Progress notes (optional)")
    submit = SubmitField("Save goal", widget=GovSubmitInput())


class SupervisionForm(VersionedForm):
    held_on = DayField("Date of supervision", validators=[DayRequired("Enter the date of the supervision session")])
    supervisor_name = _text("Supervisor", 120, "Enter the supervisor's name")
    notes = _notes("Supervision notes (private to managers)")
    submit = SubmitField("Save supervision session", widget=GovSubmitInput())


class ObservationForm(VersionedForm):
    observed_on = DayField("Date observed", validators=[DayRequired("Enter the date of the observed session")])
    observer_name = _text("Observer", 120, "Enter the observer's name")
    outcome = _radio("Outcome", ObservationOutcome, "Select the outcome")
    submit = SubmitField("Save observation", widget=GovSubmitInput())


class CpdForm(VersionedForm):
    done_on = DayField("Date of the activity", validators=[DayRequired("Enter the date of the activity")])
    hours = StringField("Hours", widget=GovTextInput(), filters=[strip_filter],
                        description="For example 1.5. At most 24 for one entry.",
                        validators=[InputRequired("Enter the hours, like 1.5"), Length(max=8)])
    activity = _text("Activity", 200, "Enter what the activity was")
    rjc_approved = BooleanField("Approved by the Restorative Justice Council", widget=GovCheckboxInput())
    submit = SubmitField("Save CPD entry", widget=GovSubmitInput())


class DbsForm(VersionedForm):
    level = _radio("Level of check", DbsLevel, "Select the level of the DBS check")
    certificate_number = StringField("Certificate number", widget=GovTextInput(), filters=[strip_filter],
                                     description="12 digits, on the top right of the certificate",
                                     validators=[Optional(), Length(max=20)])
    issued_on = DayField("Date of issue", validators=[DayRequired("Enter the date the certificate was issued")])
    update_service = BooleanField("Subscribed to the DBS update service", widget=GovCheckboxInput())
    submit = SubmitField("Save DBS check", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())
