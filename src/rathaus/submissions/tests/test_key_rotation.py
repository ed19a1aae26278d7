"""``rathaus rotate-keys``: after it, the old key can go and everything still opens: drafts,
outbox e-mail addresses, uploads, submissions, receipts. What no key opens is reported."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from rathaus.core.crypto import decrypt_json
from rathaus.core.models import OutboxMessage
from rathaus.forms.models import FormDraft
from rathaus.forms.services import draft_data
from rathaus.forms.uploads import read_upload
from rathaus.submissions.models import Attachment, Submission
from rathaus.submissions.receipt import receipt_pdf
from rathaus.submissions.selectors import submission_data, submission_email
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms", "own_storage")]


@pytest.fixture
def own_storage(tmp_path: Path) -> Iterator[None]:
    with override_settings(MEDIA_ROOT=tmp_path):  # only this test's files
        yield


def test_rotating_lets_the_old_key_go_and_everything_still_opens(client: Client) -> None:
    with override_settings(DATA_KEYS=["old-key-" + "x" * 40]):
        fill_in_dog_form(client, with_file=True)
        client.post("/antraege/absenden/hund-anmelden/")
        submission = Submission.objects.get()
        first_pdf = receipt_pdf(submission)
        other = Client()
        fill_in_dog_form(other, name="Max")  # a draft that stays a draft
        other.post("/formulare/hund-anmelden/spaeter/", {"email": "max@example.org"})
    keys = ["new-key-" + "y" * 40, "old-key-" + "x" * 40]
    with override_settings(DATA_KEYS=keys):
        out = StringIO()
        call_command("rotate-keys", stdout=out)
        assert "0 failed" in out.getvalue() and "re-encrypted" in out.getvalue()
        again = StringIO()
        call_command("rotate-keys", stdout=again)
        assert "keys rotated: 0 re-encrypted" in again.getvalue()  # safe to run twice
    with override_settings(DATA_KEYS=["new-key-" + "y" * 40]):  # the old key is gone
        submission = Submission.objects.get()
        assert submission_data(submission)["vorname"] == "Erika"
        assert submission_email(submission) == "erika@example.org"
        assert read_upload(Attachment.objects.get().token).startswith(b"%PDF-1.7")
        assert receipt_pdf(submission) == first_pdf
        assert draft_data(FormDraft.objects.get())["vorname"] == "Max"
        resume = OutboxMessage.objects.get(topic="forms.resume_link")
        assert decrypt_json(resume.payload["email"]) == "max@example.org"


def test_what_no_key_opens_is_reported_and_left_alone(client: Client) -> None:
    fill_in_dog_form(client)
    FormDraft.objects.update(data_encrypted="gAAAAAB-not-a-token")
    with pytest.raises(CommandError, match="could not be opened"):
        call_command("rotate-keys", stdout=StringIO())
    assert FormDraft.objects.get().data_encrypted == "gAAAAAB-not-a-token"


def test_an_upload_on_disk_is_not_readable_without_the_key(client: Client) -> None:
    from rathaus.core import blobs
    from rathaus.forms.models import Upload
    from rathaus.forms.uploads import upload_name

    client.post("/formulare/hund-anmelden/beginnen/")
    FormDraft.objects.update(step_reached=2)
    client.post(
        "/formulare/hund-anmelden/schritt/2/",
        {"bescheid": SimpleUploadedFile("b.pdf", b"%PDF-1.7\ngeheim"), "gefaehrlich": "ja"},
    )
    stored = blobs.fetch(upload_name(Upload.objects.get().token)).raw
    assert b"geheim" not in stored and b"%PDF" not in stored
