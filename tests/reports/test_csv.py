"""CSV downloads: formula injection and safe file names."""
from __future__ import annotations

import pytest

from rj.reports.csv import safe_cell, safe_filename, to_csv


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("Stockport Homes", "Stockport Homes"),
    ("12", "12"),
    ("-3", "-3"),
    (None, ""),
    (7, "7"),
])
def test_cells_a_spreadsheet_would_run_as_formulas_are_prefixed_with_a_quote(value, expected):
    assert safe_cell(value) == expected


def test_csv_text_quotes_and_neutralises_every_cell():
    text = to_csv([["Referred by", "Referrals"], ["=cmd|' /C calc'!A0", "5"], ["Police, Stockport", "7"]])
    lines = text.split("\r\n")
    assert lines[1].startswith("'=cmd|")
    assert lines[2] == '"Police, Stockport",7'


def test_filenames_are_made_of_safe_characters_only():
    from datetime import date

    assert safe_filename("referrals-by-month", date(2025, 4, 1), date(2026, 3, 31)) == \
        "rj-referrals-by-month-2025-04-01-2026-03-31.csv"
    assert safe_filename('../../etc/"passwd\r\n') == "rj-etc-passwd.csv"
