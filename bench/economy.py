"""The digital-economy platform at city scale (issue 9), on PostgreSQL:

- directory search (what a person types, with and without a filter) and the map's data
  (clustered positions of the matching entries), p50/p95, at 10,000 organisations and 50,000
  relations, next to a same-run baseline: the same question answered by an unindexed query
  (``ILIKE '%word%'`` over names and descriptions, a sequential scan);
- "who is related to whom" (``organisations_related``, depth 2: conflict-of-interest checks)
  at 50,000 relations, next to the same walk done with one query per organisation;
- registrations per second for one popular event (capacity 500, waiting list) with 8 threads
  registering at once, each with its own database connection, next to one thread registering
  the same number of people one after the other; and the count of overbooked seats (must be 0).

The organisations are generated (names from word lists, positions spread over Leipzig, sectors
and competences from a 100-term taxonomy): no personal data, same data every run (seeded).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_ECONOMY_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rathaus_bench_economy"
)
ORGANISATIONS = int(os.environ.get("BENCH_ECONOMY_ORGANISATIONS", "10000"))
RELATIONS = int(os.environ.get("BENCH_ECONOMY_RELATIONS", "50000"))
REGISTRANTS = int(os.environ.get("BENCH_ECONOMY_REGISTRANTS", "2000"))
CAPACITY = 500
THREADS = 8
RUNS = 60

PREFIXES = [
    "Daten", "Stadt", "Smart", "Cloud", "Mobil", "Energie", "Bau", "Gesund", "Lern", "Logistik",
    "Grün", "Kultur", "Finanz", "Sensor", "Robotik", "Quanten", "Medien", "Handel", "Agrar", "Wasser",
]  # fmt: skip
SUFFIXES = [
    "werk", "labor", "schmiede", "fabrik", "netz", "haus", "kontor", "manufaktur", "wert", "raum",
]  # fmt: skip
FORMS = ["GmbH", "UG", "AG", "e.V.", "GmbH & Co. KG", "Institut", "Lab", "Hub"]
WORDS = [
    "Plattform", "Software", "Beratung", "Forschung", "Sensorik", "Verkehr", "Energiewende",
    "Verwaltung", "Bildung", "Gesundheit", "Datenanalyse", "Künstliche Intelligenz", "Logistik",
    "Sicherheit", "Open Data", "Nachhaltigkeit", "Kreislaufwirtschaft", "Mobilität", "Robotik",
    "Cloud", "Netzwerk", "Start-up", "Innovation", "Wasserstoff", "Gebäude", "Handwerk",
]  # fmt: skip
QUERIES = ["datenwerk", "sensorik", "mobilität", "künstliche intelligenz", "energie", "robotik",
           "open data", "cloud labor", "verwaltung software", "wasserstoff"]  # fmt: skip


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(0, round(len(ordered) * 0.95) - 1)] * 1000,
    }


def timed(function: Any, arguments: list[Any]) -> dict[str, float]:
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        function(argument)
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def fill(rng: random.Random) -> dict[str, int]:
    """The taxonomy, ORGANISATIONS published entries with sectors and competences, RELATIONS
    confirmed relations between them, the search index."""
    from django.core.management import call_command
    from django.db import connection

    from rathaus.core.models import Area
    from rathaus.economy.constants import (
        EntrySource,
        EntryStatus,
        OrganisationKind,
        RelationKind,
        RelationStatus,
        SizeBand,
        TermKind,
    )
    from rathaus.economy.models import Organisation, Relation, Term
    from rathaus.economy.services.directory import name_key_of, organisation_search_reindex

    call_command("migrate", "--no-input", "-v", "0")
    started = time.monotonic()
    terms = Term.objects.bulk_create(
        [Term(kind=TermKind.SECTOR, slug=f"s{i}", name=f"Branche {w}") for i, w in enumerate(WORDS)]
        + [
            Term(kind=TermKind.COMPETENCE, slug=f"c{i}-{j}", name=f"{w} {s}")
            for i, w in enumerate(WORDS)
            for j, s in enumerate(["Entwicklung", "Betrieb", "Forschung"])
        ]
    )
    sectors = [t for t in terms if t.kind == TermKind.SECTOR]
    competences = [t for t in terms if t.kind == TermKind.COMPETENCE]
    areas = list(Area.objects.values_list("pk", flat=True))
    kinds = [k for k, _label in OrganisationKind.choices]
    bands = [b for b, _label in SizeBand.choices]
    organisations = []
    for i in range(ORGANISATIONS):
        name = f"{rng.choice(PREFIXES)}{rng.choice(SUFFIXES)} {i} {rng.choice(FORMS)}"
        organisations.append(
            Organisation(
                name=name,
                name_key=name_key_of(name),
                slug=f"org-{i}",
                kind=rng.choice(kinds),
                status=EntryStatus.PUBLISHED,
                source=EntrySource.IMPORT,
                register_number=f"HRB {100000 + i}",
                size_band=rng.choice(bands),
                founded_year=rng.randint(1950, 2026),
                city="Leipzig",
                area_id=rng.choice(areas) if areas else None,
                lat=51.28 + rng.random() * 0.14,
                lon=12.25 + rng.random() * 0.25,
                description=" ".join(rng.sample(WORDS, 6)),
                hiring=rng.random() < 0.2,
                seeking_partners=rng.random() < 0.3,
            )
        )
    organisations = Organisation.objects.bulk_create(organisations, batch_size=2000)
    say(f"economy: {len(organisations):,} organisations ...")
    through_sectors = Organisation.sectors.through
    through_competences = Organisation.competences.through
    through_sectors.objects.bulk_create(
        [
            through_sectors(organisation_id=o.pk, term_id=t.pk)
            for o in organisations
            for t in rng.sample(sectors, 2)
        ],
        batch_size=5000,
    )
    through_competences.objects.bulk_create(
        [
            through_competences(organisation_id=o.pk, term_id=t.pk)
            for o in organisations
            for t in rng.sample(competences, 4)
        ],
        batch_size=5000,
    )
    relation_kinds = [
        RelationKind.MEMBER_OF,
        RelationKind.PARTNER_IN,
        RelationKind.SPIN_OFF_OF,
        RelationKind.FUNDED_BY,
        RelationKind.LOCATED_AT_HUB,
    ]
    pairs: set[tuple[int, int]] = set()
    ids = [o.pk for o in organisations]
    while len(pairs) < RELATIONS:
        source, target = rng.sample(ids, 2)
        pairs.add((source, target))
    Relation.objects.bulk_create(
        [
            Relation(
                source_id=source,
                target_id=target,
                kind=rng.choice(relation_kinds),
                status=RelationStatus.CONFIRMED,
            )
            for source, target in sorted(pairs)
        ],
        batch_size=5000,
    )
    say(f"economy: {len(pairs):,} relations; search index ...")
    organisation_search_reindex()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(f"economy: filled in {time.monotonic() - started:.0f} s")
    return {"organisations": len(organisations), "relations": len(pairs)}


def registrations(threads: int, people: int) -> dict[str, Any]:
    """``people`` register for a fresh event of CAPACITY seats from ``threads`` threads."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from rathaus.economy.constants import EventFormat, EventStatus, RegistrationStatus
    from rathaus.economy.models import Event, Registration
    from rathaus.economy.services.events import registration_create

    now = timezone.now()
    event = Event.objects.create(
        title=f"Popular {threads}",
        slug=f"popular-{threads}-{time.monotonic_ns()}",
        status=EventStatus.PUBLISHED,
        format=EventFormat.ON_SITE,
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, hours=2),
        capacity=CAPACITY,
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=29),
    )
    errors: list[str] = []

    def work(first: int) -> None:
        try:
            for n in range(first, people, threads):
                registration_create(
                    event_id=event.pk, name=f"Person {n}", email=f"person{n}@example.org"
                )
        except Exception as exc:  # noqa: BLE001 - reported below, the run fails
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker_thread in workers:
        worker_thread.start()
    for worker_thread in workers:
        worker_thread.join()
    took = time.perf_counter() - started
    if errors:
        raise SystemExit(f"registrations failed: {errors[:3]}")
    event.refresh_from_db()
    confirmed = Registration.objects.filter(
        event=event, status=RegistrationStatus.CONFIRMED
    ).count()
    waiting = Registration.objects.filter(event=event, status=RegistrationStatus.WAITING).count()
    return {
        "threads": threads,
        "people": people,
        "per_s": people / took,
        "confirmed": confirmed,
        "waiting": waiting,
        "overbooked": max(0, confirmed - CAPACITY) + abs(event.confirmed_count - confirmed),
    }


