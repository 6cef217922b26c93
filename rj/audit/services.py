"""Writing and reading the audit trail."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from rj.audit.models import AuditEvent
from rj.core.time import now_utc
from rj.extensions import db


def record(action: str, obj=None, *, actor=None, case_id: int | None = None,
           fields: list[str] | None = None, detail: dict | None = None,
           object_type: str | None = None, object_id: int | None = None,
           now: datetime | None = None) -> AuditEvent:
    """Add an audit event to the current transaction (flushed with the change itself)."""
    obj = _unwrap(obj)
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        if object_id is None:
            if getattr(obj, "id", None) is None:
                db.session.flush()
            object_id = obj.id
    event = AuditEvent(
        at=now or now_utc(),
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type or "system",
        object_id=object_id,
        case_id=case_id,
        fields=sorted(fields) if fields else None,
        detail=detail,
    )
    db.session.add(event)
    return event


def _unwrap(obj):
    """current_user is a proxy; the audit trail needs the model behind it."""
    getter = getattr(obj, "_get_current_object", None)
    return getter() if getter else obj


def changed_fields(obj, data: dict) -> list[str]:
    """Apply `data` to `obj` and return the names of the attributes whose values changed."""
    changed = []
    for name, value in data.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def case_timeline(case_id: int, *, limit: int = 500) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.at, AuditEvent.id).limit(limit)
    ))
