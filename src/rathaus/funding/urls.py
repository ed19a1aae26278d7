"""The funding register under /foerderung/ (namespace ``funding``): programmes and calls, public
to read and kept by staff, with CSV import and export (``programmes``); calls matching a
measure or an organisation, the deadline calendar and its iCal feed (``matching``); the
city's applications (``applications``, under ``verwaltung/``); their budget lines and
reporting duties, the pipeline board and the figures per year (``budgets``)."""

from django.urls import URLPattern

from rathaus.funding.views import applications, budgets, matching, programmes

app_name = "funding"
urlpatterns: list[URLPattern] = [
    *applications.urlpatterns,
    *budgets.urlpatterns,
    *matching.urlpatterns,
    *programmes.urlpatterns,
]
