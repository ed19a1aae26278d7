"""Decisions with letters: a template per service with placeholders, previewed without any
change, issued as PDF/A on the citizen's status page with the case "entschieden"; a fee
notice where the service charges one; a template with an unknown placeholder is refused in
German and English; only the office decides its cases."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from rathaus.cases.models import Case, LetterTemplate
from rathaus.cases.tests.test_name_search import _case_of
from rathaus.core.models import AuditEntry
from rathaus.core.outbox import process_batch
from rathaus.submissions.models import ReleasedDocument
from rathaus.submissions.selectors import submission_status_code, submission_timeline
from rathaus.submissions.services import api_token_create
from rathaus.submissions.tests.test_submitting import demo_forms  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]
BODY = (
    "Sehr geehrte Person {{ antragsteller }},\n\n"
    "Ihr Antrag vom {{ eingang }} auf {{ leistung }} ({{ aktenzeichen }}) wird {{ entscheidung }}."
    "\n\n{{ begruendung }}"
)


def _in_progress(office: Any, personas: dict[str, Any]) -> tuple[Case, Client, LetterTemplate]:
    case = _case_of("Jürgen", "Müller")
    template = LetterTemplate.objects.create(
        office=office, service=case.service, name="Hundesteuer", body=BODY
    )
    worker = Client()
    worker.force_login(personas["caseworker"])
    worker.post(f"/verwaltung/vorgaenge/{case.pk}/status/", {"to": "in_progress", "version": 1})
    case.refresh_from_db()
    return case, worker, template


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_a_letter_is_previewed_then_issued_to_the_citizen(
    office: Any, personas: dict[str, Any]
) -> None:
    case, worker, template = _in_progress(office, personas)
    form = {
        "decision": "granted",
        "template": template.pk,
        "text": "Der Hund ist ab dem 1. März 2025 steuerpflichtig.",
        "version": case.version,
    }
    url = f"/verwaltung/vorgaenge/{case.pk}/bescheid/"
    preview = worker.post(url, {**form, "vorschau": "1"})
    assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
    text = _text(preview.content)
    assert "Jürgen Müller" in text and case.reference in text and "bewilligt" in text
    assert "steuerpflichtig" in text and "{{" not in text
    assert b"pdfaid:part" in preview.content  # PDF/A
    case.refresh_from_db()
    assert case.status == "in_progress" and not ReleasedDocument.objects.exists()

    mail.outbox.clear()
    issued = worker.post(url, {**form, "erlassen": "1"})
    assert issued.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decision) == ("decided", "granted")
    document = ReleasedDocument.objects.get()
    assert case.letter_issued_at == document.released_at  # counted as online end to end
    assert document.released_at is not None and document.content_type == "application/pdf"
    assert submission_timeline(case.submission)[-1]["status"] == "decided"
    assert AuditEntry.objects.filter(action="case.decision", object_id=str(case.pk)).exists()
    code = submission_status_code(case.submission)
    status_page = Client().get(f"/antraege/{case.reference}/status/{code}/").content.decode()
    assert "Bescheid" in status_page
    letter = Client().get(f"/antraege/{case.reference}/status/{code}/dokumente/{document.pk}/")
    assert letter.status_code == 200 and "steuerpflichtig" in _text(letter.content)
    process_batch(worker_id="test", limit=20)
    (email,) = [m for m in mail.outbox if "Bescheid" in m.subject]
    assert case.reference in email.subject and "Müller" not in email.body
    assert "steuerpflichtig" not in email.body
    # decided: no second letter
    again = worker.post(url, {**form, "version": case.version, "erlassen": "1"})
    assert again.status_code == 400 and ReleasedDocument.objects.count() == 1


def test_a_fee_notice_where_the_service_charges_one(office: Any, personas: dict[str, Any]) -> None:
    case, worker, template = _in_progress(office, personas)
    service = case.service
    service.fee_min, service.fee_max, service.fee_regulation = (
        Decimal("20"),
        Decimal("60"),
        "Verwaltungskostensatzung",
    )
    service.save()
    url = f"/verwaltung/vorgaenge/{case.pk}/bescheid/"
    form = {"decision": "granted", "template": template.pk, "text": "Bewilligt.", "version": 2}
    too_much = worker.post(url, {**form, "fee": "75", "vorschau": "1"})
    assert too_much.status_code == 400
    assert "zwischen 20,00 € und 60,00 €" in too_much.content.decode()
    preview = worker.post(url, {**form, "fee": "35.50", "vorschau": "1"})
    text = _text(preview.content)
    assert "Gebührenfestsetzung" in text and "35,50" in text and "Verwaltungskostensatzung" in text


def test_a_template_with_an_unknown_placeholder_is_refused(
    office: Any, personas: dict[str, Any]
) -> None:
    case, worker, _template = _in_progress(office, personas)
    broken = LetterTemplate(
        office=office, service=case.service, name="Alt", body="{{ antragstelller }}"
    )
    with pytest.raises(ValidationError) as refused:
        broken.full_clean()  # what the administration's form does on saving
    assert "antragstelller" in str(refused.value)
    broken.save()  # bypassing the form: the letter is still refused
    url = f"/verwaltung/vorgaenge/{case.pk}/bescheid/"
    form = {"decision": "refused", "template": broken.pk, "text": "Abgelehnt.", "version": 2}
    answer = worker.post(url, {**form, "erlassen": "1"})
    assert answer.status_code == 400
    assert "unbekannten Platzhalter" in answer.content.decode()
    with translation.override("en"):
        worker.post("/i18n/setlang/", {"language": "en"})
        english = worker.post(url, {**form, "vorschau": "1"}).content.decode()
    assert "unknown placeholder" in english
    case.refresh_from_db()
    assert case.status == "in_progress" and not ReleasedDocument.objects.exists()


def test_only_the_office_decides_and_the_api_decides_with_a_letter(
    office: Any, offices: dict[str, Any], personas: dict[str, Any]
) -> None:
    case, _worker, template = _in_progress(office, personas)
    outsider = Client()
    outsider.force_login(personas["caseworker_other"])
    form = {"decision": "granted", "template": template.pk, "text": "x", "version": 2}
    assert (
        outsider.post(f"/verwaltung/vorgaenge/{case.pk}/bescheid/", {**form, "vorschau": "1"})
    ).status_code == 403
    _r, secret = api_token_create(
        office=office, name="Fachverfahren", scopes=["cases:read", "cases:write"], actor=None
    )
    headers = {"Authorization": f"Bearer {secret}"}
    api = Client()
    base = f"/api/v1/cases/{case.reference}"
    listed = api.get(base + "/letter-templates", headers=headers).json()
    assert [t["name"] for t in listed] == ["Hundesteuer"]
    direct = api.post(
        base + "/transitions",
        {"to": "decided", "version": 2},
        content_type="application/json",
        headers=headers,
    )
    assert direct.status_code == 422 and "/decision" in direct.json()["messages"]["en"]
    decided = api.post(
        base + "/decision",
        {
            "decision": "partly_granted",
            "text": "Teilweise.",
            "template_id": template.pk,
            "version": 2,
        },
        content_type="application/json",
        headers=headers,
    )
    assert decided.status_code == 200
    assert (decided.json()["status"], decided.json()["decision"]) == ("decided", "partly_granted")
    _r2, other = api_token_create(
        office=offices["standesamt"], name="Andere", scopes=["cases:write"], actor=None
    )
    stranger = api.post(
        base + "/decision",
        {"decision": "refused", "text": "x", "template_id": template.pk, "version": 3},
        content_type="application/json",
        headers={"Authorization": f"Bearer {other}"},
    )
    assert stranger.status_code == 404 and ReleasedDocument.objects.count() == 1


def test_a_template_needs_the_decision_text_and_fees_may_start_at_nothing(
    office: Any, personas: dict[str, Any]
) -> None:
    case, worker, template = _in_progress(office, personas)
    with pytest.raises(ValidationError, match="begruendung"):
        LetterTemplate(
            office=office, name="Kurz", body="Bewilligt, {{ antragsteller }}."
        ).full_clean()
    service = case.service
    service.fee_min, service.fee_max = None, Decimal("30")
    service.save()
    url = f"/verwaltung/vorgaenge/{case.pk}/bescheid/"
    form = {"decision": "granted", "template": template.pk, "text": "Ja.", "version": 2}
    free = worker.post(url, {**form, "fee": "0", "vorschau": "1"})
    assert free.status_code == 200 and free["Content-Type"] == "application/pdf"
    too_much = worker.post(url, {**form, "fee": "31", "vorschau": "1"})
    assert too_much.status_code == 400 and 'id="decision_fee_error"' in too_much.content.decode()
