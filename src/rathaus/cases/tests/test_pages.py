"""The back office's pages as a caseworker uses them: the inbox with its saved views,
filters, search, pages and bulk assignment; the workload for leads; the case page with the
application, its files, notes and the actions its status allows; conflicts and wrong input
answered clearly; nobody outside the office gets in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rathaus.cases.models import Case, CaseNote
from rathaus.cases.seeding import seed_cases
from rathaus.cases.tests.test_name_search import _case_of
from rathaus.core.models import AuditEntry
from rathaus.submissions.models import Submission
from rathaus.submissions.selectors import submission_timeline
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]
INBOX = "/verwaltung/vorgaenge/stelle/{}/"


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _references(html: str) -> list[str]:
    return re.findall(r'scope="row"><a class="kern-link" href="[^"]+">([^<]+)</a>', html)


def test_the_inbox_shows_the_offices_cases_with_saved_views_and_search(
    office: Any, personas: dict[str, Any]
) -> None:
    worker = personas["caseworker"]
    mine = _case_of("Jürgen", "Müller")
    other = _case_of("Ana", "Đorđević")
    client = _as(worker)
    client.post(f"/verwaltung/vorgaenge/{mine.pk}/zuweisung/", {"mir": "1", "version": "1"})
    page = client.get(INBOX.format(office.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert sorted(_references(html)) == sorted([mine.reference, other.reference])
    assert "Jürgen Müller" in html and "2 Vorgänge" in html
    # the saved views
    assert _references(client.get(INBOX.format(office.pk) + "?ansicht=meine").content.decode()) == [
        mine.reference
    ]
    assert _references(client.get(INBOX.format(office.pk) + "?ansicht=ohne").content.decode()) == [
        other.reference
    ]
    Case.objects.filter(pk=other.pk).update(due_on=timezone.localdate().replace(year=2020))
    overdue = client.get(INBOX.format(office.pk) + "?ansicht=ueberfaellig").content.decode()
    assert _references(overdue) == [other.reference] and "überfällig seit" in overdue
    # search by name (whole words) and by reference number as typed
    found = client.get(INBOX.format(office.pk), {"suche": "dordevic"}).content.decode()
    assert _references(found) == [other.reference]
    typed = mine.reference.lower().replace("-", " ")
    assert _references(client.get(INBOX.format(office.pk), {"suche": typed}).content.decode()) == [
        mine.reference
    ]
    # a filter with a wrong value is named, not ignored silently
    wrong = client.get(INBOX.format(office.pk), {"status": "verloren"})
    assert wrong.status_code == 200 and "Bitte prüfen Sie Ihre Angaben" in wrong.content.decode()


def test_the_inbox_pages_through_many_cases(office: Any, personas: dict[str, Any]) -> None:
    seed_cases(count=60)
    client = _as(personas["caseworker"])
    seen: list[str] = []
    url = INBOX.format(office.pk) + "?status=alle&sortierung=received"
    for number in (1, 2, 3):
        html = client.get(url + f"&seite={number}").content.decode()
        assert "60 Vorgänge" in html and f"Seite {number} von 3" in html
        seen += _references(html)
    assert len(seen) == len(set(seen)) == 60  # every case once, on a stable order
    past = client.get(url + "&seite=99").content.decode()  # beyond the end: the last page
    assert "Seite 3 von 3" in past
    # a full page takes no more queries than a short one (nothing is read row by row)
    with CaptureQueriesContext(connection) as full:
        client.get(url + "&seite=1")
    with CaptureQueriesContext(connection) as short:
        client.get(url + "&seite=3")  # 10 cases
    assert len(full.captured_queries) == len(short.captured_queries)


def test_a_caseworker_assigns_several_cases_at_once(office: Any, personas: dict[str, Any]) -> None:
    first, second = _case_of("Jürgen", "Müller"), _case_of("Anna", "Schmidt")
    worker, lead = personas["caseworker"], personas["lead"]
    client = _as(worker)
    answer = client.post(
        INBOX.format(office.pk) + "zuweisen/",
        {
            "case": [first.pk, second.pk],
            f"version-{first.pk}": first.version,
            f"version-{second.pk}": first.version + 5,  # changed by someone else meanwhile
            "assignee": lead.pk,
            "next": INBOX.format(office.pk),
        },
        follow=True,
    )
    html = answer.content.decode()
    assert "1 Vorgang zugewiesen" in html and "inzwischen von jemand anderem" in html
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.assignee == lead and second.assignee is None


def test_a_lead_sees_the_workload_per_person(office: Any, personas: dict[str, Any]) -> None:
    case = _case_of("Jürgen", "Müller")
    worker = personas["caseworker"]
    _as(worker).post(f"/verwaltung/vorgaenge/{case.pk}/zuweisung/", {"mir": "1", "version": "1"})
    _case_of("Anna", "Schmidt")
    page = _as(personas["lead"]).get(INBOX.format(office.pk) + "auslastung/")
    html = page.content.decode()
    assert page.status_code == 200
    rows = re.findall(r'scope="row">([^<]+)</th>\s*<td[^>]*>(\d+)</td>', html)
    assert (worker.get_full_name(), "1") in rows and ("niemand zugewiesen", "1") in rows
    assert _as(worker).get(INBOX.format(office.pk) + "auslastung/").status_code == 403
    # someone who left the office still shows with the cases they hold
    worker.memberships.all().delete()
    html = _as(personas["lead"]).get(INBOX.format(office.pk) + "auslastung/").content.decode()
    rows = re.findall(r'scope="row">([^<]+)</th>\s*<td[^>]*>(\d+)</td>', html)
    assert (worker.get_full_name(), "1") in rows


def test_the_case_page_shows_the_application_and_changes_status(
    office: Any, personas: dict[str, Any]
) -> None:
    citizen = Client()
    fill_in_dog_form(citizen, name="Jürgen", family_name="Müller", with_file=True)
    citizen.post("/antraege/absenden/hund-anmelden/")
    from rathaus.core.outbox import process_batch

    process_batch(worker_id="test", limit=20)
    case = Case.objects.get()
    worker = personas["caseworker"]
    client = _as(worker)
    url = f"/verwaltung/vorgaenge/{case.pk}/"
    html = client.get(url).content.decode()
    assert "Name des Hundes" in html and "Bello" in html  # answers with their labels
    assert "bescheid.pdf" in html and "Eingangsbestätigung (PDF)" in html
    attachment = case.submission.attachments.get()
    shown = client.get(f"{url}anlagen/{attachment.pk}/")
    assert shown.status_code == 200 and shown.content.startswith(b"%PDF")
    assert shown["Content-Disposition"].startswith("inline")
    assert "sandbox" in shown["Content-Security-Policy"]
    saved = client.get(f"{url}anlagen/{attachment.pk}/?herunterladen=1")
    assert saved["Content-Disposition"].startswith("attachment")
    receipt = client.get(f"{url}eingangsbestaetigung.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="case.access", object_id=str(case.pk)).count() == 4
    # only the statuses the table allows are offered
    assert 'value="in_progress"' in html and 'value="decided"' not in html
    done = client.post(
        f"{url}status/",
        {"to": "in_progress", "version": case.version, "citizen_text": "Wir prüfen Ihren Antrag."},
        follow=True,
    )
    assert "Der Status ist geändert." in done.content.decode()
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert submission_timeline(case.submission)[-1]["message"] == "Wir prüfen Ihren Antrag."
    note = client.post(f"{url}notizen/", {"text": "Halterin rief an."}, follow=True)
    assert "Halterin rief an." in note.content.decode() and CaseNote.objects.count() == 1


def test_a_stale_form_gets_a_conflict_and_overwrites_nothing(
    office: Any, personas: dict[str, Any]
) -> None:
    case = _case_of("Jürgen", "Müller")
    alice, bob = _as(personas["caseworker"]), _as(personas["lead"])
    url = f"/verwaltung/vorgaenge/{case.pk}/status/"
    assert alice.post(url, {"to": "in_progress", "version": 1}).status_code == 302
    second = bob.post(url, {"to": "withdrawn", "version": 1})  # the page Bob still had open
    assert second.status_code == 409
    assert "inzwischen von jemand anderem geändert" in second.content.decode()
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_wrong_input_on_the_case_page_is_named_in_german_and_english(
    office: Any, personas: dict[str, Any]
) -> None:
    case = _case_of("Jürgen", "Müller")
    client = _as(personas["caseworker"])
    url = f"/verwaltung/vorgaenge/{case.pk}/"
    not_allowed = client.post(url + "status/", {"to": "decided", "version": 1})
    html = not_allowed.content.decode()
    assert not_allowed.status_code == 400 and 'id="status_to_error"' in html
    assert "gültige Auswahl" in html  # "decided" is not offered from "received"
    empty = client.post(url + "notizen/", {"text": "   "})
    assert empty.status_code == 400 and 'id="note_text_error"' in empty.content.decode()
    client.post("/i18n/setlang/", {"language": "en"})
    english = client.post(url + "notizen/", {"text": ""})
    assert "This field is required" in english.content.decode()
    assert client.get(url + "anlagen/99999/").status_code == 404
    assert not CaseNote.objects.exists() and Case.objects.get().status == "received"


def test_nobody_outside_the_office_lists_opens_downloads_or_changes_a_case(
    office: Any, offices: dict[str, Any], personas: dict[str, Any]
) -> None:
    citizen = Client()
    fill_in_dog_form(citizen, with_file=True)
    citizen.post("/antraege/absenden/hund-anmelden/")
    from rathaus.core.outbox import process_batch

    process_batch(worker_id="test", limit=20)
    case = Case.objects.get()
    attachment = case.submission.attachments.get()
    url = f"/verwaltung/vorgaenge/{case.pk}/"
    for name in ("caseworker_other", "department", "admin", "citizen"):
        client = _as(personas[name])
        assert client.get(INBOX.format(office.pk)).status_code == 403
        assert client.get(url).status_code == 403
        assert client.get(f"{url}anlagen/{attachment.pk}/").status_code == 403
        assert client.get(f"{url}eingangsbestaetigung.pdf").status_code == 403
        assert client.post(f"{url}status/", {"to": "in_progress", "version": 1}).status_code == 403
        assert client.post(f"{url}notizen/", {"text": "x"}).status_code == 403
        assert client.post(f"{url}zuweisung/", {"mir": "1", "version": 1}).status_code == 403
        bulk = client.post(
            INBOX.format(office.pk) + "zuweisen/", {"case": [case.pk], "assignee": ""}
        )
        assert bulk.status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/konto/" in anonymous["Location"]
    case.refresh_from_db()
    assert (case.status, case.version, case.notes.count()) == ("received", 1, 0)
    assert Submission.objects.get().status == "received"


def test_forwarding_leaves_the_case_and_returns_to_the_own_inbox(
    office: Any, offices: dict[str, Any], personas: dict[str, Any]
) -> None:
    first, second = _case_of("Jürgen", "Müller"), _case_of("Anna", "Schmidt")
    client = _as(personas["caseworker"])
    from rathaus.cases.models import Tag

    Tag.objects.create(office=office, name="Eilt").cases.add(first)
    # an office chosen but another status: nothing moves and nothing names that office
    client.post(
        f"/verwaltung/vorgaenge/{second.pk}/status/",
        {"to": "in_progress", "version": 1, "office": offices["standesamt"].pk},
    )
    second.refresh_from_db()
    assert second.office == office
    assert second.events.last().details == {}
    forwarded = client.post(
        f"/verwaltung/vorgaenge/{first.pk}/status/",
        {"to": "forwarded", "version": 1, "office": offices["standesamt"].pk},
        follow=True,
    )
    assert forwarded.status_code == 200
    assert forwarded.redirect_chain[-1][0] == INBOX.format(office.pk)
    html = forwarded.content.decode()
    assert first.reference not in _references(html) and "1 Vorgang, angezeigt 1 bis 1" in html
    first.refresh_from_db()
    assert first.office == offices["standesamt"] and not first.tags.exists()
    # forwarding without a target is named at the field
    missing = client.post(
        f"/verwaltung/vorgaenge/{second.pk}/status/", {"to": "forwarded", "version": 2}
    )
    assert missing.status_code == 400 and 'id="status_office_error"' in missing.content.decode()


def test_wrong_page_numbers_and_case_ids_are_answered_without_errors(
    office: Any, personas: dict[str, Any]
) -> None:
    case = _case_of("Jürgen", "Müller")
    client = _as(personas["caseworker"])
    for page in ("x", "0", "²", "99999999"):
        answer = client.get(INBOX.format(office.pk), {"seite": page, "ansicht": "verloren"})
        assert answer.status_code == 200 and _references(answer.content.decode()) == [
            case.reference
        ]
    bulk = client.post(
        INBOX.format(office.pk) + "zuweisen/",
        {"case": ["²", "999999", str(case.pk)], f"version-{case.pk}": "1", "assignee": ""},
        follow=True,
    )
    assert bulk.status_code == 200 and "nicht gefunden" in bulk.content.decode()
    case.refresh_from_db()
    assert case.version == 2  # the valid one was assigned (to nobody)


def test_a_caseworker_sets_priority_and_tags_and_filters_by_them(
    office: Any, personas: dict[str, Any]
) -> None:
    case, other = _case_of("Jürgen", "Müller"), _case_of("Anna", "Schmidt")
    client = _as(personas["caseworker"])
    url = f"/verwaltung/vorgaenge/{case.pk}/einordnung/"
    saved = client.post(
        url, {"priority": "3", "tags": "Eilt,  Nachweis   fehlt, Eilt", "version": 1}
    )
    assert saved.status_code == 302
    case.refresh_from_db()
    assert case.priority == 3 and sorted(t.name for t in case.tags.all()) == [
        "Eilt",
        "Nachweis fehlt",
    ]
    assert case.events.last().kind == "classification"
    assert AuditEntry.objects.filter(action="case.classify", object_id=str(case.pk)).exists()
    tagged = client.get(INBOX.format(office.pk), {"schlagwort": "Nachweis fehlt"}).content.decode()
    assert _references(tagged) == [case.reference]
    by_priority = client.get(INBOX.format(office.pk), {"sortierung": "priority"}).content.decode()
    assert _references(by_priority) == [case.reference, other.reference]
    too_many = client.post(
        url, {"priority": "2", "tags": ",".join(f"T{i}" for i in range(11)), "version": 2}
    )
    assert too_many.status_code == 400 and "höchstens 10 Schlagwörter" in too_many.content.decode()
    stale = client.post(url, {"priority": "1", "tags": "", "version": 1})
    assert stale.status_code == 409
    case.refresh_from_db()
    assert case.priority == 3 and case.tags.count() == 2
