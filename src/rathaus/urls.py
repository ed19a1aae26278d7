from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import set_language

from rathaus.api import api
from rathaus.citydata import sta
from rathaus.core import views as core_views

admin.site.site_header = "Rathaus – Administration"
admin.site.site_title = "Rathaus"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    re_path(r"^api/sta/v1\.1/?(?P<path>.*)$", sta.service, name="sta"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("konto/", include("rathaus.accounts.urls")),
    path("leistungen/", include("rathaus.catalog.urls")),
    path("formulare/", include("rathaus.forms.urls")),
    path("antraege/", include("rathaus.submissions.urls")),
    path("antraege/", include("rathaus.cases.citizen_urls")),
    path("verwaltung/formulare/", include("rathaus.forms.staff_urls")),
    path("verwaltung/vorgaenge/", include("rathaus.cases.urls")),
    path("mobilitaet/", include("rathaus.transit.urls")),
    path("stadtdaten/", include("rathaus.citydata.urls")),
    path("wirtschaft/", include("rathaus.economy.urls")),
    path("wettbewerbe/", include("rathaus.innovation.urls")),
    path("foerderung/", include("rathaus.funding.urls")),
    path("strategie/", include("rathaus.strategy.urls")),
    # the open-data catalogue: /offene-daten/, /catalog.ttl, /api/3/action/
    path("", include("rathaus.citydata.catalogue_urls")),
    path("admin/", admin.site.urls),
    path("", include("rathaus.public.urls")),
]

handler400 = "rathaus.core.views.bad_request"
handler403 = "rathaus.core.views.permission_denied"
handler404 = "rathaus.core.views.page_not_found"
handler500 = "rathaus.core.views.server_error"
