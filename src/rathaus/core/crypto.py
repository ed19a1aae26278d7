"""Encryption of personal data at rest: Fernet (AES-128-CBC + HMAC-SHA256) with rotatable keys.

RATHAUS_DATA_KEYS is a list: the first key encrypts, every key decrypts, so a new key can be
put first and old data is still readable. Each
configured key is stretched to a Fernet key with SHA-256, so any long random string works.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """The value was not encrypted with any of the configured keys (or was altered)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())) for key in keys]
    )


def _current() -> MultiFernet:
    return _fernet(tuple(settings.DATA_KEYS))


# Larger JSON is compressed before it is encrypted (ciphertext itself does not compress, so
# the database could not): an application's answers shrink to a fifth and stay in the table
# row. No one who could vary part of the text can see the stored length, so compression tells
# nothing. Marked by a prefix no JSON text starts with.
_COMPRESSED = b"\x00z"
COMPRESS_FROM_BYTES = 512


def encrypt_json(value: Any) -> str:
    raw = json.dumps(value, ensure_ascii=False).encode()
    if len(raw) >= COMPRESS_FROM_BYTES:
        raw = _COMPRESSED + zlib.compress(raw, 1)
    return _current().encrypt(raw).decode()


def decrypt_json(token: str) -> Any:
    try:
        raw = _current().decrypt(token.encode())
    except InvalidToken:
        raise DecryptionError("cannot decrypt with the configured RATHAUS_DATA_KEYS") from None
    if raw.startswith(_COMPRESSED):
        raw = zlib.decompress(raw[len(_COMPRESSED) :])
    return json.loads(raw)


def encrypt_bytes(value: bytes) -> bytes:
    """Files at rest (attachments, receipts): the same keys and rotation as JSON values."""
    return _current().encrypt(value)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _current().decrypt(token)
    except InvalidToken:
        raise DecryptionError("cannot decrypt with the configured RATHAUS_DATA_KEYS") from None


def rotate_token(token: str | bytes) -> bytes:
    """Re-encrypt under the newest key (for ``rathaus rotate-keys``)."""
    raw = token.encode() if isinstance(token, str) else token
    try:
        return _current().rotate(raw)
    except InvalidToken:
        raise DecryptionError("cannot decrypt with the configured RATHAUS_DATA_KEYS") from None


def is_current(token: str | bytes) -> bool:
    """True when ``token`` is encrypted under the newest key (the first of RATHAUS_DATA_KEYS)."""
    raw = token.encode() if isinstance(token, str) else token
    newest = _fernet((settings.DATA_KEYS[0],))
    try:
        newest.decrypt(raw)
    except InvalidToken:
        return False
    return True
