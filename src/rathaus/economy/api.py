"""The economy app's JSON API under /api/v1/economy/ (the directory's public fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from rathaus.core.pagination import MAX_OFFSET
from rathaus.core.ratelimit import client_address, ratelimit_exceeded
from rathaus.economy.constants import OrganisationKind
from rathaus.economy.selectors.directory import (
    DirectoryFilters,
    organisation_public_dict,
    organisation_public_get,
    organisation_search,
)

router = Router(tags=["economy"])

SLUG = r"^[-a-z0-9_]*$"


class OrganisationOut(Schema):
    id: int
    slug: str
    name: str
    kind: str = Field(description="startup, sme, corporate, research, university, ...")
    register_number: str
    stage: str
    size_band: str
    founded_year: int | None
    sectors: list[str] = Field(description="slugs of the sectors")
    competences: list[str] = Field(description="slugs of the competences")
    street: str = Field(description="empty when the organisation does not publish its address")
    postal_code: str
    city: str
    district: str = Field(description="Ortsteil")
    lat: float | None
    lon: float | None
    website: str
    email: str = Field(description="empty when not public")
    phone: str = Field(description="empty when not public")
    description: str
    description_en: str
    hiring: bool
    seeking_partners: bool
    updated_at: datetime


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    count: int


class OrganisationQuery(Schema):
    q: str = Field("", max_length=200, description="words in name, description, competences")
    kind: OrganisationKind | None = None
    sector: str = Field("", max_length=80, pattern=SLUG, description="slug of a sector")
    competence: str = Field("", max_length=80, pattern=SLUG, description="slug of a competence")
    district: int | None = Field(None, ge=1, le=2**31 - 1, description="id of an area")
    hiring: bool = False
    seeking_partners: bool = False
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _limited(request: HttpRequest) -> None:
    if ratelimit_exceeded(
        scope="economy-api", key=client_address(request), rate=settings.RATELIMIT_CITYDATA
    ):
        raise HttpError(429, "too many requests")


@router.get("/economy/organisations", response=OrganisationPage)
def list_organisations(request: HttpRequest, params: Query[OrganisationQuery]) -> dict[str, Any]:
    """Published organisations of the directory (best match first with `q`, else by name),
    with the directory's filters; public fields only."""
    _limited(request)
    result = organisation_search(
        query=params.q,
        filters=DirectoryFilters(
            kind=params.kind.value if params.kind else "",
            sector=params.sector,
            competence=params.competence,
            area=params.district,
            hiring=params.hiring,
            seeking_partners=params.seeking_partners,
        ),
        offset=params.offset,
        limit=params.limit,
    )
    return {
        "items": [organisation_public_dict(o) for o in result.organisations],
        "count": result.total,
    }


@router.get("/economy/organisations/{organisation_id}", response=OrganisationOut)
def get_organisation(request: HttpRequest, organisation_id: int) -> dict[str, Any]:
    """One published organisation (404 for an unknown or unpublished id)."""
    _limited(request)
    return organisation_public_get(organisation_id=organisation_id)
