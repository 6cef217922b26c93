"""Report periods: defaults, validation, quarters."""
from __future__ import annotations

from datetime import date

import pytest

from rj.core.errors import DomainError
from rj.reports.services import check_period, current_quarter, default_period, quarter_period

TODAY = date(2026, 11, 20)


def test_the_default_period_is_the_last_12_months_ending_today():
    p = default_period(TODAY)
    assert (p.start, p.end) == (date(2025, 11, 21), TODAY)


def test_a_period_whose_start_is_after_its_end_is_refused_on_the_start_field():
    with pytest.raises(DomainError) as exc:
        check_period(date(2026, 5, 2), date(2026, 5, 1), today=TODAY)
    assert exc.value.field == "start"
    assert "before the end date" in exc.value.message


def test_a_period_longer_than_5_years_is_refused():
    with pytest.raises(DomainError, match="5 years or shorter"):
        check_period(date(2020, 1, 1), date(2026, 1, 2), today=TODAY)


def test_a_period_starting_in_the_future_is_refused():
    with pytest.raises(DomainError, match="today or in the past"):
        check_period(date(2026, 12, 1), date(2026, 12, 31), today=TODAY)


def test_a_one_day_period_is_allowed():
    p = check_period(TODAY, TODAY, today=TODAY)
    assert p.start == p.end == TODAY


def test_quarters_are_financial_quarters_starting_in_april():
    assert (quarter_period(2025, 1).start, quarter_period(2025, 1).end) == (date(2025, 4, 1), date(2025, 6, 30))
    assert (quarter_period(2025, 4).start, quarter_period(2025, 4).end) == (date(2026, 1, 1), date(2026, 3, 31))
    with pytest.raises(DomainError):
        quarter_period(2025, 5)


def test_the_default_quarter_is_the_last_completed_one():
    assert current_quarter(date(2026, 11, 20)) == (2026, 2)
    assert current_quarter(date(2026, 5, 1)) == (2025, 4)
    assert current_quarter(date(2026, 2, 1)) == (2025, 3)
