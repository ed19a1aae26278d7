"""CSV import of measures and KPI observations (services/csv_io.py, the staff's import page
and ``rathaus import-strategy``): keyed by external id, idempotent (a second import changes
nothing and writes no audit entry), all or nothing, every wrong row named with line, column
and reason."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from rathaus.core.models import AuditEntry
from rathaus.strategy.constants import MeasureStatus, ObservationSource, ProgressMode, TrafficLight
from rathaus.strategy.models import IndicatorObservation, Measure, ObservationCorrection
from rathaus.strategy.services.csv_io import MEASURE_COLUMNS, strategy_import

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
MEASURES = (DATA / "measures.csv").read_bytes()
OBSERVATIONS = (DATA / "observations.csv").read_bytes()
HEADER = ";".join(MEASURE_COLUMNS)
OBSERVATION_HEADER = "indicator;period;value;unit;provisional;note"
STAFF = "dep@example.org"  # the department persona


def measures_file(*lines: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def observations_file(*lines: str) -> bytes:
    return ("\n".join([OBSERVATION_HEADER, *lines]) + "\n").encode("utf-8")


def measure_line(**cells: str) -> str:
    """A measures.csv row: a valid new top-level measure unless ``cells`` say otherwise."""
    row = {
        "external_id": "NEW-1",
        "code": "N-1",
        "title": "Neue Maßnahme",
        "strategies": "leipzig-digital",
        "status": "geplant",
        "progress": "0",
    }
    row.update(cells)
    return ";".join(row.get(column, "") for column in MEASURE_COLUMNS)


def snapshot() -> list[Any]:
    """Everything the import may change, to compare before and after."""
    measures = []
    for measure in Measure.objects.order_by("code").prefetch_related(
        "strategies", "fields_of_action"
    ):
        measures.append(
            (
                measure.code,
                measure.external_id,
                measure.title,
                measure.progress,
                measure.weight,
                measure.parent_id,
                sorted(s.pk for s in measure.strategies.all()),
                sorted(f.pk for f in measure.fields_of_action.all()),
            )
        )
    observations = list(
        IndicatorObservation.objects.order_by("indicator_id", "period").values_list(
            "indicator_id", "period", "value", "provisional", "note"
        )
    )
    return [measures, observations, ObservationCorrection.objects.count()]


@pytest.fixture
def kpi(plan: dict[str, Any]) -> Any:
    indicator = plan["kpi"]
    indicator.external_id = "KPI-ONLINE"
    indicator.save(update_fields=["external_id"])
    return indicator


def reasons(result: Any) -> list[tuple[int, str, str]]:
    return [(error.line, error.column, error.reason) for error in result.errors]


# ---- the sample files ------------------------------------------------------------------------


def test_the_sample_files_are_imported(
    personas: dict[str, Any], plan: dict[str, Any], kpi: Any
) -> None:
    result = strategy_import(
        actor=personas["department"], measures=MEASURES, observations=OBSERVATIONS
    )

    assert result.ok and result.imported, reasons(result)
    assert (result.measures.created, result.measures.rejected) == (4, 0)
    assert (result.observations.created, result.observations.unchanged) == (1, 1)
    services = Measure.objects.get(external_id="XLS-101")
    assert services.code == "LD-10"
    assert services.description == "- erste Ausbaustufe"  # the formula guard taken off
    assert {s.slug for s in services.strategies.all()} == {"leipzig-digital", "triangulum"}
    assert [f.code for f in services.fields_of_action.all()] == ["1.1"]
    assert services.status == MeasureStatus.RUNNING
    assert services.progress == 35
    assert services.planned_end == date(2026, 12, 31)
    assert services.actual_start == date(2025, 2, 1)
    assert services.planned_budget == Decimal("250000")
    assert services.spent_budget == Decimal("80000")
    assert services.office is not None and services.office.name == "Ordnungsamt"
    sensors = Measure.objects.get(code="LD-11")
    assert sensors.description == "Luftqualität; Verkehr"
    assert sensors.traffic_light == TrafficLight.YELLOW
    assert sensors.status_reason == "Förderbescheid fehlt noch"
    assert sensors.progress_mode == ProgressMode.ROLLED_UP
    assert sensors.progress == 35  # 70 % of 50 + 30 % of 0
    parts = list(sensors.children.order_by("code"))
    assert [(m.code, m.weight) for m in parts] == [("LD-11.1", 70), ("LD-11.2", 30)]
    assert {s.slug for s in parts[0].strategies.all()} == {"triangulum"}
    new = IndicatorObservation.objects.get(indicator=kpi, period__year=2026)
    assert (new.value, new.provisional, new.note) == (Decimal("52.5"), True, "Hochrechnung")
    assert new.source == ObservationSource.IMPORT
    assert AuditEntry.objects.filter(action="strategy.measure.create").count() == 4


def test_a_second_import_changes_nothing_and_writes_no_audit_entry(
    personas: dict[str, Any], plan: dict[str, Any], kpi: Any
) -> None:
    strategy_import(actor=personas["department"], measures=MEASURES, observations=OBSERVATIONS)
    before, entries = snapshot(), AuditEntry.objects.count()

    again = strategy_import(
        actor=personas["department"], measures=MEASURES, observations=OBSERVATIONS
    )

    assert again.ok and again.imported, reasons(again)
    assert (again.measures.unchanged, again.measures.created, again.measures.updated) == (4, 0, 0)
    assert (again.observations.unchanged, again.observations.created) == (2, 0)
    assert snapshot() == before
    assert AuditEntry.objects.count() == entries


def test_a_comma_separated_windows_file_without_bom_is_read(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    text = (
        ",".join(["external_id", "code", "title", "strategies", "status", "progress"])
        + "\r\nW-1,W-1,Öffentliches WLAN,leipzig-digital,verzögert,20\r\n"
    )
    result = strategy_import(actor=personas["department"], measures=text.encode("cp1252"))
    # delayed without a traffic light is green: no reason needed
    assert result.ok, reasons(result)
    measure = Measure.objects.get(external_id="W-1")
    assert (measure.title, measure.status, measure.progress) == (
        "Öffentliches WLAN",
        MeasureStatus.DELAYED,
        20,
    )


def test_a_changed_row_updates_the_measure_and_keeps_what_the_file_does_not_name(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    ld1 = plan["ld1"]
    ld1.external_id = "XLS-1"
    ld1.save(update_fields=["external_id"])
    data = (
        "external_id;progress;status;traffic_light;reason\r\n"
        "XLS-1;55;verzögert;rot;Fachverfahren fehlt\r\n"
    ).encode()

    result = strategy_import(actor=personas["department"], measures=data)

    assert result.ok and result.measures.updated == 1, reasons(result)
    ld1.refresh_from_db()
    assert (ld1.progress, ld1.status, ld1.traffic_light) == (55, "delayed", TrafficLight.RED)
    assert ld1.responsible == personas["caseworker"]  # not in the file: kept
    assert {s.slug for s in ld1.strategies.all()} == {"leipzig-digital", "triangulum"}
    assert AuditEntry.objects.filter(action="strategy.measure.update").count() == 1


# ---- all or nothing, and every bad row named -------------------------------------------------


def test_one_bad_row_of_three_imports_nothing(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    before, entries = snapshot(), AuditEntry.objects.count()
    data = measures_file(
        measure_line(external_id="A-1", code="A-1"),
        measure_line(external_id="A-2", code="A-2", planned_start="31.02.2026"),
        measure_line(external_id="A-3", code="A-3"),
    )

    result = strategy_import(actor=personas["department"], measures=data)

    assert not result.imported
    assert reasons(result) == [
        (
            3,
            "planned_start",
            "„31.02.2026“ ist kein Datum (Beispiel: 2027-03-15 oder 15.03.2027).",
        )
    ]
    assert (result.measures.created, result.measures.rejected) == (2, 1)
    assert snapshot() == before
    assert AuditEntry.objects.count() == entries


def test_check_only_saves_nothing(personas: dict[str, Any], plan: dict[str, Any]) -> None:
    before = snapshot()
    result = strategy_import(actor=personas["department"], measures=MEASURES, check_only=True)
    assert result.ok and not result.imported
    assert result.measures.created == 4
    assert snapshot() == before


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [measure_line(external_id="XLS-LD1", code="LD-9")],
            (2, "code", "Die externe Kennung „XLS-LD1“ gehört zur Maßnahme „LD-1“"),
        ),
        (
            [measure_line(code="LD-1")],
            (2, "code", "Das Kürzel „LD-1“ hat schon eine andere Maßnahme"),
        ),
        (
            [measure_line(strategies="leipzig-digital|smart-kiez")],
            (2, "strategies", "Eine Strategie mit dem Kürzel „smart-kiez“ gibt es nicht."),
        ),
        (
            [measure_line(fields="1.1|9")],
            (
                2,
                "fields",
                "Das Handlungsfeld „9“ gibt es in den Strategien dieser Maßnahme nicht.",
            ),
        ),
        (
            [measure_line(parent="NIRGENDS", weight="100")],
            (2, "parent", "Eine Maßnahme mit der externen Kennung „NIRGENDS“ gibt es weder"),
        ),
        (
            [measure_line(planned_end="2026-13-01")],
            (2, "planned_end", "„2026-13-01“ ist kein Datum"),
        ),
        (
            [measure_line(progress="120")],
            (2, "progress", "120 % geht nicht: erlaubt sind 0 bis 100 %."),
        ),
        (
            [
                measure_line(external_id="P", code="P"),
                measure_line(external_id="P-1", code="P-1", strategies="", parent="P", weight="60"),
                measure_line(external_id="P-2", code="P-2", strategies="", parent="P", weight="30"),
            ],
            (3, "weight", "Die Gewichte der Teilmaßnahmen von „P“ ergeben 90 %, nicht 100 %."),
        ),
        (
            [measure_line(traffic_light="rot")],
            (2, "reason", "Bitte begründen, warum die Ampel nicht grün ist."),
        ),
        (
            [measure_line(status="erledigt")],
            (2, "status", "„erledigt“ ist kein möglicher Wert"),
        ),
        (
            [measure_line(office="Amt für Träume")],
            (2, "office", "Eine Stelle mit dem Namen „Amt für Träume“ gibt es nicht."),
        ),
        (
            [measure_line(planned_budget="viel")],
            (2, "planned_budget", "„viel“ ist kein Betrag"),
        ),
        (
            [measure_line(), measure_line(code="N-2")],
            (3, "external_id", "Derselbe Schlüssel steht schon in Zeile 2."),
        ),
    ],
)
def test_a_bad_measure_row_is_named_and_nothing_is_saved(
    personas: dict[str, Any], plan: dict[str, Any], lines: list[str], expected: tuple[Any, ...]
) -> None:
    ld1 = plan["ld1"]
    ld1.external_id = "XLS-LD1"
    ld1.save(update_fields=["external_id"])
    before = snapshot()

    result = strategy_import(actor=personas["department"], measures=measures_file(*lines))

    assert not result.imported
    line, column, start = expected
    assert any(
        error.line == line and error.column == column and error.reason.startswith(start)
        for error in result.errors
    ), reasons(result)
    assert snapshot() == before


def test_the_weights_of_a_parent_count_its_stored_sub_measures(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    """LD-2 has LD-2.1 (60 %) and LD-2.2 (40 %): a third sub-measure breaks the sum."""
    ld2 = plan["ld2"]
    ld2.external_id = "XLS-2"
    ld2.save(update_fields=["external_id"])
    data = measures_file(
        measure_line(external_id="X-3", code="LD-2.3", parent="XLS-2", weight="10", strategies="")
    )

    result = strategy_import(actor=personas["department"], measures=data)

    assert reasons(result) == [
        (2, "weight", "Die Gewichte der Teilmaßnahmen von „XLS-2“ ergeben 110 %, nicht 100 %.")
    ]
    assert not Measure.objects.filter(code="LD-2.3").exists()


def test_a_parent_must_come_before_its_sub_measures(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    data = measures_file(
        measure_line(external_id="C-1", code="C-1", strategies="", parent="C", weight="100"),
        measure_line(external_id="C", code="C"),
    )
    result = strategy_import(actor=personas["department"], measures=data)
    assert (2, "parent") in [(line, column) for line, column, _reason in reasons(result)]
    assert "erst weiter unten" in result.errors[0].reason
    assert not Measure.objects.filter(code__in=["C", "C-1"]).exists()


def test_files_that_are_not_csv_or_too_large_are_refused(personas: dict[str, Any]) -> None:
    for data, message in (
        (b"PK\x03\x04 workbook", "Excel-Datei"),
        (b"a\x00b\x00", "keine CSV-Datei"),
        (b"x" * (5 * 1024 * 1024 + 1), "größer als 5 MB"),
        (b"name;title\r\nA;B\r\n", "„external_id“"),
    ):
        result = strategy_import(actor=personas["department"], measures=data)
        assert not result.ok
        assert message in result.file_errors[0].message


# ---- observations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "start"),
    [
        ("KPI-NIRGENDS;2026;50;%;;", "indicator", "Eine Kennzahl mit der externen Kennung"),
        ("KPI-ONLINE;2026;50;Tage;;", "unit", "Falsche Einheit"),
        ("KPI-ONLINE;30.02.2026;50;%;;", "period", "„30.02.2026“ ist kein Zeitraum"),
        ("KPI-ONLINE;2026;fünfzig;%;;", "value", "„fünfzig“ ist keine Zahl"),
        ("KPI-ONLINE;2026;50;%;vielleicht;", "provisional", "„vielleicht“ ist weder ja noch nein"),
    ],
)
def test_a_bad_observation_row_is_named_and_nothing_is_saved(
    personas: dict[str, Any], kpi: Any, line: str, column: str, start: str
) -> None:
    before = snapshot()
    data = observations_file("KPI-ONLINE;2027;60;%;ja;", line)

    result = strategy_import(actor=personas["department"], observations=data)

    assert not result.imported
    assert [(e.line, e.column) for e in result.errors] == [(3, column)], reasons(result)
    assert result.errors[0].reason.startswith(start), reasons(result)
    assert snapshot() == before


def test_a_changed_value_is_corrected_with_the_reason_csv_import(
    personas: dict[str, Any], kpi: Any
) -> None:
    data = observations_file("KPI-ONLINE;2024-06-30;33,5;%;nein;", "KPI-ONLINE;2023;12;;;")

    result = strategy_import(actor=personas["department"], observations=data)

    assert result.ok, reasons(result)
    assert (result.observations.updated, result.observations.unchanged) == (1, 1)
    observation = IndicatorObservation.objects.get(indicator=kpi, period__year=2024)
    assert observation.value == Decimal("33.5")
    correction = ObservationCorrection.objects.get(observation=observation)
    assert (correction.value_before, correction.reason) == (Decimal("31"), "CSV-Import")


def test_the_same_period_twice_in_a_file_is_refused(personas: dict[str, Any], kpi: Any) -> None:
    data = observations_file("KPI-ONLINE;2026;50;%;;", "KPI-ONLINE;2026-07-01;51;%;;")
    result = strategy_import(actor=personas["department"], observations=data)
    assert reasons(result) == [
        (3, "period", "Den Wert dieser Kennzahl für diesen Zeitraum nennt schon Zeile 2.")
    ]


# ---- the command -----------------------------------------------------------------------------


def test_the_command_imports_and_prints_a_summary(
    tmp_path: Path, plan: dict[str, Any], kpi: Any
) -> None:
    out = io.StringIO()

    call_command(
        "import-strategy",
        measures=DATA / "measures.csv",
        observations=DATA / "observations.csv",
        actor=STAFF,
        stdout=out,
    )

    text = out.getvalue()
    assert "measures: 4 created, 0 updated, 0 unchanged, 0 rejected" in text
    assert "observations: 1 created, 0 corrected, 1 unchanged, 0 rejected" in text
    assert "imported" in text
    out = io.StringIO()
    call_command("import-strategy", measures=DATA / "measures.csv", actor=STAFF, stdout=out)
    assert "measures: 0 created, 0 updated, 4 unchanged, 0 rejected" in out.getvalue()


def test_the_command_fails_on_a_wrong_row_and_names_it(
    tmp_path: Path, plan: dict[str, Any]
) -> None:
    path = tmp_path / "measures.csv"
    path.write_bytes(measures_file(measure_line(progress="101")))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="nothing imported") as failure:
        call_command("import-strategy", measures=path, actor=STAFF, stdout=out, stderr=err)

    assert failure.value.returncode == 1
    assert "measures: 1 created, 0 updated, 0 unchanged, 1 rejected" not in out.getvalue()
    assert "measures: 0 created, 0 updated, 0 unchanged, 1 rejected" in out.getvalue()
    assert "Zeile 2, Spalte „progress“: 101 % geht nicht" in err.getvalue()
    assert not Measure.objects.filter(code="N-1").exists()


def test_the_command_needs_a_staff_account_for_measures(
    tmp_path: Path, plan: dict[str, Any], kpi: Any
) -> None:
    with pytest.raises(CommandError, match="give --actor"):
        call_command("import-strategy", measures=DATA / "measures.csv", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not department staff"):
        call_command(
            "import-strategy",
            measures=DATA / "measures.csv",
            actor="cw1@example.org",
            stdout=io.StringIO(),
        )
    out = io.StringIO()
    call_command("import-strategy", observations=DATA / "observations.csv", stdout=out)
    assert "observations: 1 created, 0 corrected, 1 unchanged, 0 rejected" in out.getvalue()
    assert not Measure.objects.filter(code="LD-10").exists()


def test_the_command_check_saves_nothing(tmp_path: Path, plan: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command(
        "import-strategy", measures=DATA / "measures.csv", check=True, actor=STAFF, stdout=out
    )
    assert "measures: 4 created" in out.getvalue()
    assert "checked only: nothing saved" in out.getvalue()
    assert not Measure.objects.filter(code="LD-10").exists()


# ---- the staff page --------------------------------------------------------------------------


def upload(kind: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "file": SimpleUploadedFile(f"{kind}.csv", data), **extra}


def test_staff_import_a_file_on_the_page(staff_client: Client, plan: dict[str, Any]) -> None:
    address = reverse("strategy:csv_import")
    assert staff_client.get(address).status_code == 200

    answer = staff_client.post(address, upload("measures", MEASURES))

    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Der Import ist gespeichert." in page
    assert Measure.objects.filter(code="LD-11.2", parent__code="LD-11").exists()


def test_the_page_lists_the_wrong_rows_and_saves_nothing(
    staff_client: Client, plan: dict[str, Any]
) -> None:
    data = measures_file(
        measure_line(external_id="Z-1", code="Z-1"),
        measure_line(external_id="Z-2", code="Z-2", strategies="gibt-es-nicht"),
    )
    answer = staff_client.post(reverse("strategy:csv_import"), upload("measures", data))

    page = answer.content.decode()
    assert answer.status_code == 422
    assert "Nicht importiert" in page
    assert '<th class="kern-table__cell" scope="row">3</th>' in page
    assert "Eine Strategie mit dem Kürzel „gibt-es-nicht“ gibt es nicht." in page
    assert not Measure.objects.filter(code__startswith="Z-").exists()


def test_the_page_only_checks_when_asked(
    staff_client: Client, plan: dict[str, Any], kpi: Any
) -> None:
    answer = staff_client.post(
        reverse("strategy:csv_import"), upload("observations", OBSERVATIONS, check_only="on")
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Ergebnis der Prüfung: nichts gespeichert" in page
    assert not IndicatorObservation.objects.filter(period__year=2026).exists()


def test_the_page_explains_a_file_it_cannot_read(
    staff_client: Client, plan: dict[str, Any]
) -> None:
    address = reverse("strategy:csv_import")
    excel = staff_client.post(address, upload("measures", b"PK\x03\x04 workbook"))
    assert excel.status_code == 422
    assert "Das ist eine Excel-Datei" in excel.content.decode()
    too_large = staff_client.post(address, upload("measures", b"x" * (5 * 1024 * 1024 + 1)))
    assert too_large.status_code == 422
    assert "größer als 5 MB" in too_large.content.decode()
    utf16 = staff_client.post(address, upload("measures", MEASURES.decode().encode("utf-16")))
    assert utf16.status_code == 422
    assert "Binärdaten oder UTF-16" in utf16.content.decode()
    missing = staff_client.post(address, {"kind": "measures"})
    assert missing.status_code == 422
    assert "Bitte eine CSV-Datei wählen." in missing.content.decode()


def test_the_page_needs_the_csrf_token(personas: dict[str, Any], plan: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["department"])
    answer = client.post(reverse("strategy:csv_import"), upload("measures", MEASURES))
    assert answer.status_code == 403
    assert not Measure.objects.filter(code="LD-10").exists()
    assert (
        'name="csrfmiddlewaretoken"' in client.get(reverse("strategy:csv_import")).content.decode()
    )


def test_only_department_staff_may_import(
    responsible_client: Client, personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    address = reverse("strategy:csv_import")
    assert responsible_client.get(address).status_code == 403
    assert responsible_client.post(address, upload("measures", MEASURES)).status_code == 403
    anonymous = Client().post(address, upload("measures", MEASURES))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert not Measure.objects.filter(code="LD-10").exists()


def test_new_weights_of_a_rolled_up_parent_are_set_together(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    """LD-2 rolls up LD-2.1 (60 %, 50 % done) and LD-2.2 (40 %, 0 %): the file moves the
    weights to 50/50 and LD-2.2 to 20 %; in between they would not add up to 100."""
    for measure, key in ((plan["ld2"], "X-2"), *zip(plan["subs"], ("X-21", "X-22"), strict=True)):
        measure.external_id = key
        measure.save(update_fields=["external_id"])
    data = b"external_id;weight;progress\r\nX-21;50;50\r\nX-22;50;20\r\n"

    result = strategy_import(actor=personas["department"], measures=data)

    assert result.ok and result.measures.updated == 2, reasons(result)
    assert [
        (m.weight, m.progress) for m in Measure.objects.filter(parent=plan["ld2"]).order_by("code")
    ] == [(50, 50), (50, 20)]
    plan["ld2"].refresh_from_db()
    assert plan["ld2"].progress == 35
    entries = AuditEntry.objects.count()
    again = strategy_import(actor=personas["department"], measures=data)
    assert again.measures.unchanged == 2 and AuditEntry.objects.count() == entries


def test_sub_measures_of_stored_measures_are_created(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    """LD-1 (progress entered, no sub-measures yet) gets one at 100 %; the rolled-up LD-2
    (60/40) gets a third at 0 %, which keeps its weights at 100 %."""
    for measure, key in ((plan["ld1"], "XLS-1"), (plan["ld2"], "XLS-2")):
        measure.external_id = key
        measure.save(update_fields=["external_id"])
    data = measures_file(
        measure_line(external_id="S-1", code="LD-1.1", strategies="", parent="XLS-1", weight="100"),
        measure_line(external_id="S-2", code="LD-2.3", strategies="", parent="xls-2", weight="0"),
    )

    result = strategy_import(actor=personas["department"], measures=data)

    assert result.ok and result.measures.created == 2, reasons(result)
    first = Measure.objects.get(code="LD-1.1")
    assert (first.parent, first.weight) == (plan["ld1"], 100)
    assert {s.slug for s in first.strategies.all()} == {"leipzig-digital", "triangulum"}
    third = Measure.objects.get(code="LD-2.3")
    assert (third.parent, third.weight) == (plan["ld2"], 0)
    plan["ld2"].refresh_from_db()
    assert plan["ld2"].progress == 30


def test_an_empty_status_or_progress_keeps_the_stored_value(
    personas: dict[str, Any], plan: dict[str, Any]
) -> None:
    ld3 = plan["ld3"]
    ld3.external_id = "XLS-3"
    ld3.save(update_fields=["external_id"])
    data = b"external_id;status;traffic_light;progress;title\r\nXLS-3;;;;Digitaler Zwilling\r\n"

    result = strategy_import(actor=personas["department"], measures=data)

    assert result.ok and result.measures.unchanged == 1, reasons(result)
    ld3.refresh_from_db()
    assert (ld3.status, ld3.traffic_light, ld3.progress) == ("delayed", "yellow", 10)


def test_a_weight_needs_a_parent(personas: dict[str, Any], plan: dict[str, Any]) -> None:
    result = strategy_import(
        actor=personas["department"], measures=measures_file(measure_line(weight="50"))
    )
    assert reasons(result) == [
        (2, "weight", "Nur eine Teilmaßnahme hat ein Gewicht (Spalte „parent“).")
    ]
