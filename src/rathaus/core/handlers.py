"""Outbox handlers that core provides: outgoing webhooks to other systems."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from rathaus.core.crypto import decrypt_json
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler
from rathaus.core.webhooks import signed_headers

WEBHOOK_TIMEOUT_SECONDS = 10


@outbox_handler("webhook.post")
def deliver_webhook(message: OutboxMessage) -> None:
    """POST ``payload["body"]`` as JSON to ``payload["url"]`` (see ``post_webhook``), signed
    when the payload has an (encrypted) ``secret``."""
    post_webhook(
        url=message.payload["url"],
        body=message.payload.get("body", {}),
        idempotency_key=message.idempotency_key,
        secret_encrypted=message.payload.get("secret") or "",
    )


def post_webhook(
    *, url: str, body: dict[str, Any], idempotency_key: str, secret_encrypted: str
) -> None:
    """POST ``body`` as JSON to ``url`` with ``idempotency_key`` in the ``Idempotency-Key``
    header; any non-2xx answer counts as a failure. With ``secret_encrypted``, the request is
    signed (core.webhooks)."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError("webhook URL must be http(s)")
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        "User-Agent": "Rathaus-Outbox/1",
    }
    if secret_encrypted:
        secret = decrypt_json(secret_encrypted)
        headers.update(signed_headers(secret, idempotency_key, raw))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=raw, method="POST", headers=headers
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise RuntimeError(f"webhook answered {response.status}")
