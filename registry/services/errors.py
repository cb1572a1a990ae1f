class ServiceError(Exception):
    """Base of the errors a service function raises for its caller to present."""


class PermissionDenied(ServiceError):
    def __init__(self, action: str, message: str | None = None):
        super().__init__(message or action)
        self.action = action


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    """The record changed since the user loaded it (optimistic locking)."""


class ValidationFailed(ServiceError):
    """Bad input, with messages keyed by field name ('' for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors
