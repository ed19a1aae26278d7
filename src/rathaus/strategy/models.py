"""Strategies and their measures (docs/architecture.md). So far only what other pillars link
to: a strategy (Leipzig.digital, an EU project such as Triangulum) and its measures with code,
title, themes and planned budget, entered by staff in the admin. Fields of action,
milestones, KPIs and the public progress pages are issue 12."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import TimeStampedModel


class Strategy(TimeStampedModel):
    name = models.CharField(_("Name"), max_length=200)
    slug = models.SlugField(_("Kürzel"), max_length=80, unique=True)
    version = models.CharField(_("Version oder Jahr"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("Strategie")
        verbose_name_plural = _("Strategien")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class Measure(TimeStampedModel):
    """A measure of one or more strategies."""

    strategies = models.ManyToManyField(
        Strategy, related_name="measures", verbose_name=_("Strategien")
    )
    code = models.CharField(_("Kürzel"), max_length=40, unique=True)
    title = models.CharField(_("Titel"), max_length=300)
    description = models.TextField(_("Beschreibung"), blank=True)
    # core.themes.Theme as a bit mask: what the measure is about (for matching funding calls)
    themes_mask = models.PositiveIntegerField(_("Themen"), default=0)
    planned_budget = models.DecimalField(
        _("Geplantes Budget (€)"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("Maßnahme")
        verbose_name_plural = _("Maßnahmen")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"
