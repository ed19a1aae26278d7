"""Walking JSON-like data (dicts, lists and plain values), as stored answers are: the texts it
holds with their paths, and a copy with some texts replaced. Paths join keys and list indexes
with "/" (``weitere_hunde/0/name``), as field errors name them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string in ``value``, in order."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from texts(item, f"{path}/{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from texts(item, f"{path}/{index}")
    elif isinstance(value, str):
        yield path, value


def substitute(value: Any, table: Mapping[str, Any]) -> Any:
    """A copy of ``value`` in which every string that is a key of ``table`` is replaced."""
    if isinstance(value, dict):
        return {key: substitute(item, table) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, table) for item in value]
    if isinstance(value, str):
        return table.get(value, value)
    return value
