"""Forms in Chromium: every step of the demo forms is axe-clean; a citizen fills in the dog
registration with the keyboard and without JavaScript, at 320 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_forms() -> None:
    from rathaus.forms.demo import load_demo_forms
    from rathaus.forms.postcodes import LEIPZIG_FILE
    from rathaus.forms.services import postcodes_import

    postcodes_import(path=LEIPZIG_FILE)
    load_demo_forms()


@pytest.mark.usefixtures("demo_forms")
@pytest.mark.parametrize("slug", ["bewohnerparkausweis", "gewerbeanmeldung", "hund-anmelden"])
def test_every_step_of_the_demo_forms_is_accessible(
    page: Any, live_server: Any, axe: Any, slug: str
) -> None:
    from rathaus.forms.models import FormDraft

    page.goto(f"{live_server.url}/formulare/{slug}/")
    axe.check()
    page.get_by_role("button", name="Jetzt ausfüllen").click()
    FormDraft.objects.update(step_reached=20)  # look at every step, not fill them in
    number = 1
    while True:
        page.goto(f"{live_server.url}/formulare/{slug}/schritt/{number}/")
        if not page.url.endswith(f"/schritt/{number}/"):
            break  # past the last step: sent back
        axe.check()
        number += 1
    assert number > 3
    # and a step with errors: the summary and the marked fields
    page.goto(f"{live_server.url}/formulare/{slug}/schritt/1/")
    page.get_by_role("button", name="Weiter").click()
    if page.locator("#form-errors").count():
        axe.check()


@pytest.mark.usefixtures("demo_forms")
def test_dog_registration_without_javascript_on_a_small_phone(
    browser: Any, live_server: Any
) -> None:
    context = browser.new_context(
        java_script_enabled=False, locale="de-DE", viewport={"width": 320, "height": 700}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/formulare/hund-anmelden/")
    page.get_by_role("button", name="Jetzt ausfüllen").click()
    page.get_by_label("Vorname").fill("Erika")
    page.get_by_label("Familienname").fill("Mustermann")
    page.get_by_label("Straße und Hausnummer").fill("Markt 1")
    page.get_by_label("Postleitzahl").fill("0410")
    page.get_by_role("button", name="Weiter").click()
    assert page.get_by_role(
        "link", name="Postleitzahl: Eine Postleitzahl hat fünf Ziffern."
    ).is_visible()
    assert page.get_by_label("Vorname").input_value() == "Erika"
    page.get_by_label("Postleitzahl").fill("04109")
    page.get_by_role("button", name="Weiter").click()
    assert "Schritt 2 von 3" in page.content()
    page.get_by_label("Name des Hundes").fill("Bello")
    page.get_by_label("Rasse").select_option("dackel")
    page.get_by_label("Gehalten seit").fill("01.03.2025")
    page.get_by_label("Nein").check()
    page.get_by_role("button", name="Weiter").click()
    page.get_by_role("button", name="Weiterer Hund hinzufügen").click()
    page.get_by_label("Name").fill("Rex")
    page.get_by_label("Ich versichere, dass meine Angaben richtig sind.").check()
    page.get_by_role("button", name="Zur Übersicht").click()
    assert page.get_by_role("heading", name="Bitte prüfen Sie Ihre Angaben").is_visible()
    assert "Rex" in page.content() and "Dackel" in page.content()
    assert "Leipzig" in page.content()  # the place, filled in from the postcode by the server
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


def test_staff_pages_are_accessible(page: Any, live_server: Any, axe: Any) -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.services import role_assign
    from rathaus.accounts.tests.factories import PASSWORD, UserFactory
    from rathaus.forms.demo import DEMO_FORMS
    from rathaus.forms.services import form_import_fim

    user = UserFactory(email="referat@example.org")
    role_assign(actor=None, user=user, role=Role.DEPARTMENT_STAFF)
    form_import_fim(path=DEMO_FORMS[0][1], slug="bewohnerparkausweis")
    page.goto(f"{live_server.url}/konto/anmelden/?next=/verwaltung/formulare/")
    page.get_by_label("E-Mail-Adresse").fill("referat@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/verwaltung/formulare/")
    axe.check()
    for path in ("entwurf/", "vorschau/1/", "veroeffentlichen/"):
        page.goto(f"{live_server.url}/verwaltung/formulare/bewohnerparkausweis/{path}")
        axe.check()
    page.goto(f"{live_server.url}/verwaltung/formulare/import/")
    axe.check()


@pytest.mark.usefixtures("demo_forms")
def test_a_condition_shows_its_field_live_with_javascript(
    page: Any, live_server: Any, axe: Any
) -> None:
    from rathaus.forms.models import FormDraft

    page.goto(f"{live_server.url}/formulare/hund-anmelden/")
    page.get_by_role("button", name="Jetzt ausfüllen").click()
    FormDraft.objects.update(step_reached=2)
    page.goto(f"{live_server.url}/formulare/hund-anmelden/schritt/2/")
    upload = page.get_by_label("Bescheid über die Einstufung")
    assert not upload.is_visible()
    page.get_by_label("Ja").check()
    assert upload.is_visible()  # no reload
    axe.check()
    page.get_by_label("Nein").check()
    assert not upload.is_visible()


@pytest.mark.usefixtures("demo_forms")
def test_typing_a_postcode_fills_in_the_place_and_says_so(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/formulare/hund-anmelden/")
    page.get_by_role("button", name="Jetzt ausfüllen").click()
    page.get_by_label("Postleitzahl").press_sequentially("04317")
    place = page.get_by_label("Ort", exact=True)
    place.wait_for()
    # expect() polls from Playwright's side; wait_for_function("...") would eval a string in
    # the page, which our CSP forbids once the first check fails (flaky under load)
    expect(place).to_have_value("Leipzig")
    assert page.locator("#form-announce").text_content() == "Ort ergänzt: Leipzig"
    # a place typed by the person is never overwritten
    place.fill("Leipzig-Stötteritz")
    page.get_by_label("Postleitzahl").fill("")
    page.get_by_label("Postleitzahl").press_sequentially("04299")
    page.wait_for_timeout(300)
    assert place.input_value() == "Leipzig-Stötteritz"
