"""URLs of the open-data catalogue: the pages under /offene-daten/ (namespace ``opendata``),
the DCAT-AP.de export (/catalog.ttl, .rdf, .jsonld) and the CKAN Action API (namespace
``ckan``), both at their standard places at the root. Included from rathaus/urls.py."""

from django.urls import include, path, re_path

from rathaus.citydata import catalogue_views, ckan

pages = (
    [
        path("", catalogue_views.index, name="index"),
        re_path(r"^(?P<slug>[a-z0-9_-]{2,100})/$", catalogue_views.dataset_detail, name="dataset"),
        re_path(
            r"^(?P<slug>[a-z0-9_-]{2,100})/metadaten\.(?P<kind>ttl|rdf|jsonld)$",
            catalogue_views.dataset_metadata,
            name="metadata",
        ),
        re_path(
            r"^(?P<slug>[a-z0-9_-]{2,100})/(?P<file_name>[A-Za-z0-9][A-Za-z0-9._-]{0,99})$",
            catalogue_views.download,
            name="file",
        ),
    ],
    "opendata",
)
api = (
    [
        re_path(r"^3/?$", ckan.api_root, name="root"),
        re_path(r"^3/action/(?P<name>[A-Za-z_.]{1,60})/?$", ckan.action, name="action"),
        # the unversioned path CKAN also answers, and ckanapi calls
        re_path(r"^action/(?P<name>[A-Za-z_.]{1,60})/?$", ckan.action, name="action_default"),
    ],
    "ckan",
)

urlpatterns = [
    path("offene-daten/", include(pages)),
    re_path(
        r"^catalog\.(?P<kind>ttl|rdf|jsonld)$", catalogue_views.catalog_export, name="dcat_catalog"
    ),
    path("api/", include(api)),
]
