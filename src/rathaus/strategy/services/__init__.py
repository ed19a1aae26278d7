"""The strategy pillar's services (every write), one module per part: ``measures``
(strategies, fields of action, measures, sub-measures, milestones, progress roll-up), ``kpis``
(indicators, observations and their corrections, automatic values), ``publication``
(publishing a strategy's state), ``csv_io`` (import), ``reminders`` (stale entries).

Shared here: the error a service raises when the rules do not allow a change, and how a value
is written into the audit log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any


class StrategyError(Exception):
    """A change the rules do not allow; ``message`` is shown to the editor (German, English
    through gettext), ``field`` names the form field it belongs to (or None)."""

    def __init__(self, message: Any, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


def audit_value(value: Any) -> Any:
    """The JSON form of a value for the audit log: numbers without trailing zeros, dates and
    times in ISO form, files by name, lists item by item."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [audit_value(item) for item in value]
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return value


def state_of(instance: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The audit form of these fields of a model instance (``_id`` for foreign keys)."""
    return {name: audit_value(getattr(instance, name)) for name in names}
