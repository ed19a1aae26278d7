"""CSV export and import of the register (services/csv_io.py, the staff's import page and
``rathaus import-funding``): files Excel opens, safe against formulas; imports that accept
German amounts and either delimiter, check the whole file first, import all or nothing,
name each wrong line, and round-trip the export unchanged."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rathaus.core.models import AuditEntry
from rathaus.core.themes import Theme, mask_of
from rathaus.funding.constants import CallStatus, DeadlineModel, FundingType, Level
from rathaus.funding.models import Call, CallDeadline, Programme
from rathaus.funding.services.csv_io import (
    CALL_COLUMNS,
    PROGRAMME_COLUMNS,
    calls_csv,
    programmes_csv,
    register_import,
)

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.now().year + 1
PROGRAMMES_HEADER = ";".join(PROGRAMME_COLUMNS)
CALLS_HEADER = ";".join(CALL_COLUMNS)


def rows_of(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def snapshot() -> list[Any]:
    """Everything the import may change, to compare before and after."""
    programmes = list(Programme.objects.order_by("code").values())
    for row in programmes:
        row.pop("updated_at")
    calls = list(Call.objects.order_by("identifier").values())
    for row in calls:
        row.pop("updated_at")
    deadlines = list(CallDeadline.objects.order_by("call_id", "position").values())
    return [programmes, calls, deadlines]


def programmes_file(*lines: str, header: str = PROGRAMMES_HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def calls_file(*lines: str, header: str = CALLS_HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


# ---- export ----------------------------------------------------------------------------------


def test_programmes_csv_opens_in_excel_with_german_amounts_and_lists(
    funding: dict[str, Any],
) -> None:
    text = programmes_csv()

    assert text.startswith("\ufeffcode;name;funder;level;")
    [row] = rows_of(text)
    assert row["code"] == "DIGITAL"
    assert row["level"] == "eu"
    assert row["amount_min"] == "500000,00"
    assert row["rate_max"] == "50,00"
    assert row["themes"] == "digitalisation|smart_city|data"
    assert row["regions"] == "EU"
    assert row["last_checked"] == ""


def test_exports_are_safe_against_spreadsheet_formulas(funding: dict[str, Any]) -> None:
    programme = funding["programme"]
    programme.name = '=HYPERLINK("https://evil.example","Klick")'
    programme.description = "-Fördermittel für alle"
    programme.save()

    [row] = rows_of(programmes_csv())
    assert row["name"] == '\'=HYPERLINK("https://evil.example","Klick")'
    assert row["description"] == "'-Fördermittel für alle"


def test_calls_csv_holds_the_deadlines_as_the_funder_states_them(
    funding: dict[str, Any],
) -> None:
    call = funding["call"]
    call.deadline_model = DeadlineModel.TWO_STAGE
    call.save()
    CallDeadline.objects.create(
        call=call,
        position=2,
        label="Vollantrag",
        due_at=datetime(NEXT_YEAR + 1, 3, 15, 20, tzinfo=ZoneInfo("America/New_York")),
        timezone="America/New_York",
    )

    rows = {row["identifier"]: row for row in rows_of(calls_csv())}
    first = call.deadlines.get(position=1).due_at.astimezone(ZoneInfo("Europe/Brussels"))
    assert rows["DIGITAL-2026-AI-01"]["deadlines"] == (
        f"{first:%Y-%m-%d} 17:00 Europe/Brussels | "
        f"{NEXT_YEAR + 1}-03-15 20:00 America/New_York=Vollantrag"
    )
    assert rows["DIGITAL-2026-AI-01"]["programme_code"] == "DIGITAL"
    assert rows["DIGITAL-2026-AI-01"]["budget"] == "20000000,00"
    assert rows["DIGITAL-2026-AI-01"]["expected_grants"] == "8"
    assert rows["DIGITAL-2024-AI-01"]["status"] == "closed"


def test_the_exports_are_public_downloads(client: Client, funding: dict[str, Any]) -> None:
    answer = client.get(reverse("funding:programmes_csv"))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="programme.csv"' in answer["Content-Disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbfcode;")
    answer = client.get(reverse("funding:calls_csv"), {"q": "nothing-like-this"})
    assert answer.content.decode("utf-8-sig").strip() == CALLS_HEADER


# ---- import ----------------------------------------------------------------------------------


def test_export_then_import_changes_nothing(
    personas: dict[str, Any], funding: dict[str, Any]
) -> None:
    programme = funding["programme"]
    programme.description = "Zeile eins\nZeile zwei; mit Semikolon"
    programme.legal_basis = "=Verordnung"  # exported with an apostrophe, imported without
    programme.save()
    call = funding["call"]
    call.notes = '"Zitat", Komma'
    call.save()
    before = snapshot()

    result = register_import(
        actor=personas["department"],
        programmes=programmes_csv().encode("utf-8"),
        calls=calls_csv().encode("utf-8"),
    )

    assert result.ok, result.errors
    assert (result.programmes.unchanged, result.programmes.updated) == (1, 0)
    assert (result.calls.unchanged, result.calls.updated, result.calls.created) == (2, 0, 0)
    assert snapshot() == before
    assert not AuditEntry.objects.filter(action__startswith="funding.").exists()


def test_an_import_creates_then_updates_and_is_idempotent(personas: dict[str, Any]) -> None:
    staff = personas["department"]
    programmes = programmes_file(
        "MFUND;mFUND;Bundesministerium für Verkehr;Bund;Zuschuss;mobility|data;sme|research;DE;"
        '"80";"1.234,56 €";1234567.89;Förderrichtlinie mFUND;https://bmdv.bund.de/mfund;'
        "15.01.2026;Daten für Mobilität",
    )
    calls = calls_file(
        f"MFUND-{NEXT_YEAR}-1;MFUND;Förderaufruf 1;open;;two_stage;"
        f"{NEXT_YEAR}-02-01 12:00 Europe/Berlin=Skizze | 01.06.{NEXT_YEAR} 12:00=Vollantrag;"
        "3.000.000;;;",
    )

    first = register_import(actor=staff, programmes=programmes, calls=calls)

    assert first.ok and first.imported, first.errors
    assert (first.programmes.created, first.calls.created) == (1, 1)
    programme = Programme.objects.get(code="MFUND")
    assert programme.level == Level.FEDERAL
    assert programme.funding_type == FundingType.GRANT
    assert programme.amount_min == Decimal("1234.56")
    assert programme.amount_max == Decimal("1234567.89")
    assert programme.rate_max == Decimal("80.00")
    assert programme.themes_mask == mask_of([Theme.MOBILITY, Theme.DATA], Theme)
    assert programme.last_checked.isoformat() == "2026-01-15"
    call = Call.objects.get(identifier=f"MFUND-{NEXT_YEAR}-1")
    assert call.programme == programme
    assert call.budget == Decimal("3000000.00")
    assert [(d.label, d.timezone) for d in call.deadlines.order_by("position")] == [
        ("Skizze", "Europe/Berlin"),
        ("Vollantrag", "Europe/Berlin"),
    ]
    assert call.final_deadline == datetime(NEXT_YEAR, 6, 1, 12, tzinfo=ZoneInfo("Europe/Berlin"))

    again = register_import(actor=staff, programmes=programmes, calls=calls)
    assert (again.programmes.unchanged, again.calls.unchanged) == (1, 1)
    assert (again.programmes.created, again.calls.created) == (0, 0)

    changed = programmes.replace(b"Daten f\xc3\xbcr Mobilit\xc3\xa4t", b"Neu")
    third = register_import(actor=staff, programmes=changed)
    assert third.programmes.updated == 1
    programme.refresh_from_db()
    assert programme.description == "Neu"
    assert Programme.objects.count() == 1


def test_german_amounts_with_euro_sign_are_read_as_decimals(personas: dict[str, Any]) -> None:
    result = register_import(
        actor=personas["department"],
        programmes=programmes_file(
            "X1;Programm X;Stiftung;foundation;grant;;;;;1.234,56 €;;;;;",
            header=PROGRAMMES_HEADER,
        ),
    )
    assert result.ok, result.errors
    assert Programme.objects.get(code="X1").amount_min == Decimal("1234.56")


def test_a_comma_separated_windows_file_without_bom_is_read(personas: dict[str, Any]) -> None:
    data = (
        "code,name,funder,level,amount_max\r\n"
        'SAB,Förderung Sachsen,Sächsische Aufbaubank,Land,"1.500.000,00 €"\r\n'
    ).encode("cp1252")

    result = register_import(actor=personas["department"], programmes=data)

    assert result.ok, result.errors
    programme = Programme.objects.get(code="SAB")
    assert programme.name == "Förderung Sachsen"
    assert programme.funder == "Sächsische Aufbaubank"
    assert programme.amount_max == Decimal("1500000.00")


def test_one_bad_row_imports_nothing_and_names_line_and_column(
    personas: dict[str, Any], funding: dict[str, Any]
) -> None:
    before = snapshot()
    programmes = programmes_file(
        "A1;Programm A;Bund;federal;grant;;;;;;;;;;",
        "A2;Programm B;Bund;federal;grant;;;;;zehn Euro;;;;;",
        "A3;Programm C;Bund;federal;grant;;;;;;;;;;",
    )

    result = register_import(actor=personas["department"], programmes=programmes)

    assert not result.ok and not result.imported
    assert [(e.file, e.line, e.column) for e in result.errors] == [("programmes", 3, "amount_min")]
    assert "„zehn Euro“ ist kein Betrag" in result.errors[0].reason
    assert str(result.errors[0]).startswith("Zeile 3, Spalte „amount_min“: ")
    assert result.programmes.rejected == 1
    assert snapshot() == before
    assert not Programme.objects.filter(code__in=["A1", "A3"]).exists()


def test_every_wrong_row_of_both_files_is_reported(personas: dict[str, Any]) -> None:
    programmes = programmes_file(
        "B1;;Bund;Mond;grant;;;;;;;;;;",  # no name, unknown level
        "B2;Programm;Bund;federal;grant;zauberei;;;150;;;;;;",  # unknown theme, rate > 100
        "B2;Doppelt;Bund;federal;grant;;;;;;;;;;",  # the same code again
    )
    calls = calls_file(
        "C1;NOPE;Titel;open;;single;2030-01-01 17:00 Europe/Berlin;;;;",
        f"C2;B2;Titel;open;;two_stage;{NEXT_YEAR}-01-01 17:00 Europe/Berlin;;;;",
        "C3;B2;Titel;open;;single;2020-01-01 17:00 Europe/Berlin;;;;",
        f"C4;B2;Titel;open;;single;{NEXT_YEAR}-01-01 17:00 Mars/Olympus;;;;",
        f"C5;B2;Titel;open;;single;{NEXT_YEAR}-13-01 17:00;;;;",
    )

    result = register_import(actor=personas["department"], programmes=programmes, calls=calls)

    found = {(e.file, e.line, e.column) for e in result.errors}
    assert {
        ("programmes", 2, "name"),
        ("programmes", 2, "level"),
        ("programmes", 3, "themes"),
        ("programmes", 4, "code"),
        ("calls", 2, "programme_code"),
        ("calls", 4, "deadlines"),
        ("calls", 5, "deadlines"),
        ("calls", 6, "deadlines"),
    } <= found
    reasons = {(e.file, e.line): e.reason for e in result.errors if e.column == "deadlines"}
    assert "genau zwei Fristen" in reasons[("calls", 3)]
    assert "Vergangenheit" in reasons[("calls", 4)]
    assert "Mars/Olympus" in reasons[("calls", 5)]
    assert "kein Datum" in reasons[("calls", 6)]
    assert not Programme.objects.exists() and not Call.objects.exists()


def test_a_closed_call_may_be_imported_with_past_deadlines(personas: dict[str, Any]) -> None:
    result = register_import(
        actor=personas["department"],
        programmes=programmes_file("H1;Historisch;Bund;federal;grant;;;;;;;;;;"),
        calls=calls_file("H1-2019;H1;Alter Aufruf;closed;;single;2019-05-02 12:00 UTC;;;;"),
    )
    assert result.ok, result.errors
    assert Call.objects.get(identifier="H1-2019").final_deadline == datetime(
        2019, 5, 2, 12, tzinfo=ZoneInfo("UTC")
    )


def test_a_calls_file_may_update_existing_calls_leaving_missing_columns(
    personas: dict[str, Any], funding: dict[str, Any]
) -> None:
    data = b"identifier;status;budget\r\nDIGITAL-2026-AI-01;closed;25.000.000\r\n"
    result = register_import(actor=personas["department"], calls=data)
    assert result.ok, result.errors
    assert result.calls.updated == 1
    call = Call.objects.get(identifier="DIGITAL-2026-AI-01")
    assert call.status == CallStatus.CLOSED
    assert call.budget == Decimal("25000000.00")
    assert call.title == "Local digital twins"
    assert call.deadlines.count() == 1


def test_files_that_are_not_csv_or_too_large_are_refused(personas: dict[str, Any]) -> None:
    staff = personas["department"]
    result = register_import(actor=staff, programmes=b"PK\x03\x04 excel stuff")
    assert "Excel-Datei" in result.file_errors[0].message
    result = register_import(actor=staff, programmes=b"\x89PNG\r\n\x1a\n\x00\x00")
    assert "keine CSV-Datei" in result.file_errors[0].message
    result = register_import(actor=staff, programmes=b"name;funder\r\nX;Y\r\n")
    assert "„code“" in result.file_errors[0].message
    big = programmes_file("A;B;C;federal;grant;;;;;;;;;;" + "x" * (5 * 1024 * 1024))
    result = register_import(actor=staff, programmes=big)
    assert "größer als 5 MB" in result.file_errors[0].message
    assert not result.imported and not Programme.objects.exists()


def test_check_only_saves_nothing(personas: dict[str, Any]) -> None:
    result = register_import(
        actor=personas["department"],
        programmes=programmes_file("D1;Programm D;Bund;federal;grant;;;;;;;;;;"),
        check_only=True,
    )
    assert result.ok and not result.imported
    assert result.programmes.created == 1
    assert not Programme.objects.exists()


# ---- the staff page --------------------------------------------------------------------------


def test_staff_import_files_on_the_page(personas: dict[str, Any], funding: dict[str, Any]) -> None:
    client = Client()
    client.force_login(personas["department"])
    answer = client.post(
        reverse("funding:csv_import"),
        {
            "programmes": SimpleUploadedFile(
                "programme.csv", programmes_file("E1;Programm E;Bund;federal;grant;;;;;;;;;;")
            ),
            "calls": SimpleUploadedFile("aufrufe.csv", calls_csv().encode()),
        },
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Der Import ist gespeichert." in page
    assert Programme.objects.filter(code="E1").exists()


def test_the_page_lists_the_wrong_rows_and_saves_nothing(personas: dict[str, Any]) -> None:
    client = Client()
    client.force_login(personas["department"])
    answer = client.post(
        reverse("funding:csv_import"),
        {
            "programmes": SimpleUploadedFile(
                "programme.csv",
                programmes_file(
                    "F1;Programm F;Bund;federal;grant;;;;;;;;;;",
                    "F2;Programm G;Bund;federal;grant;;;;;100;50;;;;",
                ),
            )
        },
    )
    page = answer.content.decode()
    assert answer.status_code == 422
    assert "Nicht importiert" in page
    assert '<th class="kern-table__cell" scope="row">3</th>' in page
    assert "amount_max" in page and "nicht kleiner sein als der Mindestbetrag" in page
    assert not Programme.objects.exists()


def test_the_page_asks_for_a_file(personas: dict[str, Any]) -> None:
    client = Client()
    client.force_login(personas["department"])
    answer = client.post(reverse("funding:csv_import"), {})
    assert answer.status_code == 422
    assert "Bitte mindestens eine Datei wählen" in answer.content.decode()


# ---- the command -----------------------------------------------------------------------------


def test_the_command_imports_and_prints_a_summary(tmp_path: Path, db: None) -> None:
    programmes = tmp_path / "programme.csv"
    programmes.write_bytes(programmes_file("G1;Programm G;Bund;federal;grant;;;;;;;;;;"))
    calls = tmp_path / "aufrufe.csv"
    calls.write_bytes(
        calls_file(f"G1-1;G1;Aufruf;open;;single;{NEXT_YEAR}-04-01 17:00 Europe/Berlin;;;;")
    )
    out = io.StringIO()

    call_command("import-funding", programmes=programmes, calls=calls, stdout=out)

    text = out.getvalue()
    assert "programmes: 1 created, 0 updated, 0 unchanged, 0 rejected" in text
    assert "calls: 1 created, 0 updated, 0 unchanged, 0 rejected" in text
    assert Call.objects.get(identifier="G1-1").programme.code == "G1"
    entry = AuditEntry.objects.get(action="funding.call.create")
    assert entry.actor_label == "system"


def test_the_command_fails_on_a_wrong_row_and_names_it(tmp_path: Path, db: None) -> None:
    calls = tmp_path / "aufrufe.csv"
    yesterday = timezone.localdate() - timedelta(days=1)
    calls.write_bytes(calls_file(f"H-1;NONE;Aufruf;open;;single;{yesterday} 17:00;;;;"))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import-funding", calls=calls, stdout=out, stderr=err)

    assert "calls: 0 created, 0 updated, 0 unchanged, 1 rejected" in out.getvalue()
    assert "Zeile 2, Spalte „programme_code“" in err.getvalue()
    assert "Zeile 2, Spalte „deadlines“: Frist 1: Diese Frist liegt in der Vergangenheit" in (
        err.getvalue()
    )
    assert not Call.objects.exists()
