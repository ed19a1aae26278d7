"""Encrypted JSON at rest (core.crypto): large values are compressed before they are
encrypted, small ones not, and values stored before that still open."""

from __future__ import annotations

import json

from django.test import override_settings

from rathaus.core import crypto
from rathaus.core.crypto import decrypt_json, encrypt_json, rotate_token

ANSWERS = {"vorname": "Erika", "taetigkeit": "Handel mit Fahrrädern und Zubehör. " * 60}


def test_a_large_value_is_stored_compressed_and_comes_back_whole() -> None:
    token = encrypt_json(ANSWERS)
    plain_size = len(json.dumps(ANSWERS, ensure_ascii=False).encode())
    assert len(token) < plain_size / 4  # compressed before encryption
    assert "Erika" not in token and "Fahrr" not in token
    assert decrypt_json(token) == ANSWERS


def test_a_small_value_is_not_compressed() -> None:
    token = encrypt_json("erika@example.org")
    assert crypto._current().decrypt(token.encode()) == b'"erika@example.org"'
    assert decrypt_json(token) == "erika@example.org"
    assert decrypt_json(encrypt_json({})) == {}


def test_values_stored_before_compression_still_open() -> None:
    earlier = crypto._current().encrypt(json.dumps(ANSWERS, ensure_ascii=False).encode())
    assert decrypt_json(earlier.decode()) == ANSWERS


def test_rotation_keeps_a_compressed_value_readable() -> None:
    token = encrypt_json(ANSWERS)
    with override_settings(DATA_KEYS=["a-new-key-for-rotation-tests-0123456789", *_keys()]):
        rotated = rotate_token(token).decode()
        assert decrypt_json(rotated) == ANSWERS
    with override_settings(DATA_KEYS=["a-new-key-for-rotation-tests-0123456789"]):
        assert decrypt_json(rotated) == ANSWERS


def _keys() -> list[str]:
    from django.conf import settings

    return list(settings.DATA_KEYS)
