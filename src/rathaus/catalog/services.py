"""Writes of the catalogue: the LeiKa import, services, synonyms and the search index."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from rathaus.accounts.models import User
from rathaus.catalog.constants import SEARCH_DOC_TYPE
from rathaus.catalog.models import LifeSituation, Service, Synonym, Topic
from rathaus.core import search
from rathaus.core.services import audit_entry_create

LEIKA_COLUMNS = (
    "leika_key",
    "name",
    "leika_type",
    "legal_basis",
    "law_shortcuts",
    "ozg_id",
    "ozg_name",
    "lebenslage",
    "themenfeld",
    "description",
)
LEIKA_KEY = re.compile(r"^99\d{12}$")
IMPORTED_FIELDS = (
    "name",
    "leika_type",
    "legal_basis",
    "law_shortcuts",
    "ozg_id",
    "ozg_name",
    "life_situation_id",
    "topic_id",
    "description",
)
# Ranking weights of the fields of a service's search document (core.search.rank).
SEARCH_WEIGHTS = {
    "name": 10.0,
    "keywords": 8.0,
    "ozg": 4.0,
    "situation": 1.5,
    "text": 1.0,
    "law": 1.0,
}
PRIMARY_FIELDS = ("name", "keywords", "ozg")
SYNONYM_DOC_TYPE = "catalog.synonym"


class ImportFileError(Exception):
    """The file cannot be imported at all (missing, unreadable, wrong columns)."""


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        text = (
            f"services: {self.read} read, {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected"
        )
        return text + ("" if self.changed else " (nothing to change)")


_RECORD_START = re.compile(r"^99\d{12},")
MAX_RECORD_LINES = 50


def _records(raw: bytes, report: ImportReport) -> Iterable[tuple[int, list[str]]]:
    """(first line number, fields) of each CSV record. A record may span lines (quoted line
    breaks); an unclosed quote is reported at the line where it opened and reading goes on at
    the next line that starts a record, so one broken line never swallows the rest. Lines that
    are not UTF-8 reject their record, reported with the line number."""
    lines = raw.decode("utf-8", errors="replace").removeprefix("\ufeff").split("\n")
    buffer: list[str] = []
    first = 0
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")
        if buffer and (len(buffer) >= MAX_RECORD_LINES or _RECORD_START.match(line)):
            report.rejected.append((first, "unclosed quote: the record never ends"))
            buffer = []
        if not buffer:
            first = number
        buffer.append(line)
        text = "\n".join(buffer)
        if text.count('"') % 2:
            continue  # inside a quoted field: the record goes on in the next line
        buffer = []
        if not text.strip():
            continue
        if "\ufffd" in text:
            bad = first + next(i for i, part in enumerate(text.split("\n")) if "\ufffd" in part)
            report.rejected.append((first, f"not UTF-8 (line {bad}); save the file as UTF-8"))
            continue
        try:
            fields = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration) as exc:
            report.rejected.append((first, f"broken CSV ({exc})"))
            continue
        yield first, fields
    if buffer:
        report.rejected.append((first, "unclosed quote: the record never ends"))


def _named(
    model: type[LifeSituation] | type[Topic], name: str, cache: dict[str, int]
) -> int | None:
    """The Lebenslage/Themenfeld of this name (found regardless of case), made if new."""
    name = " ".join(name.split())
    if not name:
        return None
    key = name.casefold()
    if key not in cache:
        obj = model.objects.filter(name__iexact=name).first()
        if obj is None:
            base = slugify(name)[:190] or "x"
            slug, n = base, 1
            while model.objects.filter(slug=slug).exists():
                n += 1
                slug = f"{base}-{n}"
            obj = model.objects.create(name=name, slug=slug)
        cache[key] = obj.pk
    return cache[key]


def leika_import(
    *,
    path: Path,
    actor: User | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import LeiKa services from CSV (the columns of LEIKA_COLUMNS). Idempotent: unchanged
    rows are left alone; bad rows are reported with their line number and skipped; the
    whole import is one transaction (a failure leaves nothing half-imported)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            f"{path}: cannot be read / kann nicht gelesen werden ({exc.strerror})"
        ) from None
    report = ImportReport()
    records = iter(_records(raw, report))
    header_record = next(records, None)
    if header_record is None:
        raise ImportFileError(f"{path}: empty or not CSV / leer oder kein CSV")
    header = [column.strip() for column in header_record[1]]
    missing = [c for c in LEIKA_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(f"{path}: columns missing / Spalten fehlen: {', '.join(missing)}")
    index = {name: header.index(name) for name in LEIKA_COLUMNS}
    with transaction.atomic():
        _import_rows(records, header, index, report, progress)
        if not Synonym.objects.exists():
            synonyms_load_defaults(actor=actor)
        audit_entry_create(
            actor=actor,
            action="catalog.import",
            object_type="catalog.service",
            after={
                "file": path.name,
                "read": report.read,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": len(report.rejected),
            },
        )
    report.rejected.sort()
    return report


def _import_rows(
    records: Iterable[tuple[int, list[str]]],
    header: list[str],
    index: dict[str, int],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    situations: dict[str, int] = {
        n.casefold(): pk for n, pk in LifeSituation.objects.values_list("name", "pk")
    }
    topics: dict[str, int] = {n.casefold(): pk for n, pk in Topic.objects.values_list("name", "pk")}
    existing = {
        row["leika_key"]: row for row in Service.objects.values("pk", "leika_key", *IMPORTED_FIELDS)
    }
    seen: dict[str, int] = {}
    to_create: list[Service] = []
    to_update: list[Service] = []
    for line, row in records:
        if not any(cell.strip() for cell in row):
            continue
        report.read += 1
        if progress and report.read % 500 == 0:
            progress(report.read)
        if len(row) != len(header):
            report.rejected.append((line, f"expected {len(header)} fields, found {len(row)}"))
            continue
        if any("\x00" in cell for cell in row):
            report.rejected.append((line, "contains a NUL character"))
            continue
        key = row[index["leika_key"]].strip()
        name = " ".join(row[index["name"]].split())
        if not LEIKA_KEY.match(key):
            report.rejected.append(
                (line, f"bad LeiKa key {key[:20]!r} (14 digits starting with 99)")
            )
            continue
        if not name:
            report.rejected.append((line, f"missing name for {key}"))
            continue
        if key in seen:
            report.rejected.append((line, f"duplicate key {key} (first on line {seen[key]})"))
            continue
        too_long = [
            column
            for column in ("lebenslage", "themenfeld")
            if len(" ".join(row[index[column]].split())) > 200
        ]
        if too_long:
            report.rejected.append((line, f"{', '.join(too_long)} longer than 200 characters"))
            continue
        seen[key] = line
        values: dict[str, Any] = {
            "name": name[:300],
            "leika_type": " ".join(row[index["leika_type"]].split())[:10],
            "legal_basis": row[index["legal_basis"]].strip(),
            "law_shortcuts": row[index["law_shortcuts"]].strip()[:300],
            "ozg_id": row[index["ozg_id"]].strip()[:10],
            "ozg_name": " ".join(row[index["ozg_name"]].split())[:300],
            "life_situation_id": _named(LifeSituation, row[index["lebenslage"]], situations),
            "topic_id": _named(Topic, row[index["themenfeld"]], topics),
            "description": row[index["description"]].strip(),
        }
        current = existing.get(key)
        if current is None:
            to_create.append(Service(leika_key=key, **values))
        elif any(current[name_] != value for name_, value in values.items()):
            to_update.append(Service(pk=current["pk"], leika_key=key, **values))
        else:
            report.unchanged += 1
    Service.objects.bulk_create(to_create, batch_size=500)
    Service.objects.bulk_update(to_update, list(IMPORTED_FIELDS), batch_size=500)
    report.created, report.updated = len(to_create), len(to_update)
    if report.changed:
        keys = [s.leika_key for s in to_create + to_update]
        service_search_reindex(
            service_ids=Service.objects.filter(leika_key__in=keys).values_list("pk", flat=True)
        )


# ---- search index -------------------------------------------------------------------------


def _search_fields(service: Service) -> dict[str, str]:
    return {
        "name": service.name,
        "keywords": service.keywords,
        "ozg": service.ozg_name,
        "situation": " ".join(
            x.name for x in (service.life_situation, service.topic) if x is not None
        ),
        "text": f"{service.short_description} {service.description}",
        "law": service.law_shortcuts,
    }


def _lexicon() -> frozenset[str]:
    texts: list[str] = []
    for name, ozg, keywords in Service.objects.values_list("name", "ozg_name", "keywords"):
        texts += [name, ozg, keywords]
    texts += list(Synonym.objects.values_list("terms", flat=True))
    texts += list(LifeSituation.objects.values_list("name", flat=True))
    return search.lexicon_from_texts(texts)


def service_search_reindex(*, service_ids: Iterable[int] | None = None) -> int:
    """(Re)write the search documents of the given services, or of all."""
    services = Service.objects.select_related("life_situation", "topic")
    if service_ids is not None:
        services = services.filter(pk__in=list(service_ids))
    documents = {str(s.pk): _search_fields(s) for s in services}
    count = search.index_documents(
        doc_type=SEARCH_DOC_TYPE, documents=documents, lexicon=_lexicon(), primary=PRIMARY_FIELDS
    )
    if len(documents) > 100:
        search.analyse_table()
    return count


# ---- editing ------------------------------------------------------------------------------


def services_delete(*, service_ids: Iterable[int], actor: User | None = None) -> int:
    """Delete services and their search documents together (audited by the caller's admin)."""
    ids = [int(pk) for pk in service_ids]
    with transaction.atomic():
        deleted, _ = Service.objects.filter(pk__in=ids).delete()
        search.delete_documents(doc_type=SEARCH_DOC_TYPE, object_ids=[str(pk) for pk in ids])
    return deleted


def synonyms_changed() -> None:
    """Tell every process to reload the synonym list (after an edit)."""
    search.bump_version(SYNONYM_DOC_TYPE)


def synonym_create(*, terms: str, actor: User | None = None, note: str = "") -> Synonym:
    with transaction.atomic():
        synonym = Synonym.objects.create(terms=terms, note=note)
        audit_entry_create(
            actor=actor,
            action="catalog.synonym.create",
            object_type="catalog.synonym",
            object_id=synonym.pk,
            after={"terms": terms},
        )
        synonyms_changed()
    return synonym


def services_assign_offices(*, assignments: dict[int, list[int]], actor: User | None = None) -> int:
    """Make the given offices responsible for the given services (service id -> office ids).
    Returns how many links were added; existing links are kept."""
    through = Service.offices.through
    wanted = {(s, o) for s, offices in assignments.items() for o in offices}
    existing = set(
        through.objects.filter(service_id__in=list(assignments)).values_list(
            "service_id", "office_id"
        )
    )
    new = sorted(wanted - existing)
    with transaction.atomic():
        through.objects.bulk_create(
            [through(service_id=s, office_id=o) for s, o in new], batch_size=1000
        )
        if new:
            audit_entry_create(
                actor=actor,
                action="catalog.services.assign_offices",
                object_type="catalog.service",
                after={"links_added": len(new), "offices": sorted({o for _, o in new})},
            )
    return len(new)


DEFAULT_SYNONYMS = Path(__file__).resolve().parent / "data" / "synonyms.txt"


def synonyms_load_defaults(*, path: Path = DEFAULT_SYNONYMS, actor: User | None = None) -> int:
    """Add the shipped synonym sets that are not there yet (by their exact text). Sets the
    department changed or deleted stay as they are once any synonym exists."""
    lines = [
        " ".join(line.split())
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    existing = set(Synonym.objects.values_list("terms", flat=True))
    new = [Synonym(terms=line) for line in lines if line not in existing]
    with transaction.atomic():
        Synonym.objects.bulk_create(new)
        if new:
            audit_entry_create(
                actor=actor,
                action="catalog.synonym.load_defaults",
                object_type="catalog.synonym",
                after={"added": len(new)},
            )
            synonyms_changed()
    return len(new)
