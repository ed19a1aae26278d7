"""Reads of the catalogue: search, the public service and office pages, browsing."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from rathaus.accounts.models import Office
from rathaus.catalog.constants import MUNICIPAL_LEIKA_TYPES, ONLINE_FROM_LEVEL, SEARCH_DOC_TYPE
from rathaus.catalog.models import (
    LifeSituation,
    Location,
    RequiredDocument,
    Service,
    Synonym,
    Topic,
)
from rathaus.catalog.services import SEARCH_WEIGHTS, SYNONYM_DOC_TYPE
from rathaus.core import search
from rathaus.core.dbrouter import replica_reads

MAX_RESULTS = 1000  # a result list is for people: beyond this nobody pages


@dataclass
class ServiceFilters:
    life_situation: str = ""  # slug
    topic: str = ""  # slug
    office: int | None = None
    online: bool = False
    municipal_only: bool = False

    def apply(self, services: QuerySet[Service]) -> QuerySet[Service]:
        if self.life_situation:
            services = services.filter(life_situation__slug=self.life_situation)
        if self.topic:
            services = services.filter(topic__slug=self.topic)
        if self.office:
            services = services.filter(offices__id=self.office)
        if self.online:
            services = services.filter(ozg_maturity__gte=ONLINE_FROM_LEVEL)
        if self.municipal_only:
            services = services.filter(leika_type__in=MUNICIPAL_LEIKA_TYPES)
        return services

    @property
    def active(self) -> bool:
        return bool(
            self.life_situation or self.topic or self.office or self.online or self.municipal_only
        )


@dataclass
class SearchResult:
    query: str
    total: int
    services: list[Service]
    corrections: list[str] = field(default_factory=list)  # what we also searched for


# ---- synonyms (per process, reloaded when the list changes) ---------------------------------

_synonyms: tuple[int, dict[tuple[str, ...], list[tuple[str, ...]]], frozenset[str]] | None = None
_synonym_lock = threading.Lock()


def synonym_map() -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    """Stemmed term -> the stemmed terms it stands for (every term of a set for each other)."""
    return _synonym_data()[1]


def synonym_words() -> frozenset[str]:
    """The single-word synonym terms as written (folded): typos of them are corrected too."""
    return _synonym_data()[2]


def _synonym_data() -> tuple[int, dict[tuple[str, ...], list[tuple[str, ...]]], frozenset[str]]:
    global _synonyms
    version = search.index_version(SYNONYM_DOC_TYPE)
    if _synonyms is not None and _synonyms[0] == version:
        return _synonyms
    with _synonym_lock:
        mapping: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        single_words: set[str] = set()
        for synonym in Synonym.objects.all():
            for t in synonym.term_list:
                written = search.words(t)
                if len(written) == 1:
                    single_words.add(search.fold(written[0]))
            terms = [tuple(search.stem(w) for w in search.words(t)) for t in synonym.term_list]
            terms = [t for t in terms if t]
            for term in terms:
                others = [t for t in terms if t != term]
                # A phrase is found in any word order ("Anmeldung Wohnung" = "Wohnung anmelden").
                for key in {term, tuple(sorted(term))}:
                    known = mapping.setdefault(key, [])
                    known += [t for t in others if t not in known]
        _synonyms = (version, mapping, frozenset(single_words))
    return _synonyms


# ---- search ---------------------------------------------------------------------------------


def _public_services() -> QuerySet[Service]:
    return Service.objects.select_related("life_situation", "topic")


def services_as_dicts(services: list[Service]) -> list[dict[str, Any]]:
    """Full records of a page of services in four queries (documents, offices and locations
    read through their tables at once, not per service)."""
    ids = [s.pk for s in services]
    documents: dict[int, list[str]] = {}
    for service_id, name in (
        RequiredDocument.objects.filter(service_id__in=ids)
        .order_by("position", "id")
        .values_list("service_id", "name")
    ):
        documents.setdefault(service_id, []).append(name)
    offices: dict[int, list[int]] = {}
    for service_id, office_id in Service.offices.through.objects.filter(
        service_id__in=ids
    ).values_list("service_id", "office_id"):
        offices.setdefault(service_id, []).append(office_id)
    locations: dict[int, list[int]] = {}
    for service_id, location_id in Service.locations.through.objects.filter(
        service_id__in=ids
    ).values_list("service_id", "location_id"):
        locations.setdefault(service_id, []).append(location_id)
    return [
        service_as_dict(
            s,
            documents=documents.get(s.pk, []),
            office_ids=sorted(offices.get(s.pk, [])),
            location_ids=sorted(locations.get(s.pk, [])),
        )
        for s in services
    ]


@replica_reads
def service_search(
    *, query: str, filters: ServiceFilters | None = None, offset: int = 0, limit: int = 20
) -> SearchResult:
    """Services for what a person typed, best first; with filters. An empty query lists the
    filtered services by name. Never raises for odd input: anything typed is just words."""
    filters = filters or ServiceFilters()
    cleaned = search.clean_query(query)
    limit = max(1, min(limit, 100))
    offset = max(0, offset)
    if not search.words(cleaned):
        services = filters.apply(_public_services()).order_by("name", "leika_key")
        return SearchResult(
            query=cleaned, total=services.count(), services=list(services[offset : offset + limit])
        )
    vocab = search.vocabulary(SEARCH_DOC_TYPE)
    parsed = search.parse_query(cleaned, vocab, synonym_map(), synonym_words())
    candidates = search.candidate_documents(SEARCH_DOC_TYPE, parsed)
    if filters.active and candidates:
        allowed = {
            str(pk)
            for pk in filters.apply(
                Service.objects.filter(pk__in=[int(c) for c in candidates])
            ).values_list("pk", flat=True)
        }
        candidates = [c for c in candidates if c in allowed]
    hits = search.rank(parsed, candidates, weights=SEARCH_WEIGHTS, vocab=vocab)[:MAX_RESULTS]
    offset = min(offset, MAX_RESULTS)
    page_ids = [int(hit.object_id) for hit in hits[offset : offset + limit]]
    by_id = _public_services().in_bulk(page_ids)
    corrections = sorted(
        {
            " ".join(alt.stems)
            for group in parsed.groups
            for alt in group.alternatives[1:]
            if alt.quality <= 0.7
        }
    )
    return SearchResult(
        query=cleaned,
        total=len(hits),
        services=[by_id[pk] for pk in page_ids if pk in by_id],
        corrections=corrections,
    )


def service_name_contains(*, query: str, limit: int = 20) -> list[Service]:
    """The plain baseline the benchmark compares search with: name__icontains."""
    return list(Service.objects.filter(name__icontains=query).order_by("name")[:limit])


# ---- pages ----------------------------------------------------------------------------------


@replica_reads
def service_get_public(*, leika_key: str) -> Service:
    service = (
        Service.objects.select_related("life_situation", "topic")
        .prefetch_related(
            "documents",
            Prefetch("offices", queryset=Office.objects.select_related("parent")),
            Prefetch("locations", queryset=Location.objects.select_related("office")),
        )
        .filter(leika_key=leika_key)
        .first()
    )
    if service is None:
        raise Http404
    return service


def service_locations(*, service: Service) -> list[Location]:
    """Where to go for ``service``: its own locations, else those of its offices."""
    own = list(service.locations.all())
    if own:
        return own
    office_ids = [o.pk for o in service.offices.all()]
    return list(Location.objects.filter(office_id__in=office_ids).select_related("office"))


def life_situation_list() -> QuerySet[LifeSituation]:
    return LifeSituation.objects.annotate(service_count=Count("services")).filter(
        service_count__gt=0
    )


def topic_list() -> QuerySet[Topic]:
    return Topic.objects.annotate(service_count=Count("services")).filter(service_count__gt=0)


def office_list_with_services() -> QuerySet[Office]:
    return (
        Office.objects.annotate(service_count=Count("services"))
        .filter(service_count__gt=0)
        .order_by("name")
    )


def office_get_public(*, office_id: int) -> Office:
    office = Office.objects.select_related("parent", "area").filter(pk=office_id).first()
    if office is None:
        raise Http404
    return office


def office_services(*, office: Office, limit: int = 200) -> list[Service]:
    return list(Service.objects.filter(offices=office).order_by("name")[:limit])


def office_locations(*, office: Office) -> list[Location]:
    return list(Location.objects.filter(office=office).order_by("name"))


def locations_with_position() -> list[Location]:
    """The city's places with an address and a map position (the journey planner finds
    addresses among them)."""
    return list(
        Location.objects.exclude(latitude=None).only(
            "name", "street", "postal_code", "city", "latitude", "longitude"
        )
    )


def location_get_public(*, location_id: int) -> Location:
    location = Location.objects.select_related("office").filter(pk=location_id).first()
    if location is None:
        raise Http404
    return location


@replica_reads
def catalogue_export() -> dict[str, Any]:
    """The whole catalogue as JSON-ready data (services, offices, locations)."""
    services = Service.objects.select_related("life_situation", "topic").order_by("leika_key")
    return {
        "services": services_as_dicts(list(services)),
        "offices": [
            {"id": o.pk, "name": o.name, "kind": o.kind, "parent_id": o.parent_id}
            for o in Office.objects.order_by("id")
        ],
        "locations": [location_as_dict(loc) for loc in Location.objects.order_by("id")],
    }


def location_as_dict(location: Location) -> dict[str, Any]:
    return {
        "id": location.pk,
        "office_id": location.office_id,
        "name": location.name,
        "street": location.street,
        "postal_code": location.postal_code,
        "city": location.city,
        "opening_hours": location.opening_hours_lines,
        "accessibility": location.accessibility,
        "latitude": float(location.latitude) if location.latitude is not None else None,
        "longitude": float(location.longitude) if location.longitude is not None else None,
    }


def service_as_dict(
    service: Service,
    *,
    documents: list[str] | None = None,
    office_ids: list[int] | None = None,
    location_ids: list[int] | None = None,
) -> dict[str, Any]:
    return {
        "leika_key": service.leika_key,
        "urn": service.urn,
        "name": service.name,
        "short_description": service.short_description,
        "description": service.description,
        "leika_type": service.leika_type,
        "ozg_id": service.ozg_id,
        "ozg_name": service.ozg_name,
        "life_situation": service.life_situation.name if service.life_situation else None,
        "topic": service.topic.name if service.topic else None,
        "legal_basis": service.legal_basis,
        "fee_min": str(service.fee_min) if service.fee_min is not None else None,
        "fee_max": str(service.fee_max) if service.fee_max is not None else None,
        "fee_regulation": service.fee_regulation,
        "processing_time": service.processing_time,
        "documents": documents
        if documents is not None
        else [d.name for d in service.documents.all()],
        "office_ids": office_ids
        if office_ids is not None
        else [o.pk for o in service.offices.all()],
        "location_ids": location_ids
        if location_ids is not None
        else [loc.pk for loc in service.locations.all()],
        "ozg_maturity": service.ozg_maturity,
        "online": service.ozg_maturity >= ONLINE_FROM_LEVEL,
        "form_url": service.form_url,
        "keywords": service.keyword_list,
        "last_checked": service.last_checked.isoformat() if service.last_checked else None,
    }


def service_online_share_percent(*, min_maturity: int = ONLINE_FROM_LEVEL) -> Decimal | None:
    """The share (percent, one decimal) of the catalogue's services at OZG maturity
    ``min_maturity`` or higher (strategy KPIs); None while the catalogue is empty."""
    figures = Service.objects.aggregate(
        total=Count("pk"), online=Count("pk", filter=Q(ozg_maturity__gte=min_maturity))
    )
    if not figures["total"]:
        return None
    share = Decimal(figures["online"] * 100) / Decimal(figures["total"])
    return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
