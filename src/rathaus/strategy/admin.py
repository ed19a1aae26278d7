"""Staff enter strategies and measures in the admin (audited) until the strategy's own pages
exist (issue 12)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rathaus.core.admin import AuditedAdmin
from rathaus.core.themes import MaskChoiceField, Theme
from rathaus.strategy.models import Measure, Strategy


class MeasureForm(forms.ModelForm):  # type: ignore[type-arg]
    themes_mask = MaskChoiceField(choices_class=Theme, label=_("Themen"))

    class Meta:
        model = Measure
        fields = ["strategies", "code", "title", "description", "themes_mask", "planned_budget"]


@admin.register(Strategy)
class StrategyAdmin(AuditedAdmin):
    list_display = ("name", "version", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Measure)
class MeasureAdmin(AuditedAdmin):
    list_display = ("code", "title", "planned_budget")
    search_fields = ("code", "title")
    filter_horizontal = ("strategies",)
    form = MeasureForm
