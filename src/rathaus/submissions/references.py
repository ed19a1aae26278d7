"""Reference numbers such as ``L-2026-7K3M-9QX4``: a letter for the city, the year, seven
random characters and a check character, from an alphabet without the look-alikes 0/O and
1/I/L, so they can be read out on the phone and typed from paper. Random, not a sequence: one
number says nothing about the next. The check character (a weighted sum modulo 31) catches
every single wrong character and every swap of two neighbours."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 characters: no 0, O, 1, I, L
RANDOM_LENGTH = 7
MODULUS = len(ALPHABET)  # 31, a prime
_SHAPE = re.compile(r"^([A-Z])-?(\d{4})-?([" + ALPHABET + r"]{4})-?([" + ALPHABET + r"]{4})$")


def check_character(year: str, body: str) -> str:
    """The character that makes the weighted sum of all codes divisible by 31 (a prime, and
    the size of the alphabet): weights 1, 2, 3, ... so that a single wrong character and a
    swap of two neighbours always change the sum."""
    codes = [int(digit) for digit in year] + [ALPHABET.index(char) for char in body]
    total = sum(weight * code for weight, code in enumerate(codes, start=1))
    weight = len(codes) + 1
    inverse = pow(weight, -1, MODULUS)
    return ALPHABET[(-total * inverse) % MODULUS]


def new_reference(prefix: str, year: int) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    check = check_character(str(year), body)
    return f"{prefix}-{year}-{body[:4]}-{body[4:]}{check}"


def normalise(typed: str) -> str | None:
    """A reference as people type it (lower case, spaces, missing dashes) in its printed form,
    or None when it cannot be one (wrong shape or wrong check character)."""
    compact = re.sub(r"[\s.]", "", typed.upper())[:40]
    match = _SHAPE.match(compact)
    if match is None:
        return None
    prefix, year, first, second = match.groups()
    if check_character(year, f"{first}{second[:3]}") != second[3]:
        return None
    return f"{prefix}-{year}-{first}-{second}"
