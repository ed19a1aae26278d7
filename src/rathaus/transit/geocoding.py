"""Addresses to coordinates for the journey planner.

First the city's own places with an address and a position (the catalogue's locations: the
Bürgerämter and other offices); then, where ``RATHAUS_GEOCODER_URL`` names one, a geocoding
service that answers the Nominatim search API (``/search?q=...&format=jsonv2``), such as the
city's own Nominatim or Photon. Without it, addresses outside the catalogue are not found and
the planner says so; stops and coordinates always work.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from dataclasses import dataclass

from django.conf import settings

from rathaus.catalog.selectors import locations_with_position
from rathaus.core.search import fold
from rathaus.transit import realtime

logger = logging.getLogger(__name__)
_HOUSE_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class Address:
    label: str
    lat: float
    lon: float


def looks_like_address(text: str) -> bool:
    """A street with a house number ("Otto-Schill-Straße 2"), not a stop's name."""
    return bool(_HOUSE_NUMBER.search(text)) and any(ch.isalpha() for ch in text)


def _words(text: str) -> list[str]:
    return [
        fold(word) for word in re.split(r"[\s,]+", text.replace("str.", "straße")) if fold(word)
    ]


def address_resolve(text: str) -> Address | None:
    return _from_locations(text) or _from_service(text)


def _from_locations(text: str) -> Address | None:
    wanted = set(_words(text))
    if not wanted:
        return None
    for location in locations_with_position():
        known = set(_words(f"{location.street} {location.postal_code} {location.city}"))
        if wanted <= known and location.latitude is not None and location.longitude is not None:
            return Address(
                f"{location.street}, {location.postal_code} {location.city}",
                float(location.latitude),
                float(location.longitude),
            )
    return None


def _from_service(text: str) -> Address | None:
    base = settings.GEOCODER_URL
    if not base:
        return None
    query = urllib.parse.urlencode(
        {"q": f"{text}, {settings.CITY_NAME}", "format": "jsonv2", "limit": "1"}
    )
    try:
        data = realtime.realtime_fetch(
            f"{base.rstrip('/')}/search?{query}", timeout=3.0, max_bytes=1_000_000
        )
        found = json.loads(data)
        first = found[0]
        return Address(
            str(first.get("display_name", text))[:200], float(first["lat"]), float(first["lon"])
        )
    except (realtime.RealtimeError, ValueError, KeyError, IndexError, TypeError) as exc:
        logger.info("geocoding found nothing", extra={"error": str(exc)[:200]})
        return None
