"""Stored files live in the file storage that every app node shares (S3 on a cluster), not on
the node that took them: a citizen's attachment and receipt, read back by staff and citizen,
re-encrypted by ``rathaus rotate-keys``, deleted by retention, and readable by another
process with its own local folder. Against a real S3 API (moto's server mode, listed with
boto3: what is really in the bucket), and the storage module (core.blobs) on both backends."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import Office
from rathaus.cases.models import Case
from rathaus.catalog.models import Service
from rathaus.core import blobs
from rathaus.core.crypto import decrypt_bytes, encrypt_bytes
from rathaus.core.outbox import process_batch
from rathaus.core.tests.s3server import S3Server, s3_storage  # noqa: F401
from rathaus.forms.uploads import read_upload, upload_name, upload_store
from rathaus.submissions.models import Attachment, StatusEvent, Submission
from rathaus.submissions.selectors import submission_status_code
from rathaus.submissions.services import receipt_name, submissions_apply_retention
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

ATTACHMENT = b"%PDF-1.7\nWesenstest bestanden"  # what fill_in_dog_form uploads
OLD_KEY = "old-key-" + "o" * 40
NEW_KEY = "new-key-" + "n" * 40


def _files_under(folder: str | Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file()]


def _submitted(client: Client, offices: dict[str, Office]) -> Submission:
    """The dog registration with its certificate, sent through the web form; the worker has
    made the receipt and opened the Ordnungsamt's case."""
    service = Service.objects.get(leika_key="99102013000000")
    service.offices.add(offices["ordnungsamt"])
    fill_in_dog_form(client, with_file=True)
    assert client.post("/antraege/absenden/hund-anmelden/").status_code == 302
    process_batch(worker_id="test", limit=20)
    submission = Submission.objects.get()
    assert submission.receipt_token
    return submission


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_forms")
def test_a_citizens_attachment_and_receipt_are_kept_in_the_bucket_and_read_from_there(
    client: Client,
    s3_storage: S3Server,  # noqa: F811
    personas: dict[str, Any],
    offices: dict[str, Office],
    settings: Any,
) -> None:
    submission = _submitted(client, offices)
    attachment = Attachment.objects.get()
    attachment_key = f"uploads/{attachment.token}"
    receipt_key = f"receipts/{submission.receipt_token}"
    assert s3_storage.keys() == sorted([attachment_key, receipt_key])
    assert b"Wesenstest" not in s3_storage.get(attachment_key)  # encrypted in the bucket too
    assert _files_under(settings.MEDIA_ROOT) == []  # nothing on this node
    # the caseworker opens the attachment and the receipt, the citizen the receipt
    case = Case.objects.get(submission=submission)
    worker = Client()
    worker.force_login(personas["caseworker"])
    download = worker.get(f"/verwaltung/vorgaenge/{case.pk}/anlagen/{attachment.pk}/")
    assert download.status_code == 200 and download.content == ATTACHMENT
    stored_receipt = decrypt_bytes(s3_storage.get(receipt_key))
    assert worker.get(f"/verwaltung/vorgaenge/{case.pk}/eingangsbestaetigung.pdf").content == (
        stored_receipt
    )
    code = submission_status_code(submission)
    status = f"/antraege/{submission.reference}/status/{code}/"
    assert Client().get(status + "eingangsbestaetigung.pdf").content == stored_receipt
    # the bucket is the only copy: gone there, gone for every node
    s3_storage.client().delete_object(Bucket=s3_storage.bucket, Key=attachment_key)
    assert (
        worker.get(f"/verwaltung/vorgaenge/{case.pk}/anlagen/{attachment.pk}/").status_code == 404
    )
    assert _files_under(settings.MEDIA_ROOT) == []


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_forms")
def test_rotate_keys_re_encrypts_the_files_in_the_bucket(
    client: Client,
    s3_storage: S3Server,  # noqa: F811
    offices: dict[str, Office],
    settings: Any,
) -> None:
    settings.DATA_KEYS = [OLD_KEY]
    submission = _submitted(client, offices)
    status = f"/antraege/{submission.reference}/status/{submission_status_code(submission)}/"
    receipt = Client().get(status + "eingangsbestaetigung.pdf").content
    before = {key: s3_storage.get(key) for key in s3_storage.keys()}
    settings.DATA_KEYS = [NEW_KEY, OLD_KEY]
    out = StringIO()
    call_command("rotate-keys", stdout=out)
    assert "0 failed" in out.getvalue()
    after = {key: s3_storage.get(key) for key in s3_storage.keys()}
    assert after.keys() == before.keys() and len(after) == 2
    assert all(after[key] != before[key] for key in after)  # every object written anew
    settings.DATA_KEYS = [NEW_KEY]  # the old key is gone: everything still opens
    assert read_upload(Attachment.objects.get().token) == ATTACHMENT
    assert Client().get(status + "eingangsbestaetigung.pdf").content == receipt
    again = StringIO()
    call_command("rotate-keys", stdout=again)
    assert "keys rotated: 0 re-encrypted" in again.getvalue()
    assert {key: s3_storage.get(key) for key in s3_storage.keys()} == after


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_forms")
def test_retention_deletes_a_submissions_files_from_the_bucket(
    client: Client,
    s3_storage: S3Server,  # noqa: F811
    offices: dict[str, Office],
    django_capture_on_commit_callbacks: Any,
) -> None:
    Service.objects.filter(leika_key="99102013000000").update(retention_days=30)
    _submitted(client, offices)
    assert len(s3_storage.keys()) == 2
    StatusEvent.objects.update(at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert submissions_apply_retention() == {"deleted": 1, "anonymised": 0}
    assert s3_storage.keys() == []


def test_another_node_reads_what_this_one_stored_and_the_other_way_round(
    s3_storage: S3Server,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.DATA_KEYS = [NEW_KEY]
    token = upload_store(ATTACHMENT)
    node = tmp_path / "node2"  # its own RATHAUS_VAR_DIR: it shares nothing local with us
    script = (
        "import hashlib, sys, django\n"
        "django.setup()\n"
        "from rathaus.forms.uploads import read_upload, upload_store\n"
        "print(hashlib.sha256(read_upload(sys.argv[1])).hexdigest())\n"
        "print(upload_store(b'%PDF-1.7 from node 2'))\n"
    )
    env = {
        **os.environ,
        **s3_storage.env,
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "RATHAUS_VAR_DIR": str(node),
        "RATHAUS_SECRET_KEY": "node-2-" + "s" * 40,
        "RATHAUS_DATA_KEYS": NEW_KEY,
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script, token],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    digest, other_token = done.stdout.split()
    assert digest == hashlib.sha256(ATTACHMENT).hexdigest()
    assert read_upload(other_token) == b"%PDF-1.7 from node 2"
    assert s3_storage.keys() == sorted([f"uploads/{token}", f"uploads/{other_token}"])
    assert _files_under(node / "media") == [] and _files_under(settings.MEDIA_ROOT) == []


# -- core.blobs on both backends ---------------------------------------------------------


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return str(request.param)


def test_files_are_stored_encrypted_listed_read_and_deleted(backend: str) -> None:
    name = upload_name(upload_store(b"%PDF-1.7 geheim"))
    assert blobs.exists(name) and blobs.read(name) == b"%PDF-1.7 geheim"
    assert b"geheim" not in blobs.fetch(name).raw
    assert blobs.names("uploads") == [name.split("/")[1]] and blobs.names("receipts") == []
    blobs.delete(name)
    blobs.delete(name)  # gone already: fine
    assert not blobs.exists(name) and blobs.names("uploads") == []
    with pytest.raises(FileNotFoundError):
        blobs.read(name)


def test_key_rotation_does_not_bring_back_a_file_that_retention_deleted_meanwhile(
    backend: str,
) -> None:
    name = receipt_name("a" * 48)
    blobs.write(name, b"%PDF-1.7 Quittung")
    seen = blobs.fetch(name)
    blobs.delete(name)  # retention, between rotation's read and write
    assert blobs.replace(seen, encrypt_bytes(b"%PDF-1.7 Quittung")) is False
    assert not blobs.exists(name) and blobs.names("receipts") == []


def test_key_rotation_does_not_overwrite_a_file_replaced_meanwhile(backend: str) -> None:
    name = receipt_name("b" * 48)
    blobs.write(name, b"%PDF-1.7 eins")
    seen = blobs.fetch(name)
    assert blobs.replace(seen, encrypt_bytes(b"%PDF-1.7 zwei")) is True
    assert blobs.replace(seen, encrypt_bytes(b"%PDF-1.7 drei")) is False  # no longer `seen`
    assert blobs.read(name) == b"%PDF-1.7 zwei"
    assert blobs.names("receipts") == ["b" * 48]  # nothing left beside it
