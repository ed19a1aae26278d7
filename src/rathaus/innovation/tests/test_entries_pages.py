"""The entry pages: starting an entry for one's organisation, the form's questions on the
entry's page with their messages, the deadline, and the staff's eligibility and decision
pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.crypto import decrypt_json
from rathaus.forms.models import Form
from rathaus.innovation.constants import Eligibility, EntryStatus, PhaseResult
from rathaus.innovation.models import Entry, EntryPhase
from rathaus.innovation.tests.test_entries_services import (
    close,
    make_call,
    member_of_new_organisation,
    publish_form,
    score,
    submitted_entry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea_form() -> Form:
    return publish_form()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(client: Client, call: Any, organisation: Any) -> Any:
    return client.post(
        f"/wettbewerbe/{call.slug}/teilnehmen/",
        {
            "beitrag-organisation": str(organisation.pk),
            "beitrag-title": "Ladesäulen-Radar",
            "beitrag-team": "Ines Vogel | Entwicklung\nTom Berg",
        },
    )


def test_a_member_starts_an_entry_answers_and_submits(idea_form: Form) -> None:
    call, _phases = make_call()
    user, organisation = member_of_new_organisation("ines@example.org", name="Datenwerk")
    client = logged_in(user)
    page = client.get(f"/wettbewerbe/{call.slug}/teilnehmen/").content.decode()
    assert "Datenwerk" in page
    response = start(client, call, organisation)
    entry = Entry.objects.get()
    assert response.status_code == 302 and response.url == f"/wettbewerbe/beitraege/{entry.pk}/"
    page = client.get(response.url).content.decode()
    assert 'name="idee"' in page and "Ihre Idee in einem Satz" in page

    # a missing required answer: the message at its field, the typed values kept
    response = client.post(
        response.url,
        {
            "action": "submit",
            "beitrag-title": "Ladesäulen-Radar",
            "beitrag-team": "Ines Vogel | Entwicklung",
            "budget": "5000",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'href="#idee"' in page and 'value="5000"' in page
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DRAFT

    response = client.post(
        f"/wettbewerbe/beitraege/{entry.pk}/",
        {
            "action": "submit",
            "beitrag-title": "Ladesäulen-Radar",
            "beitrag-team": "Ines Vogel | Entwicklung",
            "idee": "Freie Säulen auf der Karte",
            "budget": "5000",
        },
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED
    page = client.get(f"/wettbewerbe/beitraege/{entry.pk}/").content.decode()
    assert "Freie Säulen auf der Karte" in page
    assert "Ladesäulen-Radar" in client.get("/wettbewerbe/beitraege/").content.decode()


def test_after_the_deadline_the_page_says_so_and_keeps_what_was_typed(idea_form: Form) -> None:
    call, (phase, _second) = make_call()
    user, organisation = member_of_new_organisation("ines@example.org")
    client = logged_in(user)
    start(client, call, organisation)
    entry = Entry.objects.get()
    client.post(
        f"/wettbewerbe/beitraege/{entry.pk}/",
        {
            "action": "save",
            "beitrag-title": "Radar",
            "beitrag-team": "Ines",
            "idee": "Gespeicherter Entwurf",
        },
    )
    close(phase)
    response = client.post(
        f"/wettbewerbe/beitraege/{entry.pk}/",
        {"action": "submit", "beitrag-title": "Radar", "beitrag-team": "Ines", "idee": "Neu"},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Die Einreichungsfrist ist am " in page and 'value="Neu"' in page
    row = EntryPhase.objects.get(entry=entry)
    assert decrypt_json(row.answers_encrypted)["values"] == {"idee": "Gespeicherter Entwurf"}


def test_other_people_do_not_see_an_entry(idea_form: Form) -> None:
    call, _phases = make_call()
    entry = submitted_entry(call, "ines@example.org", "Radar")
    response = logged_in(UserFactory()).get(f"/wettbewerbe/beitraege/{entry.pk}/")
    assert response.status_code == 404


def test_someone_without_an_organisation_is_told_how_to_take_part(idea_form: Form) -> None:
    call, _phases = make_call()
    page = logged_in(UserFactory()).get(f"/wettbewerbe/{call.slug}/teilnehmen/").content.decode()
    assert "Mitglied keiner veröffentlichten Organisation" in page


def test_staff_check_eligibility_and_decide_on_their_pages(
    idea_form: Form, personas: dict[str, Any]
) -> None:
    call, (phase, _second) = make_call()
    alpha = submitted_entry(call, "alpha@example.org", "Alpha")
    beta = submitted_entry(call, "beta@example.org", "Beta")
    staff = logged_in(personas["department"])
    assert logged_in(alpha.created_by).get(
        f"/wettbewerbe/beitraege/pruefung/{call.slug}/"
    ).status_code in (403, 404)

    url = f"/wettbewerbe/beitraege/pruefung/{call.slug}/"
    assert "Alpha" in staff.get(url).content.decode()
    response = staff.post(url, {"entry": beta.pk, f"pruefung-{beta.pk}-decision": "ineligible"})
    assert response.status_code == 422
    assert "Bitte begründen Sie" in response.content.decode()
    response = staff.post(
        url,
        {
            "entry": beta.pk,
            f"pruefung-{beta.pk}-decision": "ineligible",
            f"pruefung-{beta.pk}-reason": "Kein Sitz in der Stadt.",
        },
    )
    assert response.status_code == 302
    beta.refresh_from_db()
    assert beta.eligibility == Eligibility.INELIGIBLE

    score(alpha, phase, "80")
    close(phase)
    decision = f"/wettbewerbe/beitraege/phasen/{phase.pk}/entscheidung/"
    page = staff.get(decision).content.decode()
    assert "Alpha" in page and "Nach der Regel weitergeben" in page
    assert staff.post(decision, {"action": "rule"}).status_code == 302
    assert EntryPhase.objects.get(entry=alpha, phase=phase).result == PhaseResult.ADVANCED
    response = staff.post(
        decision, {"action": "decide", "advanced": [alpha.pk], "reason": "Noch einmal."}
    )
    assert response.status_code == 409
    assert "Diese Phase wurde schon entschieden." in response.content.decode()
