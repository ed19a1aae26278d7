"""Street name suggestions for the demo city: Leipzig's street directory (open data, CC0),
read once per process. Suggestions help; they never restrict what may be typed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Namespace

STREETS_FILE = Path(__file__).resolve().parent / "data" / "leipzig" / "Strassenverzeichnis.ttl"
LD = Namespace("http://leipzig-data.de/Data/Model/")
MAX_SUGGESTIONS = 10


@lru_cache(maxsize=1)
def street_names() -> tuple[str, ...]:
    graph = Graph()
    graph.parse(STREETS_FILE, format="turtle")
    names = {
        str(graph.value(street, RDFS.label) or "").strip()
        for street in graph.subjects(RDF.type, LD.Strasse)
    }
    return tuple(sorted(name for name in names if name))


def suggest(prefix: str) -> list[str]:
    """Streets starting with what was typed (case and ß/ss do not matter), then containing it."""
    typed = prefix.strip().casefold().replace("ß", "ss")
    if len(typed) < 2:
        return []
    starts, contains = [], []
    for name in street_names():
        folded = name.casefold().replace("ß", "ss")
        if folded.startswith(typed):
            starts.append(name)
        elif typed in folded:
            contains.append(name)
        if len(starts) >= MAX_SUGGESTIONS:
            break
    return (starts + contains)[:MAX_SUGGESTIONS]
