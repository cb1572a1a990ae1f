"""The list of exercise notifications, the year view and the iCalendar feed."""

from registry.exercises import bp  # noqa: F401
