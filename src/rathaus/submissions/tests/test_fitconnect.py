"""The FIT-Connect plugin against a local stand-in for a Submission API: everything arrives
encrypted for the destination's key, decrypts to the export (hashes match), and a retry after
a failure continues the announced submission instead of making a second one."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from jwcrypto import jwe, jwk

from rathaus.catalog.models import Service
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import process_batch
from rathaus.submissions.models import Delivery, Submission
from rathaus.submissions.services import fitconnect_destination_create
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


@contextmanager
def submission_api(
    private_key: jwk.JWK, *, fail_first_put: bool = False
) -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {
        "url": "",
        "announced": [],
        "attachments": {},
        "submitted": {},
        "fail": fail_first_put,
    }

    class Handler(BaseHTTPRequestHandler):
        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
            raw = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802
            if self.headers.get("Authorization") != "Bearer zustell-token":
                return self._answer(401)
            announced = json.loads(self._body())
            submission_id = str(uuid.uuid4())
            state["announced"].append({**announced, "submissionId": submission_id})
            self._answer(201, {"submissionId": submission_id, "caseId": str(uuid.uuid4())})

        def do_PUT(self) -> None:  # noqa: N802
            body = self._body()
            parts = self.path.strip("/").split("/")
            if state["fail"]:
                state["fail"] = False
                return self._answer(503)
            if len(parts) == 5:  # v1/submissions/{id}/attachments/{attachmentId}
                assert self.headers["Content-Type"] == "application/jose"
                token = jwe.JWE()
                token.deserialize(body.decode(), key=private_key)
                state["attachments"][parts[4]] = token.payload
            else:
                payload = json.loads(body)
                for name in ("encryptedMetadata", "encryptedData"):
                    token = jwe.JWE()
                    token.deserialize(payload[name], key=private_key)
                    header = json.loads(token.objects["protected"])
                    assert (header["alg"], header["enc"]) == ("RSA-OAEP-256", "A256GCM")
                    state["submitted"][name] = token.payload
            self._answer(204 if len(parts) == 5 else 202)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def office(offices: dict[str, Any]) -> Any:
    Service.objects.get(leika_key="99102013000000").offices.add(offices["ordnungsamt"])
    return offices["ordnungsamt"]


def _key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="ordnungsamt-2026")


def test_a_submission_reaches_fit_connect_encrypted_and_intact(client: Client, office: Any) -> None:
    key = _key()
    with submission_api(key) as api:
        fitconnect_destination_create(
            office=office,
            url=api["url"],
            destination_id=str(uuid.uuid4()),
            public_key=key.export_public(as_dict=True),
            access_token="zustell-token",
            actor=None,
        )
        fill_in_dog_form(client, with_file=True)
        client.post("/antraege/absenden/hund-anmelden/")
        process_batch(worker_id="test", limit=20)
    (announced,) = api["announced"]
    metadata = json.loads(api["submitted"]["encryptedMetadata"])
    data = api["submitted"]["encryptedData"]
    assert (
        metadata["contentStructure"]["data"]["hash"]["content"] == hashlib.sha512(data).hexdigest()
    )
    assert json.loads(data)["vorname"] == "Erika"
    expected = {
        a["attachmentId"]: a["hash"]["content"] for a in metadata["contentStructure"]["attachments"]
    }
    assert set(announced["announcedAttachments"]) == set(expected) == set(api["attachments"])
    for attachment_id, content in api["attachments"].items():
        assert hashlib.sha512(content).hexdigest() == expected[attachment_id]
    assert announced["serviceType"]["identifier"].endswith("99102013000000")
    assert Delivery.objects.get().delivered_at is not None


def test_a_retry_continues_the_announced_submission(client: Client, office: Any) -> None:
    from django.utils import timezone

    key = _key()
    with submission_api(key, fail_first_put=True) as api:
        fitconnect_destination_create(
            office=office,
            url=api["url"],
            destination_id=str(uuid.uuid4()),
            public_key=key.export_public(as_dict=True),
            access_token="zustell-token",
            actor=None,
        )
        fill_in_dog_form(client)
        client.post("/antraege/absenden/hund-anmelden/")
        process_batch(worker_id="test", limit=20)  # announced, then the upload fails
        assert Delivery.objects.get().delivered_at is None
        OutboxMessage.objects.filter(topic="submissions.fitconnect").update(
            available_at=timezone.now()
        )
        process_batch(worker_id="test", limit=20)
    assert len(api["announced"]) == 1  # not a second submission
    assert "encryptedData" in api["submitted"] and Delivery.objects.get().delivered_at
    assert Submission.objects.count() == 1


def test_a_private_key_is_refused_as_a_destination_key(office: Any) -> None:
    with pytest.raises(ValueError, match="without its private part"):
        fitconnect_destination_create(
            office=office,
            url="https://example.org",
            destination_id="x",
            public_key=_key().export_private(as_dict=True),
            actor=None,
        )
