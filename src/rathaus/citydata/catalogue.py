"""The open-data catalogue: reading it (selectors), staff writes (services, audited) and the
addresses of datasets and files. Generated datasets are made in citydata/publishing.py; the
DCAT-AP.de export is citydata/dcat.py, the CKAN Action API citydata/ckan.py."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office, User
from rathaus.citydata.constants import FORMATS, LICENSES, THEMES
from rathaus.citydata.models import Dataset, DatasetKeyword, Distribution
from rathaus.core.dbrouter import replica_reads
from rathaus.core.search import fold
from rathaus.core.services import audit_entry_create

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# ---- addresses ------------------------------------------------------------------------------


def site_url(path: str) -> str:
    """An absolute address on this installation (RATHAUS_SITE_URL): the same in every
    export, whichever host name a request used."""
    return settings.SITE_URL.rstrip("/") + path


def dataset_path(dataset: Dataset) -> str:
    return reverse("opendata:dataset", kwargs={"slug": dataset.slug})


def dataset_url(dataset: Dataset) -> str:
    return site_url(dataset_path(dataset))


def distribution_path(distribution: Distribution, dataset: Dataset | None = None) -> str:
    """Rathaus' own address of a served file, or "" for a distribution elsewhere."""
    if not distribution.file_name:
        return ""
    dataset = dataset or distribution.dataset
    return reverse(
        "opendata:file", kwargs={"slug": dataset.slug, "file_name": distribution.file_name}
    )


def distribution_url(distribution: Distribution, dataset: Dataset | None = None) -> str:
    """Where to get it: the served file, else its download address, else its access address."""
    path = distribution_path(distribution, dataset)
    if path:
        return site_url(path)
    return distribution.download_url or distribution.access_url


# ---- search text ----------------------------------------------------------------------------


def folded_words(text: str) -> list[str]:
    return [w for w in (fold(word) for word in _WORD.findall(text)) if w]


def search_text_for(dataset: Dataset, keywords: Iterable[str]) -> str:
    parts = [
        dataset.title,
        dataset.title_en,
        dataset.description,
        dataset.description_en,
        *keywords,
    ]
    return " " + " ".join(folded_words(" ".join(parts))) + " "


