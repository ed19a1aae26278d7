"""Strategies and measures in the admin, to look up only: they are edited on the strategy's own
pages (/strategie/verwaltung/), whose services keep the rules (roll-up of progress, slip reasons,
weights) and write the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rathaus.strategy.models import Indicator, Measure, Strategy


class LookUpOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Strategy)
class StrategyAdmin(LookUpOnly):
    list_display = ("name", "version", "kind", "status", "slug")


@admin.register(Measure)
class MeasureAdmin(LookUpOnly):
    list_display = ("code", "title", "status", "traffic_light", "progress")
    list_filter = ("status", "traffic_light")
    search_fields = ("code", "title", "external_id")


@admin.register(Indicator)
class IndicatorAdmin(LookUpOnly):
    list_display = ("code", "name", "strategy", "unit", "frequency")
    search_fields = ("code", "name", "external_id")
