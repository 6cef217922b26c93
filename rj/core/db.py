"""Database types and model helpers shared by every domain."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, String, TypeDecorator

from rj.core.errors import IllegalTransition
from rj.core.time import UTC


class UTCDateTime(TypeDecorator):
    """A timestamp column that rejects naive datetimes and always returns aware UTC.

    SQLite has no time zones, so values are stored as UTC and re-labelled on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], length: int = 32) -> String:
    """Enums are stored as their string values (readable in SQL, safe to extend)."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        create_constraint=False,
    )


class StatusMixin:
    """An explicit lifecycle: `TRANSITIONS` maps each status to the statuses it may move to."""

    TRANSITIONS: ClassVar[dict] = {}

    def can_transition(self, new_status) -> bool:
        return new_status in self.TRANSITIONS.get(self.status, ())

    def transition(self, new_status) -> None:
        if not self.can_transition(new_status):
            raise IllegalTransition(
                f"{type(self).__name__} cannot move from {self.status.value} to {new_status.value}"
            )
        self.status = new_status
