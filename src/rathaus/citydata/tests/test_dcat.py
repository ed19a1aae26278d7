"""The DCAT-AP.de 2.0 export: parsed back with rdflib and checked as triples, the same graph in
Turtle, RDF/XML and JSON-LD."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF

from rathaus.citydata.catalogue import dataset_update
from rathaus.citydata.models import Dataset, Thing
from rathaus.citydata.publishing import publish_open_data
from rathaus.citydata.tests import catalogue_fixtures

# the shared fixtures of the catalogue tests
environment_office = catalogue_fixtures.environment_office
open_data_storage = catalogue_fixtures.open_data_storage
small_catalogue = catalogue_fixtures.small_catalogue
station = catalogue_fixtures.station
traffic_office = catalogue_fixtures.traffic_office

pytestmark = pytest.mark.django_db

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SITE = "https://rathaus.example.org"
TREES = URIRef(f"{SITE}/offene-daten/baumkataster/#dataset")
CONTENT_TYPES = {
    "ttl": ("text/turtle", "turtle"),
    "rdf": ("application/rdf+xml", "xml"),
    "jsonld": ("application/ld+json", "json-ld"),
}


def _graph(client: Client, path: str, kind: str) -> Graph:
    response = client.get(path)
    assert response.status_code == 200
    content_type, rdflib_format = CONTENT_TYPES[kind]
    assert response["Content-Type"].split(";")[0] == content_type
    return Graph().parse(data=response.content, format=rdflib_format)


@pytest.fixture
def graphs(client: Client, small_catalogue: dict[str, Dataset]) -> dict[str, Graph]:
    return {kind: _graph(client, f"/catalog.{kind}", kind) for kind in CONTENT_TYPES}


def test_the_three_serialisations_are_the_same_graph(graphs: dict[str, Graph]) -> None:
    assert len(graphs["ttl"]) > 50
    assert isomorphic(graphs["ttl"], graphs["rdf"])
    assert isomorphic(graphs["ttl"], graphs["jsonld"])


def test_catalog_has_its_publisher_and_only_published_datasets(graphs: dict[str, Graph]) -> None:
    g = graphs["ttl"]
    catalog = URIRef(f"{SITE}/offene-daten/#catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in g
    publisher = g.value(catalog, DCTERMS.publisher)
    assert publisher == URIRef("http://leipzig-data.de/Data/StadtLeipzig")
    assert (publisher, RDF.type, FOAF.Agent) in g
    assert g.value(publisher, FOAF.name) == Literal("Stadt Leipzig")
    assert set(g.objects(catalog, DCAT.dataset)) == {
        TREES,
        URIRef(f"{SITE}/offene-daten/radverkehr/#dataset"),
    }
    assert (None, DCTERMS.title, Literal("Unveröffentlichter Entwurf", lang="de")) not in g


def test_dataset_carries_the_dcat_ap_de_properties(
    graphs: dict[str, Graph], small_catalogue: dict[str, Dataset]
) -> None:
    g = graphs["ttl"]
    trees = small_catalogue["trees"]
    assert (TREES, RDF.type, DCAT.Dataset) in g
    assert g.value(TREES, DCTERMS.identifier) == Literal(str(trees.uuid))
    assert (TREES, DCTERMS.title, Literal("Baumkataster", lang="de")) in g
    assert (TREES, DCTERMS.title, Literal("Street trees", lang="en")) in g
    assert set(g.objects(TREES, DCAT.keyword)) == {
        Literal("Bäume", lang="de"),
        Literal("Stadtgrün", lang="de"),
    }
    assert g.value(TREES, DCAT.theme) == URIRef(
        "http://publications.europa.eu/resource/authority/data-theme/ENVI"
    )
    assert g.value(TREES, DCTERMS.accrualPeriodicity) == URIRef(
        "http://publications.europa.eu/resource/authority/frequency/ANNUAL"
    )
    period = g.value(TREES, DCTERMS.temporal)
    assert (period, RDF.type, DCTERMS.PeriodOfTime) in g
    assert g.value(period, DCAT.startDate) == Literal("2020-01-01", datatype=XSD.date)
    assert g.value(period, DCAT.endDate) == Literal("2024-12-31", datatype=XSD.date)
    area = URIRef("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/14713000")
    assert g.value(TREES, DCATDE.politicalGeocodingURI) == area
    assert (TREES, DCTERMS.spatial, area) in g
    assert g.value(TREES, DCATDE.politicalGeocodingLevelURI) == URIRef(
        "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    boxes = [s for s in g.objects(TREES, DCTERMS.spatial) if g.value(s, DCAT.bbox) is not None]
    assert str(g.value(boxes[0], DCAT.bbox)).startswith("POLYGON((12.24 51.24,12.54 51.24")
    assert g.value(TREES, DCATDE.contributorID) == URIRef(
        "http://dcat-ap.de/def/contributors/stadtLeipzig"
    )
    publisher = g.value(TREES, DCTERMS.publisher)
    assert publisher == URIRef("http://leipzig-data.de/Data/StadtLeipzig/AmtfuerUmweltschutz")
    assert g.value(publisher, FOAF.name) == Literal("Amt für Umweltschutz")
    assert (publisher, RDF.type, FOAF.Agent) in g
    contact = g.value(TREES, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Organization) in g
    assert g.value(contact, VCARD.fn) == Literal("Team Stadtgrün")
    assert g.value(contact, VCARD.hasEmail) == URIRef("mailto:stadtgruen@leipzig.example")
    assert g.value(TREES, DCTERMS.issued) is not None
    assert g.value(TREES, DCAT.landingPage) == URIRef(f"{SITE}/offene-daten/baumkataster/")


def test_distribution_has_licence_format_size_and_addresses(graphs: dict[str, Graph]) -> None:
    g = graphs["ttl"]
    distribution = g.value(TREES, DCAT.distribution)
    assert (distribution, RDF.type, DCAT.Distribution) in g
    assert g.value(distribution, DCTERMS.license) == URIRef(
        "http://dcat-ap.de/def/licenses/cc-by/4.0"
    )
    assert g.value(distribution, DCATDE.licenseAttributionByText) == Literal(
        "Stadt Leipzig, Amt für Umweltschutz"
    )
    assert g.value(distribution, DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/CSV"
    )
    assert g.value(distribution, DCAT.mediaType) == URIRef(
        "http://www.iana.org/assignments/media-types/text/csv"
    )
    assert g.value(distribution, DCAT.accessURL) == URIRef(
        "https://daten.leipzig.example/baeume.csv"
    )
    assert g.value(distribution, DCAT.byteSize).toPython() == 123456
    assert str(g.value(distribution, DCTERMS.modified)).startswith("2025-01-15T09:30:00")


@pytest.mark.usefixtures("environment_office")
def test_generated_files_have_checksum_and_rathaus_download_address(
    client: Client, station: Thing
) -> None:
    publish_open_data(only=["sensors"])
    dataset = Dataset.objects.get(source__startswith="citydata:thing:")
    served = dataset.distributions.exclude(file="").get()
    g = _graph(client, "/catalog.ttl", "ttl")
    node = URIRef(f"{SITE}/offene-daten/{dataset.slug}/#distribution-{served.uuid}")
    assert g.value(node, DCAT.downloadURL) == URIRef(
        f"{SITE}/offene-daten/{dataset.slug}/{served.file_name}"
    )
    checksum = g.value(node, SPDX.checksum)
    assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(g.value(checksum, SPDX.checksumValue)).lower() == served.checksum
    assert g.value(node, DCTERMS.license) == URIRef("http://dcat-ap.de/def/licenses/dl-by-de/2.0")
    for kind in ("rdf", "jsonld"):
        assert isomorphic(g, _graph(client, f"/catalog.{kind}", kind))


def test_one_dataset_as_rdf_and_unknown_or_draft_ones_404(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    g = _graph(client, "/offene-daten/baumkataster/metadaten.jsonld", "jsonld")
    assert (TREES, RDF.type, DCAT.Dataset) in g
    assert (None, RDF.type, DCAT.Catalog) not in g
    assert client.get("/offene-daten/entwurf/metadaten.ttl").status_code == 404
    assert client.get("/catalog.n3").status_code == 404


def test_empty_catalogue_is_still_a_valid_catalog(client: Client, db: None) -> None:
    g = _graph(client, "/catalog.ttl", "ttl")
    assert (None, RDF.type, DCAT.Catalog) in g
    assert (None, RDF.type, DCAT.Dataset) not in g


def test_export_reads_the_catalogue_in_a_fixed_number_of_queries_and_is_cached(
    client: Client, small_catalogue: dict[str, Dataset], django_assert_max_num_queries: Any
) -> None:
    # the version (3 aggregates), then datasets, keywords, distributions
    with django_assert_max_num_queries(6):
        first = client.get("/catalog.ttl").content
    with django_assert_max_num_queries(3):
        assert client.get("/catalog.ttl").content == first
    dataset_update(actor=None, dataset=small_catalogue["bikes"], title="Radverkehr gezählt")
    changed = Graph().parse(data=client.get("/catalog.ttl").content, format="turtle")
    bikes = URIRef(f"{SITE}/offene-daten/radverkehr/#dataset")
    assert (bikes, DCTERMS.title, Literal("Radverkehr gezählt", lang="de")) in changed
