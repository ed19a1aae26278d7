"""The demo strategies (``rathaus seed-demo``): Leipzig.digital and Triangulum load once, obey
every rule an editor is held to (reasons for non-green lights and slipped milestones, weights
of 100 %, rolled-up progress, milestones after the start), are published for the public
dashboard, and are marked as demo content."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from rathaus.core.constants import AreaKind
from rathaus.core.models import Area
from rathaus.strategy import demo
from rathaus.strategy.constants import ProgressMode, StrategyKind, StrategyStatus, TrafficLight
from rathaus.strategy.models import (
    FieldOfAction,
    Indicator,
    IndicatorObservation,
    Measure,
    Milestone,
    Publication,
    Strategy,
)

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Strategy,
            FieldOfAction,
            Measure,
            Milestone,
            Indicator,
            IndicatorObservation,
            Publication,
        )
    }


def test_loading_twice_creates_nothing_new_and_publishes_no_second_state(
    personas: dict[str, Any],
) -> None:
    first = demo.load(staff=personas["department"])
    after_first = counts()
    second = demo.load(staff=personas["department"])

    assert first["measures created"] >= 10
    assert first["milestones created"] >= 5
    assert first["indicators created"] >= 5
    assert first["states published"] == 2
    assert {key: value for key, value in second.items() if key != "strategies"} == dict.fromkeys(
        (
            "measures created",
            "milestones created",
            "indicators created",
            "observations created",
            "automatic KPI values recorded",
            "states published",
        ),
        0,
    )
    assert counts() == after_first
    assert Publication.objects.filter(strategy__slug="leipzig-digital").count() == 1


def test_a_change_is_published_on_the_next_load(personas: dict[str, Any]) -> None:
    demo.load(staff=personas["department"])
    Measure.objects.filter(code="LD-6").update(progress=35)

    assert demo.load(staff=personas["department"])["states published"] == 1

    newest = Publication.objects.filter(strategy__slug="leipzig-digital").first()
    assert newest is not None and newest.number == 2 and newest.note == "Demo"


def test_the_public_dashboard_shows_the_demo_measures(personas: dict[str, Any]) -> None:
    demo.load(staff=personas["department"])
    client = Client()

    html = client.get(reverse("strategy:dashboard", args=["leipzig-digital"])).content.decode()

    assert "Leipzig.digital" in html
    assert "DEMO-VII-DS-0000" in html
    for code, title in (
        ("LD-1", "75 kommunale Verwaltungsleistungen online"),
        ("LD-2", "Urbane Datenplattform"),
        ("LD-3", "Digitaler Zwilling Leipziger Westen"),
    ):
        assert code in html and title in html
    assert "Digitale Verwaltung" in html and "Infrastruktur" in html

    triangulum = client.get(reverse("strategy:dashboard", args=["triangulum"]))
    assert triangulum.status_code == 200
    assert "Leipziger Westen: Energie und Mobilität im Quartier" in triangulum.content.decode()
    # shared with Leipzig.digital
    assert "Digitaler Zwilling Leipziger Westen" in triangulum.content.decode()

    page = client.get(reverse("strategy:measure", args=["leipzig-digital", "LD-3"]))
    assert page.status_code == 200
    assert "Ausschreibung der 3D-Datenerfassung" in page.content.decode()


def test_the_strategies_are_adopted_and_an_eu_project(personas: dict[str, Any]) -> None:
    demo.load(staff=personas["department"])

    digital = Strategy.objects.get(slug="leipzig-digital")
    assert digital.status == StrategyStatus.ADOPTED
    assert digital.council_decision_number.startswith("DEMO-")
    assert demo.DEMO in digital.description
    triangulum = Strategy.objects.get(slug="triangulum")
    assert triangulum.kind == StrategyKind.EU_PROJECT
    assert triangulum.version == "2015–2020"
    shared = set(
        Measure.objects.filter(strategies=digital)
        .filter(strategies=triangulum)
        .values_list("code", flat=True)
    )
    assert {"LD-3", "TRI-2"} <= shared


def test_every_measure_obeys_the_editors_rules(personas: dict[str, Any]) -> None:
    demo.load(staff=personas["department"])

    measures = list(Measure.objects.prefetch_related("strategies", "fields_of_action"))
    assert {"LD-1", "LD-2", "LD-3", "TRI-2"} <= {m.code for m in measures}  # funding's demo
    assert {m.status for m in measures} >= {"planned", "running", "done", "stopped", "delayed"}
    for measure in measures:
        assert demo.DEMO in measure.description, measure.code
        if measure.traffic_light != TrafficLight.GREEN:
            assert measure.status_reason.strip(), measure.code
        assert 0 <= measure.progress <= 100
        strategy_ids = {s.pk for s in measure.strategies.all()}
        assert strategy_ids, measure.code
        assert {f.strategy_id for f in measure.fields_of_action.all()} <= strategy_ids
        if measure.parent_id is not None:
            parent = next(m for m in measures if m.pk == measure.parent_id)
            assert strategy_ids == {s.pk for s in parent.strategies.all()}, measure.code
            assert parent.parent_id is None
        starts = [d for d in (measure.planned_start, measure.actual_start) if d]
        for milestone in Milestone.objects.filter(measure=measure):
            assert not starts or milestone.planned_date >= min(starts), milestone.title
            if milestone.slipped:
                assert milestone.slip_reason.strip(), milestone.title
            if milestone.status == "done":
                assert milestone.actual_date is not None
    delayed = [m for m in measures if m.status == "delayed"]
    assert any(m.traffic_light == TrafficLight.YELLOW for m in delayed)


def test_every_rolled_up_parent_has_weights_of_100_and_its_computed_progress(
    personas: dict[str, Any],
) -> None:
    demo.load(staff=personas["department"])

    parents = Measure.objects.filter(progress_mode=ProgressMode.ROLLED_UP)
    assert parents.count() >= 2
    for parent in parents:
        children = Measure.objects.filter(parent=parent)
        assert children.aggregate(total=Sum("weight"))["total"] == 100, parent.code
        expected = (sum(c.progress * (c.weight or 0) for c in children) + 50) // 100
        assert parent.progress == expected, parent.code
    assert Measure.objects.get(code="LD-1").progress == 67


def test_milestones_show_reached_slipped_and_upcoming(personas: dict[str, Any]) -> None:
    demo.load(staff=personas["department"])

    milestones = list(Milestone.objects.all())
    assert any(m.status == "done" and m.evidence_url for m in milestones)
    assert any(m.slipped and m.slip_reason for m in milestones)
    assert any(m.status == "open" and m.actual_date is None for m in milestones)


def test_kpis_have_automatic_sources_and_manual_series(personas: dict[str, Any]) -> None:
    demo.load(staff=personas["department"])

    auto = set(Indicator.objects.exclude(auto_source="").values_list("auto_source", flat=True))
    assert auto == {
        "catalog_online_share",
        "directory_organisations",
        "sensor_datastreams",
        "case_median_days",
    }
    services = Indicator.objects.get(strategy__slug="leipzig-digital", code="K-2")
    assert services.target_value == 75
    assert services.observations.count() >= 4
    co2 = Indicator.objects.get(strategy__slug="triangulum", code="T-1")
    assert co2.unit == "t/Jahr"
    assert co2.observations.count() >= 4


def test_areas_of_the_leipziger_westen_are_linked_when_loaded(personas: dict[str, Any]) -> None:
    lindenau = Area.objects.create(
        uri="https://example.org/area/lindenau", kind=AreaKind.ORTSTEIL, name="Lindenau"
    )

    demo.load(staff=personas["department"])

    assert lindenau in Measure.objects.get(code="LD-3").areas.all()
    assert lindenau in Measure.objects.get(code="TRI-1").areas.all()


def test_without_a_staff_account_the_content_loads_but_nothing_is_published() -> None:
    result = demo.load()

    assert result["states published"] == 0
    assert Publication.objects.count() == 0
    assert Measure.objects.filter(code__in=["LD-1", "LD-2", "LD-3", "TRI-2"]).count() == 4
    assert IndicatorObservation.objects.filter(indicator__code="K-2").count() >= 4


def test_the_first_demos_bare_measures_are_filled_in(personas: dict[str, Any]) -> None:
    bare = Strategy.objects.create(name="Leipzig.digital", slug="leipzig-digital", version="Demo")
    old = Measure.objects.create(code="LD-2", title="Urbane Datenplattform", description=demo.DEMO)
    old.strategies.add(bare)

    demo.load(staff=personas["department"])

    old.refresh_from_db()
    assert old.progress_mode == ProgressMode.ROLLED_UP
    assert old.milestones.exists()
    bare.refresh_from_db()
    assert bare.status == StrategyStatus.ADOPTED


def test_publishing_after_the_funding_demo_publishes_once(personas: dict[str, Any]) -> None:
    """How seed-demo should call it: the funding demo links applications to the measures, so
    the strategies are published after it, and a second run publishes nothing."""
    from rathaus.funding import demo as funding_demo

    staff = personas["department"]
    published = []
    for _run in range(2):
        demo.load(staff=staff, publish_states=False)
        funding_demo.load(staff=staff)
        published.append(demo.publish(staff=staff))

    assert published == [2, 0]
