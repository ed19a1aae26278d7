"""The funding register's services, one module per part. Shared here: how a value is written
into the audit log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rathaus.core.money import CENT


def audit_value(value: Any) -> Any:
    """The JSON form of a value for the audit log: amounts with two places (1e6 and
    1000000.00 are the same amount), dates and times in ISO form, lists item by item."""
    if isinstance(value, Decimal):
        return f"{value.quantize(CENT):f}"
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [audit_value(item) for item in value]
    return value
