"""The restore test of docs/operations.md ("Backup and restore"): a backup is only as good as
a restore that has been done. What the page tells the operator to run is run here, and the
restored copy is checked to be usable, not just present:

- PostgreSQL: ``pg_dump -Fc`` of a database with a real submission (answers encrypted, one
  attachment), ``createdb`` + ``pg_restore`` into a new database, and there every table has
  the same rows, the answers open with RATHAUS_DATA_KEYS (and with no other key), the
  attachment's row leads to its file, and new rows get fresh ids.
- Object storage: files stored through Rathaus in an S3 bucket (a local moto server), the
  bucket copied with ``rclone sync``, the objects deleted (the page's query of missing files
  names them), copied back with ``rclone sync``, and Rathaus reads the same bytes again.

The PostgreSQL part needs PostgreSQL (the PostgreSQL tier of CI runs it); on SQLite it is
skipped. With DATABASE_URL on PostgreSQL, missing client programs are a failure, not a skip.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.db.utils import ConnectionDoesNotExist, load_backend
from django.test import Client, override_settings

from rathaus.catalog.models import Service
from rathaus.core.crypto import DecryptionError
from rathaus.core.tests.s3server import S3Server, s3_storage  # noqa: F401
from rathaus.forms.uploads import read_upload
from rathaus.submissions.models import Attachment, Submission
from rathaus.submissions.receipt import receipt_pdf
from rathaus.submissions.selectors import submission_data, submission_email
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
KEY = "backup-test-key-" + "k" * 40
RESTORED = "restored"


def _pg_program(name: str) -> str:
    """A PostgreSQL client program; on PostgreSQL its absence is an error in the setup."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found: the restore test needs PostgreSQL's client programs "
            "(Debian: apt-get install postgresql-client)"
        )
    return path


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq's variables for the test database's server, as Django connects to it."""
    env = {**os.environ}
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr}"


@pytest.fixture
def restored_database(tmp_path: Path) -> Iterator[str]:
    """Dumps the test database, restores the dump into a new database and opens it as the
    Django alias ``restored``; drops it again afterwards."""
    source = connection.settings_dict
    env = _pg_env(source)
    pg_dump, createdb, pg_restore, dropdb = (
        _pg_program(name) for name in ("pg_dump", "createdb", "pg_restore", "dropdb")
    )
    dump = tmp_path / "rathaus.dump"
    name = f"restore_test_{uuid.uuid4().hex[:12]}"
    _run([pg_dump, "--format=custom", f"--file={dump}", source["NAME"]], env)
    _run([createdb, "--template=template0", name], env)
    try:
        _run([pg_restore, "--no-owner", "--exit-on-error", f"--dbname={name}", str(dump)], env)
        options = {k: v for k, v in source.get("OPTIONS", {}).items() if k != "pool"}
        restored = {**source, "NAME": name, "OPTIONS": options, "CONN_MAX_AGE": 0}
        # A connection made here rather than in DATABASES: Django's test case allows it
        # (it refuses aliases of DATABASES the test did not declare), and .using() finds it.
        connections[RESTORED] = load_backend(source["ENGINE"]).DatabaseWrapper(restored, RESTORED)
        yield RESTORED
    finally:
        try:
            connections[RESTORED].close()
            del connections[RESTORED]
        except ConnectionDoesNotExist:
            pass
        _run([dropdb, "--force", "--if-exists", name], env)


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="pg_dump/pg_restore need PostgreSQL (DATABASE_URL=postgres://...); "
    "the PostgreSQL tier of CI runs this test",
)
@pytest.mark.django_db(transaction=True)
def test_a_database_restored_from_pg_dump_has_every_row_and_opens_with_the_data_keys(
    client: Client,
    demo_forms: None,  # noqa: F811
    settings: Any,
    request: pytest.FixtureRequest,
) -> None:
    settings.DATA_KEYS = [KEY]
    fill_in_dog_form(client, with_file=True)
    assert client.post("/antraege/absenden/hund-anmelden/").status_code == 302
    original = Submission.objects.get()
    file_bytes = read_upload(Attachment.objects.get().token)
    counts = {model._meta.label: model.objects.count() for model in apps.get_models()}

    alias = request.getfixturevalue("restored_database")  # dumped after the data is committed

    # every table has the same number of rows
    restored_counts = {
        model._meta.label: model.objects.using(alias).count() for model in apps.get_models()
    }
    assert restored_counts == counts
    # the answers open with RATHAUS_DATA_KEYS ...
    restored = Submission.objects.using(alias).get(reference=original.reference)
    assert submission_data(restored) == submission_data(original)
    assert submission_data(restored)["vorname"] == "Erika"
    assert submission_email(restored) == "erika@example.org"
    # ... and with no other key: a dump without its keys is unreadable
    with override_settings(DATA_KEYS=["another-key-" + "o" * 40]):
        with pytest.raises(DecryptionError):
            submission_data(restored)
    # the attachment's row leads to its file, and the file is the one that was uploaded
    attachment = Attachment.objects.using(alias).get(submission_id=restored.pk)
    assert read_upload(attachment.token) == file_bytes
    assert hashlib.sha256(file_bytes).hexdigest() == attachment.sha256
    # the sequences came along: a new row in the restored database gets a fresh id
    newest = Service.objects.using(alias).order_by("-pk").first()
    assert newest is not None
    added = Service.objects.using(alias).create(leika_key="99000000000000", name="Nach Restore")
    assert added.pk > newest.pk


# -- object storage ----------------------------------------------------------------------


def _rclone_program() -> str:
    path = shutil.which("rclone")
    if path is not None:
        return path
    if os.environ.get("RATHAUS_REQUIRE_SERVICES"):
        pytest.fail("rclone not found (make cluster-packages installs it)", pytrace=False)
    pytest.skip("rclone not found: make cluster-packages (or apt-get install rclone)")


def _rclone_env(server: S3Server, tmp_path: Path, *remotes: str) -> dict[str, str]:
    """rclone configured by environment variables only, as docs/operations.md shows: one
    remote per name, all on ``server``. AWS_CA_BUNDLE is left out: rclone 1.60 (Debian 12)
    refuses to start with it set, and the local server speaks plain HTTP."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    config = tmp_path / "rclone.conf"
    config.touch()  # empty: no file in $HOME is read or written
    env["RCLONE_CONFIG"] = str(config)
    for remote in remotes:
        prefix = f"RCLONE_CONFIG_{remote.upper()}_"
        env |= {
            f"{prefix}TYPE": "s3",
            f"{prefix}PROVIDER": "Other",
            f"{prefix}ENDPOINT": server.endpoint_url,
            f"{prefix}ACCESS_KEY_ID": server.access_key,
            f"{prefix}SECRET_ACCESS_KEY": server.secret_key,
            f"{prefix}REGION": server.region,
            f"{prefix}FORCE_PATH_STYLE": "true",
        }
    return env


