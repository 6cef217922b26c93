"""Time: aware UTC inside, Europe/London at the edges.

Instants are stored and compared in UTC. Local wall-clock times are converted only in
forms, templates, invites and emails. Working days exclude weekends and the England and
Wales bank holidays from govuk-bank-holidays' bundled data (works offline).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


class LocalTimeError(ValueError):
    """A local wall-clock time that does not exist or is ambiguous (clock changes)."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def ensure_aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: instants must carry a timezone")
    return dt.astimezone(UTC)


def to_local(dt: datetime) -> datetime:
    return ensure_aware(dt).astimezone(LONDON)


def local_today(now: datetime | None = None) -> date:
    return to_local(now or now_utc()).date()


def from_local(day: date, at: time, *, fold: int | None = None) -> datetime:
    """A local Stockport wall-clock time as an aware UTC instant.

    Raises LocalTimeError for the hour skipped in March, and for the repeated hour in
    October unless the caller says which one (fold=0 first, BST; fold=1 second, GMT).
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=LONDON, fold=0)
    second = naive.replace(tzinfo=LONDON, fold=1)
    # Round-trip detects the gap: a skipped time does not survive UTC and back.
    if first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != naive:
        raise LocalTimeError(
            f"{at:%H:%M} on {day:%-d %B %Y} does not exist in the UK: the clocks go forward an hour. "
            "Choose a time after 02:00."
        )
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise LocalTimeError(
                f"{at:%H:%M} on {day:%-d %B %Y} happens twice: the clocks go back an hour. "
                "Choose a time outside 01:00 to 02:00."
            )
        return (second if fold else first).astimezone(UTC)
    return first.astimezone(UTC)


def format_local(dt: datetime | None, fmt: str = "%-d %B %Y at %-I:%M%p") -> str:
    if dt is None:
        return ""
    text = to_local(dt).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


@lru_cache(maxsize=1)
def _bank_holidays() -> frozenset[date]:
    from govuk_bank_holidays.bank_holidays import BankHolidays

    holidays = BankHolidays(use_cached_holidays=True)
    return frozenset(h["date"] for h in holidays.get_holidays(division=BankHolidays.ENGLAND_AND_WALES))


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays()


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    if end <= start:
        return 0
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
