"""The innovation competitions under /wettbewerbe/ (namespace ``innovation``): the public
calls with their rules, jury and amendments (``public``); staff preparing and running calls
(``staff``, under ``verwaltung/``); organisations' entries (``entries``); the jury's
declarations, scores and consensus (``jury``, under ``jury/``); progress, ranking and
results (``results``)."""

from django.urls import URLPattern

from rathaus.innovation.views import entries, jury, public, results, staff

app_name = "innovation"
# the fixed paths first: a call's slug never hides them
urlpatterns: list[URLPattern] = [
    *staff.urlpatterns,
    *results.urlpatterns,
    *jury.urlpatterns,
    *entries.urlpatterns,
    *public.urlpatterns,
]
