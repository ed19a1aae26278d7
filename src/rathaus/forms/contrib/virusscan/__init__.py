"""Virus scanning of uploads, behind a small plugin registry (CONVENTIONS.md).

``RATHAUS_VIRUS_SCANNER`` chooses the plugin: ``none`` (the default: no scan, for a machine
without ClamAV) or ``clamd://host:port`` (ClamAV's daemon over TCP). A scanner that cannot be
reached rejects the file (fail closed): an upload is never accepted unchecked once scanning
is configured.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings


class ScanError(Exception):
    """The scanner could not give an answer."""


class Scanner(Protocol):
    def scan(self, data: bytes) -> str | None:
        """None when clean, else the name of what was found. Raises ScanError."""


def get_scanner() -> Scanner:
    url = settings.VIRUS_SCANNER
    if url in ("", "none"):
        from rathaus.forms.contrib.virusscan.noop import NoScanner

        return NoScanner()
    parts = urlsplit(url)
    if parts.scheme == "clamd":
        from rathaus.forms.contrib.virusscan.clamd import ClamdScanner

        return ClamdScanner(host=parts.hostname or "127.0.0.1", port=parts.port or 3310)
    raise ValueError(f"RATHAUS_VIRUS_SCANNER {url!r}: use none or clamd://host:port")
