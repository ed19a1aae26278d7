"""Signing outgoing webhooks, and checking them on the receiving side (for integrators and
our tests). A signed request carries:

- ``X-Rathaus-Timestamp``: seconds since 1970 when it was signed;
- ``Idempotency-Key``: the same for every retry of one event;
- ``X-Rathaus-Signature``: ``v1=`` and the hex HMAC-SHA256 of ``"<timestamp>.<idempotency
  key>."`` + the body, keyed with the shared secret (so neither the time nor the key can be
  changed to replay a captured request).

A receiver checks the signature (in constant time), refuses a timestamp older than a few
minutes (a captured request cannot be replayed later) and remembers the idempotency keys it
has seen within that window (it cannot be replayed sooner either)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import MutableSet

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, key: str, body: bytes) -> str:
    signed = f"{timestamp}.{key}.".encode() + body
    return f"v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def signed_headers(secret: str, key: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "X-Rathaus-Timestamp": str(timestamp),
        "X-Rathaus-Signature": signature(secret, timestamp, key, body),
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
    key = headers.get("Idempotency-Key", "")
    expected = signature(secret, timestamp, key, body).encode()
    if not hmac.compare_digest(expected, headers.get("X-Rathaus-Signature", "").encode()):
        return "bad signature"
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return "too old"
    if not key or key in seen:
        return "replayed"
    seen.add(key)
    return None