def _rclone(*arguments: str, env: dict[str, str]) -> None:
    _run([_rclone_program(), *arguments], env)


def _names_in_rows() -> set[str]:
    """The storage names the database's rows point at, by the query of docs/operations.md
    ("Order, and checking the result"), so that the query an operator copies is known to
    run on the current schema."""
    text = (Path(__file__).parents[4] / "docs" / "operations.md").read_text()
    query = text.split('psql "$DATABASE_URL" -Atc "', 1)[1].split('" \\', 1)[0]
    with connection.cursor() as cursor:
        cursor.execute(query)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_files_copied_away_with_rclone_and_back_are_read_by_rathaus_again(
    client: Client,
    demo_forms: None,  # noqa: F811
    s3_storage: S3Server,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.DATA_KEYS = [KEY]
    fill_in_dog_form(client, with_file=True)
    assert client.post("/antraege/absenden/hund-anmelden/").status_code == 302
    submission = Submission.objects.get()
    attachment = Attachment.objects.get()
    uploaded = read_upload(attachment.token)
    receipt = receipt_pdf(submission)  # made and kept in the storage
    files = {f"uploads/{attachment.token}", f"receipts/{submission.receipt_token}"}
    stored = {key: s3_storage.get(key) for key in s3_storage.keys()}
    assert set(stored) == files == _names_in_rows()
    assert all(uploaded not in data for data in stored.values())  # encrypted there

    # the nightly copy, as docs/operations.md has it
    copy = s3_storage.create_bucket(f"{s3_storage.bucket}-copy")
    env = _rclone_env(s3_storage, tmp_path, "live", "backup")
    _rclone(
        "sync",
        "--checksum",
        f"live:{s3_storage.bucket}",
        f"backup:{copy.bucket}/current",
        "--backup-dir",
        f"backup:{copy.bucket}/replaced-1",
        env=env,
    )
    assert copy.keys() == sorted(f"current/{key}" for key in stored)

    # the files are lost: the query of the docs names them as missing ...
    s3_storage.client().delete_objects(
        Bucket=s3_storage.bucket, Delete={"Objects": [{"Key": key} for key in stored]}
    )
    assert _names_in_rows() - set(s3_storage.keys()) == files
    with pytest.raises(FileNotFoundError):
        read_upload(attachment.token)

    # ... and copied back: the same objects, and Rathaus reads the same files again
    _rclone(
        "sync", "--checksum", f"backup:{copy.bucket}/current", f"live:{s3_storage.bucket}", env=env
    )
    assert {key: s3_storage.get(key) for key in s3_storage.keys()} == stored
    assert read_upload(attachment.token) == uploaded
    assert hashlib.sha256(uploaded).hexdigest() == attachment.sha256
    submission.refresh_from_db()
    assert receipt_pdf(submission) == receipt
