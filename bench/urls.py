"""The site's URLs plus two bare Django views: "ok" (the floor any page stands on) and one
that inserts a posted JSON body into one table (the floor of taking a submission)."""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def insert(request: HttpRequest) -> HttpResponse:
    body = json.dumps(json.loads(request.body))
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_insert (body) VALUES (%s)", [body])
    return HttpResponse("created", status=201, content_type="text/plain")


urlpatterns = [
    path("bench/ok", ok),
    path("bench/insert", insert),
    path("", include("rathaus.urls")),
]
