"""The catalogue's API: search with filters and paging, one service, the whole export."""

from datetime import date

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from rathaus.catalog.selectors import (
    ServiceFilters,
    catalogue_export,
    service_as_dict,
    service_get_public,
    service_search,
    services_as_dicts,
)
from rathaus.core.pagination import MAX_OFFSET
from rathaus.core.ratelimit import client_address, ratelimit_exceeded

router = Router(tags=["services"])


class ServiceOut(Schema):
    leika_key: str
    urn: str
    name: str
    short_description: str
    description: str
    leika_type: str
    ozg_id: str
    ozg_name: str
    life_situation: str | None
    topic: str | None
    legal_basis: str
    fee_min: str | None = Field(description="EUR, as a decimal string")
    fee_max: str | None
    fee_regulation: str
    processing_time: str
    documents: list[str]
    office_ids: list[int]
    location_ids: list[int]
    ozg_maturity: int = Field(ge=0, le=4)
    online: bool
    form_url: str
    keywords: list[str]
    last_checked: date | None


class ServicePage(Schema):
    items: list[ServiceOut]
    count: int


class ServiceQuery(Schema):
    q: str = Field(
        "",
        max_length=10_000,
        pattern=r"^[^\x00]*$",  # a NUL is refused before any view (core.middleware)
        description="What people type; German everyday words work",
    )
    lebenslage: str = Field(
        "", max_length=200, pattern=r"^[-a-z0-9_]*$", description="slug of a Lebenslage"
    )
    themenfeld: str = Field(
        "", max_length=200, pattern=r"^[-a-z0-9_]*$", description="slug of a Themenfeld"
    )
    office: int | None = Field(None, ge=1, le=2**31 - 1)
    online: bool = False
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("/services", response=ServicePage)
def list_services(request: HttpRequest, params: Query[ServiceQuery]) -> dict[str, object]:
    """Search the catalogue (best match first) or, without `q`, list it by name."""
    filters = ServiceFilters(
        life_situation=params.lebenslage,
        topic=params.themenfeld,
        office=params.office,
        online=params.online,
    )
    result = service_search(
        query=params.q, filters=filters, offset=params.offset, limit=params.limit
    )
    return {"items": services_as_dicts(result.services), "count": result.total}


@router.get("/services/{leika_key}", response=ServiceOut)
def get_service(request: HttpRequest, leika_key: str) -> dict[str, object]:
    return service_as_dict(service_get_public(leika_key=leika_key))


class LocationOut(Schema):
    id: int
    office_id: int
    name: str
    street: str
    postal_code: str
    city: str
    opening_hours: list[str]
    accessibility: str
    latitude: float | None
    longitude: float | None


class OfficeBrief(Schema):
    id: int
    name: str
    kind: str
    parent_id: int | None


class CatalogueOut(Schema):
    services: list[ServiceOut]
    offices: list[OfficeBrief]
    locations: list[LocationOut]


@router.get("/catalog/export", response=CatalogueOut)
def export_catalogue(request: HttpRequest) -> dict[str, object]:
    """The whole catalogue in one JSON document (services, offices, locations). Large: limited
    per client (RATHAUS_RATELIMIT_EXPORT)."""
    if ratelimit_exceeded(
        scope="catalog-export", key=client_address(request), rate=settings.RATELIMIT_EXPORT
    ):
        raise HttpError(429, "too many requests")
    return catalogue_export()
