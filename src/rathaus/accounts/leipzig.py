"""Reads Leipzig's open data about its administration (RDF Turtle, LeipzigData, CC0): the
Stadtbezirke and Ortsteile, and the offices with their tree (``org:unitOf``).

Parsing only: it returns plain records and the reasons rows were rejected; the import command
writes them through the services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from rdflib import OWL, RDF, RDFS, Graph, Namespace, URIRef
from rdflib.namespace import FOAF, ORG

from rathaus.accounts.constants import OfficeKind
from rathaus.core.constants import AreaKind

LD = Namespace("http://leipzig-data.de/Data/Model/")
DATA_DIR = Path(__file__).resolve().parent.parent / "core" / "data" / "leipzig"
OFFICES_FILE = DATA_DIR / "Stadtverwaltung.ttl"
AREAS_FILE = DATA_DIR / "AdministrativeGliederung.ttl"
ROOT_URI = "http://leipzig-data.de/Data/StadtLeipzig"
_ADDRESS = re.compile(r"/(?P<plz>\d{5})\.(?P<city>[^./]+)\.(?P<street>.+?)\.(?P<number>[^./]+)$")
_NUMBER_IN_ID = re.compile(r"\.(\d+)$")
T = TypeVar("T")


@dataclass
class AreaRecord:
    uri: str
    kind: AreaKind
    name: str
    number: str = ""
    parent_uri: str | None = None


@dataclass
class OfficeRecord:
    uri: str
    name: str
    kind: OfficeKind
    parent_uri: str | None
    email: str = ""
    phone: str = ""
    homepage: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    area_uri: str | None = None


@dataclass
class ParseResult(Generic[T]):
    records: list[T] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (subject, reason)


def load_graph(path: Path) -> Graph:
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph


def _label(graph: Graph, subject: URIRef) -> str:
    value = graph.value(subject, RDFS.label)
    return str(value).strip() if value is not None else ""


def parse_areas(graph: Graph) -> ParseResult[AreaRecord]:
    result: ParseResult[AreaRecord] = ParseResult()
    parent_of: dict[str, str] = {}
    for district in sorted(graph.subjects(RDF.type, LD.Stadtbezirk), key=str):
        name = _label(graph, URIRef(str(district)))
        if not name:
            result.rejected.append((str(district), "Stadtbezirk without a name"))
            continue
        result.records.append(
            AreaRecord(
                uri=str(district),
                kind=AreaKind.STADTBEZIRK,
                name=name.removeprefix("Stadtbezirk ").strip(),
            )
        )
        for part in graph.objects(district, LD.containsOrtsteil):
            parent_of[str(part)] = str(district)
    for part in sorted(graph.subjects(RDF.type, LD.Ortsteil), key=str):
        name = _label(graph, URIRef(str(part)))
        if not name:
            result.rejected.append((str(part), "Ortsteil without a name"))
            continue
        number = ""
        for same in graph.objects(part, OWL.sameAs):
            if "/StadtId/Ortsteil." in str(same) and (match := _NUMBER_IN_ID.search(str(same))):
                number = match.group(1)
        result.records.append(
            AreaRecord(
                uri=str(part),
                kind=AreaKind.ORTSTEIL,
                name=name,
                number=number,
                parent_uri=parent_of.get(str(part)),
            )
        )
    return result


def _office_kind(name: str, parent_uri: str | None) -> OfficeKind:
    if parent_uri is None:
        return OfficeKind.ADMINISTRATION
    if name.startswith(("Dezernat", "Referat")):
        return OfficeKind.DEPARTMENT
    if parent_uri == ROOT_URI:
        return OfficeKind.OFFICE
    return OfficeKind.UNIT


def _address(uri: str) -> tuple[str, str, str]:
    """``.../04109.Leipzig.Friedrich-Ebert-Strasse.19A`` -> street, postal code, city."""
    match = _ADDRESS.search(uri)
    if not match:
        return "", "", ""
    street = (
        match.group("street")
        .replace(".", " ")
        .replace("Strasse", "Straße")
        .replace("strasse", "straße")
    )
    return f"{street} {match.group('number')}", match.group("plz"), match.group("city")


def _functional_address(email: str) -> str:
    """Keep an office's own address (umweltschutz@...), not a person's (vorname.name@...):
    office data is published, staff names are not."""
    local = email.partition("@")[0]
    return "" if "." in local or len(email) > 254 else email


def parse_offices(graph: Graph) -> ParseResult[OfficeRecord]:
    result: ParseResult[OfficeRecord] = ParseResult()
    subjects = set(graph.subjects(RDF.type, ORG.Organization)) | set(
        graph.subjects(RDF.type, ORG.OrganizationalUnit)
    )
    known = {str(subject) for subject in subjects}
    for subject in sorted(subjects, key=str):
        uri = str(subject)
        label = _label(graph, URIRef(str(subject)))
        if not label:
            result.rejected.append((uri, "office without a name (rdfs:label)"))
            continue
        parent = graph.value(subject, ORG.unitOf)
        parent_uri = str(parent) if parent is not None else None
        if parent_uri is None and uri != ROOT_URI and label.startswith("Stadt Leipzig, "):
            parent_uri = ROOT_URI  # an office of the city listed without org:unitOf
        if parent_uri is not None and parent_uri not in known:
            result.rejected.append((uri, f"parent {parent_uri} is not in the file"))
            continue
        if parent_uri is None and uri != ROOT_URI:
            # Organisations outside the administration's tree (associations, companies).
            result.rejected.append((uri, "not part of the city administration (no org:unitOf)"))
            continue
        name = label if parent_uri is None else label.removeprefix("Stadt Leipzig, ").strip()
        address = graph.value(subject, LD.hasAddress)
        street, postal_code, city = _address(str(address)) if address is not None else ("", "", "")
        area = graph.value(subject, LD.hasOrtsteil)
        mbox = graph.value(subject, FOAF.mbox)
        result.records.append(
            OfficeRecord(
                uri=uri,
                name=name[:300],
                kind=_office_kind(name, parent_uri),
                parent_uri=parent_uri,
                email=_functional_address(
                    str(mbox).removeprefix("mailto:") if mbox is not None else ""
                ),
                phone=str(graph.value(subject, FOAF.phone) or "")[:50],
                homepage=str(graph.value(subject, FOAF.homepage) or "")[:300],
                street=street[:200],
                postal_code=postal_code,
                city=city,
                area_uri=str(area) if area is not None else None,
            )
        )
    # A unit whose parent was rejected is rejected too (it must not become a root).
    accepted = {record.uri for record in result.records}
    changed = True
    while changed:
        changed = False
        for record in list(result.records):
            if record.parent_uri is not None and record.parent_uri not in accepted:
                result.records.remove(record)
                accepted.discard(record.uri)
                result.rejected.append((record.uri, f"its parent {record.parent_uri} was rejected"))
                changed = True
    # Parents before children, so every parent exists when a child is written.
    depth: dict[str, int] = {}
    by_uri = {record.uri: record for record in result.records}

    def level(record: OfficeRecord) -> int:
        if record.uri not in depth:
            depth[record.uri] = 0  # guards against cycles
            parent = by_uri.get(record.parent_uri or "")
            depth[record.uri] = 0 if parent is None else level(parent) + 1
        return depth[record.uri]

    result.records.sort(key=lambda record: (level(record), record.name))
    return result
