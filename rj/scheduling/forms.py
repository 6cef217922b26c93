"""Forms for venues, availability, meetings and finding a time. Times are typed as local Stockport time."""
from __future__ import annotations

import re
from datetime import date, time

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput, GovCheckboxInput, GovDateInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField, DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField,
    SubmitField, TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from rj.core.forms import NoControlCharacters, UKPhone, VersionedForm, multiline_filter, strip_filter
from rj.scheduling.models import WEEKDAYS, ExceptionKind, MeetingKind, MeetingMode, VenueKind

_HHMM = re.compile(r"^([01]?\d|2[0-3])[:.]?([0-5]\d)$")


def parse_hhmm(value: str | None) -> time | None:
    if not value:
        return None
    m = _HHMM.match(value.strip())
    if not m:
        return None
    return time(int(m.group(1)), int(m.group(2)))


class TimeText:
    """A 24-hour time typed like 18:00."""

    def __init__(self, what: str):
        self.what = what

    def __call__(self, form, field):
        if field.data and parse_hhmm(field.data) is None:
            raise ValidationError(f"{self.what} must be a time like 18:00 (24-hour clock)")


class GovDateField(DateField):
    """A GOV.UK date input (day, month, year). Blank is None; a bad date says how to fix it."""

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not any((v or "").strip() for v in valuelist):
            self.raw_data = ["", "", ""]   # the GOV.UK widget unpacks day, month, year
            self.data = None
            return
        try:
            day, month, year = (int(v) for v in valuelist)
            self.data = date(year, month, day)
        except (TypeError, ValueError):
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 23 3 2027") from None
        if year < 2000:
            self.data = None
            raise ValueError(f"{self.label.text} must include a 4-digit year, like 2027")


def _time_field(label, what, *, required=True, description="For example, 18:00"):
    validators = [InputRequired(f"Enter {what.lower()}")] if required else [Optional()]
    return StringField(label, widget=GovTextInput(), filters=[strip_filter], description=description,
                       validators=validators + [Length(max=5, message=f"{what} must be a time like 18:00"),
                                                TimeText(what)])


# --------------------------------------------------------------------------- venues

