"""The cases API for an office's own software: the office's token lists, reads and changes
its own cases and notes and nobody else's; stale versions get 409, changes the workflow does
not allow get 422, both with messages in German and English; a token without the write scope
reads only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rathaus.cases.models import Case, CaseNote
from rathaus.cases.seeding import seed_cases
from rathaus.cases.tests.test_name_search import _case_of
from rathaus.core.models import AuditEntry
from rathaus.submissions.selectors import submission_timeline
from rathaus.submissions.services import api_token_create
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


def _token(office: Any, *scopes: str) -> dict[str, str]:
    _record, secret = api_token_create(
        office=office, name="Fachverfahren", scopes=list(scopes), actor=None
    )
    return {"Authorization": f"Bearer {secret}"}


def test_an_office_reads_and_changes_its_cases_through_the_api(
    office: Any, personas: dict[str, Any]
) -> None:
    case = _case_of("Jürgen", "Müller")
    headers = _token(office, "cases:read", "cases:write")
    api = Client()
    listing = api.get("/api/v1/cases", headers=headers).json()
    assert listing["count"] == 1
    (item,) = listing["items"]
    assert (item["reference"], item["status"], item["applicant"], item["version"]) == (
        case.reference,
        "received",
        "Jürgen Müller",
        1,
    )
    assert api.get("/api/v1/cases?q=mueller", headers=headers).json()["count"] == 1
    assert api.get("/api/v1/cases?q=Schmidt", headers=headers).json()["count"] == 0
    changed = api.post(
        f"/api/v1/cases/{case.reference}/transitions",
        {"to": "in_progress", "version": 1, "citizen_text": "Wir prüfen Ihren Antrag."},
        content_type="application/json",
        headers=headers,
    )
    assert changed.status_code == 200
    body = changed.json()
    assert body["status"] == "in_progress" and body["version"] == 2
    assert [h["to_status"] for h in body["history"]] == ["received", "in_progress"]
    assert body["citizen_timeline"][-1]["message"] == "Wir prüfen Ihren Antrag."
    assert submission_timeline(Case.objects.get().submission)[-1]["status"] == "in_progress"
    entry = AuditEntry.objects.get(action="case.transition")
    assert entry.after["token"] and entry.actor is None  # which token did it
    note = api.post(
        f"/api/v1/cases/{case.reference}/notes",
        {"text": "Rückruf vereinbart."},
        content_type="application/json",
        headers=headers,
    )
    assert note.status_code == 201
    notes = api.get(f"/api/v1/cases/{case.reference}/notes", headers=headers).json()
    assert [n["text"] for n in notes] == ["Rückruf vereinbart."]


def test_stale_versions_and_forbidden_steps_are_refused_in_german_and_english(
    office: Any,
) -> None:
    case = _case_of("Jürgen", "Müller")
    headers = _token(office, "cases:read", "cases:write")
    api = Client()
    url = f"/api/v1/cases/{case.reference}/transitions"
    not_allowed = api.post(
        url, {"to": "closed", "version": 1}, content_type="application/json", headers=headers
    )
    assert not_allowed.status_code == 422
    messages = not_allowed.json()["messages"]
    assert "kann nicht" in messages["de"] and "cannot" in messages["en"]
    api.post(
        url, {"to": "in_progress", "version": 1}, content_type="application/json", headers=headers
    )
    stale = api.post(
        url, {"to": "withdrawn", "version": 1}, content_type="application/json", headers=headers
    )
    assert stale.status_code == 409
    assert "inzwischen" in stale.json()["messages"]["de"]
    assert "someone else" in stale.json()["messages"]["en"]
    unknown = api.post(
        url, {"to": "verloren", "version": 2}, content_type="application/json", headers=headers
    )
    assert unknown.status_code == 422
    empty = api.post(
        f"/api/v1/cases/{case.reference}/notes",
        {"text": "  "},
        content_type="application/json",
        headers=headers,
    )
    assert empty.status_code == 422 and "Notiz" in empty.json()["messages"]["de"]
    case.refresh_from_db()
    assert (case.status, case.version, CaseNote.objects.count()) == ("in_progress", 2, 0)


def test_another_offices_token_finds_nothing_and_a_read_token_changes_nothing(
    office: Any, offices: dict[str, Any]
) -> None:
    case = _case_of("Jürgen", "Müller")
    other = _token(offices["standesamt"], "cases:read", "cases:write")
    api = Client()
    assert api.get("/api/v1/cases", headers=other).json()["count"] == 0
    assert api.get(f"/api/v1/cases/{case.reference}", headers=other).status_code == 404
    assert api.get(f"/api/v1/cases/{case.reference}/notes", headers=other).status_code == 404
    assert (
        api.post(
            f"/api/v1/cases/{case.reference}/transitions",
            {"to": "in_progress", "version": 1},
            content_type="application/json",
            headers=other,
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"/api/v1/cases/{case.reference}/notes",
            {"text": "x"},
            content_type="application/json",
            headers=other,
        ).status_code
        == 404
    )
    reader = _token(office, "cases:read")
    assert api.get(f"/api/v1/cases/{case.reference}", headers=reader).status_code == 200
    refused = api.post(
        f"/api/v1/cases/{case.reference}/transitions",
        {"to": "in_progress", "version": 1},
        content_type="application/json",
        headers=reader,
    )
    assert refused.status_code == 403
    pull_only = _token(office, "submissions:read")
    assert api.get("/api/v1/cases", headers=pull_only).status_code == 403
    assert api.get("/api/v1/cases").status_code == 401
    case.refresh_from_db()
    assert (case.status, case.version) == ("received", 1)


def test_the_case_list_takes_the_same_number_of_queries_for_many_cases(
    office: Any, personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    seed_cases(count=60)
    headers = _token(office, "cases:read")
    api = Client()
    with django_assert_max_num_queries(6):
        body = api.get("/api/v1/cases?status=all&limit=50", headers=headers).json()
    assert body["count"] == 60 and len(body["items"]) == 50
