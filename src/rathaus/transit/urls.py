from django.urls import path

from rathaus.transit import views

app_name = "transit"
urlpatterns = [
    path("", views.index, name="index"),
    path("verbindungen/", views.journeys, name="journeys"),
    path("qualitaet/", views.service_quality, name="quality"),
    path("qualitaet/gueteklassen.<str:kind>", views.quality_export, name="quality_export"),
    path("tafel/", views.board, name="board"),  # ?halt=<stop>: the board alone
    # stop ids are the feed's own and may hold any character
    path("haltestellen/<path:ref>/", views.stop, name="stop"),
]
