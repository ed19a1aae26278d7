"""Staff follow a call's evaluation in Chromium: the progress page ("1/2" per evaluator,
overdue ones, the reminder button), the ranking, and the public results with the anonymised
breakdown. axe-core on every page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_follow_progress_ranking_and_publish_results(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    from django.utils import timezone

    from rathaus.accounts.constants import Role
    from rathaus.accounts.tests.factories import PASSWORD, UserFactory, with_role
    from rathaus.innovation.constants import (
        AssignmentState,
        CallStatus,
        Eligibility,
        EntryStatus,
        PhaseResult,
        Scale,
    )
    from rathaus.innovation.models import (
        Assignment,
        Call,
        Criterion,
        Entry,
        EntryPhase,
        JuryMember,
        Phase,
        Score,
    )

    now = timezone.now()
    call = Call.objects.create(
        title="Smart City Challenge", slug="scc", challenge="…", status=CallStatus.PUBLISHED
    )
    phase = Phase.objects.create(
        call=call,
        position=1,
        name="Konzept",
        opens_at=now - timedelta(days=30),
        closes_at=now - timedelta(days=10),
        evaluation_due_at=now - timedelta(days=1),
        advance_count=1,
        decided_at=now,
    )
    impact = Criterion.objects.create(
        phase=phase, position=1, name="Wirkung", scale=Scale.HALF_POINTS, weight=100, max_points=5
    )
    jury = [
        JuryMember.objects.create(call=call, user=UserFactory(), public_name=f"Juror {i}")
        for i in range(2)
    ]
    author = UserFactory()
    for number, (title, value) in enumerate((("Ladesäulen-Finder", "4.5"), ("Zweiter", "2"))):
        entry = Entry.objects.create(
            call=call,
            organisation_id=number + 1,
            title=title,
            created_by=author,
            status=EntryStatus.SUBMITTED,
            eligibility=Eligibility.ELIGIBLE,
            current_phase=phase,
            submitted_at=now - timedelta(days=12),
        )
        entry_phase = EntryPhase.objects.create(
            entry=entry,
            phase=phase,
            result=PhaseResult.WINNER if number == 0 else PhaseResult.NOT_ADVANCED,
        )
        done = Assignment.objects.create(
            entry_phase=entry_phase,
            evaluator=jury[0],
            state=AssignmentState.SUBMITTED,
            weighted_total=Decimal(value) * 20,
        )
        Score.objects.create(assignment=done, criterion=impact, value=Decimal(value))
        Assignment.objects.create(entry_phase=entry_phase, evaluator=jury[1])  # overdue
    with_role(UserFactory(email="innovation@example.org"), Role.DEPARTMENT_STAFF)

    page.goto(live_server.url + f"/wettbewerbe/verwaltung/{call.pk}/fortschritt/")
    page.get_by_label("E-Mail-Adresse").fill("innovation@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fortschritt: Smart City Challenge")
    table = page.get_by_role("table", name="Bewertungen je Jurymitglied: Konzept")
    expect(table.get_by_role("row", name="Juror 0")).to_contain_text("2/2")
    expect(table.get_by_role("row", name="Juror 1")).to_contain_text("0/2")
    axe.check()
    page.get_by_role("button", name="Erinnerungen jetzt senden").click()
    expect(page.get_by_role("status").first).to_contain_text("Eine Erinnerung an 1 Jurymitglied")
    axe.check()

    page.get_by_role("link", name="Rangliste: Konzept").click()
    ranking = page.get_by_role("table", name="Rangliste der Phase Konzept")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("Ladesäulen-Finder")
    axe.check()

    page.goto(live_server.url + f"/wettbewerbe/verwaltung/{call.pk}/fortschritt/")
    page.get_by_role("button", name="Ergebnisse veröffentlichen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ergebnisse: Smart City Challenge")
    expect(page.get_by_role("heading", level=2, name="Ladesäulen-Finder")).to_be_visible()
    expect(page.get_by_text("Zweiter")).to_have_count(0)
    axe.check()
