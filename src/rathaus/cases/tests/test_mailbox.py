"""Questions to the citizen (Rückfrage): the caseworker asks, the citizen is told by e-mail
that there is a question (reference and link only), answers with files on the status page
(the same upload rules as the form engine), the case goes back to "in Bearbeitung" with the
answer on top. Hostile files are refused and nothing is kept; nobody else reads or writes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from rathaus.cases.models import Case, CaseMessage
from rathaus.cases.tests.test_name_search import _case_of
from rathaus.core import blobs
from rathaus.core.outbox import process_batch
from rathaus.submissions.models import Attachment
from rathaus.submissions.selectors import submission_status_code, submission_timeline
from rathaus.submissions.services import api_token_create
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]
QUESTION = "Bitte senden Sie uns den Nachweis über die Haftpflichtversicherung."


def _asked(office: Any, personas: dict[str, Any]) -> tuple[Case, Client]:
    case = _case_of("Jürgen", "Müller")
    worker = Client()
    worker.force_login(personas["caseworker"])
    url = f"/verwaltung/vorgaenge/{case.pk}/"
    worker.post(url + "status/", {"to": "in_progress", "version": 1})
    asked = worker.post(
        url + "rueckfrage/",
        {"text": QUESTION, "documents": "Versicherungsnachweis\nImpfpass", "version": 2},
    )
    assert asked.status_code == 302
    case.refresh_from_db()
    return case, worker


def _mailbox_url(case: Case) -> str:
    code = submission_status_code(case.submission)
    return f"/antraege/{case.reference}/status/{code}/nachrichten/"


def test_the_citizen_is_asked_answers_with_a_file_and_the_case_goes_on(
    office: Any, personas: dict[str, Any]
) -> None:
    case, worker = _asked(office, personas)
    assert case.status == "query"
    assert submission_timeline(case.submission)[-1]["status"] == "query"
    mail.outbox.clear()
    process_batch(worker_id="test", limit=20)
    (email,) = [m for m in mail.outbox if "Rückfrage" in m.subject]
    assert email.to == ["erika@example.org"] and case.reference in email.subject
    assert _mailbox_url(case) in email.body
    assert QUESTION not in email.body and "Müller" not in email.body  # no personal data
    citizen = Client()
    status_page = citizen.get(
        f"/antraege/{case.reference}/status/{submission_status_code(case.submission)}/"
    )
    assert "Rückfrage lesen und beantworten" in status_page.content.decode()
    page = citizen.get(_mailbox_url(case))
    html = page.content.decode()
    assert QUESTION in html and "Versicherungsnachweis" in html and "Impfpass" in html
    assert personas["caseworker"].email not in html  # the citizen sees the office, not names
    answer = citizen.post(
        _mailbox_url(case),
        {
            "text": "Anbei der Nachweis.",
            "files": [SimpleUploadedFile("nachweis.pdf", b"%PDF-1.7\nVersichert bis 2027")],
        },
    )
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress"
    newest = CaseMessage.objects.first()
    assert newest is not None and newest.direction == "from_citizen"  # the answer on top
    file = Attachment.objects.get(field_id=f"antwort:{newest.pk}")
    assert file.filename == "nachweis.pdf"
    case_page = worker.get(f"/verwaltung/vorgaenge/{case.pk}/").content.decode()
    assert case_page.index("Anbei der Nachweis.") < case_page.index(QUESTION)
    download = worker.get(f"/verwaltung/vorgaenge/{case.pk}/anlagen/{file.pk}/")
    assert download.content.startswith(b"%PDF-1.7")
    # the question is answered: no second answer
    again = citizen.post(_mailbox_url(case), {"text": "Noch etwas."})
    assert again.status_code == 400 and "keine offene Rückfrage" in again.content.decode()


def test_a_hostile_file_is_refused_and_nothing_is_kept(
    office: Any, personas: dict[str, Any]
) -> None:
    case, _worker = _asked(office, personas)
    before = blobs.names(blobs.UPLOADS)
    citizen = Client()
    refused = citizen.post(
        _mailbox_url(case),
        {
            "text": "Hier die Unterlagen.",
            "files": [
                SimpleUploadedFile("gut.pdf", b"%PDF-1.7\nok"),
                SimpleUploadedFile("rechnung.pdf", b"<html><script>alert(1)</script></html>"),
            ],
        },
    )
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "rechnung.pdf" in html and 'id="answer_files_error"' in html
    assert blobs.names(blobs.UPLOADS) == before  # the good file was not kept either
    case.refresh_from_db()
    assert case.status == "query" and CaseMessage.objects.count() == 1
    citizen.post("/i18n/setlang/", {"language": "en"})
    english = citizen.post(
        _mailbox_url(case),
        {"files": [SimpleUploadedFile("rechnung.pdf", b"MZ\x90\x00 not a pdf")]},
    ).content.decode()
    assert "Please upload a file of this kind" in english


def test_nobody_else_reads_or_answers_and_other_offices_cannot_ask(
    office: Any, personas: dict[str, Any]
) -> None:
    case, _worker = _asked(office, personas)
    stranger = Client()
    wrong = f"/antraege/{case.reference}/status/falsch/nachrichten/"
    assert stranger.get(wrong).status_code == 404
    assert stranger.post(wrong, {"text": "Hallo"}).status_code == 404
    other = Client()
    other.force_login(personas["citizen"])  # logged in, but not the applicant
    assert other.get(f"/antraege/meine/{case.reference}/nachrichten/").status_code == 404
    outsider = Client()
    outsider.force_login(personas["caseworker_other"])
    asked = outsider.post(
        f"/verwaltung/vorgaenge/{case.pk}/rueckfrage/", {"text": "?", "version": case.version}
    )
    assert asked.status_code == 403
    assert CaseMessage.objects.count() == 1


def test_the_office_asks_and_reads_answers_through_the_api(
    office: Any, offices: dict[str, Any]
) -> None:
    case = _case_of("Jürgen", "Müller")
    _record, secret = api_token_create(
        office=office, name="Fachverfahren", scopes=["cases:read", "cases:write"], actor=None
    )
    headers = {"Authorization": f"Bearer {secret}"}
    api = Client()
    base = f"/api/v1/cases/{case.reference}"
    api.post(
        base + "/transitions",
        {"to": "in_progress", "version": 1},
        content_type="application/json",
        headers=headers,
    )
    direct = api.post(
        base + "/transitions",
        {"to": "query", "version": 2},
        content_type="application/json",
        headers=headers,
    )
    assert direct.status_code == 422 and "/messages" in direct.json()["messages"]["en"]
    asked = api.post(
        base + "/messages",
        {"text": QUESTION, "documents": ["Versicherungsnachweis"], "version": 2},
        content_type="application/json",
        headers=headers,
    )
    assert asked.status_code == 201 and asked.json()["direction"] == "to_citizen"
    Client().post(
        _mailbox_url(Case.objects.get()),
        {"text": "Anbei.", "files": [SimpleUploadedFile("n.pdf", b"%PDF-1.7\nx")]},
    )
    _other, other_secret = api_token_create(
        office=offices["standesamt"],
        name="Andere",
        scopes=["cases:read", "cases:write"],
        actor=None,
    )
    other = {"Authorization": f"Bearer {other_secret}"}
    assert api.get(base + "/messages", headers=other).status_code == 404
    foreign = api.post(
        base + "/messages",
        {"text": "?", "documents": [], "version": 3},
        content_type="application/json",
        headers=other,
    )
    assert foreign.status_code == 404
    listed = api.get(base + "/messages", headers=headers).json()
    assert [m["direction"] for m in listed] == ["from_citizen", "to_citizen"]
    assert listed[0]["files"][0]["filename"] == "n.pdf"
    assert re.fullmatch(r"[0-9a-f]{64}", listed[0]["files"][0]["sha256"])


def test_answers_are_rate_limited_per_client(office: Any, personas: dict[str, Any]) -> None:
    case, _worker = _asked(office, personas)
    citizen = Client()
    with override_settings(RATELIMIT_ANSWER="2/h"):
        for _attempt in range(2):  # refused answers (nothing to answer with) still count
            assert citizen.post(_mailbox_url(case), {"text": ""}).status_code == 400
        assert citizen.post(_mailbox_url(case), {"text": "Anbei."}).status_code == 429
    case.refresh_from_db()
    assert case.status == "query" and CaseMessage.objects.count() == 1
