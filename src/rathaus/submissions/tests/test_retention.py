"""Retention: past its service's period a submission is deleted with its files, or
anonymised where the service says so; the audit log says so; the reference number stays
taken. And a citizen's copy of their data."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.catalog.models import Service
from rathaus.core import blobs
from rathaus.core.models import AuditEntry
from rathaus.forms.uploads import upload_name
from rathaus.submissions.models import Attachment, IssuedReference, StatusEvent, Submission
from rathaus.submissions.receipt import receipt_pdf
from rathaus.submissions.selectors import submission_data, submission_status_code
from rathaus.submissions.services import receipt_name, submissions_apply_retention
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


def _submit(client: Client) -> Submission:
    fill_in_dog_form(client, with_file=True)
    client.post("/antraege/absenden/hund-anmelden/")
    submission = Submission.objects.latest("pk")
    receipt_pdf(submission)
    submission.refresh_from_db()
    return submission


def _age(submission: Submission, days: int) -> None:
    StatusEvent.objects.filter(submission=submission).update(
        at=timezone.now() - timedelta(days=days)
    )


def test_past_its_period_a_submission_and_its_files_are_deleted(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    Service.objects.filter(leika_key="99102013000000").update(retention_days=30)
    submission = _submit(client)
    files = [
        upload_name(Attachment.objects.get().token),
        receipt_name(submission.receipt_token),
    ]
    assert all(blobs.exists(name) for name in files)
    _age(submission, 29)
    assert submissions_apply_retention() == {"deleted": 0, "anonymised": 0}
    _age(submission, 31)
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are gone
        assert submissions_apply_retention() == {"deleted": 1, "anonymised": 0}
    assert not Submission.objects.exists() and not Attachment.objects.exists()
    assert not any(blobs.exists(name) for name in files)
    assert IssuedReference.objects.filter(value=submission.reference).exists()
    entry = AuditEntry.objects.get(action="submission.retention.deleted")
    assert entry.before == {"reference": submission.reference} and entry.actor is None


def test_where_the_service_says_so_only_the_frame_stays(client: Client) -> None:
    Service.objects.filter(leika_key="99102013000000").update(
        retention_days=10, retention_anonymise=True
    )
    submission = _submit(client)
    code = submission_status_code(submission)
    _age(submission, 11)
    assert submissions_apply_retention() == {"deleted": 0, "anonymised": 1}
    kept = Submission.objects.get()
    assert kept.reference == submission.reference and kept.anonymised_at is not None
    assert submission_data(kept) == {} and not kept.email_encrypted and not kept.receipt_token
    assert not Attachment.objects.exists()
    status = Client().get(f"/antraege/{kept.reference}/status/{code}/")
    assert status.status_code == 404  # the link opens nothing any more
    assert submissions_apply_retention() == {"deleted": 0, "anonymised": 0}  # once only


def test_without_a_period_of_its_own_the_installations_default_applies(
    client: Client, settings: Any
) -> None:
    settings.SUBMISSION_RETENTION_DAYS = 100
    submission = _submit(client)
    _age(submission, 99)
    assert submissions_apply_retention()["deleted"] == 0
    _age(submission, 101)
    assert submissions_apply_retention()["deleted"] == 1


def test_a_citizen_downloads_a_copy_of_all_their_data(
    client: Client, personas: dict[str, Any]
) -> None:
    client.force_login(personas["citizen"])
    submission = _submit(client)
    assert "daten.zip" in client.get("/antraege/meine/").content.decode()
    response = client.get("/antraege/meine/daten.zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    entries = json.loads(archive.read("antraege.json"))
    assert entries[0]["reference"] == submission.reference
    assert entries[0]["data"]["vorname"] == "Erika"
    assert archive.read(f"{submission.reference}/eingangsbestaetigung.pdf").startswith(b"%PDF")
    assert archive.read(f"{submission.reference}/1-bescheid.pdf").startswith(b"%PDF-1.7")
    other = Client()
    other.force_login(personas["organisation"])
    theirs = zipfile.ZipFile(
        io.BytesIO(b"".join(other.get("/antraege/meine/daten.zip").streaming_content))
    )
    assert json.loads(theirs.read("antraege.json")) == []
