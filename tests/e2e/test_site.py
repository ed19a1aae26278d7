"""The public site, log-in, language switch and error pages in Chromium, with axe-core."""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.accounts.tests.factories import PASSWORD, OfficeFactory, UserFactory, member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_page_has_the_layout_and_no_accessibility_violations(
    page: Any, live_server: Any, axe: Any, console_errors: list[str]
) -> None:
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text().startswith("Digitales Rathaus")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    for label in (
        "Bürgerservice",
        "Mobilität & Stadtdaten",
        "Digitale Wirtschaft",
        "Leipzig.digital",
    ):
        assert nav.get_by_role("link", name=label).is_visible()
    footer = page.get_by_role("navigation", name="Rechtliches")
    for label in ("Impressum", "Datenschutz", "Barrierefreiheit"):
        assert footer.get_by_role("link", name=label).is_visible()
    axe.check()
    assert not console_errors


def test_keyboard_user_skips_to_the_content(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()  # visible once focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("width", [320, 640])  # 640 CSS px = a 1280 px window at 200 % zoom
def test_pages_fit_a_narrow_screen_without_sideways_scrolling(
    page: Any, live_server: Any, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    for path in ("/", "/konto/anmelden/", "/barrierefreiheit/"):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path


def test_login_with_password_and_error_linked_to_the_form(
    page: Any, live_server: Any, axe: Any
) -> None:
    UserFactory(email="bea@example.org")
    page.goto(live_server.url + "/konto/anmelden/")
    axe.check()
    page.get_by_label("E-Mail-Adresse").fill("bea@example.org")
    page.get_by_label("Passwort").fill("falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    assert page.get_by_role("alert").first.is_visible()
    assert "nicht richtig" in page.get_by_role("alert").first.inner_text()
    axe.check()
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/konto/")
    assert page.get_by_role("heading", name="Mein Konto").is_visible()
    axe.check()


def test_language_switch_to_english_and_back(page: Any, live_server: Any, axe: Any) -> None:
    page.goto(live_server.url + "/wirtschaft/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Digital economy"
    assert page.url.endswith("/wirtschaft/")
    axe.check()
    page.get_by_role("button", name="Deutsch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "de"


def test_everything_works_with_javascript_off(browser: Any, live_server: Any) -> None:
    UserFactory(email="nojs@example.org")
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    page.goto(live_server.url + "/konto/anmelden/")
    page.get_by_label("E-Mail-Adresse").fill("nojs@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/konto/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Log in").is_visible()
    context.close()


def test_404_page(page: Any, live_server: Any, axe: Any) -> None:
    response = page.goto(live_server.url + "/gibt-es-nicht/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Seite nicht gefunden").is_visible()
    axe.check()


def test_403_page(page: Any, live_server: Any, axe: Any) -> None:
    mine, other = OfficeFactory(name="Ordnungsamt"), OfficeFactory(name="Standesamt")
    member(UserFactory(email="cw@example.org"), mine)
    page.goto(live_server.url + "/konto/anmelden/")
    page.get_by_label("E-Mail-Adresse").fill("cw@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/konto/")
    response = page.goto(f"{live_server.url}/konto/einheiten/{other.pk}/")
    assert response.status == 403
    assert page.get_by_role("heading", name="Zugriff verweigert").is_visible()
    axe.check()


def test_500_page(page: Any, live_server: Any, axe: Any, settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.e2e.urls_with_error"
    response = page.goto(live_server.url + "/kaputt/")
    assert response.status == 500
    assert page.get_by_role("heading", name="Technischer Fehler").is_visible()
    assert "deliberate failure" not in page.content()
    axe.check()


def test_after_a_failed_login_focus_is_on_the_error_summary(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/konto/anmelden/")
    page.get_by_label("E-Mail-Adresse").fill("niemand@example.org")
    page.get_by_label("Passwort").fill("falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "form-errors"
    assert page.title().startswith("Fehler:")
