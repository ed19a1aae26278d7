"""The register's pages: everyone reads programmes and calls (deadlines in the funder's zone
and in Leipzig), searches and filters the register; department staff create and edit
programmes and calls, with wrong input refused at the field and nothing lost; everyone else
is refused."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rathaus.core.models import AuditEntry
from rathaus.core.themes import Theme, mask_of
from rathaus.funding.constants import ApplicantType, CallStatus, DeadlineModel, Level
from rathaus.funding.models import Call, CallDeadline, Programme

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.now().year + 1


def url(name: str, *args: Any) -> str:
    return reverse(f"funding:{name}", args=args)


def text_of(html: str) -> str:
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


def programme_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "EFRE Sachsen",
        "code": "EFRE-SN",
        "funder": "Sächsische Aufbaubank",
        "level": "state",
        "funding_type": "grant",
        "themes_mask": ["research", "energy"],
        "applicant_types_mask": ["municipality", "sme"],
        "regions_mask": ["DE-SN"],
        "rate_max": "60",
        "amount_min": "1.234,56",
        "amount_max": "1.500.000",
        "legal_basis": "Verordnung (EU) 2021/1058",
        "source_url": "https://www.efre.sachsen.de/",
        "last_checked": "2026-01-10",
    }
    values.update(overrides)
    return values


def call_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "identifier": "EFRE-SN-2027-01",
        "title": "Smarte Quartiere",
        "status": "open",
        "deadline_model": "single",
        "budget": "2.000.000",
        "expected_grants": "5",
        "deadline_1_date": f"{NEXT_YEAR}-03-15",
        "deadline_1_time": "17:00",
        "deadline_1_zone": "Europe/Brussels",
        "deadline_1_label": "",
    }
    for row in range(2, 7):
        values[f"deadline_{row}_zone"] = "Europe/Berlin"
    values.update(overrides)
    return values


# ---- the public register ---------------------------------------------------------------------


def test_the_register_shows_each_programme_with_its_next_deadline_in_both_zones(
    client: Client, funding: dict[str, Any]
) -> None:
    answer = client.get(url("programme_list"))

    assert answer.status_code == 200
    page = text_of(answer.content.decode())
    assert "Digital Europe Programme" in page
    assert "EU" in page and "Europäische Kommission" in page
    assert "Zuschuss, bis 50 % der Kosten" in page
    assert "500.000 € bis 5.000.000 €" in page
    assert "Digitalisierung, Smart City, Daten und KI" in page
    due = funding["call"].deadlines.get().due_at.astimezone(ZoneInfo("Europe/Brussels"))
    assert f"{due:%d.%m.%Y}, 17:00 (Europe/Brussels) – 17:00 Uhr in Leipzig" in page
    assert "DIGITAL-2026-AI-01" in page
    assert "noch 28 Tage" in page


def test_the_register_is_searched_by_call_identifier_whatever_the_case(
    client: Client, funding: dict[str, Any]
) -> None:
    Programme.objects.create(name="mFUND", code="MFUND", funder="BMV", level=Level.FEDERAL)

    found = text_of(client.get(url("programme_list"), {"q": "digital-2026-ai"}).content.decode())
    assert "Digital Europe Programme" in found and "mFUND" not in found
    found = text_of(client.get(url("programme_list"), {"q": "bmv"}).content.decode())
    assert "mFUND" in found and "Digital Europe Programme" not in found
    assert "1 Programm" in found


def test_the_register_filters_by_level_theme_applicant_type_and_open_calls(
    client: Client, funding: dict[str, Any]
) -> None:
    Programme.objects.create(
        name="Kulturstiftung",
        code="KULTUR",
        funder="Stiftung",
        level=Level.FOUNDATION,
        themes_mask=mask_of([Theme.CULTURE], Theme),
        applicant_types_mask=mask_of([ApplicantType.NONPROFIT], ApplicantType),
    )

    def names(**params: str) -> set[str]:
        page = text_of(client.get(url("programme_list"), params).content.decode())
        return {n for n in ("Digital Europe Programme", "Kulturstiftung") if n in page}

    assert names() == {"Digital Europe Programme", "Kulturstiftung"}
    assert names(ebene="foundation") == {"Kulturstiftung"}
    assert names(thema="data") == {"Digital Europe Programme"}
    assert names(thema="culture") == {"Kulturstiftung"}
    assert names(antragsberechtigt="nonprofit") == {"Kulturstiftung"}
    assert names(antragsberechtigt="sme") == {"Digital Europe Programme"}
    assert names(aktuell="on") == {"Digital Europe Programme"}
    funding["call"].status = CallStatus.CLOSED
    funding["call"].save()
    assert names(aktuell="on") == set()


def test_the_register_is_paginated_by_25_keeping_the_filters(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    for number in range(30):
        programme = Programme.objects.create(
            name=f"Programm {number:02d}", code=f"P{number:02d}", funder="Bund", level="federal"
        )
        call = Call.objects.create(
            programme=programme, identifier=f"C{number:02d}", title="Aufruf", status="open"
        )
        CallDeadline.objects.create(call=call, due_at=timezone.now() + timedelta(days=number + 1))

    with django_assert_max_num_queries(8):
        first = client.get(url("programme_list"), {"ebene": "federal"}).content.decode()
    assert "Programm 24" in first and "Programm 25" not in first
    assert "Seite 1 von 2" in first
    assert 'href="?ebene=federal&amp;seite=2"' in first
    second = client.get(url("programme_list"), {"ebene": "federal", "seite": "2"}).content.decode()
    assert "Programm 25" in second and "Programm 29" in second


def test_a_programme_page_shows_every_field_and_its_calls(
    client: Client, funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    programme.legal_basis = "Verordnung (EU) 2021/694"
    programme.description = "Digitale Kapazitäten Europas stärken."
    programme.last_checked = timezone.localdate() - timedelta(days=400)
    programme.save()

    page = text_of(client.get(url("programme_detail", programme.pk)).content.decode())

    for expected in (
        "Digital Europe Programme",
        "DIGITAL",
        "Europäische Kommission",
        "Zuschuss",
        "50 %",
        "500.000 €",
        "5.000.000 €",
        "Digitalisierung",
        "Daten und KI",
        "Kommune",
        "KMU",
        "Forschungseinrichtung",
        "Europäische Union",
        "Verordnung (EU) 2021/694",
        "https://digital-strategy.ec.europa.eu/",
        "seit über einem Jahr nicht geprüft",
        "DIGITAL-2026-AI-01",
        "Offen",
        "DIGITAL-2024-AI-01",
        "Geschlossen",
        "abgelaufen",
    ):
        assert expected in page, expected
    assert "Programm bearbeiten" not in page


def test_a_recently_checked_programme_is_not_flagged(
    client: Client, funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    programme.last_checked = timezone.localdate() - timedelta(days=30)
    programme.save()
    page = client.get(url("programme_detail", programme.pk)).content.decode()
    assert "nicht geprüft" not in page


def test_a_call_page_shows_deadlines_in_the_funders_zone_and_in_leipzig(
    client: Client, funding: dict[str, Any]
) -> None:
    call = funding["call"]
    call.deadline_model = DeadlineModel.TWO_STAGE
    call.url = "https://ec.europa.eu/call"
    call.save()
    # stage 2 in New York, 20:00 on 15 March: 01:00 the next day in Leipzig
    new_york = datetime(NEXT_YEAR + 1, 3, 15, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    CallDeadline.objects.create(
        call=call, position=2, label="Vollantrag", due_at=new_york, timezone="America/New_York"
    )

    page = text_of(client.get(url("call_detail", call.pk)).content.decode())

    due = call.deadlines.get(position=1).due_at.astimezone(ZoneInfo("Europe/Brussels"))
    assert f"{due:%d.%m.%Y}, 17:00 (Europe/Brussels) – 17:00 Uhr in Leipzig" in page
    assert (
        f"Vollantrag: 15.03.{NEXT_YEAR + 1}, 20:00 (America/New_York) – "
        f"16.03.{NEXT_YEAR + 1}, 01:00 Uhr in Leipzig"
    ) in page
    assert "noch 28 Tage" in page
    assert "Zweistufig" in page
    assert "20.000.000 €" in page
    assert "Erwartete Zahl der Förderungen 8" in page
    assert "https://ec.europa.eu/call" in page
    assert "Digital Europe Programme" in page
    assert "Aufruf bearbeiten" not in page


def test_a_deadline_in_leipzigs_zone_is_shown_once(client: Client, funding: dict[str, Any]) -> None:
    deadline = funding["call"].deadlines.get()
    deadline.timezone = "Europe/Berlin"
    deadline.save()
    page = text_of(client.get(url("call_detail", funding["call"].pk)).content.decode())
    assert "(Europe/Berlin)" in page
    assert "Uhr in Leipzig" not in page


def test_staff_see_edit_links_and_a_warning_on_a_stale_open_call(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    call = funding["call"]
    call.final_deadline = timezone.now() - timedelta(days=1)
    call.save()
    page = staff_client.get(url("call_detail", call.pk)).content.decode()
    assert url("call_edit", call.pk) in page
    assert "alle Fristen sind vorbei" in page
    page = staff_client.get(url("programme_detail", funding["programme"].pk)).content.decode()
    assert url("programme_edit", funding["programme"].pk) in page
    assert url("call_create", funding["programme"].pk) in page
    assert url("csv_import") in staff_client.get(url("programme_list")).content.decode()


def test_unknown_programmes_and_calls_are_not_found(client: Client, db: None) -> None:
    assert client.get(url("programme_detail", 999)).status_code == 404
    assert client.get(url("call_detail", 999)).status_code == 404


# ---- permissions -----------------------------------------------------------------------------


def test_others_than_department_staff_are_refused_the_staff_pages(
    personas: dict[str, Any], funding: dict[str, Any]
) -> None:
    programme, call = funding["programme"], funding["call"]
    pages = [
        (url("programme_create"), programme_form()),
        (url("programme_edit", programme.pk), programme_form()),
        (url("call_create", programme.pk), call_form()),
        (url("call_edit", call.pk), call_form()),
        (url("csv_import"), {}),
    ]
    for persona in ("citizen", "caseworker", "organisation"):
        client = Client()
        client.force_login(personas[persona])
        for address, data in pages:
            assert client.get(address).status_code == 403, (persona, address)
            assert client.post(address, data).status_code == 403, (persona, address)
    anonymous = Client()
    for address, data in pages:
        answer = anonymous.post(address, data)
        assert answer.status_code == 302
        assert answer["Location"].startswith(reverse("accounts:login"))
    assert Programme.objects.count() == 1
    assert Call.objects.count() == 2
    assert programme.name == Programme.objects.get().name


# ---- staff: programmes -----------------------------------------------------------------------


def test_staff_create_a_programme_with_german_amounts(staff_client: Client, db: None) -> None:
    answer = staff_client.post(url("programme_create"), programme_form())

    programme = Programme.objects.get(code="EFRE-SN")
    assert answer.status_code == 302
    assert answer["Location"] == url("programme_detail", programme.pk)
    assert programme.amount_min == Decimal("1234.56")
    assert programme.amount_max == Decimal("1500000.00")
    assert programme.rate_max == Decimal("60.00")
    assert programme.themes_mask == mask_of([Theme.RESEARCH, Theme.ENERGY], Theme)
    assert programme.applicant_types_mask == mask_of(
        [ApplicantType.MUNICIPALITY, ApplicantType.SME], ApplicantType
    )
    assert programme.last_checked == date(2026, 1, 10)
    assert AuditEntry.objects.filter(action="funding.programme.create").count() == 1


def test_a_wrong_programme_is_refused_at_its_fields_keeping_the_input(
    staff_client: Client, db: None
) -> None:
    answer = staff_client.post(
        url("programme_create"),
        programme_form(amount_min="2.000.000", amount_max="1.000,00", rate_max="zwölf"),
    )

    html = answer.content.decode()
    assert answer.status_code == 422
    assert "„zwölf“ ist kein Betrag" in field_error(html, "rate_max")
    assert not Programme.objects.exists()
    # the rule about min and max comes once the amounts can be read
    answer = staff_client.post(
        url("programme_create"), programme_form(amount_min="2.000.000", amount_max="1.000,00")
    )
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "nicht kleiner sein als der Mindestbetrag" in field_error(html, "amount_max")
    assert 'value="2.000.000"' in html and 'value="EFRE-SN"' in html
    assert 'href="#id_amount_max"' in html  # the error summary links to the field
    assert not Programme.objects.exists()


def test_staff_edit_a_programme_seeing_amounts_the_german_way(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    form = staff_client.get(url("programme_edit", programme.pk)).content.decode()
    assert 'value="500.000,00"' in form
    assert 'value="digitalisation" checked' in form.replace('id="id_themes_mask_0" ', "")

    data = programme_form(
        name=programme.name, code="DIGITAL", level="eu", amount_max="6.000.000,00"
    )
    answer = staff_client.post(url("programme_edit", programme.pk), data)
    assert answer.status_code == 302
    programme.refresh_from_db()
    assert programme.amount_max == Decimal("6000000.00")
    assert programme.level == Level.EU


# ---- staff: calls ----------------------------------------------------------------------------


def test_staff_create_a_call_with_a_deadline_in_brussels_time(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    form = staff_client.get(url("call_create", programme.pk)).content.decode()
    # an EU programme: Brussels time offered first
    assert re.search(r'<option value="Europe/Brussels" selected>', form)

    answer = staff_client.post(url("call_create", programme.pk), call_form())

    call = Call.objects.get(identifier="EFRE-SN-2027-01")
    assert answer.status_code == 302
    assert answer["Location"] == url("call_detail", call.pk)
    deadline = call.deadlines.get()
    assert deadline.due_at == datetime(NEXT_YEAR, 3, 15, 17, tzinfo=ZoneInfo("Europe/Brussels"))
    assert deadline.timezone == "Europe/Brussels"
    assert call.final_deadline == deadline.due_at
    assert call.budget == Decimal("2000000.00")
    page = text_of(staff_client.get(answer["Location"]).content.decode())
    assert "Der Aufruf ist angelegt." in page
    assert f"15.03.{NEXT_YEAR}, 17:00 (Europe/Brussels) – 17:00 Uhr in Leipzig" in page


def test_a_past_deadline_for_a_new_call_is_refused_at_its_date_and_nothing_saved(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    yesterday = timezone.localdate() - timedelta(days=1)

    answer = staff_client.post(
        url("call_create", programme.pk),
        call_form(deadline_1_date=yesterday.isoformat(), deadline_1_zone="Europe/Berlin"),
    )

    html = answer.content.decode()
    assert answer.status_code == 422
    assert "Diese Frist liegt in der Vergangenheit" in field_error(html, "deadline_1_date")
    assert f'value="{yesterday.isoformat()}"' in html
    assert 'value="Smarte Quartiere"' in html
    assert not Call.objects.filter(identifier="EFRE-SN-2027-01").exists()

    # the same as a closed call: history, recorded
    answer = staff_client.post(
        url("call_create", programme.pk),
        call_form(
            deadline_1_date=yesterday.isoformat(), deadline_1_zone="Europe/Berlin", status="closed"
        ),
    )
    assert answer.status_code == 302
    assert Call.objects.get(identifier="EFRE-SN-2027-01").status == CallStatus.CLOSED


def test_an_unknown_time_zone_is_refused_at_the_typed_zone(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    answer = staff_client.post(
        url("call_create", programme.pk),
        call_form(deadline_1_zone="other", deadline_1_other="Europe/Atlantis"),
    )
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "„Europe/Atlantis“ ist keine bekannte Zeitzone" in field_error(html, "deadline_1_other")
    assert not Call.objects.filter(identifier="EFRE-SN-2027-01").exists()

    answer = staff_client.post(
        url("call_create", programme.pk),
        call_form(deadline_1_zone="other", deadline_1_other="america/new_york"),
    )
    assert answer.status_code == 302
    deadline = Call.objects.get(identifier="EFRE-SN-2027-01").deadlines.get()
    assert deadline.timezone == "America/New_York"


def test_a_two_stage_call_with_one_deadline_is_refused_at_the_model(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    answer = staff_client.post(
        url("call_create", funding["programme"].pk), call_form(deadline_model="two_stage")
    )
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "genau zwei Fristen" in field_error(html, "deadline_model")
    assert "eingetragen ist 1" in field_error(html, "deadline_model")


def test_a_half_filled_deadline_row_is_refused_and_blank_rows_are_ignored(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    answer = staff_client.post(
        url("call_create", programme.pk),
        call_form(deadline_3_date=f"{NEXT_YEAR}-06-01"),
    )
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "Uhrzeit" in field_error(html, "deadline_3_time")

    answer = staff_client.post(
        url("call_create", programme.pk),
        call_form(
            deadline_model="two_stage",
            deadline_1_label="Skizze",
            deadline_4_date=f"{NEXT_YEAR}-09-01",
            deadline_4_time="12:00",
            deadline_4_zone="UTC",
            deadline_4_label="Vollantrag",
        ),
    )
    assert answer.status_code == 302
    call = Call.objects.get(identifier="EFRE-SN-2027-01")
    assert [(d.position, d.label, d.timezone) for d in call.deadlines.order_by("position")] == [
        (1, "Skizze", "Europe/Brussels"),
        (2, "Vollantrag", "UTC"),
    ]


def test_staff_edit_a_call_and_its_deadlines(staff_client: Client, funding: dict[str, Any]) -> None:
    call = funding["call"]
    form = staff_client.get(url("call_edit", call.pk)).content.decode()
    local = call.deadlines.get().due_at.astimezone(ZoneInfo("Europe/Brussels"))
    assert f'value="{local:%Y-%m-%d}"' in form and 'value="17:00"' in form
    assert 'value="DIGITAL-2026-AI-01"' in form

    answer = staff_client.post(
        url("call_edit", call.pk),
        call_form(
            identifier=call.identifier,
            title="Local digital twins",
            deadline_model="cutoffs",
            deadline_1_date=f"{local:%Y-%m-%d}",
            deadline_2_date=f"{NEXT_YEAR}-11-30",
            deadline_2_time="17:00",
            deadline_2_zone="Europe/Luxembourg",
        ),
    )
    assert answer.status_code == 302
    call.refresh_from_db()
    assert call.deadline_model == DeadlineModel.CUTOFFS
    assert call.deadlines.count() == 2
    assert call.final_deadline == datetime(
        NEXT_YEAR, 11, 30, 17, tzinfo=ZoneInfo("Europe/Luxembourg")
    )
    assert AuditEntry.objects.filter(action="funding.call.update").count() == 1


def test_an_open_call_with_only_past_deadlines_is_saved_with_a_warning(
    staff_client: Client, funding: dict[str, Any]
) -> None:
    closed = funding["closed_call"]
    answer = staff_client.post(
        url("call_edit", closed.pk),
        call_form(
            identifier=closed.identifier,
            status="open",
            **{
                "deadline_1_date": f"{closed.final_deadline.astimezone(ZoneInfo('Europe/Brussels')):%Y-%m-%d}",
                "deadline_1_time": f"{closed.final_deadline.astimezone(ZoneInfo('Europe/Brussels')):%H:%M}",
            },
        ),
    )
    assert answer.status_code == 302, answer.content.decode()
    page = staff_client.get(answer["Location"]).content.decode()
    assert "alle Fristen sind vorbei" in page
