"""The staff's pages of the city's applications: who may open them, the list with its
filters, the form (closed calls refused, amounts the German way, warnings shown after
saving), the application's page with everything on it, the decision, the steps of the
status with their history, the consortium form and the documents."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rathaus.core.models import AuditEntry
from rathaus.funding.constants import ApplicationStatus, CallStatus, DocumentKind, GoDecision, Role
from rathaus.funding.models import Application, ApplicationDocument, Call, ConsortiumMember
from rathaus.funding.services import applications as services
from rathaus.funding.services.applications import MemberData

pytestmark = pytest.mark.django_db

S = ApplicationStatus
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def url(name: str, application: Application | None = None, **kwargs: Any) -> str:
    if application is not None:
        kwargs["application_id"] = application.pk
    return reverse(f"funding:{name}", kwargs=kwargs or None)


def text_of(html: str) -> str:
    """The page's text, tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def field_error(html: str, name: str) -> str:
    """The error text linked to the field ``name`` by aria-describedby (fails if not linked)."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
    assert tag, f"no field {name}"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described and f"id_{name}_error" in described.group(1).split(), tag.group(0)
    error = re.search(rf'<p class="kern-error" id="id_{name}_error">(.*?)</p>', html, re.S)
    assert error
    return re.sub(r"<[^>]+>", "", error.group(1)).strip()


def options(html: str, name: str) -> dict[str, bool]:
    """The options of the select ``name``: value -> selected."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return {
        value: bool(chosen)
        for value, chosen in re.findall(r'<option value="([^"]*)"( selected)?', select.group(1))
    }


def application_form(call: Call, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "call": str(call.pk),
        "title": "Urbane Datenplattform Leipzig",
        "acronym": "UDP",
        "role": Role.COORDINATOR,
        "total_cost": "2.000.000,00 €",
        "requested_funding": "1.000.000",
        "own_share_budget_line": "1.11.02.01 / 5431 0000",
    }
    values.update(overrides)
    return values


# ---- who may open the pages ----------------------------------------------------------------

PAGES = [
    ("application_list", False),
    ("application_create", False),
    ("application_detail", True),
    ("application_edit", True),
    ("application_decision", True),
    ("application_transition", True),
    ("application_consortium", True),
    ("application_documents", True),
]


@pytest.mark.parametrize("persona", ["citizen", "organisation", "caseworker", "jury"])
def test_only_department_staff_open_the_pages(
    funding: dict[str, Any], personas: dict[str, Any], persona: str
) -> None:
    client = Client()
    client.force_login(personas[persona])
    application = funding["application"]
    document = ApplicationDocument.objects.create(
        application=application, kind=DocumentKind.OTHER, title="x", storage_path="0" * 48
    )
    for name, one in PAGES:
        assert client.get(url(name, application if one else None)).status_code == 403, name
    create = client.post(url("application_create"), application_form(funding["call"]))
    assert create.status_code == 403
    assert (
        client.post(
            url("application_transition", application),
            {"schritt": S.PREPARATION, f"schritt-{S.PREPARATION}-expected": S.IDEA},
        ).status_code
        == 403
    )
    download = url("application_document", application, document_id=document.pk)
    assert client.get(download).status_code == 403
    application.refresh_from_db()
    assert application.status == S.IDEA
    assert Application.objects.count() == 1


def test_without_logging_in_the_pages_ask_for_it(funding: dict[str, Any]) -> None:
    response = Client().get(url("application_detail", funding["application"]))
    assert response.status_code == 302
    assert "/konto/" in response["Location"] or "login" in response["Location"].lower()


def test_an_unknown_application_is_not_found(staff_client: Client) -> None:
    for name, one in PAGES:
        if one:
            assert staff_client.get(reverse(f"funding:{name}", args=[999999])).status_code == 404


# ---- the list ------------------------------------------------------------------------------


