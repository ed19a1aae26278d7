"""The FIT-Connect plugin: hands a submission to a FIT-Connect destination through its
Submission API. Metadata, data and every attachment travel as JWE (RSA-OAEP-256 + A256GCM,
jwcrypto), encrypted with the destination's public key, so the Zustelldienst in between sees
nothing but ciphertext. Steps (each safe to repeat):

1. ``POST {url}/v1/submissions`` announces the submission and its attachment ids, answers the
   ``submissionId``;
2. ``PUT {url}/v1/submissions/{submissionId}/attachments/{attachmentId}``: each attachment;
3. ``PUT {url}/v1/submissions/{submissionId}`` with ``encryptedMetadata`` and ``encryptedData``.

A retry after a failure continues the announced submission (``Delivery`` keeps its id)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from jwcrypto import jwe, jwk

from rathaus.submissions.handover import SubmissionExport

TIMEOUT_SECONDS = 30


class FitConnectError(Exception):
    """The destination refused a step (the outbox retries, then dead-letters)."""


def encrypt(content: bytes, key: jwk.JWK, content_type: str) -> str:
    """One JWE in compact serialisation for the destination's key."""
    token = jwe.JWE(
        content,
        protected=json.dumps(
            {
                "alg": "RSA-OAEP-256",
                "enc": "A256GCM",
                "kid": key.get("kid", ""),
                "cty": content_type,
            }
        ),
    )
    token.add_recipient(key)
    return str(token.serialize(compact=True))


class FitConnectSender:
    def __init__(
        self, *, url: str, destination_id: str, public_key: dict[str, Any], access_token: str = ""
    ) -> None:
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError("FIT-Connect URL must be http(s)")
        self.url = url.rstrip("/")
        self.destination_id = destination_id
        self.key = jwk.JWK(**public_key)
        self.access_token = access_token

    def _call(self, method: str, path: str, body: bytes, content_type: str) -> dict[str, Any]:
        headers = {"Content-Type": content_type, "User-Agent": "Rathaus-FIT-Connect/1"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url + path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise FitConnectError(f"{method} {path}: {exc.code}") from None
        return json.loads(raw) if raw else {}

    def announce(self, export: SubmissionExport, service: dict[str, Any] | None) -> str:
        body: dict[str, Any] = {
            "destinationId": self.destination_id,
            "announcedAttachments": [f.attachment_id for f in export.files],
        }
        if service:
            body["serviceType"] = service
        answer = self._call(
            "POST", "/v1/submissions", json.dumps(body).encode(), "application/json"
        )
        submission_id = str(answer.get("submissionId", ""))
        if not submission_id:
            raise FitConnectError("no submissionId in the answer")
        return submission_id

    def send(self, submission_id: str, export: SubmissionExport) -> None:
        for file in export.files:
            self._call(
                "PUT",
                f"/v1/submissions/{submission_id}/attachments/{file.attachment_id}",
                encrypt(file.content, self.key, file.mime_type).encode(),
                "application/jose",
            )
        body = {
            "encryptedMetadata": encrypt(
                json.dumps(export.metadata).encode(), self.key, "application/json"
            ),
            "encryptedData": encrypt(export.data, self.key, "application/json"),
        }
        self._call(
            "PUT", f"/v1/submissions/{submission_id}", json.dumps(body).encode(), "application/json"
        )
