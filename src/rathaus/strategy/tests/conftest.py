"""Shared fixtures of the strategy tests: Leipzig.digital (adopted) and Triangulum side by
side, a tree of fields of action, measures with sub-measures and milestones, a KPI with
observations; clients for department staff and for the person responsible for a measure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from rathaus.strategy.constants import (
    Direction,
    Frequency,
    MeasureStatus,
    MilestoneStatus,
    ProgressMode,
    StrategyKind,
    StrategyStatus,
    TrafficLight,
)
from rathaus.strategy.models import (
    FieldOfAction,
    Indicator,
    IndicatorObservation,
    Measure,
    Milestone,
    Strategy,
)


@pytest.fixture
def plan(personas: dict[str, Any], offices: dict[str, Any]) -> dict[str, Any]:
    """Leipzig.digital with fields 1 (1.1 below it) and 2; measures LD-1 (running, 40 %,
    responsible: the caseworker of the Ordnungsamt, in Leipzig.digital and Triangulum),
    LD-2 (rolled up from LD-2.1 at 60 % weight, 50 % done, and LD-2.2 at 40 %, 0 % done: 30 %)
    and LD-3 (delayed, yellow); milestones of LD-1 (one reached, one slipped with a reason);
    KPI "K-1" (online services, %, higher is better) with three yearly observations."""
    digital = Strategy.objects.create(
        name="Leipzig.digital",
        slug="leipzig-digital",
        version="2024",
        status=StrategyStatus.ADOPTED,
        council_decision_number="VII-DS-01234",
        council_decision_date=date(2024, 3, 20),
    )
    triangulum = Strategy.objects.create(
        name="Triangulum", slug="triangulum", version="2015–2020", kind=StrategyKind.EU_PROJECT
    )
    admin_field = FieldOfAction.objects.create(
        strategy=digital, code="1", title="Digitale Verwaltung", position=1
    )
    online = FieldOfAction.objects.create(
        strategy=digital, parent=admin_field, code="1.1", title="Online-Dienste", position=1
    )
    data_field = FieldOfAction.objects.create(
        strategy=digital, code="2", title="Daten und Plattformen", position=2
    )
    ld1 = Measure.objects.create(
        code="LD-1",
        title="75 kommunale Verwaltungsleistungen online",
        office=offices["ordnungsamt"],
        responsible=personas["caseworker"],
        status=MeasureStatus.RUNNING,
        progress=40,
        planned_start=date(2024, 1, 1),
        planned_end=date(2026, 12, 31),
        actual_start=date(2024, 2, 1),
        planned_budget=Decimal("1500000"),
        spent_budget=Decimal("600000"),
    )
    ld1.strategies.add(digital, triangulum)
    ld1.fields_of_action.add(online)
    ld2 = Measure.objects.create(
        code="LD-2",
        title="Urbane Datenplattform",
        status=MeasureStatus.RUNNING,
        progress=30,
        progress_mode=ProgressMode.ROLLED_UP,
        planned_start=date(2024, 1, 1),
        planned_end=date(2027, 6, 30),
    )
    ld2.strategies.add(digital)
    ld2.fields_of_action.add(data_field)
    subs = []
    for code, weight, progress in (("LD-2.1", 60, 50), ("LD-2.2", 40, 0)):
        sub = Measure.objects.create(
            code=code,
            title=f"Teil {code}",
            parent=ld2,
            weight=weight,
            progress=progress,
            status=MeasureStatus.RUNNING if progress else MeasureStatus.PLANNED,
            planned_start=date(2024, 1, 1),
            planned_end=date(2027, 6, 30),
        )
        sub.strategies.add(digital)
        subs.append(sub)
    ld3 = Measure.objects.create(
        code="LD-3",
        title="Digitaler Zwilling",
        status=MeasureStatus.DELAYED,
        traffic_light=TrafficLight.YELLOW,
        status_reason="Ausschreibung verzögert",
        progress=10,
        planned_start=date(2025, 1, 1),
        planned_end=date(2026, 6, 30),
    )
    ld3.strategies.add(digital)
    ld3.fields_of_action.add(data_field)
    reached = Milestone.objects.create(
        measure=ld1,
        title="Antragsassistent in Betrieb",
        planned_date=date(2024, 6, 30),
        baseline_date=date(2024, 6, 30),
        actual_date=date(2024, 6, 15),
        status=MilestoneStatus.DONE,
        evidence_url="https://www.leipzig.de/",
    )
    slipped = Milestone.objects.create(
        measure=ld1,
        title="50 Leistungen online",
        planned_date=date(2026, 3, 31),
        baseline_date=date(2025, 12, 31),
        slip_reason="Schnittstelle zum Fachverfahren fehlt noch",
    )
    kpi = Indicator.objects.create(
        strategy=digital,
        field_of_action=online,
        code="K-1",
        name="Kommunale Leistungen online",
        definition="Anteil der Leistungen des Katalogs mit Reifegrad 3 oder höher",
        unit="%",
        direction=Direction.HIGHER,
        baseline_value=Decimal("12"),
        baseline_date=date(2023, 12, 31),
        target_value=Decimal("75"),
        target_date=date(2027, 12, 31),
        frequency=Frequency.YEARLY,
        data_source="Leistungskatalog",
        owner=personas["caseworker"],
    )
    kpi.measures.add(ld1)
    for year, value, provisional in (
        (2023, "12", False),
        (2024, "31", False),
        (2025, "44.5", True),
    ):
        IndicatorObservation.objects.create(
            indicator=kpi, period=date(year, 1, 1), value=Decimal(value), provisional=provisional
        )
    return {
        "digital": digital,
        "triangulum": triangulum,
        "fields": {"1": admin_field, "1.1": online, "2": data_field},
        "ld1": ld1,
        "ld2": ld2,
        "subs": subs,
        "ld3": ld3,
        "reached": reached,
        "slipped": slipped,
        "kpi": kpi,
    }


@pytest.fixture
def staff_client(personas: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(personas["department"])
    return client


@pytest.fixture
def responsible_client(personas: dict[str, Any]) -> Client:
    """The caseworker responsible for LD-1 and owner of K-1 (not department staff)."""
    client = Client()
    client.force_login(personas["caseworker"])
    return client
