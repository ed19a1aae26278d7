"""The public pages: only published states (never the draft), older states, filters, the
measure and KPI pages, CSV exports, no person's name anywhere, bad parameters never a 500."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rathaus.core.models import Area
from rathaus.strategy.models import Measure, Milestone, ObservationCorrection
from rathaus.strategy.selectors.public import state_clear_cache
from rathaus.strategy.services.publication import strategy_publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_states() -> None:
    state_clear_cache()


@pytest.fixture
def published(plan: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    district = Area.objects.create(
        uri="https://example.org/sb/alt-west", kind="stadtbezirk", name="Alt-West"
    )
    quarter = Area.objects.create(
        uri="https://example.org/ot/lindenau", kind="ortsteil", name="Lindenau", parent=district
    )
    other = Area.objects.create(
        uri="https://example.org/sb/mitte", kind="stadtbezirk", name="Mitte"
    )
    plan["ld3"].areas.add(quarter)
    plan["ld1"].areas.add(other)
    strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk, note="Start")
    return {**plan, "district": district, "quarter": quarter, "mitte": other}


def _dashboard(client: Client, **params: Any) -> str:
    response = client.get(reverse("strategy:dashboard", args=["leipzig-digital"]), params)
    assert response.status_code == 200
    return response.content.decode()


def _measure_codes(text: str) -> list[str]:
    return [code for code in ("LD-1 ", "LD-2 ", "LD-2.1", "LD-2.2", "LD-3 ") if f">{code}" in text]


def test_index_lists_only_published_strategies(published: dict[str, Any], client: Client) -> None:
    text = client.get(reverse("strategy:index")).content.decode()
    assert "Leipzig.digital" in text
    assert "Triangulum" not in text


def test_dashboard_shows_stand_decision_fields_measures_and_kpis(
    published: dict[str, Any], client: Client
) -> None:
    text = _dashboard(client)
    assert "Stand 1 vom" in text
    assert "VII-DS-01234" in text
    assert "Digitale Verwaltung" in text and "Daten und Plattformen" in text
    assert "40 %" in text  # field 1
    assert "20 %" in text  # field 2: (30 + 10) / 2
    assert "75 kommunale Verwaltungsleistungen online" in text
    assert "verzögert" in text and "gefährdet" in text  # status and traffic light as words
    assert "Kommunale Leistungen online" in text  # the KPI with its chart
    assert "<svg" in text
    assert reverse("strategy:measures_csv", args=["leipzig-digital"]) in text


def test_public_sees_published_state_until_the_next_publication(
    published: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    Measure.objects.filter(pk=published["ld3"].pk).update(title="Zwilling geheim")
    text = _dashboard(client)
    assert "Zwilling geheim" not in text and "Digitaler Zwilling" in text
    page = client.get(reverse("strategy:measure", args=["leipzig-digital", "LD-3"]))
    assert "Zwilling geheim" not in page.content.decode()
    strategy_publish(actor=personas["department"], strategy_id=published["digital"].pk)
    text = _dashboard(client)
    assert "Zwilling geheim" in text
    assert "Stand 2 vom" in text
    # the older state stays readable
    old = _dashboard(client, stand="1")
    assert "Digitaler Zwilling" in old and "Zwilling geheim" not in old
    assert "Sie sehen den älteren Stand 1" in old


def test_publications_list_links_every_stand(
    published: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    strategy_publish(actor=personas["department"], strategy_id=published["digital"].pk, note="Neu")
    text = client.get(reverse("strategy:publications", args=["leipzig-digital"])).content.decode()
    assert "?stand=1" in text and "?stand=2" in text
    assert "Start" in text and "Neu" in text


def test_filter_by_status(published: dict[str, Any], client: Client) -> None:
    assert _measure_codes(_dashboard(client, status="delayed")) == ["LD-3 "]


def test_filter_by_office(published: dict[str, Any], client: Client, offices: Any) -> None:
    text = _dashboard(client, amt=str(offices["ordnungsamt"].pk))
    assert _measure_codes(text) == ["LD-1 "]


def test_filter_by_district_finds_measures_in_its_ortsteile(
    published: dict[str, Any], client: Client
) -> None:
    assert _measure_codes(_dashboard(client, bezirk=str(published["district"].pk))) == ["LD-3 "]
    assert _measure_codes(_dashboard(client, bezirk=str(published["mitte"].pk))) == ["LD-1 "]


def test_filter_by_field_includes_sub_fields_and_sub_measures(
    published: dict[str, Any], client: Client
) -> None:
    assert _measure_codes(_dashboard(client, feld="1")) == ["LD-1 "]
    assert _measure_codes(_dashboard(client, feld="2")) == ["LD-2 ", "LD-2.1", "LD-2.2", "LD-3 "]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "kaputt"}, "Diesen Status gibt es nicht."),
        ({"amt": "abc"}, "Diese Stelle ist für keine Maßnahme verantwortlich."),
        ({"bezirk": "999999"}, "In diesem Stadtbezirk gibt es keine Maßnahme."),
        ({"feld": "9.9"}, "Dieses Handlungsfeld gibt es nicht."),
    ],
)
def test_bad_filters_show_a_message_and_all_measures(
    published: dict[str, Any], client: Client, params: dict[str, str], message: str
) -> None:
    text = _dashboard(client, **params, seite="x", kseite="-3")
    assert message in text
    assert len(_measure_codes(text)) == 5


@pytest.mark.parametrize("stand", ["abc", "0", "7", "-1"])
def test_unknown_stand_is_404(published: dict[str, Any], client: Client, stand: str) -> None:
    url = reverse("strategy:dashboard", args=["leipzig-digital"])
    assert client.get(url, {"stand": stand}).status_code == 404


def test_unknown_or_unpublished_strategy_and_unknown_codes_are_404(
    published: dict[str, Any], client: Client
) -> None:
    for url in (
        reverse("strategy:dashboard", args=["gibt-es-nicht"]),
        reverse("strategy:dashboard", args=["triangulum"]),
        reverse("strategy:measure", args=["leipzig-digital", "LD-99"]),
        reverse("strategy:indicator", args=["leipzig-digital", "K-99"]),
        reverse("strategy:publications", args=["triangulum"]),
        reverse("strategy:measures_csv", args=["triangulum"]),
    ):
        assert client.get(url).status_code == 404, url


def test_measure_page_shows_slips_sub_measures_and_kpis(
    published: dict[str, Any], client: Client
) -> None:
    text = client.get(
        reverse("strategy:measure", args=["leipzig-digital", "LD-1"])
    ).content.decode()
    assert (
        "verschoben von 31.12.2025 auf 31.03.2026: Schnittstelle zum Fachverfahren fehlt noch"
        in text
    )
    assert "Ordnungsamt" in text
    assert "K-1 Kommunale Leistungen online" in text
    assert "Link zum Nachweis" in text
    text = client.get(
        reverse("strategy:measure", args=["leipzig-digital", "LD-2"])
    ).content.decode()
    assert "LD-2.1 Teil LD-2.1" in text and "60 %" in text
    assert "aus den Teilmaßnahmen nach Gewicht" in text


def test_indicator_page_marks_corrections(
    plan: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    observation = plan["kpi"].observations.get(period=date(2024, 1, 1))
    ObservationCorrection.objects.create(
        observation=observation,
        value_before="30",
        provisional_before=False,
        value_after="31",
        changed_at="2025-02-03T10:00:00+00:00",
    )
    strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk)
    response = client.get(reverse("strategy:indicator", args=["leipzig-digital", "K-1"]))
    text = response.content.decode()
    assert "korrigiert am 03.02.2025" in text
    assert "vorläufig" in text and "endgültig" in text
    assert "44,5" in text


def test_no_person_names_in_public_pages_or_csv(
    published: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    person = personas["caseworker"]
    urls = [
        reverse("strategy:index"),
        reverse("strategy:dashboard", args=["leipzig-digital"]),
        reverse("strategy:measure", args=["leipzig-digital", "LD-1"]),
        reverse("strategy:indicator", args=["leipzig-digital", "K-1"]),
        reverse("strategy:publications", args=["leipzig-digital"]),
    ]
    for url in urls:
        text = client.get(url).content.decode()
        for value in (person.last_name, person.email, personas["department"].last_name):
            assert value not in text, (url, value)
    for url in (
        reverse("strategy:measures_csv", args=["leipzig-digital"]),
        reverse("strategy:indicators_csv", args=["leipzig-digital"]),
    ):
        text = b"".join(client.get(url).streaming_content).decode()
        assert person.last_name not in text and person.email not in text


def _csv(client: Client, name: str, **params: str) -> list[list[str]]:
    response = client.get(reverse(name, args=["leipzig-digital"]), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_measures_csv_one_row_per_measure_with_filters(
    published: dict[str, Any], client: Client
) -> None:
    rows = _csv(client, "strategy:measures_csv")
    header = rows[0]
    assert [r[0] for r in rows[1:]] == ["LD-1", "LD-2", "LD-2.1", "LD-2.2", "LD-3"]
    ld1 = dict(zip(header, rows[1], strict=True))
    assert ld1["office"] == "Ordnungsamt"
    assert ld1["status_label"] == "läuft"
    assert ld1["milestones"] == "2" and ld1["milestones_slipped"] == "1"
    assert ld1["url"].endswith("/strategie/leipzig-digital/massnahmen/LD-1/")
    delayed = _csv(client, "strategy:measures_csv", status="delayed")
    assert [r[0] for r in delayed[1:]] == ["LD-3"]


def test_csv_cells_cannot_run_as_formulas(
    published: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    Measure.objects.filter(pk=published["ld3"].pk).update(title="=HYPERLINK(1)")
    strategy_publish(actor=personas["department"], strategy_id=published["digital"].pk)
    rows = _csv(client, "strategy:measures_csv")
    assert rows[-1][1] == "'=HYPERLINK(1)"


def test_indicators_csv_long_format(published: dict[str, Any], client: Client) -> None:
    rows = _csv(client, "strategy:indicators_csv")
    assert rows[0][:2] == ["indicator_code", "indicator_name"]
    assert [(r[0], r[8], r[9], r[10]) for r in rows[1:]] == [
        ("K-1", "2023-01-01", "12", "no"),
        ("K-1", "2024-01-01", "31", "no"),
        ("K-1", "2025-01-01", "44.5", "yes"),
    ]


def test_dashboard_costs_few_queries_whatever_the_size(
    published: dict[str, Any],
    personas: dict[str, Any],
    client: Client,
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(40):
        measure = Measure.objects.create(code=f"X-{n:02}", title=f"Maßnahme {n}")
        measure.strategies.add(published["digital"])
        Milestone.objects.create(
            measure=measure,
            title="M",
            planned_date=date(2026, 1, 1),
            baseline_date=date(2026, 1, 1),
        )
    strategy_publish(actor=personas["department"], strategy_id=published["digital"].pk)
    url = reverse("strategy:dashboard", args=["leipzig-digital"])
    client.get(url)  # the snapshot is parsed once
    with django_assert_max_num_queries(3):
        response = client.get(url, {"seite": "2"})
    assert "Seite 2 von 3" in response.content.decode()


def test_kpis_are_paginated_with_their_own_page_parameter(
    plan: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    from rathaus.strategy.models import Indicator

    for n in range(12):
        Indicator.objects.create(
            strategy=plan["digital"],
            code=f"Z-{n:02}",
            name=f"Zusatz {n:02}",
            definition="-",
            unit="Anzahl",
            position=n + 1,
        )
    strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk)
    first = _dashboard(client)
    assert "Zusatz 08" in first and "Zusatz 09" not in first
    second = _dashboard(client, kseite="2")
    assert "Zusatz 09" in second and "Zusatz 11" in second and "Zusatz 08" not in second
    assert "Seiten der Kennzahlen" in second


def test_draft_shows_changes_the_public_does_not_see_yet(
    published: dict[str, Any], staff_client: Client, client: Client
) -> None:
    Measure.objects.filter(pk=published["ld3"].pk).update(title="Zwilling neu")
    draft = staff_client.get(reverse("strategy:draft", args=[published["digital"].pk]))
    assert "Zwilling neu" in draft.content.decode()
    assert "Zwilling neu" not in _dashboard(client)
    filtered = staff_client.get(
        reverse("strategy:draft", args=[published["digital"].pk]), {"status": "delayed"}
    )
    assert _measure_codes(filtered.content.decode()) == ["LD-3 "]
