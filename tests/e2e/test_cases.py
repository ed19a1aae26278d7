"""A caseworker's day in Chromium: log in, open the inbox, find a case by the applicant's
name, take it, read the application and move it on, write a note; every page axe-clean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_submissions import demo_forms  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("demo_forms")
def test_a_caseworker_finds_takes_and_works_on_a_case(
    page: Any, live_server: Any, axe: Any
) -> None:
    from django.test import Client

    from rathaus.accounts.tests.factories import PASSWORD, OfficeFactory, UserFactory, member
    from rathaus.cases.models import Case
    from rathaus.catalog.models import Service
    from rathaus.core.outbox import process_batch
    from rathaus.submissions.tests.test_submitting import fill_in_dog_form

    office = OfficeFactory(name="Ordnungsamt")
    Service.objects.get(leika_key="99102013000000").offices.add(office)
    member(UserFactory(email="ines@example.org", first_name="Ines", last_name="Kraft"), office)
    from rathaus.cases.demo import load_demo_letter_templates

    load_demo_letter_templates()
    citizen = Client()
    fill_in_dog_form(citizen, name="Jürgen", family_name="Müller", with_file=True)
    citizen.post("/antraege/absenden/hund-anmelden/")
    process_batch(worker_id="e2e", limit=20)
    case = Case.objects.get()

    page.goto(live_server.url + "/verwaltung/vorgaenge/")
    page.get_by_label("E-Mail-Adresse").fill("ines@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/verwaltung/vorgaenge/stelle/*/")
    assert page.get_by_role("heading", name="Posteingang Ordnungsamt").is_visible()
    axe.check()
    page.get_by_label("Aktenzeichen oder Name").fill("mueller")
    page.get_by_label("Aktenzeichen oder Name").press("Enter")
    page.wait_for_url("**suche=mueller**")
    assert page.get_by_role("status").inner_text().startswith("1 Vorgang")
    axe.check()
    page.get_by_role("link", name=case.reference).click()
    assert page.get_by_role("heading", name=f"Vorgang {case.reference}").is_visible()
    assert page.get_by_text("Bello").is_visible()
    axe.check()
    page.get_by_role("button", name="Mir zuweisen").click()
    assert "Die Zuweisung ist geändert." in page.get_by_role("status").first.inner_text()
    page.get_by_label("in Bearbeitung").check()
    page.get_by_label("Nachricht an die antragstellende Person").fill("Wir prüfen Ihren Antrag.")
    page.get_by_role("button", name="Status ändern").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Der Status ist geändert." in page.get_by_role("status").first.inner_text()
    page.get_by_role("textbox", name="Interne Notiz").fill("Halterin rief an.")
    page.get_by_role("button", name="Notiz speichern").click()
    assert page.get_by_text("Halterin rief an.").is_visible()
    axe.check()
    # a note left empty: the error is linked to its field
    page.get_by_role("button", name="Notiz speichern").click()
    assert page.get_by_role("textbox", name="Interne Notiz").get_attribute("aria-invalid") == "true"
    axe.check()
    case.refresh_from_db()
    assert case.status == "in_progress" and case.assignee is not None
    # decide with the office's letter
    page.get_by_label("Entscheidung", exact=True).select_option("granted")
    page.get_by_label("Vorlage").select_option(label="Standardbescheid")
    page.get_by_label("Entscheidungstext").fill("Der Hund ist steuerpflichtig.")
    page.get_by_role("button", name="Bescheid erlassen").click()
    assert "Der Bescheid ist erlassen" in page.get_by_role("status").first.inner_text()
    axe.check()
    case.refresh_from_db()
    assert (case.status, case.decision) == ("decided", "granted")


@pytest.mark.usefixtures("demo_forms")
def test_a_lead_reads_workload_and_statistics(page: Any, live_server: Any, axe: Any) -> None:
    from rathaus.accounts.constants import MembershipRole
    from rathaus.accounts.tests.factories import PASSWORD, OfficeFactory, UserFactory, member
    from rathaus.cases.seeding import seed_cases
    from rathaus.catalog.models import Service

    office = OfficeFactory(name="Ordnungsamt")
    Service.objects.get(leika_key="99102013000000").offices.add(office)
    member(UserFactory(email="ines@example.org"), office)
    member(UserFactory(email="lea@example.org"), office, MembershipRole.LEAD)
    seed_cases(count=80)

    page.goto(live_server.url + "/verwaltung/vorgaenge/")
    page.get_by_label("E-Mail-Adresse").fill("lea@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/verwaltung/vorgaenge/stelle/*/")
    axe.check()
    page.get_by_role("link", name="Auslastung je Person").click()
    assert page.get_by_role("table", name="Offene Vorgänge je Person").is_visible()
    axe.check()
    page.go_back()
    page.get_by_role("link", name="Statistik").click()
    assert page.get_by_role("img", name="Eingegangen und abgeschlossen je Monat").is_visible()
    assert page.get_by_role("table", name="Eingegangen und abgeschlossen je Monat").is_visible()
    axe.check()
    page.get_by_label("Zeitraum", exact=True).select_option("36")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url("**monate=36**")
    axe.check()


@pytest.mark.usefixtures("demo_forms")
def test_a_citizen_answers_a_question_with_a_file(
    page: Any, live_server: Any, axe: Any, tmp_path: Any
) -> None:
    from django.test import Client

    from rathaus.accounts.tests.factories import OfficeFactory, UserFactory, member
    from rathaus.cases.models import Case
    from rathaus.cases.services import case_query_ask, case_transition
    from rathaus.catalog.models import Service
    from rathaus.core.outbox import process_batch
    from rathaus.submissions.selectors import submission_status_code
    from rathaus.submissions.tests.test_submitting import fill_in_dog_form

    office = OfficeFactory(name="Ordnungsamt")
    Service.objects.get(leika_key="99102013000000").offices.add(office)
    worker = member(UserFactory(email="ines@example.org"), office)
    citizen = Client()
    fill_in_dog_form(citizen, name="Jürgen", family_name="Müller")
    citizen.post("/antraege/absenden/hund-anmelden/")
    process_batch(worker_id="e2e", limit=20)
    case = case_transition(case=Case.objects.get(), to="in_progress", actor=worker, version=1)
    case_query_ask(
        case=case,
        actor=worker,
        version=2,
        text="Bitte senden Sie den Impfpass.",
        documents=["Impfpass"],
    )
    code = submission_status_code(case.submission)

    page.goto(f"{live_server.url}/antraege/{case.reference}/status/{code}/")
    axe.check()
    page.get_by_role("link", name="Rückfrage lesen und beantworten").click()
    assert page.get_by_text("Bitte senden Sie den Impfpass.").is_visible()
    axe.check()
    page.get_by_role("button", name="Antwort senden").click()  # nothing written, nothing sent
    assert page.get_by_role("alert").first.is_visible()
    axe.check()
    scan = tmp_path / "impfpass.pdf"
    scan.write_bytes(b"%PDF-1.7\nImpfpass")
    page.get_by_label("Ihre Antwort").fill("Anbei der Impfpass.")
    page.get_by_label("Dateien").set_input_files(str(scan))
    page.get_by_role("button", name="Antwort senden").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert (
        "Ihre Antwort ist bei der Stelle eingegangen."
        in page.get_by_role("status").first.inner_text()
    )
    axe.check()
    case.refresh_from_db()
    assert case.status == "in_progress"
