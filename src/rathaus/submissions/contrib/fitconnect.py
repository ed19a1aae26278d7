"""The FIT-Connect plugin: hands a submission to a FIT-Connect destination through its
Submission API. Metadata, data and every attachment travel as JWE (RSA-OAEP-256 + A256GCM,
jwcrypto), encrypted with the destination's public key, so the Zustelldienst in between sees
nothing but ciphertext. Steps (each safe to repeat):

1. ``POST {url}/v1/submissions`` announces the submission and its attachment ids, answers the
   ``submissionId``;
2. ``PUT {url}/v1/submissions/{submissionId}/attachments/{attachmentId}``: each attachment;
3. ``PUT {url}/v1/submissions/{submissionId}`` with ``encryptedMetadata`` and ``encryptedData``.

A retry after a failure continues the announced submission (``Delivery`` keeps its id).

Access: FIT-Connect's OAuth 2.0 client credentials (``OAuthClient``: the token endpoint, the
client id and secret a sender gets when registering, optionally a scope); a token is kept per
process until shortly before it expires, and dropped when the API refuses it. A fixed access
token works too (tests, a Zustelldienst without OAuth)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class OAuthClient:
    """A sender's client credentials at FIT-Connect's token endpoint."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Whose token it is: a destination with another (or a wrong) secret never gets it."""
        secret = hashlib.sha256(self.client_secret.encode()).hexdigest()
        return (self.token_url, self.client_id, self.scope, secret)

    def __post_init__(self) -> None:
        if urlsplit(self.token_url).scheme not in {"http", "https"}:
            raise ValueError("the token endpoint must be an http(s) address")
        if not self.client_id or not self.client_secret:
            raise ValueError("client id and client secret are both needed")

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> OAuthClient:
        return cls(
            token_url=str(value["token_url"]),
            client_id=str(value["client_id"]),
            client_secret=str(value["client_secret"]),
            scope=str(value.get("scope", "")),
        )


EARLY_SECONDS = 60  # a token is fetched anew this long before it expires
_tokens: dict[tuple[str, str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def _request(method: str, url: str, body: bytes, headers: dict[str, str], what: str) -> Any:
    """One call; any answer but 2xx is a FitConnectError naming ``what`` and the status."""
    request = urllib.request.Request(  # noqa: S310 - every URL's scheme is checked first
        url, data=body, method=method, headers={"User-Agent": "Rathaus-FIT-Connect/1", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise FitConnectError(f"{what}: {exc.code}") from None
    return json.loads(raw) if raw else {}


def access_token(client: OAuthClient) -> str:
    """A valid access token for ``client``: the kept one, else a new one (client credentials
    grant, RFC 6749 section 4.4)."""
    key = client.key
    with _tokens_lock:
        kept = _tokens.get(key)
    if kept is not None and kept[1] > time.monotonic():
        return kept[0]
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    form["client_secret"] = client.client_secret
    if client.scope:
        form["scope"] = client.scope
    answer = _request(
        "POST",
        client.token_url,
        urllib.parse.urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
        "token",
    )
    token = str(answer.get("access_token", "")) if isinstance(answer, dict) else ""
    if not token:
        raise FitConnectError("the token endpoint answered no access_token")
    try:
        lifetime = float(answer.get("expires_in") or 300)
    except (TypeError, ValueError):
        lifetime = 300.0
    with _tokens_lock:
        _tokens[key] = (token, time.monotonic() + max(lifetime - EARLY_SECONDS, 0))
    return token


def forget_token(client: OAuthClient) -> None:
    with _tokens_lock:
        _tokens.pop(client.key, None)


class FitConnectSender:
    def __init__(
        self,
        *,
        url: str,
        destination_id: str,
        public_key: dict[str, Any],
        access_token: str = "",
        oauth: OAuthClient | None = None,
    ) -> None:
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError("FIT-Connect URL must be http(s)")
        self.url = url.rstrip("/")
        self.destination_id = destination_id
        self.key = jwk.JWK(**public_key)
        self.access_token = access_token
        self.oauth = oauth

    def _call(self, method: str, path: str, body: bytes, content_type: str) -> dict[str, Any]:
        headers = {"Content-Type": content_type}
        token = access_token(self.oauth) if self.oauth else self.access_token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            answer: dict[str, Any] = _request(
                method, self.url + path, body, headers, f"{method} {path}"
            )
            return answer
        except FitConnectError as exc:
            if self.oauth and str(exc).endswith(": 401"):
                forget_token(self.oauth)  # revoked or expired early: the retry asks anew
            raise

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
