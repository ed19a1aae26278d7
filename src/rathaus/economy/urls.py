"""The digital-economy pages under /wirtschaft/ (namespace ``economy``): the directory (and
the pillar's start page), the hub's events and rooms, the board of offers and needs."""

from rathaus.economy.views import board, directory, events, rooms

app_name = "economy"
urlpatterns = [
    *directory.urlpatterns,
    *events.urlpatterns,
    *rooms.urlpatterns,
    *board.urlpatterns,
]
