"""A local S3 server for tests: moto's server mode (``moto_server`` from the venv) on a free
port of 127.0.0.1, so that stored files go through django-storages' S3Storage and a real
HTTP API, as on a cluster, not through an in-process mock.

- ``running_s3_server()``: a context manager that starts the server, waits until it answers,
  creates a bucket and stops the server afterwards. Its ``S3Server`` has ``endpoint_url``,
  ``bucket``, ``env`` (the RATHAUS_STORAGE_* variables for a subprocess), ``storages()``
  (the STORAGES setting as settings.py builds it for ``s3``) and ``keys()`` (what is in the
  bucket, listed with boto3: what is really there, not Rathaus' own view of it).
- The fixture ``s3_storage``: Django's default storage (``default_storage``, every
  FileField, core.blobs) points at a fresh bucket of one server shared by the test session,
  for one test. Use it by importing it into the test module::

      from rathaus.core.tests.s3server import s3_storage  # noqa: F401

  (or list this module in the root conftest's ``pytest_plugins``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from rathaus.core import envconfig

ACCESS_KEY = "rathaus-test"
SECRET_KEY = "rathaus-test-secret"  # noqa: S105 - moto accepts any key
REGION = "eu-central-1"
START_SECONDS = 30


@dataclasses.dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str
    prefix: str = ""
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    @property
    def env(self) -> dict[str, str]:
        """The RATHAUS_STORAGE_* variables of a process that stores its files here."""
        return {
            "RATHAUS_STORAGE_BACKEND": "s3",
            "RATHAUS_STORAGE_BUCKET": self.bucket,
            "RATHAUS_STORAGE_ENDPOINT_URL": self.endpoint_url,
            "RATHAUS_STORAGE_ACCESS_KEY": self.access_key,
            "RATHAUS_STORAGE_SECRET_KEY": self.secret_key,
            "RATHAUS_STORAGE_REGION": self.region,
            "RATHAUS_STORAGE_ADDRESSING": "path",
            "RATHAUS_STORAGE_PREFIX": self.prefix,
        }

    def storages(self, current: dict[str, Any] | None = None) -> dict[str, Any]:
        """The STORAGES setting with the default storage here (as settings.py builds it for
        RATHAUS_STORAGE_BACKEND=s3); the other entries of ``current`` stay."""
        return {
            **(current or {}),
            "default": envconfig.s3_storage(
                bucket=self.bucket,
                endpoint_url=self.endpoint_url,
                access_key=self.access_key,
                secret_key=self.secret_key,
                region=self.region,
                prefix=self.prefix,
            ),
        }

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def create_bucket(self, name: str) -> S3Server:
        """A new, empty bucket on the same server."""
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region}
        )
        return dataclasses.replace(self, bucket=name)

    def keys(self, prefix: str = "") -> list[str]:
        """Every object's key in the bucket (under ``prefix``), sorted."""
        found: list[str] = []
        pages = self.client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            found += [entry["Key"] for entry in page.get("Contents", ())]
        return sorted(found)

    def get(self, key: str) -> bytes:
        """An object's stored bytes, as boto3 gets them."""
        body: bytes = self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the server gets SIGTERM when the test process dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own loopback server
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer: it is up
    except OSError:
        return False


def moto_server_program() -> Path:
    """``moto_server`` of the venv this Python runs in (not resolved: the venv's bin)."""
    return Path(sys.executable).parent / "moto_server"


@contextlib.contextmanager
def running_s3_server(bucket: str = "rathaus") -> Iterator[S3Server]:
    """moto's S3 server on a free port of 127.0.0.1 with ``bucket`` created; stopped after."""
    program = moto_server_program()
    if not program.exists():
        raise RuntimeError(f"{program} not found: install moto[server] in the venv")
    with tempfile.TemporaryFile() as log:
        port = _free_port()
        process = subprocess.Popen(  # noqa: S603 - fixed program of our venv
            [str(program), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - tests only, before threads start
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_SECONDS
            while not _answers(endpoint):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"moto_server did not start on port {port}:\n{output}")
                time.sleep(0.1)
            yield S3Server(endpoint_url=endpoint, bucket=bucket).create_bucket(bucket)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- pytest ------------------------------------------------------------------------------

_shared: list[S3Server] = []


def shared_s3_server() -> S3Server:
    """One server for the whole test process, started when first needed and stopped when
    the process ends (each pytest-xdist worker has its own)."""
    if not _shared:
        context = running_s3_server(bucket="rathaus-shared")
        _shared.append(context.__enter__())
        atexit.register(context.__exit__, None, None, None)
    return _shared[0]


@pytest.fixture
def s3_storage(settings: Any) -> Iterator[S3Server]:
    """Django's default storage in a fresh bucket of the shared local S3 server, for one
    test; yields the server with that bucket (``.keys()`` lists it, ``.env`` configures a
    subprocess the same way). The ``settings`` fixture restores STORAGES afterwards, and
    Django's setting_changed handler resets ``storages`` and ``default_storage``."""
    from django.core.files.storage import default_storage

    server = shared_s3_server().create_bucket(f"test-{uuid.uuid4().hex[:20]}")
    settings.STORAGES = server.storages(settings.STORAGES)
    # default_storage is a lazy object Django caches: make sure it follows the setting
    if getattr(default_storage, "bucket_name", None) != server.bucket:
        raise RuntimeError("default_storage did not follow the STORAGES setting")
    yield server
