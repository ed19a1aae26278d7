"""Datasets generated from the platform's own data, kept current by the worker
(citydata/handlers.py) and by ``rathaus publish-open-data``.

Generators (``GENERATORS``) describe datasets (``DatasetSpec``) with files (``FileSpec``) and
links; ``publish_open_data`` writes them: a dataset is found again by its ``source``, so
regenerating updates it in place. Files are written once per change into the storage
(``open-data/<slug>/<sha256 prefix>/<file>``) and served from there by
``catalogue_views.download``: size and checksum in the metadata are those of the bytes people
get, a download costs no database work, and a file of millions of observations is written
streaming, never held in memory. A file whose source has not changed (its ``fingerprint``) is
not made again; one that comes out byte for byte the same keeps its date.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import ExtractYear
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify

from rathaus.accounts.models import Office
from rathaus.citydata.catalogue import EDITABLE, keywords_set, site_url
from rathaus.citydata.constants import FORMATS, LICENSES
from rathaus.citydata.models import Dataset, Datastream, Distribution, Observation, Thing
from rathaus.core.csvsafe import csv_cell as _cell
from rathaus.core.locks import exclusive
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler

logger = logging.getLogger(__name__)

STORAGE_PREFIX = "open-data"
LOCK_NAME = "publish-open-data"
CHUNK = 1 << 20
# Leipzig's offices (leipzig-data.de URIs, as `rathaus import-leipzig-offices` loads them) that
# publish each generated dataset; elsewhere RATHAUS_OPEN_DATA_PUBLISHER_URI, else the top office.
PUBLISHER_HINTS = {
    "services": "http://leipzig-data.de/Data/StadtLeipzig/Hauptamt",
    "transit": "http://leipzig-data.de/Data/StadtLeipzig/Tiefbauamt",
    "sensors": "http://leipzig-data.de/Data/StadtLeipzig/AmtfuerUmweltschutz",
}


@dataclass
class FileSpec:
    file_name: str
    title: str
    format: str  # EU file-type code (constants.FORMATS)
    write: Callable[[IO[bytes]], None]
    fingerprint: str = ""  # unchanged fingerprint: the file is not made again
    description: str = ""


@dataclass
class LinkSpec:
    """A distribution that is a service of Rathaus rather than a file (the SensorThings
    API of a station)."""

    title: str
    format: str
    access_url: str
    description: str = ""


@dataclass
class DatasetSpec:
    source: str
    slug: str
    title: str
    description: str
    publisher: Office
    themes: list[str]
    keywords: list[str]
    files: list[FileSpec]
    links: list[LinkSpec] = field(default_factory=list)
    title_en: str = ""
    description_en: str = ""
    accrual_periodicity: str = ""
    temporal_start: date | None = None
    temporal_end: date | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    landing_page: str = ""


@dataclass
class PublishReport:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # generators that could not describe all their datasets: theirs are kept as they are
    incomplete: list[str] = field(default_factory=list)
    busy: bool = False  # another process was publishing: nothing was done

    def summary(self) -> str:
        text = (
            f"open data: {len(self.done)} done, {len(self.skipped)} skipped, "
            f"{len(self.rejected)} rejected, {len(self.removed)} removed, "
            f"{len(self.incomplete)} incomplete"
        )
        if self.busy:
            text += " (another process is publishing)"
        return text


class GeneratorIncomplete(Exception):
    """A generator cannot describe every dataset it stands for (no office to publish under,
    the timetable cannot be rated, ...). Its datasets stay as they were: removing those it
    did not mention would delete staff's decisions and the ids harvesters know."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Unchanged:
    """A generator's word that the dataset of ``source`` is current: keep it, make nothing
    (for sources too costly to describe every run)."""

    source: str
    reason: str


@dataclass(frozen=True)
class Generator:
    name: str
    prefix: str  # of the sources of its datasets
    # (report, force) -> the specs; raises GeneratorIncomplete when it cannot list them all
    specs: Callable[[PublishReport, bool], Iterator[DatasetSpec | Unchanged]]


# ---- writing files --------------------------------------------------------------------------


def csv_writer(rows: Callable[[], Iterable[Iterable[object]]]) -> Callable[[IO[bytes]], None]:
    """A writer of RFC 4180 CSV (UTF-8, CRLF) from an iterable of rows, row by row."""

    def write(target: IO[bytes]) -> None:
        text = io.TextIOWrapper(target, encoding="utf-8", newline="")
        writer = csv.writer(text)
        for row in rows():
            writer.writerow(row)
        text.flush()
        text.detach()

    return write


def json_writer(data: Callable[[], object]) -> Callable[[IO[bytes]], None]:
    def write(target: IO[bytes]) -> None:
        target.write(json.dumps(data(), ensure_ascii=False, separators=(",", ":")).encode())

    return write


