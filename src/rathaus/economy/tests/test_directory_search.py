"""The directory search with many matches: only the best of them are put in order (core
search ``rank(limit=...)``), the total still counts every match, and what is not published
(any more) is neither found nor counted."""

from __future__ import annotations

import pytest

from rathaus.core import search
from rathaus.economy.constants import EntrySource, EntryStatus, OrganisationKind, TermKind
from rathaus.economy.models import Organisation, Term
from rathaus.economy.selectors.directory import (
    SEARCH_WEIGHTS,
    DirectoryFilters,
    organisation_map_clusters,
    organisation_search,
    organisation_search_ids,
)
from rathaus.economy.services.directory import (
    SEARCH_DOC_TYPE,
    name_key_of,
    organisation_search_reindex,
)

pytestmark = pytest.mark.django_db


def _many(count: int) -> None:
    """``count`` published entries with the competence "Sensorik" (a primary field, so all
    are in the first tier of candidates), a few of them also with it in their name, half of
    them of kind sme; indexed at once like the import does."""
    names = [f"Firma {n:03d}" for n in range(count)]
    names[17] = "Sensorik"
    names[5] = "Sensorik Labor GmbH"
    names[25] = "Labor für Sensorik und Robotik"
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=name,
                name_key=name_key_of(name),
                slug=f"firma-{n}",
                kind=OrganisationKind.SME if n % 2 else OrganisationKind.STARTUP,
                status=EntryStatus.PUBLISHED,
                source=EntrySource.IMPORT,
                city="Leipzig",
                lat=51.3 + n / 1000,
                lon=12.3,
                description=f"Sensorik und Plattform für Kunde {n}"
                + (" mit Robotik" if n % 3 == 0 else ""),
            )
            for n, name in enumerate(names)
        ]
    )
    term = Term.objects.create(kind=TermKind.COMPETENCE, slug="sensorik", name="Sensorik")
    through = Organisation.competences.through
    through.objects.bulk_create(
        [
            through(organisation_id=pk, term_id=term.pk)
            for pk in Organisation.objects.values_list("pk", flat=True)
        ]
    )
    organisation_search_reindex()


def test_the_name_comes_first_among_many_description_matches() -> None:
    _many(120)
    result = organisation_search(query="sensorik", filters=DirectoryFilters(), limit=3)
    names = [o.name for o in result.organisations]
    assert names[0] == "Sensorik"  # exactly what was asked
    assert set(names[1:]) == {"Sensorik Labor GmbH", "Labor für Sensorik und Robotik"}
    assert result.total == 120


def test_every_page_is_the_slice_of_the_full_ranking() -> None:
    _many(120)
    _query, ranked = organisation_search_ids(query="sensorik robotik", filters=DirectoryFilters())
    pages = [
        [
            o.pk
            for o in organisation_search(
                query="sensorik robotik", filters=DirectoryFilters(), offset=offset, limit=20
            ).organisations
        ]
        for offset in range(0, 120, 20)
    ]
    assert [pk for page in pages for pk in page] == ranked
    assert ranked[0] == Organisation.objects.get(name="Labor für Sensorik und Robotik").pk


@pytest.mark.parametrize("text", ["sensorik", "robotik", "sensorik robotik", "kunde 7", "labor"])
def test_rank_with_a_limit_is_the_start_of_the_full_ranking(text: str) -> None:
    _many(120)
    vocab = search.vocabulary(SEARCH_DOC_TYPE)
    parsed = search.parse_query(text, vocab, {}, frozenset())
    candidates = search.candidate_documents(SEARCH_DOC_TYPE, parsed)
    full = search.rank(parsed, candidates, weights=SEARCH_WEIGHTS, vocab=vocab)
    for limit in (1, 5, 20, 200):
        best = search.rank(parsed, candidates, weights=SEARCH_WEIGHTS, vocab=vocab, limit=limit)
        assert [(h.object_id, h.score, h.name_length) for h in best] == [
            (h.object_id, h.score, h.name_length) for h in full[:limit]
        ]


def test_a_filter_is_applied_before_counting_and_ranking() -> None:
    _many(120)
    result = organisation_search(
        query="sensorik", filters=DirectoryFilters(kind=OrganisationKind.SME), limit=2
    )
    assert result.total == 60
    assert [o.name for o in result.organisations][0] == "Sensorik"
    assert all(o.kind == OrganisationKind.SME for o in result.organisations)


def test_archived_entry_is_neither_found_nor_counted_nor_on_the_map() -> None:
    _many(30)
    entry = Organisation.objects.get(name="Sensorik")
    entry.status = EntryStatus.ARCHIVED
    entry.save()
    organisation_search_reindex(organisation_ids=[entry.pk])  # what every status change does
    result = organisation_search(query="sensorik", filters=DirectoryFilters(), limit=100)
    assert entry.pk not in [o.pk for o in result.organisations]
    assert result.total == 29
    clusters = organisation_map_clusters(query="sensorik", filters=DirectoryFilters())
    assert sum(c.count for c in clusters) == 29
    assert "Sensorik" not in {e["name"] for c in clusters for e in c.entries}
