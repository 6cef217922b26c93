"""CSV downloads: safe filenames, and cells a spreadsheet will never run as a formula."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (tab and carriage return too: some spreadsheets strip them and then read the formula).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_NAME = re.compile(r"[^a-z0-9-]+")


def safe_cell(value) -> str:
    """A value as CSV text, prefixed with a single quote if a spreadsheet would read it as a formula.
    Plain negative numbers are left alone (they are numbers, not formulas)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower() not in {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


def to_csv(rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


def safe_filename(*parts, suffix: str = ".csv") -> str:
    """rj-<parts>.csv from lower-case letters, digits and hyphens only (never user text)."""
    cleaned = []
    for part in parts:
        text = part.isoformat() if isinstance(part, date) else str(part)
        text = _SAFE_NAME.sub("-", text.lower()).strip("-")
        if text:
            cleaned.append(text)
    return "-".join(["rj", *cleaned])[:120] + suffix
