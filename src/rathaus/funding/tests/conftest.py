"""Shared fixtures of the funding tests: an EU programme with an open call (one deadline in
four weeks, 17:00 Brussels time), a closed call, a measure and an application of the city."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.core.themes import Theme, mask_of
from rathaus.funding.constants import ApplicantType, CallStatus, Level, Region
from rathaus.funding.models import Application, Call, CallDeadline, Programme
from rathaus.strategy.models import Measure, Strategy


@pytest.fixture
def funding(personas: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    programme = Programme.objects.create(
        name="Digital Europe Programme",
        code="DIGITAL",
        funder="Europäische Kommission",
        level=Level.EU,
        themes_mask=mask_of([Theme.DIGITALISATION, Theme.DATA, Theme.SMART_CITY], Theme),
        applicant_types_mask=mask_of(
            [ApplicantType.MUNICIPALITY, ApplicantType.SME, ApplicantType.RESEARCH],
            ApplicantType,
        ),
        regions_mask=mask_of([Region.EU], Region),
        rate_max=Decimal("50"),
        amount_min=Decimal("500000"),
        amount_max=Decimal("5000000"),
        source_url="https://digital-strategy.ec.europa.eu/",
    )
    brussels = ZoneInfo("Europe/Brussels")
    due = (
        (now + timedelta(days=28))
        .astimezone(brussels)
        .replace(hour=17, minute=0, second=0, microsecond=0)
    )
    open_call = Call.objects.create(
        programme=programme,
        identifier="DIGITAL-2026-AI-01",
        title="Local digital twins",
        status=CallStatus.OPEN,
        budget=Decimal("20000000"),
        expected_grants=8,
        final_deadline=due,
    )
    CallDeadline.objects.create(call=open_call, due_at=due, timezone="Europe/Brussels")
    closed_call = Call.objects.create(
        programme=programme,
        identifier="DIGITAL-2024-AI-01",
        title="Earlier call",
        status=CallStatus.CLOSED,
        final_deadline=now - timedelta(days=400),
    )
    CallDeadline.objects.create(
        call=closed_call, due_at=now - timedelta(days=400), timezone="Europe/Brussels"
    )
    strategy = Strategy.objects.create(name="Leipzig.digital", slug="leipzig-digital")
    measure = Measure.objects.create(
        code="LD-3.2",
        title="Urbane Datenplattform",
        themes_mask=mask_of([Theme.DATA], Theme),
        planned_budget=Decimal("2000000"),
    )
    measure.strategies.add(strategy)
    application = Application.objects.create(
        call=open_call,
        title="Digitaler Zwilling Leipziger Westen",
        acronym="TWIN-WEST",
        total_cost=Decimal("2000000"),
        requested_funding=Decimal("1000000"),
        own_share=Decimal("1000000"),
        responsible=personas["department"],
    )
    return {
        "now": now,
        "programme": programme,
        "call": open_call,
        "closed_call": closed_call,
        "measure": measure,
        "strategy": strategy,
        "application": application,
        "staff": personas["department"],
    }


@pytest.fixture
def staff_client(personas: dict[str, Any]) -> Client:
    """A browser session of the department's staff member (logged in)."""
    client = Client()
    client.force_login(personas["department"])
    return client