def test_the_list_shows_call_programme_status_amounts_and_next_deadline(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    Application.objects.create(
        call=funding["call"],
        title="Sensoren im Auwald",
        status=S.GRANTED,
        requested_funding=Decimal("300000"),
        granted_amount=Decimal("250000.5"),
    )
    response = staff_client.get(url("application_list"))
    assert response.status_code == 200
    page = text_of(response.content.decode())
    assert "2 Anträge" in page
    assert "TWIN-WEST: Digitaler Zwilling Leipziger Westen" in page
    assert "DIGITAL-2026-AI-01" in page
    assert "Digital Europe Programme (EU)" in page
    assert "Idee" in page and "Bewilligt" in page
    assert "1.000.000,00 €" in page and "250.000,50 €" in page
    due = timezone.localtime(funding["call"].final_deadline).strftime("%d.%m.%Y %H:%M")
    assert due in page


def test_the_list_filters_and_pages(
    staff_client: Client, funding: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for number in range(30):
        Application.objects.create(
            call=funding["call"], title=f"Vorhaben {number:02d}", status=S.PREPARATION
        )
    with django_assert_max_num_queries(12):  # not one more per row
        first = staff_client.get(url("application_list"), {"status": S.PREPARATION})
    page = text_of(first.content.decode())
    assert "30 Anträge" in page
    assert "Seite 1 von 2" in page
    assert "TWIN-WEST" not in page
    assert 'href="?status=preparation&amp;seite=2"' in first.content.decode()
    second = staff_client.get(url("application_list"), {"status": S.PREPARATION, "seite": "2"})
    assert "Seite 2 von 2" in text_of(second.content.decode())
    found = staff_client.get(url("application_list"), {"suche": "twin", "ebene": "eu"})
    assert "1 Antrag" in text_of(found.content.decode())
    none = staff_client.get(url("application_list"), {"ebene": "federal"})
    assert "Keine Anträge zu dieser Auswahl." in none.content.decode()


# ---- the form ------------------------------------------------------------------------------


def test_creating_an_application_with_german_amounts(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    measure = funding["measure"]
    response = staff_client.post(
        url("application_create"),
        application_form(funding["call"], measures=[str(measure.pk)]),
    )
    application = Application.objects.get(acronym="UDP")
    assert response.status_code == 302
    assert response["Location"] == url("application_detail", application)
    assert application.total_cost == Decimal("2000000")
    assert application.requested_funding == Decimal("1000000")
    assert application.own_share == Decimal("1000000")
    assert application.responsible is None  # none chosen
    page = text_of(staff_client.get(response["Location"]).content.decode())
    assert "LD-3.2 Urbane Datenplattform" in page
    assert "Förderquote 50,00 %" in page


def test_the_form_offers_only_open_calls(staff_client: Client, funding: dict[str, Any]) -> None:
    html = staff_client.get(url("application_create")).content.decode()
    assert set(options(html, "call")) == {"", str(funding["call"].pk)}
    # whoever creates it is proposed as responsible
    assert options(html, "responsible")[str(funding["staff"].pk)] is True


def test_a_closed_call_is_refused_at_its_field_and_nothing_saved(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    response = staff_client.post(
        url("application_create"), application_form(funding["closed_call"])
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "ist geschlossen oder seine Frist ist abgelaufen" in field_error(html, "call")
    assert 'value="Urbane Datenplattform Leipzig"' in html  # what was typed stays
    assert not Application.objects.filter(acronym="UDP").exists()


def test_a_call_that_closed_while_the_form_was_open_is_refused(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    # the form offered the call; the service still says no once it has closed
    application = funding["application"]
    other = Call.objects.create(
        programme=funding["programme"],
        identifier="DIGITAL-2026-AI-09",
        title="Other",
        status=CallStatus.OPEN,
        final_deadline=timezone.now() + timedelta(days=3),
    )
    form = staff_client.get(url("application_edit", application)).content.decode()
    assert str(other.pk) in options(form, "call")
    Call.objects.filter(pk=other.pk).update(status=CallStatus.CLOSED)
    response = staff_client.post(
        url("application_edit", application),
        application_form(other, title=application.title, acronym="TWIN-WEST"),
    )
    assert response.status_code == 422
    assert "geschlossen" in field_error(response.content.decode(), "call")
    application.refresh_from_db()
    assert application.call == funding["call"]
    assert application.title == "Digitaler Zwilling Leipziger Westen"


def test_requested_funding_above_the_total_is_refused_and_the_input_kept(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    response = staff_client.post(
        url("application_edit", application),
        application_form(
            funding["call"], total_cost="1.000.000", requested_funding="1.500.000,00 €"
        ),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert field_error(html, "requested_funding") == (
        "Die beantragte Förderung (1.500.000,00 €) kann nicht höher sein als die Gesamtkosten "
        "(1.000.000,00 €)."
    )
    assert 'value="1.500.000,00 €"' in html
    assert 'value="1.000.000"' in html
    application.refresh_from_db()
    assert application.requested_funding == Decimal("1000000")


def test_an_amount_that_is_no_amount_gets_a_message(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    response = staff_client.post(
        url("application_create"), application_form(funding["call"], total_cost="zwei Mio")
    )
    assert response.status_code == 422
    assert "ist kein Betrag" in field_error(response.content.decode(), "total_cost")


def test_a_rate_above_the_maximum_is_saved_and_shown_on_the_form_and_the_page(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    warning = "Die Förderquote von 60,00 % liegt über dem Höchstsatz des Programms (50,00 %)."
    response = staff_client.post(
        url("application_create"),
        application_form(funding["call"], requested_funding="1.200.000,00"),
    )
    application = Application.objects.get(acronym="UDP")
    assert application.requested_funding == Decimal("1200000")
    assert response.status_code == 302
    assert response["Location"] == url("application_edit", application)
    form = staff_client.get(response["Location"]).content.decode()
    assert "Der Antrag ist gespeichert. Bitte beachten Sie die Hinweise." in form
    assert warning in form
    assert 'value="1.200.000,00"' in form
    assert warning in staff_client.get(url("application_detail", application)).content.decode()


def test_the_edit_form_keeps_the_current_call_even_when_it_closed(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    Application.objects.filter(pk=application.pk).update(
        call=funding["closed_call"], status=S.SUBMITTED
    )
    html = staff_client.get(url("application_edit", application)).content.decode()
    assert options(html, "call")[str(funding["closed_call"].pk)] is True
    response = staff_client.post(
        url("application_edit", application),
        application_form(
            funding["closed_call"], title="Digitaler Zwilling West", result_score="12 von 15"
        ),
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.title, application.result_score) == ("Digitaler Zwilling West", "12 von 15")
    # once submitted, it cannot move to another call, even an open one
    moved = staff_client.post(
        url("application_edit", application), application_form(funding["call"])
    )
    assert moved.status_code == 422
    assert "bleibt beim Aufruf „DIGITAL-2024-AI-01“" in field_error(moved.content.decode(), "call")
    application.refresh_from_db()
    assert application.call == funding["closed_call"]


# ---- the application's page ----------------------------------------------------------------


def test_the_page_shows_everything_about_the_application(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    staff, application = funding["staff"], funding["application"]
    services.application_update(
        actor=staff,
        application=application,
        data=services.ApplicationData(
            call_id=funding["call"].pk,
            title=application.title,
            acronym="TWIN-WEST",
            total_cost=Decimal("2000000"),
            requested_funding=Decimal("1000000"),
            own_share_budget_line="1.11.02.01",
            measure_ids=[funding["measure"].pk],
        ),
    )
    services.consortium_set(
        actor=staff,
        application=application,
        members=[
            MemberData(is_city=True, role=Role.COORDINATOR, budget_share=Decimal("1250000")),
            MemberData(name="HTWK Leipzig", role=Role.PARTNER, budget_share=Decimal("750000")),
        ],
    )
    services.application_document_upload(
        actor=staff,
        application=application,
        kind=DocumentKind.LETTER,
        title="Ergebnis der Begutachtung",
        file=SimpleUploadedFile("ergebnis.pdf", PDF, "application/pdf"),
    )
    response = staff_client.get(url("application_detail", application))
    assert response.status_code == 200
    page = text_of(response.content.decode())
    for expected in (
        "TWIN-WEST: Digitaler Zwilling Leipziger Westen",
        "DIGITAL-2026-AI-01: Local digital twins",
        "Digital Europe Programme (DIGITAL), Europäische Kommission, EU",
        "Förderquote höchstens 50,00 %",
        "Ortszeit Europe/Brussels",
        "LD-3.2 Urbane Datenplattform",
        "Stadt Leipzig Koordinator 1.250.000,00 €",
        "HTWK Leipzig Partner 750.000,00 €",
        "Summe 2.000.000,00 €",
        "Haushaltsstelle 1.11.02.01",
        "Ergebnis der Begutachtung",
        "In Vorbereitung nehmen",
        "Antrag zurückziehen",
        "Entscheidung eintragen",
    ):
        assert expected in page, expected
    due = timezone.localtime(funding["call"].final_deadline).strftime("%d.%m.%Y %H:%M")
    assert due in page


# ---- the decision --------------------------------------------------------------------------


def test_recording_a_go(staff_client: Client, funding: dict[str, Any]) -> None:
    application = funding["application"]
    response = staff_client.post(
        url("application_decision", application),
        {"decision": GoDecision.GO, "note": "Passt zur Strategie, Eigenanteil gesichert."},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.decision, application.decided_by) == (GoDecision.GO, funding["staff"])
    page = text_of(staff_client.get(url("application_detail", application)).content.decode())
    assert "Passt zur Strategie, Eigenanteil gesichert." in page


def test_a_decision_without_reason_is_refused(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    response = staff_client.post(
        url("application_decision", funding["application"]), {"decision": GoDecision.NO_GO}
    )
    assert response.status_code == 422
    assert field_error(response.content.decode(), "note") == "Bitte begründen Sie die Entscheidung."
    assert 'value="no_go" checked' in response.content.decode()


# ---- the status ----------------------------------------------------------------------------


def step(to_status: str, expected: str, **fields: str) -> dict[str, str]:
    return {
        "schritt": to_status,
        f"schritt-{to_status}-expected": expected,
        **{f"schritt-{to_status}-{name}": value for name, value in fields.items()},
    }


def test_submission_without_a_go_is_refused_with_a_message(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    Application.objects.filter(pk=application.pk).update(status=S.PREPARATION)
    response = staff_client.post(
        url("application_transition", application), step(S.SUBMITTED, S.PREPARATION)
    )
    assert response.status_code == 422
    assert "erst nach der internen Entscheidung für Go" in text_of(response.content.decode())
    application.refresh_from_db()
    assert application.status == S.PREPARATION


def test_the_steps_of_an_application_and_its_history(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    transition = url("application_transition", application)
    assert staff_client.post(transition, step(S.PREPARATION, S.IDEA)).status_code == 302
    staff_client.post(
        url("application_decision", application), {"decision": GoDecision.GO, "note": "Ja."}
    )
    submitted = staff_client.post(
        transition, step(S.SUBMITTED, S.PREPARATION, submitted_on="2026-03-02")
    )
    assert submitted.status_code == 302
    refused = staff_client.post(transition, step(S.GRANTED, S.SUBMITTED))
    assert refused.status_code == 422
    assert field_error(refused.content.decode(), f"schritt-{S.GRANTED}-granted_amount") == (
        "Bitte die bewilligte Förderung angeben."
    )
    granted = staff_client.post(
        transition, step(S.GRANTED, S.SUBMITTED, granted_amount="980.000,00", note="Platz 3")
    )
    assert granted.status_code == 302
    application.refresh_from_db()
    assert application.status == S.GRANTED
    assert application.submitted_on == date(2026, 3, 2)
    assert application.granted_amount == Decimal("980000")
    page = text_of(staff_client.get(url("application_detail", application)).content.decode())
    history = page[page.index("Verlauf") :]
    assert "(angelegt) Idee" not in history  # created in the fixture, not through a service
    assert "Idee In Vorbereitung" in history
    assert "In Vorbereitung Eingereicht" in history
    assert "Eingereicht Bewilligt" in history
    assert "Platz 3" in history
    assert "Projekt starten" in page
    assert AuditEntry.objects.filter(action="funding.application.transition").count() == 3


def test_a_step_chosen_on_an_outdated_page_says_the_status_changed(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    Application.objects.filter(pk=application.pk).update(status=S.PREPARATION)
    response = staff_client.post(
        url("application_transition", application), step(S.WITHDRAWN, S.IDEA), follow=True
    )
    page = text_of(response.content.decode())
    assert "Der Status des Antrags wurde inzwischen geändert (jetzt: „In Vorbereitung“)" in page
    application.refresh_from_db()
    assert application.status == S.PREPARATION


# ---- the consortium ------------------------------------------------------------------------


def consortium_rows(rows: list[tuple[str, str, str, str]], total: int) -> dict[str, str]:
    data = {
        "form-TOTAL_FORMS": str(total),
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "60",
    }
    for index in range(total):
        member, name, role, share = rows[index] if index < len(rows) else ("", "", "partner", "")
        data.update(
            {
                f"form-{index}-member": member,
                f"form-{index}-name": name,
                f"form-{index}-role": role,
                f"form-{index}-budget_share": share,
            }
        )
    return data


def test_shares_that_do_not_add_up_are_refused_and_every_row_kept(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    rows = [
        ("stadt", "", "coordinator", "1.000.000,00"),
        ("", "Fraunhofer IAO", "partner", "600.000"),
        ("", "Stadtwerke Leipzig", "partner", "300.000 €"),
    ]
    response = staff_client.post(
        url("application_consortium", application), consortium_rows(rows, 8)
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert (
        "Die Budgetanteile ergeben 1.900.000,00 €, die Gesamtkosten betragen 2.000.000,00 €."
        in html
    )
    assert html.count('class="kern-fieldset rh-entry"') == 8
    assert 'value="Stadtwerke Leipzig"' in html
    assert 'value="300.000 €"' in html
    assert not ConsortiumMember.objects.exists()


def test_more_rows_keep_what_was_typed_and_save_nothing(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    page = staff_client.get(url("application_consortium", funding["application"]))
    html = page.content.decode()
    assert html.count('class="kern-fieldset rh-entry"') == 8
    assert options(html, "form-0-member")["stadt"] is True  # the city is proposed
    rows = [("stadt", "", "coordinator", "1.000.000,00"), ("", "HTWK Leipzig", "partner", "")]
    data = {**consortium_rows(rows, 8), "mehr_zeilen": "1"}
    response = staff_client.post(url("application_consortium", funding["application"]), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="kern-fieldset rh-entry"') == 13
    assert 'value="HTWK Leipzig"' in html
    assert 'value="1.000.000,00"' in html
    assert "kern-error" not in html
    assert not ConsortiumMember.objects.exists()


def test_a_consortium_is_saved_with_blank_rows_left_out(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    from rathaus.economy.tests.factories_directory import OrganisationFactory

    organisation = OrganisationFactory(name="Spatial Labs GmbH")
    application = funding["application"]
    rows = [
        ("stadt", "", "coordinator", "1.000.000,00"),
        ("", "", "partner", ""),
        (str(organisation.pk), "", "partner", "700.000"),
        ("", "Stadtwerke Leipzig", "partner", "300.000 €"),
    ]
    form = staff_client.get(url("application_consortium", application)).content.decode()
    assert "Spatial Labs GmbH" in form
    response = staff_client.post(
        url("application_consortium", application), consortium_rows(rows, 8)
    )
    assert response.status_code == 302
    stored = list(ConsortiumMember.objects.filter(application=application).order_by("position"))
    assert [(m.is_city, m.organisation_id, m.name, m.budget_share) for m in stored] == [
        (True, None, "", Decimal("1000000")),
        (False, organisation.pk, "", Decimal("700000")),
        (False, None, "Stadtwerke Leipzig", Decimal("300000")),
    ]
    page = text_of(staff_client.get(url("application_detail", application)).content.decode())
    assert "Spatial Labs GmbH Partner 700.000,00 €" in page
    # the form shows the stored members again
    again = staff_client.get(url("application_consortium", application)).content.decode()
    assert 'value="Stadtwerke Leipzig"' in again


def test_a_row_error_is_shown_at_its_row(staff_client: Client, funding: dict[str, Any]) -> None:
    rows = [
        ("stadt", "", "coordinator", "1.000.000,00"),
        ("", "Fraunhofer IAO", "coordinator", "1.000.000"),
        ("", "", "partner", "12"),
    ]
    response = staff_client.post(
        url("application_consortium", funding["application"]), consortium_rows(rows, 4)
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert field_error(html, "form-2-member") == (
        "Bitte eine Organisation wählen oder einen Namen eintragen."
    )
    again = staff_client.post(
        url("application_consortium", funding["application"]), consortium_rows(rows[:2], 4)
    )
    assert "genau einen Koordinator; angegeben sind 2" in again.content.decode()


# ---- documents -----------------------------------------------------------------------------


def test_uploading_and_downloading_a_document(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    response = staff_client.post(
        url("application_documents", application),
        {
            "kind": DocumentKind.LETTER,
            "title": "",
            "file": SimpleUploadedFile('Bescheid "final".pdf', PDF, "application/pdf"),
        },
    )
    assert response.status_code == 302
    document = ApplicationDocument.objects.get()
    assert document.kind == DocumentKind.LETTER
    listing = staff_client.get(url("application_documents", application)).content.decode()
    assert "Bescheid final.pdf" in listing
    download = staff_client.get(url("application_document", application, document_id=document.pk))
    assert download.status_code == 200
    assert b"".join(download) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert 'filename="Bescheid final.pdf"' in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="funding.document.download").count() == 1


def test_a_hostile_upload_is_refused_with_a_message(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    response = staff_client.post(
        url("application_documents", funding["application"]),
        {
            "kind": DocumentKind.APPLICATION,
            "title": "Antrag",
            "file": SimpleUploadedFile(
                "antrag.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "application/pdf"
            ),
        },
    )
    assert response.status_code == 422
    assert field_error(response.content.decode(), "file") == (
        "Bitte laden Sie eine Datei dieser Art hoch: PDF, PNG oder JPEG."
    )
    assert not ApplicationDocument.objects.exists()


def test_a_document_of_another_application_is_not_found(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    other = Application.objects.create(call=funding["call"], title="Anderes Vorhaben")
    document = services.application_document_upload(
        actor=funding["staff"],
        application=other,
        kind=DocumentKind.OTHER,
        title="Fremd",
        file=SimpleUploadedFile("fremd.pdf", PDF, "application/pdf"),
    )
    response = staff_client.get(
        url("application_document", funding["application"], document_id=document.pk)
    )
    assert response.status_code == 404
    assert (
        staff_client.get(url("application_document", other, document_id=document.pk)).status_code
        == 200
    )
