from datetime import date, datetime, time, timezone

import pytest

from rj.core.time import (LocalTimeError, add_working_days, from_local, is_working_day,
                          to_local, working_days_between)


def test_local_time_in_winter_is_utc_and_in_summer_is_an_hour_ahead():
    assert from_local(date(2026, 1, 15), time(18, 0)) == datetime(2026, 1, 15, 18, 0, tzinfo=timezone.utc)
    assert from_local(date(2026, 7, 15), time(18, 0)) == datetime(2026, 7, 15, 17, 0, tzinfo=timezone.utc)


def test_the_hour_skipped_on_the_last_sunday_of_march_is_refused():
    with pytest.raises(LocalTimeError, match="does not exist"):
        from_local(date(2026, 3, 29), time(1, 30))


def test_the_repeated_hour_on_the_last_sunday_of_october_is_ambiguous_unless_chosen():
    with pytest.raises(LocalTimeError, match="happens twice"):
        from_local(date(2026, 10, 25), time(1, 30))
    first = from_local(date(2026, 10, 25), time(1, 30), fold=0)
    second = from_local(date(2026, 10, 25), time(1, 30), fold=1)
    assert (second - first).total_seconds() == 3600


def test_evening_meetings_keep_their_wall_clock_time_across_the_clock_changes():
    before = from_local(date(2026, 3, 28), time(18, 0))
    after = from_local(date(2026, 3, 30), time(18, 0))
    assert to_local(before).hour == to_local(after).hour == 18
    assert before.hour == 18 and after.hour == 17


def test_working_days_skip_weekends_and_england_bank_holidays():
    assert not is_working_day(date(2026, 12, 25))  # Christmas Day
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day substitute
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    # Thursday 24 Dec 2026 + 2 working days: Fri 25 and Mon 28 are holidays -> Tue 29 Dec, then Wed 30
    assert add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 30)
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 23)) == 1


def test_naive_datetimes_are_rejected_by_utc_columns():
    from rj.core.db import UTCDateTime

    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), type("D", (), {"name": "sqlite"})())
