"""German postcodes and their places, read from the GeoNames postal-code format (the format of
``DE.txt`` from download.geonames.org/export/zip/, CC BY 4.0): tab-separated, one postcode and
place per line, country code first. Only the first three columns are used. Parsing only; the
service ``postcodes_import`` stores the result."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

POSTCODE = re.compile(r"^[0-9]{5}$")
MAX_PLACE_LENGTH = 100
LEIPZIG_FILE = Path(__file__).resolve().parent / "data" / "leipzig" / "postleitzahlen.txt"


class PostcodeFileError(Exception):
    """The file cannot be read at all; the message says why (German / English)."""


@dataclass
class PostcodeReport:
    read: int = 0
    created: int = 0
    unchanged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason): not for us
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason): broken

    def summary(self) -> str:
        return (
            f"postcodes: {self.read} lines read, {self.created} created, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped, "
            f"{len(self.rejected)} rejected"
        )


def read_pairs(
    path: Path,
    report: PostcodeReport,
    *,
    country: str = "DE",
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[str, str]]:
    """(postcode, place) of every usable line; the others land in the report with a reason."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise PostcodeFileError(
            f"{path}: kann nicht gelesen werden / cannot be read ({exc.strerror})"
        ) from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                report.read += 1
                if progress and number % 5000 == 0:
                    progress(number)
                if not line.strip() or line.startswith("#"):
                    report.skipped.append((number, "leer oder Kommentar / empty or comment"))
                    continue
                columns = line.rstrip("\r\n").split("\t")
                if len(columns) < 3:
                    report.rejected.append(
                        (number, "weniger als 3 Spalten (Tabulator) / fewer than 3 tab columns")
                    )
                    continue
                line_country, postcode, place = (c.strip() for c in columns[:3])
                if line_country != country:
                    report.skipped.append((number, f"Land / country {line_country[:10]!r}"))
                    continue
                if not POSTCODE.match(postcode):
                    report.rejected.append(
                        (
                            number,
                            f"keine fünfstellige Postleitzahl / not a 5-digit postcode: "
                            f"{postcode[:20]!r}",
                        )
                    )
                    continue
                if not place or len(place) > MAX_PLACE_LENGTH or "\x00" in place:
                    report.rejected.append(
                        (number, "Ort fehlt oder zu lang / place missing or too long")
                    )
                    continue
                yield postcode, place
        except UnicodeDecodeError:
            raise PostcodeFileError(
                f"{path}: keine UTF-8-Datei / not UTF-8 (line {report.read + 1})"
            ) from None
