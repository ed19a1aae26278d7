"""Budget lines of an application (one row per budget year: planned, spent, funded, own share)
on its budget page, with sums, differences and the checks against the application, and the
city's own share per year for the treasury (page and CSV)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from rathaus.core.models import AuditEntry
from rathaus.funding.constants import ApplicationStatus
from rathaus.funding.models import Application, BudgetLine
from rathaus.funding.services.budgets import (
    BudgetError,
    BudgetLineData,
    budget_line_delete,
    budget_line_set,
)

pytestmark = pytest.mark.django_db


def budget_url(application: Application) -> str:
    return reverse("funding:application_budget", args=[application.pk])


def line_form(**overrides: str) -> dict[str, str]:
    values = {
        "aktion": "haushalt",
        "haushalt-year": "2026",
        "haushalt-planned": "1.000.000,00",
        "haushalt-spent": "",
        "haushalt-funded": "",
        "haushalt-own_share": "500.000",
        "haushalt-note": "",
    }
    values.update(
        {f"haushalt-{key}" if key != "aktion" else key: v for key, v in overrides.items()}
    )
    return values


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


def field_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, f"no field {name}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def table(html: str, table_id: str) -> list[list[str]]:
    """The rows of a table as lists of cell texts (tags stripped, spaces collapsed)."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert found, f"no table {table_id}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(0), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        texts = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]
        rows.append([re.sub(r" ([:,.)])", r"\1", t) for t in texts])
    return rows


def set_line(funding: dict[str, Any], year: int, **amounts: str) -> BudgetLine:
    values = {name: Decimal(value) for name, value in amounts.items()}
    return budget_line_set(
        actor=funding["staff"],
        application_id=funding["application"].pk,
        data=BudgetLineData(year=year, **values),
    )


# ---- the table -----------------------------------------------------------------------------


