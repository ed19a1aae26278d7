"""The competitions in Chromium: a visitor finds a call from the list, reads its criteria
and its jury. axe-core on every page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def call() -> Any:
    from django.utils import timezone

    from rathaus.accounts.tests.factories import UserFactory
    from rathaus.innovation.constants import CallStatus, Scale
    from rathaus.innovation.models import Amendment, Call, Criterion, JuryMember, Phase

    call = Call.objects.create(
        title="Smart City Challenge",
        slug="smart-city-challenge",
        status=CallStatus.PUBLISHED,
        challenge="Wie finden Menschen freie Ladesäulen?",
        prize="Pilotauftrag mit der Stadt",
        budget_euros=50000,
        published_at=timezone.now(),
    )
    opens = timezone.now() - timedelta(days=2)
    phase = Phase.objects.create(
        call=call,
        position=1,
        name="Konzept",
        opens_at=opens,
        closes_at=opens + timedelta(days=14),
        evaluation_due_at=opens + timedelta(days=28),
    )
    Criterion.objects.create(
        phase=phase,
        position=1,
        name="Wirkung für die Stadt",
        scale=Scale.POINTS,
        max_points=10,
        weight=Decimal("60"),
        threshold=Decimal("4"),
    )
    Criterion.objects.create(
        phase=phase, position=2, name="Machbarkeit", scale=Scale.YES_NO, weight=Decimal("40")
    )
    JuryMember.objects.create(
        call=call,
        user=UserFactory(email="ada@example.org"),
        public_name="Dr. Ada Lindner",
        public_role="Amt für Digitalisierung",
        chair=True,
    )
    Amendment.objects.create(
        call=call,
        what="criterion",
        reason="Die Machbarkeit zählt weniger.",
        before={"weight": "50"},
        after={"weight": "40"},
    )
    return call


def test_visitor_finds_a_call_and_reads_its_criteria_and_jury(
    page: Any, live_server: Any, axe: Any, call: Any, console_errors: list[str]
) -> None:
    page.goto(live_server.url + "/wettbewerbe/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Innovationswettbewerbe")
    axe.check()

    page.get_by_role("link", name="Smart City Challenge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Smart City Challenge")
    table = page.get_by_role("table", name="Kriterien: Konzept")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Kriterium", "Skala", "Gewicht", "Mindestwert"]
    )
    row = table.get_by_role("row", name="Wirkung für die Stadt")
    expect(row.get_by_role("cell")).to_have_text(["0 bis 10 Punkte", "60 %", "4"])
    expect(page.get_by_role("region", name="Kriterien: Konzept")).to_be_visible()
    jury = page.get_by_role("list", name="Jury")
    expect(jury.get_by_role("listitem")).to_have_text(
        ["Dr. Ada Lindner, Amt für Digitalisierung (Vorsitz)"]
    )
    expect(page.get_by_text("Die Machbarkeit zählt weniger.")).to_be_visible()
    axe.check()
    assert not console_errors
