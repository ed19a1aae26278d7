"""The demo city's strategies and a few of their measures (``rathaus seed-demo``), drawn from
public facts about Leipzig.digital and the EU project Triangulum and marked as demo content.
Idempotent: keyed by the measure's code. Issue 12 adds fields of action, milestones and KPIs."""

from __future__ import annotations

from decimal import Decimal

from rathaus.core.themes import Theme, mask_of
from rathaus.strategy.models import Measure, Strategy

DEMO = "Demo-Inhalt, nach öffentlichen Angaben vereinfacht."
STRATEGIES = {
    "leipzig-digital": ("Leipzig.digital", "Demo"),
    "triangulum": ("Triangulum (EU Horizon 2020)", "2015–2020"),
}
MEASURES = [
    (
        "LD-1",
        ["leipzig-digital"],
        "75 kommunale Verwaltungsleistungen online",
        [Theme.ADMINISTRATION, Theme.DIGITALISATION],
        Decimal("1500000"),
    ),
    (
        "LD-2",
        ["leipzig-digital"],
        "Urbane Datenplattform",
        [Theme.DATA, Theme.SMART_CITY],
        Decimal("2400000"),
    ),
    (
        "LD-3",
        ["leipzig-digital", "triangulum"],
        "Digitaler Zwilling Leipziger Westen",
        [Theme.DATA, Theme.URBAN, Theme.SMART_CITY],
        Decimal("1800000"),
    ),
    (
        "TRI-2",
        ["triangulum"],
        "Leipziger Westen: Energie und Mobilität im Quartier",
        [Theme.ENERGY, Theme.MOBILITY, Theme.URBAN],
        Decimal("3000000"),
    ),
]


def load() -> dict[str, int]:
    """Create what is missing; returns counts for the seed command's summary."""
    strategies = {}
    for slug, (name, version) in STRATEGIES.items():
        strategies[slug], _ = Strategy.objects.get_or_create(
            slug=slug, defaults={"name": name, "version": version}
        )
    created = 0
    for code, in_strategies, title, themes, budget in MEASURES:
        measure, made = Measure.objects.get_or_create(
            code=code,
            defaults={
                "title": title,
                "description": DEMO,
                "themes_mask": mask_of(themes, Theme),
                "planned_budget": budget,
            },
        )
        created += made
        measure.strategies.add(*(strategies[slug] for slug in in_strategies))
    return {"strategies": len(strategies), "measures created": created}
