"""Text for CSV files that people open in spreadsheets."""

from __future__ import annotations

from typing import Any

# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, with an apostrophe in front;
    anything else as it is. Names come from staff, feeds and uploads."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
