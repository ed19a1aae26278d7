"""The staff's pages of the calls: preparing a call with phases, criteria and jury, publishing
it (or being told what is missing), and amending it afterwards with a public reason."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.models import AuditEntry
from rathaus.innovation.constants import CallStatus
from rathaus.innovation.models import Amendment, Call, Criterion, JuryMember, Phase

pytestmark = pytest.mark.django_db

BASE = "/wettbewerbe/verwaltung/"
LEIPZIG = ZoneInfo("Europe/Berlin")


@pytest.fixture
def staff_client(personas: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(personas["department"])
    return client


def call_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Smart City Challenge 2027",
        "challenge": "Wie finden Menschen freie Ladesäulen?",
        "tie_break": "criteria_order",
        "evaluators_per_entry": "2",
        "blind_scoring": "on",
        "disagreement_spread": "20",
    }
    values.update(overrides)
    return values


def phase_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Konzept",
        "opens_at": "2027-03-01T09:00",
        "closes_at": "2027-03-31T18:00",
        "evaluation_due_at": "2027-04-15T18:00",
        "advance_rule": "top_n",
        "advance_count": "10",
    }
    values.update(overrides)
    return values


def criterion_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Wirkung für die Stadt",
        "scale": "points",
        "max_points": "10",
        "weight": "60",
    }
    values.update(overrides)
    return values


def field_error(html: str, name: str) -> str:
    """The error text linked to the field ``name`` by aria-describedby (fails if not linked)."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
    assert tag, f"no field {name}"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described and f"id_{name}_error" in described.group(1).split(), tag.group(0)
    error = re.search(rf'<p class="kern-error" id="id_{name}_error">(.*?)</p>', html, re.S)
    assert error
    return re.sub(r"<[^>]+>", "", error.group(1)).strip()


def create_call(client: Client, **overrides: Any) -> Call:
    answer = client.post(BASE + "neu/", call_form(**overrides))
    assert answer.status_code == 302, answer.content.decode()
    return Call.objects.latest("pk")


def add_phase(client: Client, call: Call, **overrides: Any) -> Phase:
    answer = client.post(f"{BASE}{call.pk}/phasen/neu/", phase_form(**overrides))
    assert answer.status_code == 302, answer.content.decode()
    return call.phases.latest("pk")


def add_criterion(client: Client, call: Call, phase: Phase, **overrides: Any) -> Criterion:
    url = f"{BASE}{call.pk}/phasen/{phase.pk}/kriterien/neu/"
    answer = client.post(url, criterion_form(**overrides))
    assert answer.status_code == 302, answer.content.decode()
    return phase.criteria.latest("pk")


def add_juror(client: Client, call: Call, email: str, name: str, **overrides: Any) -> Any:
    data = {"email": email, "public_name": name, "public_role": "Professorin", **overrides}
    return client.post(f"{BASE}{call.pk}/jury/", data)


def prepared_call(client: Client) -> tuple[Call, Phase, Criterion, Criterion]:
    call = create_call(client)
    phase = add_phase(client, call)
    first = add_criterion(client, call, phase, weight="60")
    second = add_criterion(
        client, call, phase, name="Machbarkeit", scale="half_points", weight="40"
    )
    UserFactory(email="anna@example.org")
    UserFactory(email="ben@example.org")
    assert (
        add_juror(client, call, "Anna@Example.org", "Prof. Anna Weber", chair="on").status_code
        == 302
    )
    assert add_juror(client, call, "ben@example.org", "Ben Krause").status_code == 302
    return call, phase, first, second