def worker() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Q

    from rathaus.economy.models import Organisation, Relation
    from rathaus.economy.selectors.directory import (
        DirectoryFilters,
        organisation_map_clusters,
        organisation_search,
    )
    from rathaus.economy.selectors.relations import organisations_related

    rng = random.Random(9)  # noqa: S311 - generated test data, not secrets
    counts = fill(rng)
    ids = list(Organisation.objects.values_list("pk", flat=True))
    queries = [QUERIES[i % len(QUERIES)] for i in range(RUNS)]
    kinds = ["startup", "sme", "research", "university", "network"]

    def search(query: str) -> None:
        organisation_search(query=query, filters=DirectoryFilters())

    def search_filtered(query: str) -> None:
        organisation_search(query=query, filters=DirectoryFilters(kind=kinds[len(query) % 5]))

    def baseline(query: str) -> None:
        condition = Q()
        for word in query.split():
            condition &= Q(name__icontains=word) | Q(description__icontains=word)
        list(
            Organisation.objects.filter(condition, status="published")
            .order_by("name")
            .values_list("pk", flat=True)[:20]
        )

    def map_all(kind: str) -> None:
        organisation_map_clusters(query="", filters=DirectoryFilters())

    def map_filtered(query: str) -> None:
        organisation_map_clusters(query=query, filters=DirectoryFilters())

    def map_baseline(query: str) -> None:
        condition = Q()
        for word in query.split():
            condition &= Q(name__icontains=word) | Q(description__icontains=word)
        list(
            Organisation.objects.filter(condition, status="published").values_list(
                "lat", "lon", "name", "slug"
            )
        )

    def related(pk: int) -> None:
        organisations_related(organisation_id=pk, depth=2)

    def related_baseline(pk: int) -> None:
        """The same walk, one query per organisation reached (what a naive loop does)."""
        seen, frontier = {pk}, {pk}
        for _step in range(2):
            reached: set[int] = set()
            for node in frontier:
                for source, target in Relation.objects.filter(
                    Q(source_id=node) | Q(target_id=node), status="confirmed"
                ).values_list("source_id", "target_id"):
                    reached |= {source, target}
            frontier = reached - seen
            seen |= frontier

    search(queries[0])  # warm the per-process vocabulary, as a running server has it
    picks = [rng.choice(ids) for _ in range(RUNS)]
    results: dict[str, Any] = {
        **counts,
        "search": timed(search, queries),
        "search_filtered": timed(search_filtered, queries),
        "search_baseline": timed(baseline, queries),
        "map_all": timed(map_all, kinds * (RUNS // 5)),
        "map_query": timed(map_filtered, queries),
        "map_baseline": timed(map_baseline, queries),
        "related": timed(related, picks),
        "related_baseline": timed(related_baseline, picks[:15]),
        "registrations": registrations(THREADS, REGISTRANTS),
        "registrations_baseline": registrations(1, REGISTRANTS),
        "database": connection.vendor,
    }
    print(json.dumps(results))


def main() -> dict[str, Any]:
    from bench.run import WORK, postgres_fresh

    results: dict[str, Any] = {}
    if not postgres_fresh(POSTGRES_URL):
        say("economy: PostgreSQL not reachable, skipped")
        return results
    env = {
        **os.environ,
        "DATABASE_URL": POSTGRES_URL,
        "RATHAUS_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
    }
    out = subprocess.run(
        [sys.executable, __file__, "worker"], env=env, capture_output=True, text=True
    )
    sys.stderr.write(out.stderr)
    out.check_returncode()
    f = json.loads(out.stdout.strip().splitlines()[-1])
    results["postgresql"] = f
    scale = f"{f['organisations']:,} organisations, {f['relations']:,} relations (PostgreSQL)"
    say(
        f"economy directory search at {scale}: p50 {f['search']['p50_ms']:.1f} ms, "
        f"p95 {f['search']['p95_ms']:.1f} ms; with a type filter p95 "
        f"{f['search_filtered']['p95_ms']:.1f} ms | baseline unindexed ILIKE: p95 "
        f"{f['search_baseline']['p95_ms']:.1f} ms | "
        f"{f['search_baseline']['p95_ms'] / f['search']['p95_ms']:.1f}x"
    )
    say(
        f"economy map data at {scale}: all entries clustered p95 {f['map_all']['p95_ms']:.1f} ms, "
        f"for a search p95 {f['map_query']['p95_ms']:.1f} ms | baseline unindexed ILIKE "
        f"positions: p95 {f['map_baseline']['p95_ms']:.1f} ms"
    )
    say(
        f"economy relations at {scale}: related within 2 steps p95 "
        f"{f['related']['p95_ms']:.1f} ms | baseline one query per organisation: p95 "
        f"{f['related_baseline']['p95_ms']:.1f} ms | "
        f"{f['related_baseline']['p95_ms'] / f['related']['p95_ms']:.1f}x"
    )
    r, b = f["registrations"], f["registrations_baseline"]
    say(
        f"economy registrations for one event of {CAPACITY} seats (PostgreSQL): "
        f"{r['threads']} threads {r['per_s']:,.0f}/s ({r['people']:,} people: {r['confirmed']} "
        f"confirmed, {r['waiting']} waiting, overbooked {r['overbooked']}) | baseline one "
        f"thread {b['per_s']:,.0f}/s (overbooked {b['overbooked']}) | "
        f"{r['per_s'] / b['per_s']:.2f}x"
    )
    if r["overbooked"] or b["overbooked"]:
        raise SystemExit("economy: an event was overbooked")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "economy-results.json").write_text(json.dumps(results))
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["worker"]:
        worker()
    else:
        main()
