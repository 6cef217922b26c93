"""Domain errors. A view turns each into a clear message on the form it came from."""


class DomainError(Exception):
    """A broken business rule. `field` names the form field the message belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None, reasons: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.reasons = reasons or [message]


class IllegalTransition(DomainError):
    """A status change that the lifecycle does not allow."""


class ConcurrentEdit(DomainError):
    """Someone else saved this record after the form was opened."""

    def __init__(self, message: str = "Someone else changed this record while you were editing it. "
                 "Your changes have not been saved: check the latest version below and make them again."):
        super().__init__(message)


class NotAllowed(DomainError):
    """The actor may not do this to this object."""


def check_version(obj, submitted_version) -> None:
    """Optimistic locking: refuse a save made from a form opened on an older version."""
    try:
        submitted = int(submitted_version)
    except (TypeError, ValueError):
        raise ConcurrentEdit() from None
    if submitted != obj.version:
        raise ConcurrentEdit()
