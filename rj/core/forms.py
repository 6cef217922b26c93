"""Shared form pieces: text that is safe to store, show, email and put in an invite."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import Field, HiddenField
from wtforms.validators import ValidationError

# Control characters (including NUL, which PostgreSQL rejects) other than tab/newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")


def clean_text(value: str | None, *, multiline: bool = False) -> str | None:
    """Normalise what a person typed: strip edges, NFC, drop control characters."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    if not multiline:
        value = " ".join(value.split())
    return value.strip()


def strip_filter(value):
    return clean_text(value) if isinstance(value, str) else value


def multiline_filter(value):
    return clean_text(value, multiline=True) if isinstance(value, str) else value


class NoControlCharacters:
    """Refuses control characters, with a message that says how to fix it."""

    def __init__(self, label: str = "This answer"):
        self.label = label

    def __call__(self, form, field):
        raw = field.raw_data[0] if field.raw_data else ""
        if isinstance(raw, str) and _CONTROL.search(raw.replace("\r", "")):
            raise ValidationError(f"{self.label} must not contain hidden control characters: retype it without them")


class UKPhone:
    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field):
        if field.data and not _PHONE.match(field.data):
            raise ValidationError(self.message or "Enter a telephone number, like 01632 960 001 or 07700 900 982")


class VersionedForm(FlaskForm):
    """A form that carries the record's version so a second, stale save is refused."""

    version = HiddenField()


class GovDateField(Field):
    """A GOV.UK date input (day, month, year boxes) whose errors say exactly how to fix the date.

    Blank is None, or the `required` message when one is given. `what` names the date in
    messages ("The date of birth must include a month"); it defaults to the label.
    """

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, *, what: str | None = None, required: str | None = None,
                 example: str = "27 3 2026", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what = what or self.label.text
        self.required_message = required
        self.example = example
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
            self._problem = self.required_message
            return
        missing = [name for name, v in (("day", day), ("month", month), ("year", year)) if not v]
        if missing:
            self._problem = f"{self.what} must include a {' and a '.join(missing)}"
        elif not (day.isdigit() and month.isdigit() and year.isdigit()):
            self._problem = f"{self.what} must be a real date, written in numbers, like {self.example}"
        elif len(year) != 4:
            self._problem = "Year must include 4 numbers"
        else:
            try:
                self.data = date(int(year), int(month), int(day))
            except ValueError:
                self._problem = f"{self.what} must be a real date, like {self.example}"

    def pre_validate(self, form):
        if self._problem:
            raise ValidationError(self._problem)


class NotInFuture:
    """Refuses a date after today in Stockport."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        from rj.core.time import local_today

        if field.data and field.data > local_today():
            raise ValidationError(self.message)


class DateRequired:
    """A date must be given (for a GovDateField without its own `required` message)."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.data is None and not field.errors:
            raise ValidationError(self.message)


def show_domain_error(form, exc, default: str | None = None, mapping: dict | None = None) -> list[str]:
    """Put a service's DomainError on the form field it names (through `mapping` if the service's
    name differs from the form's), or on `default`, so the page shows it beside what was typed.
    When the form has no such field, return the reasons for the error summary instead."""
    names = [(mapping or {}).get(exc.field, exc.field) if exc.field else None, default]
    for name in names:
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [exc.message]
            return []
    return list(exc.reasons)
