"""Search relevance on the real catalogue: what people type -> the service they mean, in the
top 3, on SQLite and PostgreSQL alike (CI runs this file on both)."""

from __future__ import annotations

import pytest

from rathaus.catalog.models import Service
from rathaus.catalog.selectors import ServiceFilters, service_search
from rathaus.catalog.services import synonym_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("leika_catalogue")]

# (what a person types, LeiKa key of the service they mean)
EVERYDAY_QUERIES = [
    ("Ummeldung", "99115005104000"),  # Wohnsitz Anmeldung
    ("umziehen", "99115005104000"),
    ("Wohnung anmelden", "99115005104000"),
    ("Wohnsitz anmelden", "99115005104000"),
    ("Anwohnerparkausweis", "99108001001000"),  # Bewohnerparkausweis Erteilung
    ("Anwohnerparken", "99108001001000"),
    ("Bewohnerparkausweis verlängern", "99108001020000"),
    ("Hundesteuer", "99102013000000"),
    ("hund anmelden", "99102013000000"),
    ("Hund anmelden", "99102013000000"),
    ("Gewerbe anmelden", "99050012104000"),
    ("Gewerbeschein", "99050012104000"),
    ("Gewerbe abmelden", "99050012070000"),
    ("Gewerbe", "99050012000000"),
    ("Personalausweis beantragen", "99008001000000"),
    ("Persnalausweis", "99008001000000"),  # one letter missing
    ("Persanalausweis", "99008001000000"),  # one letter wrong
    ("Personalausweiss", "99008001000000"),  # one letter too many
    ("Reisepass", "99085001000000"),
    ("Kinderreisepass", "99085003000000"),
    ("Führerschein", "99023001000000"),
    ("Fuhrerschein umtauschen", "99023001051000"),
    ("heiraten", "99059001000000"),
    ("Hochzeit anmelden", "99059001104000"),
    ("Geburtsurkunde", "99027002012000"),
    ("Sterbeurkunde", "99101004012000"),
    ("Kita Platz", "99041004000000"),
    ("Wohngeld", "99107023000000"),
    ("Elterngeld", "99041006000000"),
    ("Baugenehmigung", "99012008000000"),
    ("Bauantrag", "99012008000000"),
    ("Auto anmelden", "99036008007000"),
    ("Auto abmelden", "99036008070002"),
    ("Führungszeugnis", "99049001000000"),
    ("Meldebescheinigung", "99115003000000"),
    ("Halteverbot Umzug", "99108011000000"),
    ("Angelschein", "99042001000000"),
    ("Fischereischein", "99042001000000"),
    ("Briefwahl", "99128001000000"),
    ("Wahlschein", "99128009000000"),
    ("Grundsteuer", "99102012000000"),
    ("Zweitwohnungsteuer", "99102017000000"),  # written with one s less
    ("Einbürgerung", "99099002000000"),
    ("Aufenthaltstitel", "99010006000000"),
    ("Schwerbehindertenausweis", "99015007000000"),
    ("Sondernutzung Gehweg", "99108012000000"),
]


def test_the_list_has_at_least_forty_real_services() -> None:
    keys = {key for _, key in EVERYDAY_QUERIES}
    assert len(EVERYDAY_QUERIES) >= 40
    assert Service.objects.filter(leika_key__in=keys).count() == len(keys)


@pytest.mark.parametrize(("query", "leika_key"), EVERYDAY_QUERIES)
def test_everyday_german_finds_the_service_in_the_top_three(query: str, leika_key: str) -> None:
    top = [s.leika_key for s in service_search(query=query, limit=3).services]
    assert leika_key in top, (query, [Service.objects.get(leika_key=k).name for k in top])


def test_the_exact_service_comes_first() -> None:
    for name in ("Hundesteuer", "Gewerbe Anmeldung", "Bewohnerparkausweis", "Wohngeld"):
        assert service_search(query=name, limit=1).services[0].name == name


def test_synonyms_the_department_adds_work_at_once() -> None:
    assert not service_search(query="Knöllchen").services
    synonym_create(terms="Knöllchen, Bußgeldverfahren")
    found = service_search(query="Knöllchen", limit=5).services
    assert found[0].leika_key == "99089070000000"  # Akten im Bußgeldverfahren


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "a" * 10_000,
        '"',
        "*",
        "NEAR(a b)",
        "name:hund",
        "a & b",
        "a | b",
        "!hund",
        "hund' OR 1=1 --",
        "\x00\x01",
        "💡🐕",
        "<script>alert(1)</script>",
        "Hund:*",
    ],
)
def test_odd_input_gives_a_normal_result_never_an_error(query: str) -> None:
    result = service_search(query=query, limit=5)  # raising would fail the test
    assert len(result.services) <= 5
    assert len(result.query) <= 200
    assert "\x00" not in result.query


def test_operator_characters_are_just_separators() -> None:
    plain = [s.pk for s in service_search(query="hund anmelden", limit=5).services]
    noisy = [s.pk for s in service_search(query='"hund" & anmelden*', limit=5).services]
    assert plain == noisy


def test_filters_by_life_situation_topic_online_and_office() -> None:
    from rathaus.accounts.tests.factories import OfficeFactory

    wohnen = service_search(query="anmelden", filters=ServiceFilters(life_situation="wohnen-umzug"))
    assert wohnen.services and all(s.life_situation.slug == "wohnen-umzug" for s in wohnen.services)  # type: ignore[union-attr]
    topic = service_search(query="", filters=ServiceFilters(topic="steuern-zoll"), limit=100)
    assert topic.total == Service.objects.filter(topic__slug="steuern-zoll").count()
    assert service_search(query="Hundesteuer", filters=ServiceFilters(online=True)).total == 0
    Service.objects.filter(leika_key="99102013000000").update(
        online_form=True, online_submission=True
    )
    online = service_search(query="Hundesteuer", filters=ServiceFilters(online=True))
    assert [s.leika_key for s in online.services] == ["99102013000000"]
    office = OfficeFactory(name="Steueramt")
    Service.objects.get(leika_key="99102012000000").offices.add(office)
    by_office = service_search(query="steuer", filters=ServiceFilters(office=office.pk))
    assert [s.leika_key for s in by_office.services] == ["99102012000000"]


def test_a_synonym_phrase_is_found_in_any_word_order() -> None:
    top = [s.leika_key for s in service_search(query="Anmeldung Wohnung", limit=3).services]
    assert "99115005104000" in top  # Wohnsitz Anmeldung, via "Wohnung anmelden"


@pytest.mark.parametrize(
    ("query", "leika_key"),
    [("Anwohnerparkauswies", "99108001001000"), ("Ummeldunk", "99115005104000")],
)
def test_a_typo_in_a_synonym_is_corrected_too(query: str, leika_key: str) -> None:
    assert leika_key in [s.leika_key for s in service_search(query=query, limit=3).services]
