"""Exercise notification forms and record pages."""

from registry.exercises import bp  # noqa: F401
