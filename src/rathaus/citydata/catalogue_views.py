"""Pages of the open-data catalogue under /offene-daten/ (list with search and filters, a
dataset's page, its files), the DCAT-AP.de export (/catalog.ttl, .rdf, .jsonld) and the
dataset metadata as RDF. Thin: selectors in catalogue.py, RDF in dcat.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import condition, require_safe

from rathaus.citydata import dcat
from rathaus.citydata.catalogue import (
    MAX_QUERY_CHARS,
    DatasetFilters,
    FacetValue,
    catalogue_version,
    dataset_facets,
    dataset_get_public,
    dataset_search,
    datasets_for_export,
    distribution_file_get,
    publisher_choices,
)
from rathaus.citydata.constants import FORMATS, FREQUENCIES, LICENSES, THEMES
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded

PAGE_SIZE = 20
EXPORT_CACHE_SECONDS = 3600
MAX_PAGE = 500


class CatalogueSearchForm(forms.Form):
    """Search and filters (GET). A bad value in one filter drops that filter only."""

    q = forms.CharField(
        label=_("Suchbegriff"),
        required=False,
        max_length=MAX_QUERY_CHARS,
        help_text=_("Sucht in Titel, Beschreibung und Schlagwörtern, z. B. „Haltestellen“."),
        widget=forms.TextInput(attrs={"type": "search", "enterkeyhint": "search"}),
    )
    thema = forms.ChoiceField(label=_("Kategorie"), required=False)
    herausgeber = forms.TypedChoiceField(
        label=_("Herausgeber"), required=False, coerce=int, empty_value=None
    )
    format = forms.ChoiceField(label=_("Format"), required=False)
    lizenz = forms.ChoiceField(label=_("Lizenz"), required=False)
    seite = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything: list[tuple[object, object]] = [("", _("alle"))]
        self._set("thema", everything + list(THEMES.items()))
        self._set("format", everything + [(c, f.label) for c, f in FORMATS.items()])
        self._set("lizenz", everything + [(c, item.title) for c, item in LICENSES.items()])
        self._set("herausgeber", everything + publisher_choices())

    def _set(self, name: str, choices: list[tuple[object, object]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = choices

    def filters(self) -> DatasetFilters:
        if not self.is_bound:
            return DatasetFilters()
        self.is_valid()
        data = self.cleaned_data
        return DatasetFilters(
            query=str(data.get("q") or self.data.get("q", ""))[:MAX_QUERY_CHARS],
            theme=data.get("thema") or "",
            publisher=data.get("herausgeber"),
            format=data.get("format") or "",
            license=data.get("lizenz") or "",
        )

    def show_counts(self, facets: dict[str, list[FacetValue]], filters: DatasetFilters) -> None:
        """Offer the values that find something, with their counts (and the chosen one)."""
        chosen = {
            "thema": filters.theme,
            "format": filters.format,
            "lizenz": filters.license,
            "herausgeber": str(filters.publisher or ""),
        }
        names = {
            "thema": "theme",
            "format": "format",
            "lizenz": "license",
            "herausgeber": "publisher",
        }
        for field_name, facet in names.items():
            values = facets[facet]
            choices: list[tuple[object, object]] = [("", _("alle"))]
            choices += [(v.value, f"{v.label} ({v.count})") for v in values]
            if chosen[field_name] and chosen[field_name] not in {v.value for v in values}:
                choices.append(
                    (chosen[field_name], f"{self._label(field_name, chosen[field_name])} (0)")
                )
            self._set(field_name, choices)

    @staticmethod
    def _label(field_name: str, value: str) -> str:
        if field_name == "thema":
            return str(THEMES.get(value, value))
        if field_name == "format":
            item = FORMATS.get(value)
            return item.label if item else value
        if field_name == "lizenz":
            licence = LICENSES.get(value)
            return licence.title if licence else value
        return str(_("unbekannte Stelle"))


def _limited(request: HttpRequest) -> bool:
    return ratelimit_exceeded(
        scope="open-data", key=client_address(request), rate=settings.RATELIMIT_OPEN_DATA
    )


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    if _limited(request):  # a search with filters costs several counts
        return error_response(request, 429)
    form = CatalogueSearchForm(request.GET or None)
    filters = form.filters()
    page = (form.cleaned_data.get("seite") if form.is_bound else None) or 1
    datasets, total = dataset_search(
        filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # an old link beyond the end: the last page
        page = pages
        datasets, total = dataset_search(
            filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    form.show_counts(dataset_facets(filters=filters), filters)
    for dataset in datasets:  # for the list: labels, not codes
        dataset.theme_labels = [THEMES[c] for c in dataset.theme_list if c in THEMES]  # type: ignore[attr-defined]
        dataset.format_labels = sorted(  # type: ignore[attr-defined]
            {FORMATS[d.format].label for d in dataset.distributions.all() if d.format in FORMATS}
        )
    params = request.GET.copy()
    params.pop("seite", None)

    def page_url(number: int) -> str:
        params["seite"] = str(number)
        return f"{reverse('opendata:index')}?{params.urlencode()}"

    return render(
        request,
        "citydata/catalogue/index.html",
        {
            "form": form,
            "filters": filters,
            "datasets": datasets,
            "total": total,
            "page": page,
            "pages": pages,
            "previous_url": page_url(page - 1) if page > 1 else "",
            "next_url": page_url(page + 1) if page < min(pages, MAX_PAGE) else "",
        },
    )


@require_safe
def dataset_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if _limited(request):
        return error_response(request, 429)
    dataset = dataset_get_public(slug=slug)
    distributions = list(dataset.distributions.all())
    rows = []
    for distribution in distributions:
        licence = LICENSES.get(distribution.effective_license)
        item = FORMATS.get(distribution.format)
        path = (
            reverse("opendata:file", args=[dataset.slug, distribution.file_name])
            if distribution.file_name and distribution.file
            else ""
        )
        rows.append(
            {
                "distribution": distribution,
                "url": path or distribution.download_url or distribution.access_url,
                "served": bool(path),
                "format": item.label if item else distribution.format,
                "licence": licence,
            }
        )
    return render(
        request,
        "citydata/catalogue/dataset.html",
        {
            "dataset": dataset,
            "rows": rows,
            "themes": [(code, THEMES[code]) for code in dataset.theme_list if code in THEMES],
            "licence": LICENSES.get(dataset.license),
            "frequency": FREQUENCIES.get(dataset.accrual_periodicity, ""),
            "keywords": [k.name for k in dataset.keywords.all()],
            "ckan_url": f"{reverse('ckan:action', args=['package_show'])}?id={dataset.slug}",
        },
    )


def _file_etag(request: HttpRequest, slug: str, file_name: str) -> str | None:
    try:
        return quote_etag(distribution_file_get(slug=slug, file_name=file_name).checksum)
    except Http404:
        return None


@require_safe
def download(request: HttpRequest, slug: str, file_name: str) -> HttpResponseBase:
    """A generated file: the bytes whose size and checksum the metadata states. Counted
    before anything else: the ETag lookup queries, and a 304 costs that query too."""
    if _limited(request):
        return error_response(request, 429)
    return _download(request, slug, file_name)


@condition(etag_func=_file_etag)
def _download(request: HttpRequest, slug: str, file_name: str) -> HttpResponseBase:
    distribution = distribution_file_get(slug=slug, file_name=file_name)
    try:
        handle = default_storage.open(distribution.file.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    item = FORMATS.get(distribution.format)
    content_type = distribution.media_type or (item.media_type if item else "")
    if content_type.startswith("text/") or content_type.endswith("json"):
        content_type += "; charset=utf-8"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=distribution.file_name,
        content_type=content_type or "application/octet-stream",
    )
    if distribution.modified:
        response["Last-Modified"] = http_date(distribution.modified.timestamp())
    response["Cache-Control"] = "public, max-age=300"
    return response


def _rdf_response(body: bytes, content_type: str, file_name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{file_name}"'
    return response


@require_safe
def catalog_export(request: HttpRequest, kind: str) -> HttpResponse:
    """The whole catalogue as DCAT-AP.de: /catalog.ttl, /catalog.rdf, /catalog.jsonld."""
    if kind not in dcat.FORMATS_BY_NAME:
        raise Http404
    if _limited(request):
        return error_response(request, 429)
    # Serialising a city's catalogue takes about a second; it changes a few times a day.
    key = f"opendata:dcat:{kind}:{catalogue_version()}"
    cached = cache.get(key)
    if cached is None:
        cached = dcat.serialize(dcat.catalogue_graph(datasets_for_export()), kind)
        cache.set(key, cached, timeout=EXPORT_CACHE_SECONDS)
    body, content_type = cached
    return _rdf_response(body, content_type, f"catalog.{kind}")


@require_safe
def dataset_metadata(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    if kind not in dcat.FORMATS_BY_NAME:
        raise Http404
    if _limited(request):
        return error_response(request, 429)
    dataset = dataset_get_public(slug=slug)
    body, content_type = dcat.serialize(dcat.dataset_graph(dataset), kind)
    return _rdf_response(body, content_type, f"{dataset.slug}.{kind}")
