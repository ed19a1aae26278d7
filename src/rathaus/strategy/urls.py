"""The strategy pillar under /strategie/ (namespace ``strategy``): the public dashboard of each
strategy's published state, a page per measure and per KPI, CSV exports (``public``); for
editors under ``verwaltung/``: strategies, fields of action, measures, sub-measures and
milestones (``measures``), KPIs and their observations (``kpis``), drafts and publishing
(``publish``), the CSV import (``imports``)."""

from django.urls import URLPattern

from rathaus.strategy.views import imports, kpis, measures, public, publish

app_name = "strategy"
urlpatterns: list[URLPattern] = [
    *measures.urlpatterns,
    *kpis.urlpatterns,
    *publish.urlpatterns,
    *imports.urlpatterns,
    *public.urlpatterns,  # last: its "<slug>/" pages must not shadow "verwaltung/"
]
