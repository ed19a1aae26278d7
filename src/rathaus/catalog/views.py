"""Public pages of the catalogue: start page with search, results, service, office and
location pages. Thin: the form reads the request, selectors do the rest."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from rathaus.catalog.forms import ServiceSearchForm
from rathaus.catalog.selectors import (
    life_situation_list,
    location_get_public,
    office_get_public,
    office_locations,
    office_services,
    service_get_public,
    service_locations,
    service_search,
)

PAGE_SIZE = 20


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/index.html",
        {"form": ServiceSearchForm(), "life_situations": life_situation_list()},
    )


@require_safe
def search_view(request: HttpRequest) -> HttpResponse:
    form = ServiceSearchForm(request.GET or None)
    cleaned = form.cleaned_data if form.is_valid() or form.is_bound else {}
    page = cleaned.get("seite") or 1
    query = cleaned.get("q", str(request.GET.get("q", "")))
    result = service_search(
        query=query, filters=form.filters(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    if page > pages:  # a page beyond the end (edited URL, fewer results now): show the last
        page = pages
        result = service_search(
            query=query, filters=form.filters(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    params = request.GET.copy()
    params.pop("seite", None)

    def page_url(number: int) -> str:
        params["seite"] = str(number)
        return f"{reverse('catalog:search')}?{params.urlencode()}"

    return render(
        request,
        "catalog/search.html",
        {
            "form": form,
            "result": result,
            "page": page,
            "pages": pages,
            "previous_url": page_url(page - 1) if page > 1 else "",
            "next_url": page_url(page + 1) if page < min(pages, 50) else "",
        },
    )


def _json_ld(data: dict[str, Any]) -> SafeString:
    # Escaped like Django's json_script, so text from the catalogue cannot end the block.
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return mark_safe(text)  # noqa: S308 - escaped above


@require_safe
def service_detail(request: HttpRequest, leika_key: str) -> HttpResponse:
    service = service_get_public(leika_key=leika_key)
    locations = service_locations(service=service)
    offices = list(service.offices.all())
    url = request.build_absolute_uri()
    json_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "@id": url,
        "url": url,
        "name": service.name,
        "identifier": service.urn,
        "serviceType": service.ozg_name or service.name,
        "areaServed": {"@type": "City", "name": settings.CITY_NAME},
    }
    if service.short_description or service.description:
        json_ld["description"] = service.short_description or service.description
    if offices:
        json_ld["provider"] = [
            {"@type": "GovernmentOrganization", "name": office.name} for office in offices
        ]
    if locations:
        json_ld["availableChannel"] = [
            {
                "@type": "ServiceChannel",
                "serviceLocation": {
                    "@type": "Place",
                    "name": loc.name,
                    "address": {
                        "@type": "PostalAddress",
                        "streetAddress": loc.street,
                        "postalCode": loc.postal_code,
                        "addressLocality": loc.city,
                    },
                },
            }
            for loc in locations
        ]
    if service.form_url:
        json_ld.setdefault("availableChannel", []).append(
            {"@type": "ServiceChannel", "serviceUrl": request.build_absolute_uri(service.form_url)}
        )
    return render(
        request,
        "catalog/service_detail.html",
        {
            "service": service,
            "offices": offices,
            "locations": locations,
            "documents": list(service.documents.all()),
            "json_ld": _json_ld(json_ld),
        },
    )


@require_safe
def office_detail(request: HttpRequest, office_id: int) -> HttpResponse:
    office = office_get_public(office_id=office_id)
    return render(
        request,
        "catalog/office_detail.html",
        {
            "office": office,
            "locations": office_locations(office=office),
            "services": office_services(office=office),
        },
    )


@require_safe
def location_detail(request: HttpRequest, location_id: int) -> HttpResponse:
    location = location_get_public(location_id=location_id)
    return render(
        request,
        "catalog/location_detail.html",
        {"location": location, "tile_url": settings.TILE_URL},
    )


@require_safe
def official_form_download(request: HttpRequest, leika_key: str) -> FileResponse:
    """The blank official form of a service (PDF), read from the storage whatever it is
    (a folder or S3): a link of our own, never a storage URL."""
    service = service_get_public(leika_key=leika_key)
    form = service.official_form
    if not form or not form.storage.exists(form.name):
        raise Http404
    return FileResponse(
        form.open("rb"),
        as_attachment=True,
        filename=f"formular-{service.leika_key}.pdf",
        content_type="application/pdf",
    )
