"""Shared form pieces: text that is safe to store, show, email and put in an invite."""
from __future__ import annotations

import re
import unicodedata

from flask_wtf import FlaskForm
from wtforms import HiddenField
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
