"""The funding register's settings are checked at start."""

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
