"""The staff's progress and ranking pages with the CSV export, and the public results with
the anonymised breakdown per criterion."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.innovation.constants import AssignmentState, PhaseResult
from rathaus.innovation.models import Assignment, EntryPhase, Phase
from rathaus.innovation.services.results import results_publish
from rathaus.innovation.tests.test_ranking import entry, evaluate

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_progress_and_ranking_for_staff_only(
    setup: dict[str, Any], personas: dict[str, Any]
) -> None:
    good, weak = entry(setup, "=Formel GmbH Idee"), entry(setup, "Schwach")
    evaluate(setup, good, 0, "5", "4.5")
    evaluate(setup, weak, 1, "1", "2")
    Assignment.objects.create(entry_phase=weak, evaluator=setup["jury"][0])
    staff = logged_in(personas["department"])
    call, phase = setup["call"], setup["phase"]
    progress = staff.get(f"/wettbewerbe/verwaltung/{call.pk}/fortschritt/")
    assert progress.status_code == 200
    page = progress.content.decode()
    assert "Juror 0" in page and "1/2" in page and "1 Bewertung überfällig" in page
    ranking = staff.get(f"/wettbewerbe/verwaltung/phasen/{phase.pk}/rangliste/").content.decode()
    assert ranking.index("=Formel GmbH Idee") < ranking.index("Schwach")
    assert "96,00" in ranking  # 60 + 36, as German numbers are written
    exported = staff.get(f"/wettbewerbe/verwaltung/phasen/{phase.pk}/rangliste.csv")
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode().lstrip("\ufeff"))))
    assert rows[0][:5] == ["platz", "beitrag_id", "titel", "organisation_id", "punkte"]
    assert rows[1][2] == "'=Formel GmbH Idee"  # no formula for the spreadsheet
    assert rows[1][8] == "Juror 0" and rows[1][-2:] == ["5.00", "4.50"]
    staff.post(f"/wettbewerbe/verwaltung/phasen/{phase.pk}/rangliste/festhalten/")
    good.refresh_from_db()
    assert good.rank == 1
    citizen = logged_in(personas["citizen"])
    for url in (
        f"/wettbewerbe/verwaltung/{call.pk}/fortschritt/",
        f"/wettbewerbe/verwaltung/phasen/{phase.pk}/rangliste/",
        f"/wettbewerbe/verwaltung/phasen/{phase.pk}/rangliste.csv",
    ):
        assert citizen.get(url).status_code == 403
        assert Client().get(url).status_code == 302  # log in first
    assert staff.get("/wettbewerbe/verwaltung/phasen/999999/rangliste/").status_code == 404


def test_results_are_public_only_when_published_and_name_no_evaluator(
    setup: dict[str, Any],
    personas: dict[str, Any],
) -> None:
    winner, other = entry(setup, "Ladesäulen-Finder"), entry(setup, "Zweiter")
    evaluate(setup, winner, 0, "5", "4")
    evaluate(setup, winner, 1, "4", "5")
    evaluate(setup, other, 0, "2", "2")
    url = f"/wettbewerbe/{setup['call'].slug}/ergebnisse/"
    assert Client().get(url).status_code == 404
    staff = logged_in(personas["department"])
    failed = staff.post(
        f"/wettbewerbe/verwaltung/{setup['call'].pk}/ergebnisse/", follow=True
    ).content.decode()
    assert "noch keine Gewinner" in failed
    EntryPhase.objects.filter(pk=winner.pk).update(result=PhaseResult.WINNER)
    Phase.objects.filter(pk=setup["phase"].pk).update(decided_at=timezone.now())
    results_publish(actor=personas["department"], call_id=setup["call"].pk)
    page = Client().get(url).content.decode()
    assert "Ladesäulen-Finder" in page and "Zweiter" not in page
    assert "4,50 von 5" in page  # the mean of 5 and 4
    assert "4 – 5" in page  # the span
    assert "Juror" not in page  # nobody's own score
    assert Assignment.objects.filter(state=AssignmentState.SUBMITTED).count() == 3
