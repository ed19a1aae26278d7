"""The public sensor-data pages under /stadtdaten/ (namespace ``citydata``). Included from
rathaus/urls.py."""

from django.urls import path

from rathaus.citydata import views

app_name = "citydata"
urlpatterns = [
    path("", views.index, name="index"),
    path("messstellen/<int:thing_id>/", views.thing, name="thing"),
    path(
        "messstellen/<int:thing_id>/<int:datastream_id>.csv",
        views.datastream_csv,
        name="csv",
    ),
]
