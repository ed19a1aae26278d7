"""Outbox handlers that core provides: outgoing webhooks to other systems."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

from rathaus.core.crypto import decrypt_json
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler
from rathaus.core.webhooks import signed_headers

WEBHOOK_TIMEOUT_SECONDS = 10


@outbox_handler("webhook.post")
def deliver_webhook(message: OutboxMessage) -> None:
    """POST ``payload["body"]`` as JSON to ``payload["url"]`` with the message's idempotency
    key in the ``Idempotency-Key`` header; any non-2xx answer counts as a failure. With
    ``payload["secret"]`` (encrypted), the request is signed (core.webhooks)."""
    url = message.payload["url"]
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError("webhook URL must be http(s)")
    body = json.dumps(message.payload.get("body", {}), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": message.idempotency_key,
        "User-Agent": "Rathaus-Outbox/1",
    }
    if message.payload.get("secret"):
        secret = decrypt_json(message.payload["secret"])
        headers.update(signed_headers(secret, message.idempotency_key, body))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers=headers
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise RuntimeError(f"webhook answered {response.status}")