class VenueForm(VersionedForm):
    name = StringField("Venue name", widget=GovTextInput(), filters=[strip_filter],
                       validators=[InputRequired("Enter the venue's name"),
                                   Length(max=120, message="Venue name must be 120 characters or fewer"),
                                   NoControlCharacters("Venue name")])
    kind = RadioField("Kind of venue", widget=GovRadioInput(), choices=[(k.value, k.label) for k in VenueKind],
                      default=VenueKind.COMMUNITY.value, validators=[InputRequired("Select the kind of venue")])
    address_line = StringField("Address", widget=GovTextInput(), filters=[strip_filter],
                               validators=[InputRequired("Enter the venue's address"),
                                           Length(max=200, message="Address must be 200 characters or fewer"),
                                           NoControlCharacters("Address")])
    town = StringField("Town", widget=GovTextInput(), filters=[strip_filter], default="Stockport",
                       validators=[Optional(), Length(max=80, message="Town must be 80 characters or fewer")])
    postcode = StringField("Postcode", widget=GovTextInput(), filters=[strip_filter],
                           validators=[Optional(), Length(max=10, message="Postcode must be 10 characters or fewer")])
    phone = StringField("Phone number", widget=GovTextInput(), filters=[strip_filter],
                        validators=[Optional(), Length(max=30), UKPhone()])
    accessibility_notes = TextAreaField("Accessibility notes", widget=GovTextArea(), filters=[multiline_filter],
                                        description="Parking, entrances, toilets, lighting, quiet spaces",
                                        validators=[Optional(), Length(max=2000, message="Accessibility notes must be "
                                                                       "2000 characters or fewer")])
    step_free_access = BooleanField("Step-free access", widget=GovCheckboxInput())
    hearing_loop = BooleanField("Hearing loop", widget=GovCheckboxInput())
    separate_waiting_areas = BooleanField("Separate waiting areas", widget=GovCheckboxInput(),
                                          description="So the people in a case do not have to wait together")
    active = BooleanField("In use", widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Save venue", widget=GovSubmitInput())

    def opening_hours(self) -> dict:
        hours = {}
        for d in range(7):
            a, b = parse_hhmm(getattr(self, f"open_{d}").data), parse_hhmm(getattr(self, f"close_{d}").data)
            if a and b:
                hours[str(d)] = [[a.strftime("%H:%M"), b.strftime("%H:%M")]]
        return hours

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for d in range(7):
            a, b = getattr(self, f"open_{d}"), getattr(self, f"close_{d}")
            if bool(a.data) != bool(b.data):
                (b if a.data else a).errors.append(
                    f"Enter both the opening and closing time on {WEEKDAYS[d]}, or neither if it is closed")
                ok = False
        return ok


for _d, _name in enumerate(WEEKDAYS):
    setattr(VenueForm, f"open_{_d}", _time_field(f"{_name} opens", f"{_name} opening time", required=False,
                                                  description=""))
    setattr(VenueForm, f"close_{_d}", _time_field(f"{_name} closes", f"{_name} closing time", required=False,
                                                   description=""))


class RoomForm(VersionedForm):
    name = StringField("Room name", widget=GovTextInput(), filters=[strip_filter],
                       validators=[InputRequired("Enter the room's name"),
                                   Length(max=120, message="Room name must be 120 characters or fewer"),
                                   NoControlCharacters("Room name")])
    capacity = IntegerField("How many people it holds", widget=GovTextInput(),
                            validators=[InputRequired("Enter how many people the room holds, as a number"),
                                        NumberRange(min=1, max=200, message="Capacity must be between 1 and 200")])
    step_free_access = BooleanField("Step-free access", widget=GovCheckboxInput())
    hearing_loop = BooleanField("Hearing loop", widget=GovCheckboxInput())
    separate_waiting_area = BooleanField("A separate waiting area nearby", widget=GovCheckboxInput())
    notes = TextAreaField("Notes", widget=GovTextArea(), filters=[multiline_filter],
                          validators=[Optional(), Length(max=1000, message="Notes must be 1000 characters or fewer")])
    active = BooleanField("In use", widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Save room", widget=GovSubmitInput())


# --------------------------------------------------------------------------- availability

class WindowForm(FlaskForm):
    weekday = SelectField("Day", widget=GovSelect(), choices=[(str(i), n) for i, n in enumerate(WEEKDAYS)],
                          validators=[InputRequired("Choose a day of the week")])
    start_time = _time_field("From", "The start time")
    end_time = _time_field("Until", "The end time")
    submit = SubmitField("Add these times", widget=GovSubmitInput())


class ExceptionForm(FlaskForm):
    kind = RadioField("What is it?", widget=GovRadioInput(), choices=[(k.value, k.label) for k in ExceptionKind],
                      default=ExceptionKind.LEAVE.value, validators=[InputRequired("Select leave or unavailable")])
    starts_on = GovDateField("First day", description="For example, 27 3 2027",
                             validators=[InputRequired("Enter the first day")])
    ends_on = GovDateField("Last day", description="Leave blank for a single day", validators=[Optional()])
    submit = SubmitField("Add", widget=GovSubmitInput())


class RemoveForm(FlaskForm):
    submit = SubmitField("Remove", widget=GovSubmitInput())


# --------------------------------------------------------------------------- meetings

DURATIONS = [("30", "30 minutes"), ("60", "1 hour"), ("90", "1 hour 30 minutes"), ("120", "2 hours"),
             ("150", "2 hours 30 minutes"), ("180", "3 hours")]


class MeetingForm(VersionedForm):
    kind = RadioField("Kind of meeting", widget=GovRadioInput(), choices=[(k.value, k.label) for k in MeetingKind],
                      validators=[InputRequired("Select the kind of meeting")])
    day = GovDateField("Date", description="For example, 23 3 2027", validators=[InputRequired("Enter the date")])
    start = _time_field("Start time", "The start time", description="Stockport time, 24-hour clock. For example, 18:00")
    duration = SelectField("How long", widget=GovSelect(), choices=DURATIONS, default="90",
                           validators=[InputRequired("Choose how long the meeting is")])
    mode = RadioField("How will people meet?", widget=GovRadioInput(),
                      choices=[(m.value, m.label) for m in MeetingMode], default=MeetingMode.IN_PERSON.value,
                      validators=[InputRequired("Select in person, phone or video")])
    room_id = SelectField("Room", widget=GovSelect(), choices=[], validators=[Optional()],
                          description="Only for in-person meetings")
    party_ids = SelectMultipleField("Who is taking part?", widget=GovCheckboxesInput(), choices=[],
                                    validators=[InputRequired("Select who is taking part")])
    lead_id = SelectField("Lead facilitator", widget=GovSelect(), choices=[], validators=[Optional()])
    co_id = SelectField("Co-facilitator", widget=GovSelect(), choices=[], validators=[Optional()])
    joining_notes = TextAreaField("Joining details", widget=GovTextArea(), filters=[multiline_filter],
                                  description="A dial-in number, video link or how to find the room. "
                                              "No names or case details: this goes into calendar invites.",
                                  validators=[Optional(), Length(max=500, message="Joining details must be "
                                                                 "500 characters or fewer")])
    confirm_warnings = BooleanField("I have checked the date and want to book it anyway", widget=GovCheckboxInput())
    submit = SubmitField("Book meeting", widget=GovSubmitInput())


class CancelForm(VersionedForm):
    reason = RadioField("Why is it being cancelled?", widget=GovRadioInput(), choices=[
        ("party_request", "A party asked"), ("facilitator_unavailable", "A facilitator cannot attend"),
        ("venue_unavailable", "The venue is not available"), ("not_needed", "No longer needed"),
        ("other", "Another reason")], validators=[InputRequired("Select why the meeting is being cancelled")])
    postpone = BooleanField("Postpone it to be rearranged (keeps it on the case, to be given a new time)",
                            widget=GovCheckboxInput())
    submit = SubmitField("Cancel meeting", widget=GovSubmitInput())


class OutcomeForm(VersionedForm):
    outcome = RadioField("Did the meeting go ahead?", widget=GovRadioInput(),
                         choices=[("held", "Yes, it was held"), ("did_not_go_ahead", "No, it did not go ahead")],
                         validators=[InputRequired("Select whether the meeting went ahead")])
    absent_ids = SelectMultipleField("Who did not attend?", widget=GovCheckboxesInput(), choices=[],
                                     validators=[Optional()])
    reason = SelectField("If it did not go ahead, why?", widget=GovSelect(), choices=[
        ("", "Choose a reason"), ("party_did_not_attend", "A party did not attend"),
        ("facilitator_did_not_attend", "A facilitator did not attend"), ("venue_problem", "A problem with the venue"),
        ("other", "Another reason")], validators=[Optional()])
    submit = SubmitField("Save", widget=GovSubmitInput())


class PollForm(FlaskForm):
    kind = RadioField("Kind of meeting", widget=GovRadioInput(), choices=[(k.value, k.label) for k in MeetingKind],
                      validators=[InputRequired("Select the kind of meeting")])
    duration = SelectField("How long", widget=GovSelect(), choices=DURATIONS, default="90")
    mode = RadioField("How will people meet?", widget=GovRadioInput(),
                      choices=[(m.value, m.label) for m in MeetingMode], default=MeetingMode.IN_PERSON.value,
                      validators=[InputRequired("Select in person, phone or video")])
    room_id = SelectField("Room", widget=GovSelect(), choices=[], validators=[Optional()])
    party_ids = SelectMultipleField("Who to ask", widget=GovCheckboxesInput(), choices=[],
                                    validators=[InputRequired("Select who to ask")])
    lead_id = SelectField("Lead facilitator", widget=GovSelect(), choices=[], validators=[Optional()])
    co_id = SelectField("Co-facilitator", widget=GovSelect(), choices=[], validators=[Optional()])
    submit = SubmitField("Send the times", widget=GovSubmitInput())


POLL_SLOTS = 4
for _i in range(1, POLL_SLOTS + 1):
    setattr(PollForm, f"slot_{_i}_date", GovDateField(f"Time {_i}: date", validators=[Optional()]))
    setattr(PollForm, f"slot_{_i}_time", _time_field(f"Time {_i}: start", f"Time {_i} start", required=False))


class PollBookForm(FlaskForm):
    option_id = RadioField("Which time?", widget=GovRadioInput(), choices=[],
                           validators=[InputRequired("Choose the time to book")])
    confirm_warnings = BooleanField("I have checked the date and want to book it anyway", widget=GovCheckboxInput())
    submit = SubmitField("Book this time", widget=GovSubmitInput())


class PollAnswerForm(FlaskForm):
    option_ids = SelectMultipleField("Which times can you do?", widget=GovCheckboxesInput(), choices=[],
                                     description="Select all that apply. If none suit you, leave them all unticked.",
                                     validators=[Optional()])
    submit = SubmitField("Send my answer", widget=GovSubmitInput())

