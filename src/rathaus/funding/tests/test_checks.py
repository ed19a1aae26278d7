"""The funding register's settings are checked at start; amounts are read as people write them."""

from __future__ import annotations

from typing import Any

import pytest


def test_an_unknown_region_in_the_settings_stops_the_start(settings: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.FUNDING_REGIONS = ["EU", "DE", "DE-SX"]
    with pytest.raises(SystemCheckError, match="DE-SX"):
        call_command("check")
    settings.FUNDING_REGIONS = ["EU", "DE", "DE-SN"]
    call_command("check")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("1.234,56 €", "de", "1234.56"),
        ("1234.56", "de", "1234.56"),
        ("1,5", "de", "1.50"),
        ("1.250.000", "en", "1250000.00"),
        ("1,250,000", "de", "1250000.00"),
        ("50,000", "en", "50000.00"),
        ("€250,000.00", "en", "250000.00"),
    ],
)
def test_amounts_are_read_as_people_write_them(text: str, language: str, expected: str) -> None:
    from decimal import Decimal

    from django.utils import translation

    from rathaus.core.money import parse_amount

    with translation.override(language):
        assert parse_amount(text) == Decimal(expected)


def test_fifty_comma_thousand_is_ambiguous_in_german_and_says_how_to_write_it() -> None:
    from django.utils import translation

    from rathaus.core.money import parse_amount

    with translation.override("de"), pytest.raises(ValueError, match="nicht eindeutig"):
        parse_amount("50,000")
