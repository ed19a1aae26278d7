"""The public pages of the calls: the list (no drafts), the gate of a call's page (drafts only
for department staff), and what the page states as the rules: criteria with weights and
thresholds, the jury's public names, the amendments, the organisers, in the reader's
language."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from rathaus.economy.constants import EntryStatus as OrganisationStatus
from rathaus.economy.tests.factories_directory import OrganisationFactory
from rathaus.innovation.constants import CallStatus, Scale
from rathaus.innovation.models import Amendment, Call, Criterion, JuryMember, Phase
from rathaus.innovation.selectors.calls import call_current_phase, call_rules

pytestmark = pytest.mark.django_db


def make_call(**values: Any) -> Call:
    defaults: dict[str, Any] = {
        "title": "Smart City Challenge",
        "title_en": "Smart City Challenge (EN)",
        "slug": "smart-city-challenge",
        "status": CallStatus.PUBLISHED,
        "challenge": "Wie finden Menschen freie Ladesäulen?",
        "challenge_en": "How do people find free charging points?",
        "prize": "Pilotauftrag mit der Stadt",
        "budget_euros": 50000,
        "eligibility": "Unternehmen mit Sitz in Sachsen",
        "terms": "Es gelten die Teilnahmebedingungen der Stadt.",
        "published_at": timezone.now(),
    }
    defaults.update(values)
    return Call.objects.create(**defaults)


def make_phase(call: Call, position: int, opens_in_days: int, **values: Any) -> Phase:
    opens = timezone.now() + timedelta(days=opens_in_days)
    defaults: dict[str, Any] = {
        "call": call,
        "position": position,
        "name": f"Phase {position}",
        "opens_at": opens,
        "closes_at": opens + timedelta(days=14),
        "evaluation_due_at": opens + timedelta(days=28),
    }
    defaults.update(values)
    return Phase.objects.create(**defaults)


@pytest.fixture
def call(personas: dict[str, Any]) -> Call:
    call = make_call()
    concept = make_phase(call, 1, -3, name="Konzept", name_en="Concept")
    make_phase(call, 2, 30, name="Pitch")
    Criterion.objects.create(
        phase=concept,
        position=1,
        name="Wirkung für die Stadt",
        name_en="Impact on the city",
        scale=Scale.POINTS,
        max_points=10,
        weight=Decimal("60"),
        threshold=Decimal("4"),
    )
    Criterion.objects.create(
        phase=concept,
        position=2,
        name="Machbarkeit",
        scale=Scale.HALF_POINTS,
        weight=Decimal("40"),
    )
    JuryMember.objects.create(
        call=call,
        user=personas["jury"],
        public_name="Dr. Ada Lindner",
        public_role="Amt für Digitalisierung",
        chair=True,
    )
    JuryMember.objects.create(
        call=call, user=personas["citizen"], public_name="Ausgeschieden", active=False
    )
    Amendment.objects.create(
        call=call,
        what="criterion",
        reason="Die Machbarkeit zählt in der Konzeptphase weniger.",
        before={"weight": "50"},
        after={"weight": "40"},
    )
    return call


def test_list_shows_published_calls_and_not_drafts(client: Client) -> None:
    make_call(title="Offene Daten Challenge", slug="offene-daten")
    make_call(title="Geheimer Entwurf", slug="entwurf", status=CallStatus.DRAFT)
    make_call(title="Vergangene Challenge", slug="vergangen", status=CallStatus.CLOSED)

    response = client.get("/wettbewerbe/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1" in page and "Innovationswettbewerbe" in page
    assert 'href="/wettbewerbe/offene-daten/"' in page
    assert 'href="/wettbewerbe/vergangen/"' in page
    assert "Geheimer Entwurf" not in page
    assert "2 Wettbewerbe" in page


def test_list_is_empty_without_public_calls(client: Client) -> None:
    make_call(status=CallStatus.DRAFT)
    response = client.get("/wettbewerbe/")
    assert "Zurzeit gibt es keine Wettbewerbe." in response.content.decode()


def test_list_shows_the_open_phase_with_its_closing_date(client: Client, call: Call) -> None:
    page = client.get("/wettbewerbe/").content.decode()
    assert "Konzept: Einreichung bis <time datetime=" in page


def test_draft_is_404_for_visitors_and_citizens(client: Client, personas: dict[str, Any]) -> None:
    make_call(slug="entwurf", status=CallStatus.DRAFT)

    assert client.get("/wettbewerbe/entwurf/").status_code == 404
    client.force_login(personas["citizen"])
    assert client.get("/wettbewerbe/entwurf/").status_code == 404


def test_department_staff_see_a_draft_with_a_warning(
    client: Client, personas: dict[str, Any]
) -> None:
    make_call(title="Geheimer Entwurf", slug="entwurf", status=CallStatus.DRAFT)
    client.force_login(personas["department"])

    response = client.get("/wettbewerbe/entwurf/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Geheimer Entwurf" in page
    assert "kern-alert--warning" in page
    assert "Entwurf: nicht öffentlich" in page


def test_published_call_shows_no_draft_warning(client: Client, call: Call) -> None:
    assert (
        "Entwurf: nicht öffentlich"
        not in client.get("/wettbewerbe/smart-city-challenge/").content.decode()
    )


def test_unknown_slug_is_404(client: Client, personas: dict[str, Any]) -> None:
    assert client.get("/wettbewerbe/gibt-es-nicht/").status_code == 404
    client.force_login(personas["department"])
    assert client.get("/wettbewerbe/gibt-es-nicht/").status_code == 404


def test_detail_shows_challenge_prize_budget_eligibility_and_terms(
    client: Client, call: Call
) -> None:
    response = client.get("/wettbewerbe/smart-city-challenge/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Smart City Challenge – " in page
    assert "Wie finden Menschen freie Ladesäulen?" in page
    assert "Pilotauftrag mit der Stadt" in page
    assert "50.000 €" in page
    assert "Unternehmen mit Sitz in Sachsen" in page
    assert "Es gelten die Teilnahmebedingungen der Stadt." in page


def test_detail_shows_the_timeline_with_the_open_phase(client: Client, call: Call) -> None:
    page = client.get("/wettbewerbe/smart-city-challenge/").content.decode()

    concept = call.phases.get(position=1)
    assert f'<time datetime="{timezone.localtime(concept.closes_at).isoformat()}' in page
    assert 'aria-current="step"' in page
    assert "Jetzt offen" in page


def test_detail_shows_criteria_with_scale_weight_and_threshold(client: Client, call: Call) -> None:
    page = client.get("/wettbewerbe/smart-city-challenge/").content.decode()

    assert "<caption" in page and 'aria-labelledby="criteria-caption-' in page
    for header in ("Kriterium", "Skala", "Gewicht", "Mindestwert"):
        assert f'scope="col">{header}</th>' in page
    assert "Wirkung für die Stadt" in page
    assert "0 bis 10 Punkte" in page
    assert "60 %" in page
    assert ">4</td>" in page
    assert "Machbarkeit" in page
    assert "40 %" in page
    assert "Für die Phase „Pitch“ sind noch keine Kriterien festgelegt." in page


def test_detail_shows_the_active_jury_by_public_name_never_the_account(
    client: Client, call: Call, personas: dict[str, Any]
) -> None:
    page = client.get("/wettbewerbe/smart-city-challenge/").content.decode()

    assert "Dr. Ada Lindner, Amt für Digitalisierung (Vorsitz)" in page
    assert personas["jury"].email not in page
    assert "Ausgeschieden" not in page  # left the jury


def test_detail_shows_amendments_with_their_reason(client: Client, call: Call) -> None:
    page = client.get("/wettbewerbe/smart-city-challenge/").content.decode()

    assert "Änderungen der Regeln" in page
    assert "Die Machbarkeit zählt in der Konzeptphase weniger." in page
    assert "Gewicht (Prozent): vorher 50, jetzt 40" in page


def test_detail_says_when_the_rules_were_not_changed(client: Client) -> None:
    make_call()
    page = client.get("/wettbewerbe/smart-city-challenge/").content.decode()
    assert "Die Regeln wurden seit der Veröffentlichung nicht geändert." in page
    assert "Die Jury wird noch benannt." in page


def test_detail_links_published_organisers_and_partners_by_slug(client: Client) -> None:
    organiser = OrganisationFactory(name="Spinlab Leipzig", slug="spinlab")
    partner = OrganisationFactory(name="Stadtwerke Leipzig", slug="stadtwerke")
    hidden = OrganisationFactory(
        name="Noch nicht freigegeben", slug="pending", status=OrganisationStatus.PENDING
    )
    make_call(organiser_ids=[organiser.pk, 999999], partner_ids=[partner.pk, hidden.pk])

    page = client.get("/wettbewerbe/smart-city-challenge/").content.decode()

    assert 'href="/wirtschaft/verzeichnis/spinlab/">Spinlab Leipzig</a>' in page
    assert 'href="/wirtschaft/verzeichnis/stadtwerke/">Stadtwerke Leipzig</a>' in page
    assert "Noch nicht freigegeben" not in page


def test_detail_in_english_shows_english_names_where_set(client: Client, call: Call) -> None:
    page = client.get(
        "/wettbewerbe/smart-city-challenge/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert '<html lang="en">' in page
    assert "Smart City Challenge (EN)" in page
    assert "How do people find free charging points?" in page
    assert "Impact on the city" in page
    assert "Wirkung für die Stadt" not in page
    assert "Machbarkeit" in page  # no English name: the German one


def test_current_phase_is_the_open_one_else_the_next_else_none() -> None:
    call = make_call()
    first = make_phase(call, 1, -3)
    second = make_phase(call, 2, 30)
    now = timezone.now()
    call = Call.objects.prefetch_related("phases").get(pk=call.pk)

    assert call_current_phase(call, now) == first
    assert call_current_phase(call, now + timedelta(days=15)) == second
    assert call_current_phase(call, now + timedelta(days=100)) is None


def test_rules_skip_unknown_organisations_and_keep_amendments_in_order(call: Call) -> None:
    Amendment.objects.create(call=call, what="jury", reason="Zweite Änderung")
    call.organiser_ids = ["kein-id", 123456789]
    call.save()

    with translation.override("de"):
        rules = call_rules(call)

    assert rules.organisers == []
    assert [a.reason for a in rules.amendments] == [
        "Die Machbarkeit zählt in der Konzeptphase weniger.",
        "Zweite Änderung",
    ]
    assert [seat.public_name for seat in rules.jury] == ["Dr. Ada Lindner"]
    assert rules.current_phase is not None and rules.current_phase.name == "Konzept"


def test_pillar_page_links_the_competitions(client: Client) -> None:
    page = client.get("/themen/leipzig-digital/").content.decode()
    assert 'href="/wettbewerbe/">Innovationswettbewerbe</a>' in page


def test_the_list_shows_each_person_their_way_in(personas: dict[str, Any]) -> None:
    from rathaus.accounts.tests.factories import UserFactory
    from rathaus.innovation.models import Call, JuryMember

    call = Call.objects.create(title="C", slug="c", challenge="…", status="published")
    juror = UserFactory()
    JuryMember.objects.create(call=call, user=juror, public_name="J")
    pages = {}
    for name, user in (("visitor", None), ("juror", juror), ("staff", personas["department"])):
        client = Client()
        if user is not None:
            client.force_login(user)
        pages[name] = client.get("/wettbewerbe/").content.decode()
    assert "/wettbewerbe/beitraege/" not in pages["visitor"]
    assert (
        "/wettbewerbe/jury/" in pages["juror"] and "/wettbewerbe/verwaltung/" not in pages["juror"]
    )
    assert "/wettbewerbe/verwaltung/" in pages["staff"]
