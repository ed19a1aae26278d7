"""``rathaus import-leipzig-offices``: Leipzig's Stadtbezirke, Ortsteile and offices from the
city's open data (RDF). Idempotent: a second run changes nothing and says so."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rdflib.exceptions import ParserError

from rathaus.accounts import leipzig
from rathaus.accounts.models import Office
from rathaus.accounts.services import office_upsert
from rathaus.core.models import Area
from rathaus.core.services import area_upsert


class Command(BaseCommand):
    help = "Import Leipzig's areas and offices (RDF Turtle) idempotently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--offices", type=Path, default=leipzig.OFFICES_FILE)
        parser.add_argument("--areas", type=Path, default=leipzig.AREAS_FILE)

    def handle(self, *args: Any, **options: Any) -> None:
        graphs = {}
        for name in ("areas", "offices"):
            path: Path = options[name]
            try:
                graphs[name] = leipzig.load_graph(path)
            except FileNotFoundError:
                raise CommandError(f"{path}: file not found / Datei nicht gefunden") from None
            except OSError as exc:
                raise CommandError(
                    f"{path}: cannot be read / kann nicht gelesen werden ({exc.strerror})"
                ) from None
            except (ParserError, SyntaxError, ValueError) as exc:
                raise CommandError(
                    f"{path}: not valid Turtle / kein gültiges Turtle ({type(exc).__name__})"
                ) from None

        areas = leipzig.parse_areas(graphs["areas"])
        area_counts: Counter[str] = Counter()
        area_ids: dict[str, int] = {}
        for area_record in sorted(areas.records, key=lambda r: r.parent_uri is not None):
            area, outcome = area_upsert(
                uri=area_record.uri,
                values={
                    "kind": area_record.kind,
                    "name": area_record.name,
                    "number": area_record.number,
                    "parent_id": area_ids.get(area_record.parent_uri or ""),
                },
            )
            area_ids[area_record.uri] = area.pk
            area_counts[outcome] += 1
        self._summary("areas", len(areas.records), area_counts, areas.rejected)

        offices = leipzig.parse_offices(graphs["offices"])
        known_areas = dict(Area.objects.values_list("uri", "pk"))
        office_ids = dict(Office.objects.exclude(uri=None).values_list("uri", "pk"))
        office_counts: Counter[str] = Counter()
        for number, record in enumerate(offices.records, start=1):
            office, outcome = office_upsert(
                uri=record.uri,
                values={
                    "name": record.name,
                    "kind": record.kind,
                    "parent_id": office_ids.get(record.parent_uri or ""),
                    "email": record.email,
                    "phone": record.phone,
                    "homepage": record.homepage,
                    "street": record.street,
                    "postal_code": record.postal_code,
                    "city": record.city,
                    "area_id": known_areas.get(record.area_uri or ""),
                },
            )
            office_ids[record.uri] = office.pk
            office_counts[outcome] += 1
            if number % 20 == 0:
                self.stdout.write(f"  offices: {number}/{len(offices.records)}")
        self._summary("offices", len(offices.records), office_counts, offices.rejected)

    def _summary(
        self, what: str, total: int, counts: Counter[str], rejected: list[tuple[str, str]]
    ) -> None:
        changed = counts["created"] + counts["updated"]
        self.stdout.write(
            f"{what}: {total} read, {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {len(rejected)} rejected"
            + ("" if changed else " (nothing to change)")
        )
        for subject, reason in rejected:
            self.stdout.write(f"  rejected {subject}: {reason}")