def test_staff_prepare_and_publish_a_call(staff_client: Client) -> None:
    call = create_call(staff_client)
    assert call.status == CallStatus.DRAFT and call.blind_scoring
    edit = staff_client.get(f"{BASE}{call.pk}/").content.decode()
    assert "Der Wettbewerb hat noch keine Phase." in edit

    phase = add_phase(staff_client, call)
    # Leipzig local time (winter: UTC+1)
    assert phase.opens_at == datetime(2027, 3, 1, 9, 0, tzinfo=LEIPZIG)
    first = add_criterion(staff_client, call, phase, weight="62,5")
    second = add_criterion(
        staff_client, call, phase, name="Machbarkeit", scale="half_points", weight="37,5"
    )
    assert (first.weight, second.weight) == (Decimal("62.5"), Decimal("37.5"))
    assert second.max_points == 5

    UserFactory(email="anna@example.org")
    UserFactory(email="ben@example.org")
    assert add_juror(staff_client, call, "Anna@Example.org", "Prof. Anna Weber", chair="on")
    assert add_juror(staff_client, call, "ben@example.org", "Ben Krause")
    jury = JuryMember.objects.filter(call=call).order_by("-chair")
    assert [(m.user.email, m.public_name, m.chair) for m in jury] == [
        ("anna@example.org", "Prof. Anna Weber", True),
        ("ben@example.org", "Ben Krause", False),
    ]
    phase_page = staff_client.get(f"{BASE}{call.pk}/phasen/{phase.pk}/").content.decode()
    assert "Gewichte zusammen: 100 von 100 Prozent" in phase_page
    assert (
        'value="62,5"'
        in staff_client.get(
            f"{BASE}{call.pk}/phasen/{phase.pk}/kriterien/{first.pk}/"
        ).content.decode()
    )

    answer = staff_client.post(f"{BASE}{call.pk}/veroeffentlichen/", follow=True)

    call.refresh_from_db()
    assert call.status == CallStatus.PUBLISHED and call.published_at is not None
    assert "Der Wettbewerb ist veröffentlicht." in answer.content.decode()
    assert AuditEntry.objects.filter(action="innovation.call.publish").count() == 1
    listing = staff_client.get(BASE).content.decode()
    assert "Smart City Challenge 2027" in listing and "Veröffentlicht" in listing


def test_staff_see_what_keeps_an_incomplete_call_from_publication(staff_client: Client) -> None:
    call = create_call(staff_client)
    phase = add_phase(staff_client, call)
    add_criterion(staff_client, call, phase, weight="60")

    answer = staff_client.post(f"{BASE}{call.pk}/veroeffentlichen/", follow=True)

    page = answer.content.decode()
    assert "Der Wettbewerb kann noch nicht veröffentlicht werden." in page
    assert "Die Gewichte der Phase „Konzept“ ergeben 60 statt 100 Prozent." in page
    assert "Die Jury hat 0 Mitglieder; jeder Beitrag braucht aber 2 Bewertungen." in page
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT
    assert "ergeben 60 statt 100 Prozent" in staff_client.get(BASE).content.decode()


def test_citizen_gets_403_and_visitor_is_sent_to_log_in(
    client: Client, personas: dict[str, Any]
) -> None:
    call = Call.objects.create(title="Entwurf", slug="entwurf", challenge="Aufgabe")
    urls = [BASE, BASE + "neu/", f"{BASE}{call.pk}/", f"{BASE}{call.pk}/jury/"]

    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert answer["Location"].startswith(reverse("accounts:login") + "?next="), url
    client.force_login(personas["citizen"])
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(BASE + "neu/", call_form()).status_code == 403
    assert client.post(f"{BASE}{call.pk}/veroeffentlichen/").status_code == 403
    assert Call.objects.count() == 1


def test_after_publication_a_change_needs_a_reason_and_becomes_an_amendment(
    staff_client: Client,
) -> None:
    call, phase, first, _second = prepared_call(staff_client)
    staff_client.post(f"{BASE}{call.pk}/veroeffentlichen/")
    url = f"{BASE}{call.pk}/phasen/{phase.pk}/kriterien/{first.pk}/"
    page = staff_client.get(url).content.decode()
    assert "Begründung der Änderung (wird öffentlich gezeigt)" in page
    assert "öffentlich auf seiner Seite gezeigt" in page

    answer = staff_client.post(url, criterion_form(threshold="4"))

    assert answer.status_code == 422
    html = answer.content.decode()
    assert "Bitte begründen Sie die Änderung" in field_error(html, "reason")
    assert 'value="4"' in html  # what was typed stays
    first.refresh_from_db()
    assert first.threshold is None and not Amendment.objects.exists()

    answer = staff_client.post(
        url, criterion_form(threshold="4", reason="Klarstellung nach Rückfragen")
    )

    assert answer.status_code == 302
    first.refresh_from_db()
    assert first.threshold == Decimal(4)
    amendment = Amendment.objects.get()
    assert (amendment.what, amendment.reason) == ("criterion", "Klarstellung nach Rückfragen")
    assert amendment.after["threshold"] == "4"
    public = Client().get(f"/wettbewerbe/{call.slug}/").content.decode()
    assert "Klarstellung nach Rückfragen" in public