def _written(spec: FileSpec) -> tuple[IO[bytes], str, int]:
    """The file made into a temporary file: (file at position 0, sha256, size)."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller, who closes it
    spec.write(handle)
    handle.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return handle, digest.hexdigest(), size


def _delete_file(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:
        logger.warning("open data: old file not deleted", extra={"file": name})


# ---- publishing -----------------------------------------------------------------------------


def _unique_slug(wanted: str) -> str:
    base = slugify(wanted)[:90].strip("-") or "datensatz"
    slug, n = base, 2
    while Dataset.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


# what a generator sets: all that staff may edit but the address, "published" and "issued"
GENERATED_FIELDS = tuple(
    "publisher_id" if name == "publisher" else name
    for name in EDITABLE
    if name not in ("slug", "published", "issued")
)


def _dataset_from_spec(spec: DatasetSpec, slug: str) -> tuple[Dataset, bool]:
    """Create or update the dataset of ``spec`` (metadata only). Everything but
    ``published`` (the staff's decision) and the slug (its address) follows the generator."""
    now = timezone.now()
    dataset = Dataset.objects.filter(source=spec.source).first()
    created = dataset is None
    if dataset is None:
        dataset = Dataset(source=spec.source, slug=slug, published=True, issued=now)
    before = {name: getattr(dataset, name) for name in GENERATED_FIELDS}
    dataset.title = spec.title[:300]
    dataset.title_en = spec.title_en[:300]
    dataset.description = spec.description
    dataset.description_en = spec.description_en
    dataset.publisher = spec.publisher
    dataset.contact_name = spec.publisher.name[:200]
    dataset.contact_email = spec.publisher.email
    license_code = settings.OPEN_DATA_LICENSE
    if license_code not in LICENSES:
        raise ValueError(f"RATHAUS_OPEN_DATA_LICENSE {license_code!r} is not a known licence")
    dataset.license = license_code
    dataset.license_attribution = (
        settings.OPEN_DATA_PUBLISHER_NAME if LICENSES[license_code].attribution else ""
    )
    dataset.themes = " ".join(spec.themes)
    dataset.temporal_start = spec.temporal_start
    dataset.temporal_end = spec.temporal_end
    dataset.political_geocoding_uri = settings.OPEN_DATA_GEOCODING_URI
    dataset.political_geocoding_level_uri = settings.OPEN_DATA_GEOCODING_LEVEL
    west, south, east, north = spec.bbox or (None, None, None, None)
    dataset.bbox_west, dataset.bbox_south = west, south
    dataset.bbox_east, dataset.bbox_north = east, north
    dataset.accrual_periodicity = spec.accrual_periodicity
    dataset.landing_page = spec.landing_page
    if dataset.modified is None:
        dataset.modified = now
    # saved only when something changed: metadata_modified (CKAN) and the export's date
    # must not move on every run, or harvesters fetch everything again each time
    if created or any(getattr(dataset, name) != before[name] for name in GENERATED_FIELDS):
        dataset.full_clean(exclude=["source"])
        dataset.save()
    keywords_set(dataset=dataset, keywords=spec.keywords)
    return dataset, created


@dataclass
class _Made:
    """A file made for a distribution, stored, not yet recorded."""

    spec: FileSpec
    name: str
    checksum: str
    size: int


def _make_file(
    slug: str, existing: Distribution | None, spec: FileSpec, force: bool, report: PublishReport
) -> _Made | None:
    """Make one file if its source changed, outside any transaction (a big file takes a
    while; SQLite would hold its write lock all that time). None when nothing changed."""
    label = f"{slug}/{spec.file_name}"
    if (
        existing is not None
        and existing.file
        and spec.fingerprint
        and existing.source_version == spec.fingerprint
        and not force
        and default_storage.exists(existing.file.name)  # lost files are made again
    ):
        report.skipped.append(f"{label}: source unchanged")
        return None
    handle, checksum, size = _written(spec)
    try:
        if (
            existing is not None
            and existing.file
            and existing.checksum == checksum
            and default_storage.exists(existing.file.name)
        ):
            report.skipped.append(f"{label}: content unchanged")
            return None
        name = f"{STORAGE_PREFIX}/{slug}/{checksum[:16]}/{spec.file_name}"
        # the name holds the content's hash: a file already there has these bytes (left by
        # a run whose transaction rolled back); saving again would only add a copy
        if not default_storage.exists(name):
            name = default_storage.save(name, File(handle, name=spec.file_name))
    finally:
        handle.close()
    report.done.append(f"{label}: {size} bytes")
    return _Made(spec, name, checksum, size)


def _record_file(dataset: Dataset, spec: FileSpec, position: int, made: _Made | None) -> bool:
    """Write a file's distribution (inside the transaction); True when its bytes changed."""
    item = FORMATS[spec.format]
    distribution = Distribution.objects.filter(dataset=dataset, file_name=spec.file_name).first()
    if distribution is None:
        if made is None:
            return False  # cannot happen: a new distribution always has a made file
        distribution = Distribution(dataset=dataset, file_name=spec.file_name)
    old = distribution.file.name if distribution.file else ""
    distribution.title = spec.title[:300]
    distribution.description = spec.description
    distribution.format = spec.format
    distribution.media_type = item.media_type
    distribution.position = position
    distribution.source_version = spec.fingerprint
    if made is None:
        # metadata follows the generator even when the bytes stay; the dates do not move
        Distribution.objects.filter(pk=distribution.pk).update(
            title=distribution.title,
            description=distribution.description,
            format=distribution.format,
            media_type=distribution.media_type,
            position=position,
            source_version=spec.fingerprint,
        )
        return False
    distribution.file.name = made.name
    distribution.byte_size = made.size
    distribution.checksum = made.checksum
    distribution.modified = timezone.now()
    distribution.save()
    if old and old != made.name:
        transaction.on_commit(lambda: _delete_file(old), robust=True)
    return True


def _publish_links(dataset: Dataset, links: list[LinkSpec], first_position: int) -> None:
    keep = []
    for offset, link in enumerate(links):
        item = FORMATS[link.format]
        distribution, _ = Distribution.objects.update_or_create(
            dataset=dataset,
            file_name="",
            access_url=link.access_url,
            defaults={
                "title": link.title[:300],
                "description": link.description,
                "format": link.format,
                "media_type": item.media_type,
                "position": first_position + offset,
            },
        )
        keep.append(distribution.pk)
    Distribution.objects.filter(dataset=dataset, file_name="").exclude(pk__in=keep).delete()


def _publish_spec(spec: DatasetSpec, force: bool, report: PublishReport) -> None:
    """Make the changed files first, then record dataset and files in one short
    transaction."""
    existing = Dataset.objects.filter(source=spec.source).first()
    slug = existing.slug if existing is not None else _unique_slug(spec.slug)
    have = (
        {d.file_name: d for d in Distribution.objects.filter(dataset=existing)}
        if existing is not None
        else {}
    )
    made = {
        f.file_name: _make_file(slug, have.get(f.file_name), f, force, report) for f in spec.files
    }
    with transaction.atomic():
        dataset, created = _dataset_from_spec(spec, slug)
        changed = False
        wanted = {f.file_name for f in spec.files}
        for stale in (
            Distribution.objects.filter(dataset=dataset)
            .exclude(file_name="")
            .exclude(file_name__in=wanted)
        ):
            if stale.file:
                name = stale.file.name
                transaction.on_commit(lambda name=name: _delete_file(name), robust=True)  # type: ignore[misc]
            stale.delete()
            changed = True
        for position, file_spec in enumerate(spec.files):
            changed |= _record_file(dataset, file_spec, position, made[file_spec.file_name])
        _publish_links(dataset, spec.links, len(spec.files))
        if changed and not created:
            Dataset.objects.filter(pk=dataset.pk).update(
                modified=timezone.now(), updated_at=timezone.now()
            )


def _remove_stale(generator: Generator, produced: set[str], report: PublishReport) -> None:
    stale = Dataset.objects.filter(source__startswith=generator.prefix).exclude(source__in=produced)
    for dataset in stale:
        names = [d.file.name for d in dataset.distributions.all() if d.file]
        with transaction.atomic():
            dataset.delete()
            for name in names:
                transaction.on_commit(lambda name=name: _delete_file(name), robust=True)  # type: ignore[misc]
        report.removed.append(f"{dataset.slug}: its source is gone ({dataset.source})")


def publish_open_data(
    *,
    only: Iterable[str] | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> PublishReport:
    """Run the generators (all, or those named in ``only``); one dataset failing is
    reported and the others go on. One process at a time (every worker replica runs this
    periodically): a run that finds another one busy does nothing."""
    report = PublishReport()
    with exclusive(LOCK_NAME) as got:
        if not got:
            report.busy = True
            if progress:
                progress("another process is publishing open data; nothing done")
            return report
        names = set(only) if only is not None else None
        for generator in GENERATORS:
            if names is None or generator.name in names:
                _run_generator(generator, force, report, progress)
    return report


def _run_generator(
    generator: Generator,
    force: bool,
    report: PublishReport,
    progress: Callable[[str], None] | None,
) -> None:
    if progress:
        progress(f"{generator.name} ...")
    produced: set[str] = set()
    try:
        for spec in generator.specs(report, force):
            produced.add(spec.source)
            if isinstance(spec, Unchanged):
                report.skipped.append(spec.reason)
                continue
            try:
                _publish_spec(spec, force, report)
            except Exception as exc:  # noqa: BLE001 - one dataset must not stop the rest
                logger.exception("open data: dataset failed", extra={"source": spec.source})
                report.rejected.append(f"{spec.slug}: {type(exc).__name__}: {exc}")
            if progress:
                progress(f"  {spec.slug}")
    except GeneratorIncomplete as exc:
        report.incomplete.append(f"{generator.name}: {exc.reason}; its datasets are kept")
        return
    except Exception as exc:  # noqa: BLE001 - one generator must not stop the rest
        logger.exception("open data: generator failed", extra={"generator": generator.name})
        report.rejected.append(f"{generator.name}: {type(exc).__name__}: {exc}")
        report.incomplete.append(f"{generator.name}: it failed; its datasets are kept")
        return
    # only after a complete run: what the generator did not mention is really gone
    _remove_stale(generator, produced, report)


# ---- helpers of the generators --------------------------------------------------------------


def _publisher(kind: str) -> Office:
    for uri in (PUBLISHER_HINTS.get(kind, ""), settings.OPEN_DATA_PUBLISHER_URI):
        if uri:
            office = Office.objects.filter(uri=uri).first()
            if office is not None:
                return office
    office = Office.objects.filter(parent__isnull=True).order_by("id").first()
    if office is None:
        raise GeneratorIncomplete("no office to publish under (import the offices)")
    return office


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _bbox(points: Iterable[tuple[float | None, float | None]]) -> tuple[float, ...] | None:
    lats: list[float] = []
    lons: list[float] = []
    for lat, lon in points:
        if lat is not None and lon is not None:
            lats.append(lat)
            lons.append(lon)
    if not lats:
        return None
    return (min(lons), min(lats), max(lons), max(lats))


# ---- generator: the service catalogue -------------------------------------------------------

SERVICE_COLUMNS = (
    "leika_key",
    "name",
    "short_description",
    "leika_type",
    "ozg_id",
    "ozg_name",
    "life_situation",
    "topic",
    "offices",
    "ozg_maturity",
    "online",
    "fee_min",
    "fee_max",
    "processing_time",
    "form_url",
    "url",
)


def _service_records() -> list[dict[str, Any]]:
    from rathaus.catalog.selectors import catalogue_export

    export = catalogue_export()
    offices = {o["id"]: o["name"] for o in export["offices"]}
    records = []
    for service in export["services"]:
        form_url = service["form_url"]
        records.append(
            {
                "leika_key": service["leika_key"],
                "urn": service["urn"],
                "name": service["name"],
                "short_description": service["short_description"],
                "leika_type": service["leika_type"],
                "ozg_id": service["ozg_id"],
                "ozg_name": service["ozg_name"],
                "life_situation": service["life_situation"] or "",
                "topic": service["topic"] or "",
                "offices": [offices[i] for i in service["office_ids"] if i in offices],
                "ozg_maturity": service["ozg_maturity"],
                "online": service["online"],
                "fee_min": service["fee_min"],
                "fee_max": service["fee_max"],
                "processing_time": service["processing_time"],
                "documents": service["documents"],
                "keywords": service["keywords"],
                "form_url": site_url(form_url) if form_url.startswith("/") else form_url,
                "url": site_url(
                    reverse("catalog:service", kwargs={"leika_key": service["leika_key"]})
                ),
            }
        )
    return records


def _service_rows(records: list[dict[str, Any]]) -> Iterator[list[object]]:
    yield list(SERVICE_COLUMNS)
    for record in records:
        row: list[object] = []
        for column in SERVICE_COLUMNS:
            value = record[column]
            if column == "offices":
                value = "; ".join(value)
            if value is None:
                value = ""
            row.append(_cell(value) if isinstance(value, str) else value)
        yield row


def service_catalogue_specs(report: PublishReport, force: bool) -> Iterator[DatasetSpec]:
    records = _service_records()
    if not records:
        report.skipped.append("services: the service catalogue is empty")
        return
    publisher = _publisher("services")
    city = settings.CITY_NAME
    fingerprint = hashlib.sha256(
        json.dumps(records, sort_keys=True, default=str).encode()
    ).hexdigest()
    yield DatasetSpec(
        source="catalog:services",
        slug="leistungskatalog",
        title=f"Leistungskatalog der Stadt {city}",
        title_en=f"Public services of the city of {city}",
        description=(
            f"Die Verwaltungsleistungen der Stadt {city} mit LeiKa-Schlüssel, OZG-Leistung, "
            "Lebenslage, zuständiger Stelle, Reifegrad der Online-Umsetzung (0 bis 4), "
            "Gebühren und Bearbeitungsdauer. Eine Zeile je Leistung (CSV) bzw. ein Objekt je "
            "Leistung mit den erforderlichen Unterlagen (JSON)."
        ),
        description_en=(
            "The city's administrative services with their LeiKa key, OZG service, life "
            "situation, responsible office, online maturity (0 to 4), fees and processing time."
        ),
        publisher=publisher,
        themes=["GOVE"],
        keywords=["Verwaltungsleistungen", "LeiKa", "OZG", "Bürgerservice", "Onlinezugangsgesetz"],
        accrual_periodicity="IRREG",
        landing_page=site_url(reverse("catalog:index")),
        files=[
            FileSpec(
                "leistungen.csv",
                "Leistungen (CSV)",
                "CSV",
                csv_writer(lambda: _service_rows(records)),
                fingerprint=fingerprint,
            ),
            FileSpec(
                "leistungen.json",
                "Leistungen mit Unterlagen (JSON)",
                "JSON",
                json_writer(lambda: {"services": records}),
                fingerprint=fingerprint,
            ),
        ],
    )


# ---- generator: stops of each active transit feed -------------------------------------------

STOP_COLUMNS = (
    "stop_id",
    "stop_code",
    "stop_name",
    "stop_lat",
    "stop_lon",
    "location_type",
    "parent_station",
    "platform_code",
    "wheelchair_boarding",
)


def _stop_rows(version_id: int) -> Iterator[list[object]]:
    from rathaus.transit.models import Stop

    parents = dict(
        Stop.objects.filter(version_id=version_id, children__isnull=False)
        .distinct()
        .values_list("pk", "stop_id")
    )
    yield list(STOP_COLUMNS)
    rows = (
        Stop.objects.filter(version_id=version_id)
        .order_by("stop_id")
        .values_list(
            "stop_id",
            "code",
            "name",
            "lat",
            "lon",
            "location_type",
            "parent_id",
            "platform_code",
            "wheelchair_boarding",
        )
    )
    for stop_id, code, name, lat, lon, kind, parent, platform, wheelchair in rows.iterator(
        chunk_size=5000
    ):
        yield [
            _cell(stop_id),
            _cell(code),
            _cell(name),
            "" if lat is None else f"{lat:.6f}",
            "" if lon is None else f"{lon:.6f}",
            kind,
            _cell(parents.get(parent, "")) if parent else "",
            _cell(platform),
            wheelchair,
        ]


def _stop_geojson(version_id: int) -> dict[str, Any]:
    from rathaus.transit.models import Stop

    features = [
        {
            "type": "Feature",
            "id": stop_id,
            "geometry": {
                "type": "Point",
                "coordinates": [round(lon or 0.0, 6), round(lat or 0.0, 6)],
            },
            "properties": {"stop_id": stop_id, "name": name, "location_type": kind},
        }
        for stop_id, name, lat, lon, kind in Stop.objects.filter(
            version_id=version_id, lat__isnull=False, lon__isnull=False, parent__isnull=True
        )
        .order_by("stop_id")
        .values_list("stop_id", "name", "lat", "lon", "location_type")
        .iterator(chunk_size=5000)
    ]
    return {"type": "FeatureCollection", "features": features}


def transit_stop_specs(report: PublishReport, force: bool) -> Iterator[DatasetSpec]:
    from rathaus.transit.models import Feed, Stop

    feeds = list(Feed.objects.filter(active_version__isnull=False).select_related("active_version"))
    if not feeds:
        report.skipped.append("transit stops: no timetable is loaded")
        return
    publisher = _publisher("transit")
    for feed in feeds:
        version = feed.active_version
        assert version is not None  # noqa: S101 - filtered above
        box = Stop.objects.filter(version=version).aggregate(
            west=Min("lon"), south=Min("lat"), east=Max("lon"), north=Max("lat")
        )
        bbox = (
            (box["west"], box["south"], box["east"], box["north"])
            if box["west"] is not None
            else None
        )
        fingerprint = f"version:{version.pk}"
        yield DatasetSpec(
            source=f"transit:stops:{feed.slug}",
            slug=f"haltestellen-{feed.slug}",
            title=f"Haltestellen: {feed.name}",
            title_en=f"Public transport stops: {feed.name}",
            description=(
                f"Die Haltestellen und Steige des Fahrplans „{feed.name}“ "
                f"({version.publisher or feed.name}, Fahrplanversion "
                f"{version.version_label or version.pk}) mit Lage, übergeordneter Station, "
                "Steig und Barrierefreiheit (Spalten wie in GTFS stops.txt)."
            ),
            publisher=publisher,
            themes=["TRAN"],
            keywords=["Haltestellen", "ÖPNV", "GTFS", "Nahverkehr"],
            accrual_periodicity="IRREG",
            temporal_start=version.first_date,
            temporal_end=version.last_date,
            bbox=bbox,
            landing_page=site_url(reverse("transit:index")),
            files=[
                FileSpec(
                    "haltestellen.csv",
                    "Haltestellen (CSV)",
                    "CSV",
                    csv_writer(lambda v=version.pk: _stop_rows(v)),  # type: ignore[misc]
                    fingerprint=fingerprint,
                ),
                FileSpec(
                    "haltestellen.geojson",
                    "Stationen (GeoJSON)",
                    "GEOJSON",
                    json_writer(lambda v=version.pk: _stop_geojson(v)),  # type: ignore[misc]
                    fingerprint=fingerprint,
                ),
            ],
        )


# ---- generator: ÖV-Güteklassen --------------------------------------------------------------


QUALITY_SOURCE = "transit:quality"
QUALITY_FILES = ("oev-gueteklassen-haltestellen.csv", "oev-gueteklassen.geojson")


def _quality_fingerprint(versions: tuple[int, ...], publisher: Office) -> str:
    """What the report and its dataset follow: the timetable versions (the rated day is the
    busiest weekday of these), the feeds' names (in the stop ids), the grid, the office and
    the settings in the metadata. Cheap, unlike the report."""
    from rathaus.transit.models import Feed

    feeds = sorted(
        Feed.objects.filter(active_version__isnull=False).values_list("active_version_id", "slug")
    )
    parts = [
        versions,
        feeds,
        settings.TRANSIT_QUALITY_CELL_METERS,
        publisher.pk,
        publisher.updated_at,
        settings.OPEN_DATA_LICENSE,
        settings.OPEN_DATA_PUBLISHER_NAME,
        settings.OPEN_DATA_GEOCODING_URI,
        settings.OPEN_DATA_GEOCODING_LEVEL,
        settings.SITE_URL,
    ]
    return "sha256:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _files_current(source: str, file_names: Iterable[str], fingerprint: str) -> bool:
    """The dataset of ``source`` has each of these files, made from ``fingerprint``."""
    made = Distribution.objects.filter(
        dataset__source=source, file_name__in=list(file_names), source_version=fingerprint
    ).exclude(file="")
    names = [d.file.name for d in made]
    return len(names) == len(set(file_names)) and all(default_storage.exists(n) for n in names)


def quality_specs(report: PublishReport, force: bool) -> Iterator[DatasetSpec | Unchanged]:
    from rathaus.transit import quality, timetable
    from rathaus.transit.selectors import TransitError, quality_report

    versions = timetable.active_versions()
    if not versions:
        report.skipped.append("ÖV-Güteklassen: no timetable is loaded")
        return
    publisher = _publisher("transit")
    fingerprint = _quality_fingerprint(versions, publisher)
    # the report takes seconds to minutes on a city's timetable: not made again for nothing
    if not force and _files_current(QUALITY_SOURCE, QUALITY_FILES, fingerprint):
        yield Unchanged(QUALITY_SOURCE, "ÖV-Güteklassen: source unchanged")
        return
    try:
        result = quality_report(cell_m=settings.TRANSIT_QUALITY_CELL_METERS)
    except TransitError as exc:
        raise GeneratorIncomplete(f"ÖV-Güteklassen: {exc.message}") from exc
    rated = [r for r in result.ratings if r.category]
    yield DatasetSpec(
        source=QUALITY_SOURCE,
        slug="oev-gueteklassen",
        title="ÖV-Güteklassen",
        title_en="Public transport quality classes (ÖV-Güteklassen)",
        description=(
            "Die Erschließung mit öffentlichem Verkehr nach der Methode der ÖV-Güteklassen "
            f"(ARE, Schweiz) am {result.day:%d.%m.%Y}, 6 bis 20 Uhr: je Haltestelle die "
            "Abfahrten, der mittlere Takt und die Haltestellenkategorie (CSV); die Güteklassen "
            f"A bis F auf einem Raster von {result.cell_m:g} m mit den Haltestellen (GeoJSON)."
        ),
        publisher=publisher,
        themes=["TRAN", "REGI"],
        keywords=["ÖV-Güteklassen", "ÖPNV", "Erschließung", "Takt", "Haltestellen"],
        accrual_periodicity="IRREG",
        temporal_start=result.day,
        temporal_end=result.day,
        bbox=_bbox((r.stop.lat, r.stop.lon) for r in rated),  # type: ignore[arg-type]
        landing_page=site_url(reverse("transit:quality")),
        files=[
            FileSpec(
                QUALITY_FILES[0],
                "Haltestellen mit Kategorie (CSV)",
                "CSV",
                csv_writer(lambda: quality.quality_csv_rows(result.ratings)),
                fingerprint=fingerprint,
            ),
            FileSpec(
                QUALITY_FILES[1],
                "Güteklassen und Haltestellen (GeoJSON)",
                "GEOJSON",
                json_writer(lambda: quality.quality_geojson(rated, result.cells, result.cell_m)),
                fingerprint=fingerprint,
            ),
        ],
    )


# ---- generator: sensor datastreams ----------------------------------------------------------


OBSERVATION_CHUNK = 5000  # rows per query while writing a datastream's CSV


def _year_range(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def observation_rows(datastream_id: int, year: int | None = None) -> Iterator[list[object]]:
    """phenomenonTime,result of one datastream (of one year in UTC), oldest first, read
    OBSERVATION_CHUNK rows per query after the last one read (no cursor held open, memory
    bounded on every database)."""
    yield ["phenomenonTime", "result"]
    rows = Observation.objects.filter(datastream_id=datastream_id)
    if year is not None:
        low, high = _year_range(year)
        rows = rows.filter(phenomenon_time__gte=low, phenomenon_time__lt=high)
    rows = rows.order_by("phenomenon_time", "id")
    after: tuple[datetime, int] | None = None
    while True:
        page = rows
        if after is not None:
            page = rows.filter(
                Q(phenomenon_time__gt=after[0]) | Q(phenomenon_time=after[0], id__gt=after[1])
            )
        chunk = list(
            page.values_list(
                "id", "phenomenon_time", "phenomenon_time_end", "result_number", "result_json"
            )[:OBSERVATION_CHUNK]
        )
        for _pk, start, end, number, other in chunk:
            moment = _iso(start) if end is None else f"{_iso(start)}/{_iso(end)}"
            if other is None:
                result: object = "" if number is None else repr(number)
            else:
                result = other if isinstance(other, str) else json.dumps(other, ensure_ascii=False)
                result = _cell(str(result))
            yield [moment, result]
        if len(chunk) < OBSERVATION_CHUNK:
            return
        after = (chunk[-1][1], chunk[-1][0])


def _stream_file_name(stream: Datastream, year: int) -> str:
    base = slugify(stream.observed_property.name)[:60] or "messwerte"
    return f"{base}-{stream.pk}-{year}.csv"


def _years_of_streams(stream_ids: list[int]) -> dict[int, dict[int, str]]:
    """datastream id -> year (UTC) -> the fingerprint of that year's observations (how many,
    the highest id), in one grouped query: a closed year's file is made once and kept;
    new observations change only their year's fingerprint."""
    years: dict[int, dict[int, str]] = {}
    rows = (
        Observation.objects.filter(datastream_id__in=stream_ids)
        .annotate(year=ExtractYear("phenomenon_time", tzinfo=UTC))
        .values("datastream_id", "year")
        .annotate(n=Count("id"), last=Max("id"))
        .order_by("datastream_id", "year")
    )
    for row in rows:
        years.setdefault(row["datastream_id"], {})[row["year"]] = f"n={row['n']};last={row['last']}"
    return years


def sensor_specs(report: PublishReport, force: bool) -> Iterator[DatasetSpec]:
    things = list(
        Thing.objects.filter(datastreams__isnull=False)
        .distinct()
        .order_by("id")
        .prefetch_related("locations")
    )
    if not things:
        report.skipped.append("sensors: no datastreams")
        return
    publisher = _publisher("sensors")
    streams: dict[int, list[Datastream]] = {}
    for stream in (
        Datastream.objects.filter(thing__in=things)
        .select_related("observed_property", "sensor")
        .order_by("thing_id", "observed_property__name", "id")
    ):
        streams.setdefault(stream.thing_id, []).append(stream)
    years = _years_of_streams([s.pk for own in streams.values() for s in own])
    for thing in things:
        own = streams.get(thing.pk, [])
        starts = [s.phenomenon_start for s in own if s.phenomenon_start]
        ends = [s.phenomenon_end or s.phenomenon_start for s in own if s.phenomenon_start]
        zone = timezone.get_current_timezone()
        names = sorted({s.observed_property.name for s in own})
        sta = site_url(f"/api/sta/v1.1/Things({thing.pk})")
        try:  # the station's page with its charts, where the site has one
            page = site_url(reverse("citydata:thing", kwargs={"thing_id": thing.pk}))
        except NoReverseMatch:
            page = sta
        yield DatasetSpec(
            source=f"citydata:thing:{thing.pk}",
            slug=f"messwerte-{slugify(thing.name)[:70]}",
            title=f"Messwerte: {thing.name}",
            title_en=f"Measurements: {thing.name}",
            description=(
                f"Die Messwerte der Station „{thing.name}“"
                + (f" ({thing.description})" if thing.description else "")
                + f": {', '.join(names)}. Eine CSV-Datei je Messreihe und Jahr (UTC) mit "
                "Zeitpunkt (phenomenonTime, ISO 8601, UTC) und Wert (result); die Einheit steht "
                "beim Titel der Datei. Live über die SensorThings API."
            ),
            publisher=publisher,
            themes=["ENVI"],
            keywords=["Sensordaten", "SensorThings", *names],
            accrual_periodicity="UPDATE_CONT",
            temporal_start=min(starts).astimezone(zone).date() if starts else None,
            temporal_end=max(e for e in ends if e).astimezone(zone).date() if ends else None,
            bbox=_bbox((loc.lat, loc.lon) for loc in thing.locations.all()),  # type: ignore[arg-type]
            landing_page=page,
            files=[
                FileSpec(
                    _stream_file_name(stream, year),
                    f"{stream.name} {year} ({stream.unit_of_measurement.get('symbol') or '-'})",
                    "CSV",
                    csv_writer(
                        lambda pk=stream.pk, year=year: observation_rows(pk, year)  # type: ignore[misc]
                    ),
                    fingerprint=fingerprint,
                    description=stream.description,
                )
                for stream in own
                for year, fingerprint in years.get(stream.pk, {}).items()
            ],
            links=[
                LinkSpec(
                    "SensorThings API",
                    "JSON",
                    f"{sta}/Datastreams",
                    description="OGC SensorThings API 1.1",
                )
            ],
        )


# ---- generator: published states of the strategies --------------------------------------------

STRATEGY_GENERATOR = "strategy"
STRATEGY_PREFIX = "strategy:"
# an outbox topic: regenerate the named generators' datasets now (payload {"generators": [...]})
REFRESH_TOPIC = "citydata.open_data.refresh"


def strategy_specs(report: PublishReport, force: bool) -> Iterator[DatasetSpec | Unchanged]:
    """One dataset per strategy with a published state: its measures and its KPI values as
    last published (the public dashboard is the landing page). Its source is the strategy's
    id, so a renamed strategy keeps its dataset; its address and landing page follow the
    strategy's slug as it is now, never the snapshot's. A snapshot is read only to write the
    files (when its publication is new)."""
    from rathaus.strategy.selectors.public import (
        IndexEntry,
        indicator_rows,
        measure_rows,
        published_index,
        state_of_publication,
    )

    entries = published_index()
    if not entries:  # nothing to say: most installations publish no strategy
        return
    publisher = _publisher(STRATEGY_GENERATOR)
    base = settings.SITE_URL.rstrip("/")
    for entry in entries:
        strategy = entry.strategy
        source = f"{STRATEGY_PREFIX}{entry.strategy_id}"
        # a publication never changes: its number (and the settings that end up in the
        # files and metadata) is all a file depends on; the slug is in the files' links
        fingerprint = f"publication:{entry.pk}:{entry.slug}:{base}:{publisher.pk}"
        name = f"{strategy.get('name', '')} {strategy.get('version', '')}".strip()

        def measures(entry: IndexEntry = entry) -> Iterator[list[object]]:
            state = state_of_publication(pk=entry.pk, published_at=entry.published_at)
            for row in measure_rows(state=state, slug=entry.slug, base_url=base):
                yield [_cell(v) for v in row]

        def indicators(entry: IndexEntry = entry) -> Iterator[list[object]]:
            state = state_of_publication(pk=entry.pk, published_at=entry.published_at)
            for row in indicator_rows(state=state):
                yield [_cell(v) for v in row]

        yield DatasetSpec(
            source=source,
            slug=f"strategie-{entry.slug}",
            title=f"Strategie {name}: Maßnahmen und Kennzahlen",
            title_en=f"Strategy {name}: measures and indicators",
            description=(
                f"Der veröffentlichte Stand {entry.number} vom "
                f"{entry.published_at.astimezone(timezone.get_current_timezone()):%d.%m.%Y} "
                f"der Strategie „{name}“: die Maßnahmen mit Status, Ampel, Fortschritt, Terminen, "
                "Budget und verantwortlicher Stelle (eine Zeile je Maßnahme) und die Werte der "
                "Kennzahlen (eine Zeile je Kennzahl und Zeitraum, mit Ausgangs- und Zielwert)."
            ),
            description_en=(
                f"Published state {entry.number} of the strategy “{name}”: its measures "
                "(one row each) and the values of its indicators (one row per period)."
            ),
            publisher=publisher,
            themes=["GOVE"],
            keywords=["Strategie", "Maßnahmen", "Kennzahlen", "Digitalisierung"],
            accrual_periodicity="IRREG",
            landing_page=site_url(reverse("strategy:dashboard", kwargs={"slug": entry.slug})),
            files=[
                FileSpec(
                    "massnahmen.csv",
                    "Maßnahmen (CSV)",
                    "CSV",
                    csv_writer(measures),
                    fingerprint=fingerprint,
                ),
                FileSpec(
                    "kennzahlen.csv",
                    "Kennzahlen (CSV)",
                    "CSV",
                    csv_writer(indicators),
                    fingerprint=fingerprint,
                ),
            ],
        )


def strategy_dataset_path(*, strategy_id: int) -> str:
    """The catalogue page of a strategy's dataset, if it is there and published; else ""."""
    slug = (
        Dataset.objects.filter(source=f"{STRATEGY_PREFIX}{strategy_id}", published=True)
        .values_list("slug", flat=True)
        .first()
    )
    return reverse("opendata:dataset", kwargs={"slug": slug}) if slug else ""


@outbox_handler(REFRESH_TOPIC)
def refresh_generators(message: OutboxMessage) -> None:
    """Regenerate now what changed (e.g. a strategy was published) instead of waiting for the
    periodic run; a run that finds another one busy is retried."""
    names = [n for n in message.payload.get("generators", []) if n in GENERATOR_NAMES]
    if not names:
        return
    report = publish_open_data(only=names)
    if report.busy:
        raise RuntimeError("another process is publishing open data; retry later")


GENERATORS: tuple[Generator, ...] = (
    Generator("services", "catalog:services", service_catalogue_specs),
    Generator("transit-stops", "transit:stops:", transit_stop_specs),
    Generator("transit-quality", QUALITY_SOURCE, quality_specs),
    Generator("sensors", "citydata:thing:", sensor_specs),
    Generator(STRATEGY_GENERATOR, STRATEGY_PREFIX, strategy_specs),
)
GENERATOR_NAMES = tuple(g.name for g in GENERATORS)
