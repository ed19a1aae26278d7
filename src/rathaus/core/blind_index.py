"""Blind index: searching encrypted names without decrypting them.

A name is split into normalised tokens ("Müller-Lüdenscheidt" -> "mueller",
"luedenscheidt"), and each token is stored only as a keyed HMAC. A search computes the same
HMACs of the typed words and compares digests; the database never holds a name in the clear.

The HMAC key is derived from each data key (RATHAUS_DATA_KEYS), labelled so that it is never
the key that encrypts. Every stored digest records which key made it (``key_id``): a search
looks under all configured keys, so rows still under an old key are found until
``rathaus rotate-keys`` has recomputed them under the newest one.

Only whole words are found (no prefixes: that would need many more digests per name and
would make rare names easier to guess)."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from django.conf import settings

_LABEL = b"rathaus blind index v1"
_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th"}
    | {"ð": "d", "đ": "d", "ø": "o", "ł": "l", "ı": "i"}  # letters NFKD does not take apart
)
_WORD = re.compile(r"[^\W\d_]+")  # letters of any script (Cyrillic, Greek, ... too)
MIN_TOKEN = 2  # single letters (initials) would match half the city
MAX_TOKENS = 8  # of one name, and of one search


def tokens(text: str) -> list[str]:
    """The words of ``text`` as the index keeps them: lower case, German umlauts spelt out,
    other accents dropped ("Ðorđević" and "Dordevic" meet), at least two letters, each once."""
    composed = unicodedata.normalize("NFC", text)  # "u" + combining diaeresis is "ü" too
    folded = unicodedata.normalize("NFKD", composed.casefold().translate(_FOLD))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    found: list[str] = []
    for word in _WORD.findall(plain):
        if len(word) >= MIN_TOKEN and word not in found:
            found.append(word)
    return found[:MAX_TOKENS]


@lru_cache(maxsize=8)
def _key(data_key: str) -> tuple[str, bytes]:
    derived = hmac.new(data_key.encode(), _LABEL, hashlib.sha256).digest()
    return hashlib.sha256(derived).hexdigest()[:8], derived


def current_key_id() -> str:
    return _key(settings.DATA_KEYS[0])[0]


def digest(token: str, data_key: str | None = None) -> str:
    """The stored form of one token, under ``data_key`` (the newest key by default)."""
    _key_id, key = _key(data_key or settings.DATA_KEYS[0])
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:32]


def search_digests(token: str) -> list[str]:
    """What ``token`` may be stored as: its digest under every configured key."""
    return [digest(token, key) for key in settings.DATA_KEYS]
