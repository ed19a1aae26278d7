"""The catalogue as DCAT-AP.de 2.0 (rdflib): one graph, served as Turtle, RDF/XML and JSON-LD
at /catalog.ttl, /catalog.rdf and /catalog.jsonld (and per dataset on its page).

Follows the GovData reference examples: dcat:Catalog with its foaf:Agent publisher;
dcat:Dataset with dct:identifier, title and description (German, English where given),
dcat:keyword, dcat:theme (EU data themes), dct:publisher, dcat:contactPoint (vcard),
dct:accrualPeriodicity (EU frequencies), dct:temporal (dct:PeriodOfTime with dcat:startDate
and dcat:endDate), dct:spatial (the political geocoding URI and a bounding box as WKT),
dcatde:politicalGeocodingURI and ...LevelURI, dcatde:contributorID; dcat:Distribution with
dcat:accessURL and dcat:downloadURL, dct:format (EU file types), dcat:mediaType (IANA),
dct:license (DCAT-AP.de licences), dcatde:licenseAttributionByText, dcat:byteSize,
spdx:checksum (SHA-256), dct:modified.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.conf import settings
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD

from rathaus.citydata.catalogue import dataset_url, distribution_url, site_url
from rathaus.citydata.constants import (
    DCATDE as DCATDE_URI,
)
from rathaus.citydata.constants import (
    FORMATS,
    FREQUENCY_BASE,
    LANGUAGE_DEU,
    LICENSES,
    MEDIA_TYPE_BASE,
    THEME_BASE,
)
from rathaus.citydata.models import Dataset, Distribution

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCATDE = Namespace(DCATDE_URI)
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")

FORMATS_BY_NAME = {
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "rdf": ("xml", "application/rdf+xml; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json; charset=utf-8"),
}
JSONLD_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "dcatde": str(DCATDE),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "spdx": str(SPDX),
    "xsd": str(XSD),
}


def catalog_uri() -> URIRef:
    return URIRef(site_url("/offene-daten/#catalog"))


def dataset_uri(dataset: Dataset) -> URIRef:
    return URIRef(dataset_url(dataset) + "#dataset")


def distribution_uri(dataset: Dataset, distribution: Distribution) -> URIRef:
    return URIRef(f"{dataset_url(dataset)}#distribution-{distribution.uuid}")


def _new_graph() -> Graph:
    graph = Graph()
    for prefix, uri in JSONLD_CONTEXT.items():
        graph.bind(prefix, Namespace(uri))
    return graph


def _moment(value: datetime) -> Literal:
    return Literal(value.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def _day(value: date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def _publisher_uri(dataset: Dataset) -> URIRef:
    office = dataset.publisher
    return URIRef(office.uri or site_url(f"/leistungen/stellen/{office.pk}/#publisher"))


def _wkt_box(dataset: Dataset) -> str:
    w, s, e, n = dataset.bbox_west, dataset.bbox_south, dataset.bbox_east, dataset.bbox_north
    return f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"


def _add_agent(graph: Graph, uri: URIRef, name: str) -> None:
    graph.add((uri, RDF.type, FOAF.Agent))
    graph.add((uri, RDF.type, FOAF.Organization))
    graph.add((uri, FOAF.name, Literal(name)))


def _add_dataset(graph: Graph, dataset: Dataset) -> URIRef:
    node = dataset_uri(dataset)
    add = graph.add
    add((node, RDF.type, DCAT.Dataset))
    add((node, DCTERMS.identifier, Literal(str(dataset.uuid))))
    add((node, DCTERMS.title, Literal(dataset.title, lang="de")))
    add((node, DCTERMS.description, Literal(dataset.description, lang="de")))
    if dataset.title_en:
        add((node, DCTERMS.title, Literal(dataset.title_en, lang="en")))
    if dataset.description_en:
        add((node, DCTERMS.description, Literal(dataset.description_en, lang="en")))
    for keyword in dataset.keywords.all():
        add((node, DCAT.keyword, Literal(keyword.name, lang="de")))
    for code in dataset.theme_list:
        add((node, DCAT.theme, URIRef(THEME_BASE + code)))
    publisher = _publisher_uri(dataset)
    _add_agent(graph, publisher, dataset.publisher.name)
    add((node, DCTERMS.publisher, publisher))
    add((node, DCTERMS.language, URIRef(LANGUAGE_DEU)))
    contact = BNode(f"contact{dataset.pk}")
    add((node, DCAT.contactPoint, contact))
    add((contact, RDF.type, VCARD.Organization))
    add((contact, VCARD.fn, Literal(dataset.contact_name or dataset.publisher.name)))
    email = dataset.contact_email or dataset.publisher.email
    if email:
        add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    if dataset.accrual_periodicity:
        add(
            (node, DCTERMS.accrualPeriodicity, URIRef(FREQUENCY_BASE + dataset.accrual_periodicity))
        )
    if dataset.temporal_start or dataset.temporal_end:
        period = BNode(f"period{dataset.pk}")
        add((node, DCTERMS.temporal, period))
        add((period, RDF.type, DCTERMS.PeriodOfTime))
        if dataset.temporal_start:
            add((period, DCAT.startDate, _day(dataset.temporal_start)))
        if dataset.temporal_end:
            add((period, DCAT.endDate, _day(dataset.temporal_end)))
    if dataset.political_geocoding_uri:
        area = URIRef(dataset.political_geocoding_uri)
        add((node, DCTERMS.spatial, area))
        add((area, RDF.type, DCTERMS.Location))
        add((node, DCATDE.politicalGeocodingURI, area))
    if dataset.political_geocoding_level_uri:
        add(
            (node, DCATDE.politicalGeocodingLevelURI, URIRef(dataset.political_geocoding_level_uri))
        )
    if dataset.has_bbox:
        box = BNode(f"bbox{dataset.pk}")
        add((node, DCTERMS.spatial, box))
        add((box, RDF.type, DCTERMS.Location))
        add((box, DCAT.bbox, Literal(_wkt_box(dataset), datatype=GSP.wktLiteral)))
    if settings.OPEN_DATA_CONTRIBUTOR_ID:
        add((node, DCATDE.contributorID, URIRef(settings.OPEN_DATA_CONTRIBUTOR_ID)))
    if dataset.issued:
        add((node, DCTERMS.issued, _moment(dataset.issued)))
    add((node, DCTERMS.modified, _moment(dataset.modified or dataset.updated_at)))
    landing = dataset.landing_page or dataset_url(dataset)
    add((node, DCAT.landingPage, URIRef(landing)))
    for distribution in dataset.distributions.all():
        add((node, DCAT.distribution, _add_distribution(graph, dataset, distribution)))
    return node


def _add_distribution(graph: Graph, dataset: Dataset, distribution: Distribution) -> URIRef:
    node = distribution_uri(dataset, distribution)
    add = graph.add
    add((node, RDF.type, DCAT.Distribution))
    add((node, DCTERMS.identifier, Literal(str(distribution.uuid))))
    add((node, DCTERMS.title, Literal(distribution.title, lang="de")))
    if distribution.description:
        add((node, DCTERMS.description, Literal(distribution.description, lang="de")))
    url = distribution_url(distribution, dataset)
    add((node, DCAT.accessURL, URIRef(distribution.access_url or url)))
    if distribution.file_name or distribution.download_url:
        add((node, DCAT.downloadURL, URIRef(url)))
    item = FORMATS.get(distribution.format)
    if item is not None:
        add((node, DCTERMS.format, URIRef(item.uri)))
    media_type = distribution.media_type or (item.media_type if item else "")
    if media_type:
        add((node, DCAT.mediaType, URIRef(MEDIA_TYPE_BASE + media_type)))
    license_code = distribution.license or dataset.license
    licence = LICENSES.get(license_code)
    if licence is not None:
        add((node, DCTERMS.license, URIRef(licence.uri)))
        if licence.attribution and dataset.license_attribution:
            add((node, DCATDE.licenseAttributionByText, Literal(dataset.license_attribution)))
    if distribution.byte_size is not None:
        # xsd:decimal as DCAT-AP.de 2.0 has it, in its canonical form (every syntax agrees)
        size = Literal(f"{distribution.byte_size}.0", datatype=XSD.decimal)
        add((node, DCAT.byteSize, size))
    if distribution.checksum:
        checksum = BNode(f"checksum{distribution.pk}")
        add((node, SPDX.checksum, checksum))
        add((checksum, RDF.type, SPDX.Checksum))
        add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        add((checksum, SPDX.checksumValue, Literal(distribution.checksum, datatype=XSD.hexBinary)))
    if distribution.modified:
        add((node, DCTERMS.modified, _moment(distribution.modified)))
    return node


def catalogue_graph(datasets: Iterable[Dataset]) -> Graph:
    """The whole catalogue: dcat:Catalog with its publisher and every dataset given."""
    graph = _new_graph()
    catalog = catalog_uri()
    add = graph.add
    add((catalog, RDF.type, DCAT.Catalog))
    add((catalog, DCTERMS.title, Literal(settings.OPEN_DATA_TITLE, lang="de")))
    add(
        (
            catalog,
            DCTERMS.description,
            Literal(
                f"Offene Daten der {settings.OPEN_DATA_PUBLISHER_NAME}: Verwaltung, Verkehr "
                "und Sensordaten der Stadt, frei nutzbar.",
                lang="de",
            ),
        )
    )
    publisher = URIRef(settings.OPEN_DATA_PUBLISHER_URI or site_url("/#publisher"))
    _add_agent(graph, publisher, settings.OPEN_DATA_PUBLISHER_NAME)
    add((catalog, DCTERMS.publisher, publisher))
    add((catalog, FOAF.homepage, URIRef(site_url("/offene-daten/"))))
    add((catalog, DCTERMS.language, URIRef(LANGUAGE_DEU)))
    add((catalog, DCAT.themeTaxonomy, URIRef(THEME_BASE.rstrip("/"))))
    latest: datetime | None = None
    for dataset in datasets:
        add((catalog, DCAT.dataset, _add_dataset(graph, dataset)))
        moment = dataset.modified or dataset.updated_at
        latest = moment if latest is None or moment > latest else latest
    if latest is not None:
        add((catalog, DCTERMS.modified, _moment(latest)))
    return graph


def dataset_graph(dataset: Dataset) -> Graph:
    graph = _new_graph()
    _add_dataset(graph, dataset)
    return graph


def serialize(graph: Graph, kind: str) -> tuple[bytes, str]:
    """(body, content type) of ``graph`` as ``ttl``, ``rdf`` or ``jsonld``."""
    rdflib_format, content_type = FORMATS_BY_NAME[kind]
    if rdflib_format == "json-ld":
        body = graph.serialize(format="json-ld", context=JSONLD_CONTEXT, encoding="utf-8")
    else:
        body = graph.serialize(format=rdflib_format, encoding="utf-8")
    return body, content_type
