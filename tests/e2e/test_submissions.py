"""Submitting in Chromium with the keyboard: the summary's "Absenden", the confirmation, the
receipt download, the status page and the lookup form are axe-clean; the status link works."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_forms() -> None:
    from rathaus.catalog.models import Service
    from rathaus.forms.demo import load_demo_forms
    from rathaus.forms.postcodes import LEIPZIG_FILE
    from rathaus.forms.services import postcodes_import
    from rathaus.submissions.demo import load_demo_official_forms

    Service.objects.get_or_create(leika_key="99102013000000", defaults={"name": "Hundesteuer"})
    postcodes_import(path=LEIPZIG_FILE)
    load_demo_forms()
    load_demo_official_forms()


@pytest.mark.usefixtures("demo_forms")
def test_submit_the_dog_registration_and_follow_it(page: Any, live_server: Any, axe: Any) -> None:
    from rathaus.submissions.models import Submission

    page.goto(f"{live_server.url}/formulare/hund-anmelden/")
    page.get_by_role("button", name="Jetzt ausfüllen").click()
    page.get_by_label("Vorname").fill("Erika")
    page.get_by_label("Familienname").fill("Mustermann")
    page.get_by_label("Straße und Hausnummer").fill("Markt 1")
    page.get_by_label("Postleitzahl").fill("04109")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_role("button", name="Weiter").click()
    page.get_by_label("Name des Hundes").fill("Bello")
    page.get_by_label("Rasse").select_option("dackel")
    page.get_by_label("Gehalten seit").fill("01.03.2025")
    page.get_by_label("Nein").check()
    page.get_by_role("button", name="Weiter").click()
    page.get_by_label("Ich versichere, dass meine Angaben richtig sind.").check()
    page.get_by_role("button", name="Zur Übersicht").click()
    axe.check()
    page.get_by_role("button", name="Absenden").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/eingegangen/")
    axe.check()
    submission = Submission.objects.get()
    assert submission.reference in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name="Eingangsbestätigung herunterladen (PDF)").click()
    assert download.value.suggested_filename == f"eingangsbestaetigung-{submission.reference}.pdf"
    with page.expect_download() as official:
        page.get_by_role("link", name="Das amtliche Formular, mit Ihren Angaben ausgefüllt").click()
    assert official.value.suggested_filename == f"formular-{submission.reference}.pdf"
    page.get_by_role("link", name="Stand Ihres Antrags").click()
    assert page.get_by_role("heading", name="Verlauf").is_visible()
    assert "eingegangen" in page.content()
    axe.check()
    page.goto(f"{live_server.url}/antraege/status/")
    axe.check()
    page.get_by_role("button", name="Antrag anzeigen").click()  # empty: errors linked to fields
    axe.check()
