from django.urls import path, re_path

from rathaus.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.index, name="index"),
    path("suche/", views.search_view, name="search"),
    re_path(r"^(?P<leika_key>99\d{12})/$", views.service_detail, name="service"),
    re_path(
        r"^(?P<leika_key>99\d{12})/formular\.pdf$",
        views.official_form_download,
        name="official_form",
    ),
    path("stellen/<int:office_id>/", views.office_detail, name="office"),
    path("standorte/<int:location_id>/", views.location_detail, name="location"),
]