def test_after_publication_taking_a_juror_off_needs_a_reason(staff_client: Client) -> None:
    call, _phase, _first, _second = prepared_call(staff_client)
    Call.objects.filter(pk=call.pk).update(evaluators_per_entry=1)
    staff_client.post(f"{BASE}{call.pk}/veroeffentlichen/")
    member = JuryMember.objects.get(call=call, public_name="Ben Krause")
    url = f"{BASE}{call.pk}/jury/{member.pk}/entfernen/"

    missing = staff_client.post(url, {})
    assert missing.status_code == 422 and field_error(missing.content.decode(), "reason")
    assert staff_client.post(url, {"reason": "Ist umgezogen"}).status_code == 302

    member.refresh_from_db()
    assert not member.active
    assert Amendment.objects.get().what == "jury"


def test_a_criterion_of_a_draft_can_be_deleted(staff_client: Client) -> None:
    call = create_call(staff_client)
    phase = add_phase(staff_client, call)
    criterion = add_criterion(staff_client, call, phase)
    url = f"{BASE}{call.pk}/phasen/{phase.pk}/kriterien/{criterion.pk}/loeschen/"
    assert "löschen?" in staff_client.get(url).content.decode()

    assert staff_client.post(url).status_code == 302
    assert not Criterion.objects.exists()


def test_weight_above_100_is_shown_at_its_field_with_the_typed_values(
    staff_client: Client,
) -> None:
    call = create_call(staff_client)
    phase = add_phase(staff_client, call)

    answer = staff_client.post(
        f"{BASE}{call.pk}/phasen/{phase.pk}/kriterien/neu/",
        criterion_form(name="Innovationsgrad", weight="150"),
    )

    assert answer.status_code == 422
    html = answer.content.decode()
    assert field_error(html, "weight") == "Das Gewicht liegt über 0 und höchstens bei 100 Prozent."
    assert 'value="150"' in html and 'value="Innovationsgrad"' in html
    assert 'href="#id_weight"' in html  # the summary links to the field
    assert not Criterion.objects.exists()


def test_an_impossible_date_is_shown_at_its_field(staff_client: Client) -> None:
    call = create_call(staff_client)

    answer = staff_client.post(
        f"{BASE}{call.pk}/phasen/neu/", phase_form(name="Pitch", closes_at="31.02.2027")
    )

    assert answer.status_code == 422
    html = answer.content.decode()
    assert field_error(html, "closes_at").startswith("Bitte ein gültiges Datum mit Uhrzeit")
    assert 'value="31.02.2027"' in html and 'value="Pitch"' in html
    assert not Phase.objects.exists()


def test_dates_in_the_wrong_order_are_shown_at_the_field_the_service_names(
    staff_client: Client,
) -> None:
    call = create_call(staff_client)

    answer = staff_client.post(
        f"{BASE}{call.pk}/phasen/neu/", phase_form(closes_at="01.02.2027 10:00")
    )

    assert answer.status_code == 422
    assert field_error(answer.content.decode(), "closes_at") == (
        "Die Einreichung muss nach ihrem Beginn enden."
    )


def test_an_unknown_jury_address_is_shown_at_the_email_field(staff_client: Client) -> None:
    call = create_call(staff_client)

    answer = add_juror(staff_client, call, "niemand@example.org", "Nora Niemand")

    assert answer.status_code == 422
    html = answer.content.decode()
    assert field_error(html, "email") == "Zu dieser E-Mail-Adresse gibt es kein Konto."
    assert 'value="niemand@example.org"' in html and 'value="Nora Niemand"' in html
    assert not JuryMember.objects.exists()


def test_the_call_page_offers_published_organisations_and_keeps_the_chosen(
    staff_client: Client,
) -> None:
    from rathaus.economy.constants import EntryStatus
    from rathaus.economy.models import Organisation

    shown = Organisation.objects.create(
        name="Ladenetz GmbH", slug="ladenetz", status=EntryStatus.PUBLISHED
    )
    call = create_call(staff_client, organiser_ids=[str(shown.pk)])

    assert call.organiser_ids == [shown.pk]
    page = staff_client.get(f"{BASE}{call.pk}/").content.decode()
    assert re.search(rf'<option value="{shown.pk}" selected>Ladenetz GmbH</option>', page)
