"""URLs of the site plus one view that fails, to see the 500 page in a browser."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("deliberate failure for the error page test")


urlpatterns = [path("kaputt/", fail), path("", include("rathaus.urls"))]
handler500 = "rathaus.core.views.server_error"
