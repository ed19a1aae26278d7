"""Bad input gets a page or a JSON error in the user's language, never a stack trace."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internal detail")


urlpatterns = [path("boom/", _boom), path("", include("rathaus.urls"))]
handler500 = "rathaus.core.views.server_error"

pytestmark = pytest.mark.django_db


def test_unknown_page_gets_a_german_404_page(client: Client) -> None:
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'lang="de"' in html
    assert "Seite nicht gefunden" in html
    assert "Traceback" not in html


def test_unknown_page_in_english_for_an_english_browser(client: Client) -> None:
    response = client.get("/gibt-es-nicht/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "Page not found" in html


def test_unknown_api_url_gets_json_in_both_languages(client: Client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    assert "Seite gibt es nicht" in body["messages"]["de"]
    assert (
        body["messages"]["en"] == "The page you requested does not exist. Please check the address."
    )


def test_wrong_method_gets_a_405_page_with_allow_header(client: Client) -> None:
    response = client.post("/impressum/")
    assert response.status_code == 405
    assert "Methode nicht erlaubt" in response.content.decode()
    assert "GET" in response["Allow"]


def test_wrong_method_on_the_api_gets_json(client: Client) -> None:
    response = client.delete("/api/v1/offices")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_csrf_failure_gets_an_explaining_page_not_djangos_debug_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/konto/anmelden/", {"username": "a@b.de", "password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Sitzung ist abgelaufen" in html
    assert "CSRF verification failed" not in html


@override_settings(MAX_REQUEST_BYTES=1000)
def test_oversized_body_is_refused_with_413_page(client: Client) -> None:
    response = client.post("/konto/anmelden/link/", {"email": "a" * 2000 + "@example.org"})
    assert response.status_code == 413
    assert "zu groß" in response.content.decode()


@override_settings(MAX_REQUEST_BYTES=1000)
def test_oversized_api_body_is_refused_with_413_json(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/magic-link",
        data='{"email": "' + "a" * 2000 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "payload_too_large"
    assert set(body["messages"]) == {"de", "en"}


def test_malformed_json_gets_400_in_german_and_english(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/magic-link", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed_body"
    assert "JSON" in body["messages"]["de"] and "JSON" in body["messages"]["en"]
    assert body["messages"]["de"] != body["messages"]["en"]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_shows_a_page_without_the_stack_trace() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Technischer Fehler" in html
    assert "secret internal detail" not in html
    assert "Traceback" not in html
    assert response["X-Request-ID"] in html  # the support reference


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_under_api_accept_json_is_json() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/api/v1/offices?q=a%00b", {}),
        ("get", "/leistungen/suche/?q=hund%00", {}),
        (
            "post",
            "/api/v1/auth/magic-link",
            {"data": '{"email": "a\\u0000@b.de"}', "content_type": "application/json"},
        ),
        (
            "post",
            "/konto/anmelden/link/",
            {"data": "email=a%00%40b.de", "content_type": "application/x-www-form-urlencoded"},
        ),
    ],
)
def test_nul_characters_get_a_clear_400_not_a_database_error(
    client: Client, method: str, path: str, kwargs: dict[str, object]
) -> None:
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 400
