"""The FIT-Connect plugin against a local stand-in for a Submission API: everything arrives
encrypted for the destination's key, decrypts to the export (hashes match), and a retry after
a failure continues the announced submission instead of making a second one."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from jwcrypto import jwe, jwk

from rathaus.catalog.models import Service
from rathaus.core.crypto import encrypt_json
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import process_batch
from rathaus.submissions.contrib.fitconnect import OAuthClient
from rathaus.submissions.models import Delivery, Destination, Submission
from rathaus.submissions.services import fitconnect_destination_create
from rathaus.submissions.tests.test_submitting import demo_forms, fill_in_dog_form  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_forms")]


@contextmanager
def submission_api(
    private_key: jwk.JWK, *, fail_first_put: bool = False, clients: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """A Submission API with its OAuth token endpoint (``/token``: client credentials of
    ``clients``, id to secret); it takes the fixed token "zustell-token" or one it issued."""
    state: dict[str, Any] = {
        "url": "",
        "announced": [],
        "attachments": {},
        "submitted": {},
        "fail": fail_first_put,
        "issued": [],
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

        def _authorised(self) -> bool:
            given = self.headers.get("Authorization", "").removeprefix("Bearer ")
            return given == "zustell-token" or given in state["issued"]

        def do_POST(self) -> None:  # noqa: N802
            if self.path == "/token":
                form = dict(urllib.parse.parse_qsl(self._body().decode()))
                known = (clients or {}).get(form.get("client_id", ""))
                if form.get("grant_type") != "client_credentials" or not known:
                    return self._answer(400, {"error": "invalid_request"})
                if form.get("client_secret") != known:
                    return self._answer(401, {"error": "invalid_client"})
                state["issued"].append(f"issued-{len(state['issued']) + 1}")
                token = {"access_token": state["issued"][-1], "expires_in": 1800}
                return self._answer(200, {**token, "token_type": "Bearer"})
            if not self._authorised():
                return self._answer(401)
            announced = json.loads(self._body())
            submission_id = str(uuid.uuid4())
            state["announced"].append({**announced, "submissionId": submission_id})
            self._answer(201, {"submissionId": submission_id, "caseId": str(uuid.uuid4())})

        def do_PUT(self) -> None:  # noqa: N802
            body = self._body()
            if not self._authorised():
                return self._answer(401)
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


def test_fit_connect_access_through_oauth_client_credentials(office: Any) -> None:
    from django.utils import timezone

    key = _key()
    with submission_api(key, clients={"rathaus-leipzig": "s3cret"}) as api:
        right = {
            "token_url": api["url"] + "/token",
            "client_id": "rathaus-leipzig",
            "client_secret": "s3cret",
        }
        fitconnect_destination_create(
            office=office,
            url=api["url"],
            destination_id=str(uuid.uuid4()),
            public_key=key.export_public(as_dict=True),
            oauth=right,
            actor=None,
        )
        for other in Client(), Client():
            fill_in_dog_form(other)
            other.post("/antraege/absenden/hund-anmelden/")
        process_batch(worker_id="test", limit=20)
        assert Delivery.objects.filter(delivered_at__isnull=False).count() == 2
        assert api["issued"] == ["issued-1"]  # one token for both, kept until it expires
        # a wrong client secret: nothing is announced, the delivery waits for a retry
        # (the token kept for the right secret is not used for a wrong one)
        Destination.objects.update(secret_encrypted=encrypt_json({**right, "client_secret": "x"}))
        third = Client()
        fill_in_dog_form(third)
        third.post("/antraege/absenden/hund-anmelden/")
        process_batch(worker_id="test", limit=20)
        failed = OutboxMessage.objects.get(topic="submissions.fitconnect", delivered_at=None)
        assert "token: 401" in failed.last_error and failed.status == "pending"
        assert len(api["announced"]) == 2
        Destination.objects.update(secret_encrypted=encrypt_json(right))  # put right again
        OutboxMessage.objects.filter(pk=failed.pk).update(available_at=timezone.now())
        process_batch(worker_id="test", limit=20)
        assert len(api["announced"]) == 3
    assert Delivery.objects.filter(delivered_at__isnull=False).count() == 3


def test_the_client_secret_never_shows_in_a_log_or_traceback() -> None:
    client = OAuthClient(
        token_url="https://auth.example.org/token", client_id="a", client_secret="s3"
    )
    assert "s3" not in repr(client) and "s3" not in str(client)


@pytest.mark.parametrize(
    ("private", "oauth", "why"),
    [
        (True, None, "without its private part"),
        (False, {"token_url": "ftp://x/token", "client_id": "a", "client_secret": "b"}, "http"),
        (False, {"token_url": "https://x/token", "client_id": "a", "client_secret": ""}, "both"),
    ],
)
def test_destination_settings_that_could_never_work_are_refused(
    office: Any, private: bool, oauth: dict[str, str] | None, why: str
) -> None:
    key = _key()
    with pytest.raises(ValueError, match=why):
        fitconnect_destination_create(
            office=office,
            url="https://example.org",
            destination_id="x",
            public_key=key.export_private(as_dict=True)
            if private
            else key.export_public(as_dict=True),
            oauth=oauth,
            actor=None,
        )


def test_the_command_takes_the_client_secret_only_from_the_environment(
    office: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from rathaus.core.crypto import decrypt_json

    key_file = tmp_path / "destination.jwk"
    key_file.write_text(json.dumps(_key().export_public(as_dict=True)))
    args = [
        "add-fitconnect-destination",
        f"--office={office.pk}",
        "--url=https://submission-api.example.org",
        "--destination-id=abc",
        f"--key={key_file}",
        "--token-url=https://auth.example.org/token",
        "--client-id=rathaus-leipzig",
    ]
    monkeypatch.delenv("FITCONNECT_CLIENT_SECRET", raising=False)
    with pytest.raises(CommandError, match="FITCONNECT_CLIENT_SECRET"):
        call_command(*args)
    monkeypatch.setenv("FITCONNECT_CLIENT_SECRET", "s3cret")
    out = StringIO()
    call_command(*args, stdout=out)
    destination = Destination.objects.get()
    assert "s3cret" not in destination.secret_encrypted
    assert decrypt_json(destination.secret_encrypted)["client_id"] == "rathaus-leipzig"
    assert f"FIT-Connect destination {destination.pk}" in out.getvalue()