def query_words(query: str) -> list[str]:
    """The words of a search, folded like the index; bounded in length and number."""
    return folded_words(query[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]


# ---- selectors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetFilters:
    query: str = ""
    theme: str = ""  # EU data-theme code
    publisher: int | None = None  # office id
    format: str = ""  # EU file-type code
    license: str = ""  # licence code

    @property
    def active(self) -> bool:
        return bool(self.theme or self.publisher or self.format or self.license)


def datasets_published() -> QuerySet[Dataset]:
    return Dataset.objects.filter(published=True)


def with_related(queryset: QuerySet[Dataset]) -> QuerySet[Dataset]:
    """Publisher, keywords and distributions of a page of datasets in three queries."""
    return queryset.select_related("publisher").prefetch_related(
        Prefetch("keywords", queryset=DatasetKeyword.objects.order_by("name")),
        Prefetch("distributions", queryset=Distribution.objects.order_by("position", "id")),
    )


def apply_text(queryset: QuerySet[Dataset], query: str) -> QuerySet[Dataset]:
    for word in query_words(query):
        queryset = queryset.filter(search_text__contains=word)
    return queryset


def apply_filters(
    queryset: QuerySet[Dataset], filters: DatasetFilters, *, skip: str = ""
) -> QuerySet[Dataset]:
    """The filters of the catalogue pages; ``skip`` leaves one out (for its counts)."""
    queryset = apply_text(queryset, filters.query)
    if filters.theme and skip != "theme":
        queryset = queryset.filter(themes__contains=filters.theme)
    if filters.publisher and skip != "publisher":
        queryset = queryset.filter(publisher_id=filters.publisher)
    if filters.format and skip != "format":
        queryset = queryset.filter(
            Exists(Distribution.objects.filter(dataset=OuterRef("pk"), format=filters.format))
        )
    if filters.license and skip != "license":
        queryset = queryset.filter(license=filters.license)
    return queryset


@replica_reads
def dataset_search(
    *, filters: DatasetFilters, offset: int = 0, limit: int = 20
) -> tuple[list[Dataset], int]:
    queryset = apply_filters(datasets_published(), filters)
    total = queryset.count()
    page = list(with_related(queryset.order_by("title", "id"))[offset : offset + limit])
    return page, total


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


def theme_counts(queryset: QuerySet[Dataset]) -> dict[str, int]:
    """Datasets per theme in one query (themes are a short, fixed list)."""
    counts = queryset.aggregate(
        **{code: Count("pk", filter=Q(themes__contains=code)) for code in THEMES}
    )
    return {code: int(n) for code, n in counts.items() if n}


def format_counts(queryset: QuerySet[Dataset]) -> dict[str, int]:
    rows = (
        Distribution.objects.filter(dataset__in=queryset.values("pk"))
        .values("format")
        .annotate(n=Count("dataset", distinct=True))
    )
    return {row["format"]: row["n"] for row in rows}


def license_counts(queryset: QuerySet[Dataset]) -> dict[str, int]:
    rows = queryset.order_by().values("license").annotate(n=Count("pk"))
    return {row["license"]: row["n"] for row in rows}


def publisher_counts(queryset: QuerySet[Dataset]) -> list[tuple[int, str, int]]:
    rows = (
        queryset.order_by()
        .values("publisher_id", "publisher__name")
        .annotate(n=Count("pk"))
        .order_by("publisher__name")
    )
    return [(row["publisher_id"], row["publisher__name"], row["n"]) for row in rows]


@replica_reads
def dataset_facets(*, filters: DatasetFilters) -> dict[str, list[FacetValue]]:
    """Counts for each filter, each over the datasets the other filters leave (so that a
    chosen theme still shows how many datasets the other themes have)."""
    base = datasets_published()
    themes = theme_counts(apply_filters(base, filters, skip="theme"))
    formats = format_counts(apply_filters(base, filters, skip="format"))
    licenses = license_counts(apply_filters(base, filters, skip="license"))
    publishers = publisher_counts(apply_filters(base, filters, skip="publisher"))
    return {
        "theme": [
            FacetValue(code, str(label), themes[code])
            for code, label in THEMES.items()
            if code in themes
        ],
        "format": [
            FacetValue(code, item.label, formats[code])
            for code, item in FORMATS.items()
            if code in formats
        ],
        "license": [
            FacetValue(code, item.title, licenses[code])
            for code, item in LICENSES.items()
            if code in licenses
        ],
        "publisher": [FacetValue(str(pk), name, n) for pk, name, n in publishers],
    }


def publisher_choices() -> list[tuple[object, object]]:
    """(office id, name) of the offices that publish datasets, for the filter."""
    rows = (
        Office.objects.filter(open_datasets__published=True)
        .distinct()
        .order_by("name")
        .values_list("pk", "name")
    )
    return list(rows)


@replica_reads
def dataset_get_public(*, slug: str) -> Dataset:
    dataset = with_related(datasets_published().filter(slug=slug)).first()
    if dataset is None:
        raise Http404
    return dataset


def distribution_file_get(*, slug: str, file_name: str) -> Distribution:
    """A file Rathaus serves: of a published dataset, generated at least once."""
    distribution = (
        Distribution.objects.select_related("dataset")
        .filter(dataset__slug=slug, dataset__published=True, file_name=file_name)
        .exclude(file="")
        .first()
    )
    if distribution is None:
        raise Http404
    return distribution


def catalogue_version() -> str:
    """Changes whenever the published catalogue may have changed (a dataset, a file, an
    office, the settings that appear in the export): the cache key of the DCAT export."""
    datasets = datasets_published().aggregate(n=Count("pk"), latest=Max("updated_at"))
    files = Distribution.objects.filter(dataset__published=True).aggregate(
        n=Count("pk"), latest=Max("updated_at")
    )
    offices = Office.objects.aggregate(latest=Max("updated_at"))
    parts = [
        datasets["n"],
        datasets["latest"],
        files["n"],
        files["latest"],
        offices["latest"],
        settings.SITE_URL,
        settings.OPEN_DATA_TITLE,
        settings.OPEN_DATA_PUBLISHER_NAME,
        settings.OPEN_DATA_PUBLISHER_URI,
        settings.OPEN_DATA_CONTRIBUTOR_ID,
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def datasets_for_export() -> list[Dataset]:
    """Every published dataset with what the DCAT export needs, in three queries."""
    return list(with_related(datasets_published().order_by("slug")))


# ---- services (staff) -----------------------------------------------------------------------

# The fields of a dataset that staff edit (services, admin form); generators set all of them
# but the slug (its address), "published" (staff's decision) and "issued" (publishing/GENERATED).
EDITABLE = (
    "slug",
    "title",
    "title_en",
    "description",
    "description_en",
    "publisher",
    "contact_name",
    "contact_email",
    "license",
    "license_attribution",
    "themes",
    "temporal_start",
    "temporal_end",
    "political_geocoding_uri",
    "political_geocoding_level_uri",
    "bbox_west",
    "bbox_south",
    "bbox_east",
    "bbox_north",
    "accrual_periodicity",
    "issued",
    "modified",
    "landing_page",
    "published",
)


def _plain(value: Any) -> Any:
    if isinstance(value, Office):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _snapshot(dataset: Dataset, keywords: Iterable[str]) -> dict[str, Any]:
    data = {name: _plain(getattr(dataset, name)) for name in EDITABLE}
    data["keywords"] = sorted(keywords)
    return data


def clean_keywords(keywords: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for keyword in keywords:
        text = " ".join(str(keyword).split())[:100]
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    return sorted(seen.values(), key=str.lower)


def clean_themes(themes: Iterable[str]) -> str:
    codes = []
    for code in themes:
        code = str(code).strip().upper()
        if code not in THEMES:
            raise ValidationError({"themes": f"unknown data theme {code!r}"})
        if code not in codes:
            codes.append(code)
    return " ".join(codes)


def keywords_set(*, dataset: Dataset, keywords: Iterable[str]) -> list[str]:
    """Replace a dataset's keywords and refresh its search text (inside the caller's
    transaction)."""
    wanted = clean_keywords(keywords)
    DatasetKeyword.objects.filter(dataset=dataset).exclude(name__in=wanted).delete()
    have = set(DatasetKeyword.objects.filter(dataset=dataset).values_list("name", flat=True))
    DatasetKeyword.objects.bulk_create(
        [DatasetKeyword(dataset=dataset, name=name) for name in wanted if name not in have]
    )
    search_text_refresh(dataset=dataset, keywords=wanted)
    return wanted


def search_text_refresh(*, dataset: Dataset, keywords: Iterable[str] | None = None) -> None:
    if keywords is None:
        keywords = list(dataset.keywords.values_list("name", flat=True))
    text = search_text_for(dataset, keywords)
    if text != dataset.search_text:
        dataset.search_text = text
        Dataset.objects.filter(pk=dataset.pk).update(search_text=text)


def dataset_create(
    *,
    actor: User | None,
    slug: str,
    title: str,
    description: str,
    publisher: Office,
    themes: Iterable[str] = (),
    keywords: Iterable[str] = (),
    **fields: Any,
) -> Dataset:
    """A dataset entered by staff (not generated). Validated like the admin form."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    dataset = Dataset(
        slug=slug,
        title=title,
        description=description,
        publisher=publisher,
        themes=clean_themes(themes),
        **fields,
    )
    if dataset.published and dataset.issued is None:
        dataset.issued = timezone.now()
    dataset.full_clean()
    with transaction.atomic():
        dataset.save()
        wanted = keywords_set(dataset=dataset, keywords=keywords)
        audit_entry_create(
            actor=actor,
            action="opendata.dataset.create",
            object_type="citydata.dataset",
            object_id=dataset.pk,
            after=_snapshot(dataset, wanted),
        )
    return dataset


def dataset_update(
    *,
    actor: User | None,
    dataset: Dataset,
    keywords: Iterable[str] | None = None,
    themes: Iterable[str] | None = None,
    **changes: Any,
) -> Dataset:
    """Change a dataset's metadata (staff); writes before/after of what changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    old_keywords = list(dataset.keywords.values_list("name", flat=True))
    before = _snapshot(dataset, old_keywords)
    for name, value in changes.items():
        setattr(dataset, name, value)
    if themes is not None:
        dataset.themes = clean_themes(themes)
    if dataset.published and dataset.issued is None:
        dataset.issued = timezone.now()
    dataset.full_clean()
    with transaction.atomic():
        dataset.save()
        new_keywords = (
            keywords_set(dataset=dataset, keywords=keywords)
            if keywords is not None
            else old_keywords
        )
        if keywords is None:
            search_text_refresh(dataset=dataset, keywords=old_keywords)
        after = _snapshot(dataset, new_keywords)
        changed = {k for k in after if after[k] != before.get(k)}
        if changed:
            audit_entry_create(
                actor=actor,
                action="opendata.dataset.update",
                object_type="citydata.dataset",
                object_id=dataset.pk,
                before={k: before.get(k) for k in sorted(changed)},
                after={k: after[k] for k in sorted(changed)},
            )
    return dataset


def distribution_prepare(distribution: Distribution) -> None:
    """What every write of a distribution checks (service and admin form): the media type
    follows the format, and there is somewhere to get it (a file Rathaus serves or an
    access address; the database refuses neither, citydata_distribution_has_address)."""
    item = FORMATS.get(distribution.format)
    if item:
        distribution.media_type = item.media_type
    if not distribution.file and not distribution.access_url:
        raise ValidationError(
            {"access_url": _("Bitte eine Zugriffsadresse angeben: wo es die Daten gibt.")}
        )


def distribution_create(
    *,
    actor: User | None,
    dataset: Dataset,
    title: str,
    format: str,
    access_url: str,
    download_url: str = "",
    license: str = "",
    byte_size: int | None = None,
    modified: datetime | None = None,
) -> Distribution:
    """A distribution somewhere else (staff): Rathaus only points to it."""
    distribution = Distribution(
        dataset=dataset,
        title=title,
        format=format,
        access_url=access_url,
        download_url=download_url,
        license=license,
        byte_size=byte_size,
        modified=modified,
        position=dataset.distributions.count(),
    )
    distribution_prepare(distribution)
    distribution.full_clean()
    with transaction.atomic():
        distribution.save()
        audit_entry_create(
            actor=actor,
            action="opendata.distribution.create",
            object_type="citydata.distribution",
            object_id=distribution.pk,
            after={
                "dataset": dataset.pk,
                "title": title,
                "format": format,
                "access_url": access_url,
                "download_url": download_url,
                "license": license,
            },
        )
    return distribution