def test_budget_table_shows_each_year_with_sums_and_overspending_in_words(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    set_line(
        funding, 2026, planned="800000", spent="900000.50", funded="400000", own_share="400000"
    )
    set_line(funding, 2027, planned="1200000", spent="100000", funded="0", own_share="600000")

    html = staff_client.get(budget_url(funding["application"])).content.decode()

    rows = table(html, "budget-table")
    assert rows[1][:6] == [
        "2026",
        "800.000,00",
        "900.000,50",
        "Überschritten um 100.000,50",
        "400.000,00",
        "400.000,00",
    ]
    assert rows[2][:6] == [
        "2027",
        "1.200.000,00",
        "100.000,00",
        "1.100.000,00 übrig",
        "0,00",
        "600.000,00",
    ]
    assert rows[3][:6] == [
        "Summe",
        "2.000.000,00",
        "1.000.000,50",
        "999.999,50 übrig",
        "400.000,00",
        "1.000.000,00",
    ]
    # planned = total cost (2.000.000) and own shares = own share (1.000.000): no warning
    assert "budget-warnings" not in html


def test_sums_that_differ_from_the_application_are_warned_about(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    set_line(funding, 2026, planned="1500000", own_share="1200000")

    html = staff_client.get(budget_url(funding["application"])).content.decode()

    warning = re.search(r'id="budget-warnings".*?</div>\s*</div>', html, re.S)
    assert warning
    text = " ".join(re.sub(r"<[^>]+>", " ", warning.group(0)).split())
    assert "Geplant sind über alle Jahre 1.500.000,00 €" in text
    assert "Gesamtkosten laut Antrag betragen 2.000.000,00 €" in text
    assert "500.000,00 € noch nicht auf Jahre verteilt" in text
    assert "Die Eigenanteile der Jahre ergeben 1.200.000,00 €" in text
    assert "200.000,00 € mehr in den Jahren" in text


def test_page_without_years_says_so_and_warns_about_nothing(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    html = staff_client.get(budget_url(funding["application"])).content.decode()
    assert "Noch keine Haushaltsjahre erfasst." in html
    assert "budget-warnings" not in html


def test_granted_application_shows_funds_still_to_be_called(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    application.granted_amount = Decimal("900000")
    application.save()
    set_line(funding, 2026, planned="2000000", funded="250000", own_share="1000000")

    html = staff_client.get(budget_url(application)).content.decode()

    assert (
        "Bewilligt: 900.000,00 €, davon erhalten: 250.000,00 €, noch abzurufen: 650.000,00 €"
        in (" ".join(html.split()))
    )


# ---- the form ------------------------------------------------------------------------------


def test_german_amounts_are_accepted_and_the_change_is_audited(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]

    response = staff_client.post(
        budget_url(application),
        line_form(planned="1.234,56 €", spent="99,5", funded="1234.5", own_share="1 000"),
    )

    assert response.status_code == 302
    line = BudgetLine.objects.get(application=application)
    assert (line.year, line.planned, line.spent, line.funded, line.own_share) == (
        2026,
        Decimal("1234.56"),
        Decimal("99.50"),
        Decimal("1234.50"),
        Decimal("1000.00"),
    )
    page = staff_client.get(response["Location"]).content.decode()
    assert "Das Haushaltsjahr 2026 ist angelegt." in page
    entry = AuditEntry.objects.get(action="funding.budget_line.create")
    assert entry.actor_id == funding["staff"].pk
    assert entry.before is None
    assert entry.after is not None and entry.after["planned"] == "1234.56"


def test_negative_amount_is_refused_at_its_field_and_nothing_is_saved(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    response = staff_client.post(
        budget_url(funding["application"]), line_form(spent="-1.000,00", note="Rechnung Q1")
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert field_error(html, "haushalt-spent") == "Bitte keinen negativen Betrag angeben."
    assert "Bitte prüfen Sie Ihre Angaben" in html
    # what was typed is kept
    assert field_value(html, "haushalt-spent") == "-1.000,00"
    assert field_value(html, "haushalt-note") == "Rechnung Q1"
    assert field_value(html, "haushalt-planned") == "1.000.000,00"
    assert not BudgetLine.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="funding.budget_line").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("year", "1999", "Bitte ein Haushaltsjahr zwischen 2000 und 2100 angeben."),
        ("year", "2101", "Bitte ein Haushaltsjahr zwischen 2000 und 2100 angeben."),
        ("year", "", "Bitte das Haushaltsjahr angeben, z. B. 2027."),
        ("planned", "viel", "„viel“ ist kein Betrag (Beispiel: 1.234,56 €)."),
        ("planned", "", "Bitte den geplanten Betrag angeben (auch 0)."),
        ("own_share", "1.000.000.000.000,00", "Der Betrag ist zu groß."),
    ],
)
def test_wrong_year_or_amount_is_refused_with_a_clear_message(
    staff_client: Client, funding: dict[str, Any], field: str, value: str, message: str
) -> None:
    response = staff_client.post(budget_url(funding["application"]), line_form(**{field: value}))

    assert response.status_code == 422
    assert field_error(response.content.decode(), f"haushalt-{field}") == message
    assert not BudgetLine.objects.exists()


def test_saving_a_year_that_exists_updates_its_row(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    application = funding["application"]
    staff_client.post(budget_url(application), line_form(planned="100.000"))

    response = staff_client.post(
        budget_url(application), line_form(planned="150.000", spent="20.000,10"), follow=True
    )

    line = BudgetLine.objects.get(application=application)
    assert (line.planned, line.spent) == (Decimal("150000.00"), Decimal("20000.10"))
    assert "Das Haushaltsjahr 2026 ist aktualisiert." in response.content.decode()
    entry = AuditEntry.objects.get(action="funding.budget_line.update")
    assert entry.before is not None and entry.before["planned"] == "100000.00"
    assert entry.after is not None and entry.after["planned"] == "150000.00"


def test_edit_link_fills_the_form_with_the_years_amounts_the_german_way(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    set_line(funding, 2027, planned="1234567.8", own_share="0")

    html = staff_client.get(budget_url(funding["application"]) + "?jahr=2027").content.decode()

    assert "Haushaltsjahr 2027 bearbeiten" in html
    assert field_value(html, "haushalt-year") == "2027"
    assert field_value(html, "haushalt-planned") == "1.234.567,80"


def test_a_year_can_be_deleted(staff_client: Client, funding: dict[str, Any]) -> None:
    line = set_line(funding, 2026, planned="1000")
    set_line(funding, 2027, planned="2000")

    response = staff_client.post(
        budget_url(funding["application"]),
        {"aktion": "haushalt-loeschen", "zeile": str(line.pk)},
        follow=True,
    )

    assert "Das Haushaltsjahr 2026 ist gelöscht." in response.content.decode()
    assert list(BudgetLine.objects.values_list("year", flat=True)) == [2027]
    entry = AuditEntry.objects.get(action="funding.budget_line.delete")
    assert entry.before is not None and entry.before["year"] == 2026


def test_service_refuses_negative_amounts_and_other_peoples_changes(
    funding: dict[str, Any], personas: dict[str, Any]
) -> None:
    with pytest.raises(BudgetError) as error:
        set_line(funding, 2026, planned="100", funded="-1")
    assert error.value.field == "funded"
    with pytest.raises(PermissionDenied):
        budget_line_set(
            actor=personas["caseworker"],
            application_id=funding["application"].pk,
            data=BudgetLineData(year=2026, planned=Decimal(1)),
        )
    line = set_line(funding, 2026, planned="100")
    with pytest.raises(PermissionDenied):
        budget_line_delete(
            actor=personas["citizen"],
            application_id=funding["application"].pk,
            budget_line_id=line.pk,
        )
    assert BudgetLine.objects.count() == 1


# ---- own shares for the treasury -----------------------------------------------------------


@pytest.fixture
def shares(funding: dict[str, Any]) -> dict[str, Any]:
    call = funding["call"]
    granted = funding["application"]
    granted.status = ApplicationStatus.RUNNING
    granted.own_share_budget_line = "=1.2345.678"
    granted.save()
    prepared = Application.objects.create(
        call=call, title="Smarte Laternen", acronym="LUX", status=ApplicationStatus.PREPARATION
    )
    rejected = Application.objects.create(
        call=call, title="Abgelehnt", acronym="NEIN", status=ApplicationStatus.REJECTED
    )
    for application, year, amount in (
        (granted, 2026, "400000"),
        (granted, 2027, "600000"),
        (prepared, 2027, "12345.60"),
        (rejected, 2027, "99999"),
    ):
        BudgetLine.objects.create(
            application=application, year=year, planned=Decimal(amount), own_share=Decimal(amount)
        )
    return {"granted": granted, "prepared": prepared, "rejected": rejected}


def test_own_shares_per_year_list_the_applications_and_sum_them(
    staff_client: Client, shares: dict[str, Any]
) -> None:
    html = staff_client.get(reverse("funding:own_shares")).content.decode()

    rows = table(html, "own-shares")
    assert rows[1][:4] == ["2026", "400.000,00", "0,00", "400.000,00"]
    assert "TWIN-WEST: 400.000,00 € (gebunden, Laufend" in rows[1][4]
    assert rows[2][:4] == ["2027", "600.000,00", "12.345,60", "612.345,60"]
    assert "LUX: 12.345,60 € (in Aussicht, In Vorbereitung)" in rows[2][4]
    assert "NEIN" not in html  # a rejected application binds no money
    assert rows[3][:4] == ["Alle Jahre", "1.000.000,00", "12.345,60", "1.012.345,60"]


def test_own_shares_csv_is_german_and_safe_to_open(
    staff_client: Client, shares: dict[str, Any]
) -> None:
    response = staff_client.get(reverse("funding:own_shares") + "?format=csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeffHaushaltsjahr;Antrag;")
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[1] == (
        "2026;TWIN-WEST;Digitaler Zwilling Leipziger Westen;DIGITAL-2026-AI-01;Laufend;"
        "gebunden;'=1.2345.678;400000,00"
    )
    assert lines[2].startswith("2027;LUX;")
    assert lines[2].endswith(";In Vorbereitung;in Aussicht;;12345,60")


# ---- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["citizen", "organisation", "caseworker", "lead", "jury"])
def test_others_than_department_staff_get_403(
    persona: str, personas: dict[str, Any], funding: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(personas[persona])
    application = funding["application"]
    for url in (budget_url(application), reverse("funding:own_shares")):
        assert client.get(url).status_code == 403
    assert client.post(budget_url(application), line_form()).status_code == 403
    assert not BudgetLine.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(funding: dict[str, Any]) -> None:
    response = Client().get(budget_url(funding["application"]))
    assert response.status_code == 302
    assert "anmelden" in response["Location"]


def test_unknown_application_is_404(staff_client: Client, funding: dict[str, Any]) -> None:
    url = reverse("funding:application_budget", args=[funding["application"].pk + 1000])
    assert staff_client.get(url).status_code == 404


def test_unknown_action_is_a_bad_request(staff_client: Client, funding: dict[str, Any]) -> None:
    assert staff_client.post(budget_url(funding["application"]), {"aktion": "x"}).status_code == 400
