"""Signing outgoing webhooks, and checking them on the receiving side (for integrators and
our tests). A signed request carries:

- ``X-Rathaus-Timestamp``: seconds since 1970 when it was signed;
- ``X-Rathaus-Signature``: ``v1=`` and the hex HMAC-SHA256 of ``"<timestamp>."`` + the body,
  keyed with the shared secret;
- ``Idempotency-Key``: the same for every retry of one event.

A receiver checks the signature (in constant time), refuses a timestamp older than a few
minutes (a captured request cannot be replayed later) and remembers the idempotency keys it
has seen within that window (it cannot be replayed sooner either)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import MutableSet

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "X-Rathaus-Timestamp": str(timestamp),
        "X-Rathaus-Signature": signature(secret, timestamp, body),
    }


def verify(
    *,
    secret: str,
    headers: dict[str, str],
    body: bytes,
    seen: MutableSet[str],
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> str | None:
    """None when the request is genuine, fresh and new; otherwise why not."""
    try:
        timestamp = int(headers.get("X-Rathaus-Timestamp", ""))
    except ValueError:
        return "no timestamp"
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected, headers.get("X-Rathaus-Signature", "")):
        return "bad signature"
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return "too old"
    key = headers.get("Idempotency-Key", "")
    if not key or key in seen:
        return "replayed"
    seen.add(key)
    return None
