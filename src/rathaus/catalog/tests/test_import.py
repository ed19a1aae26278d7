from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rathaus.catalog.models import Service
from rathaus.catalog.services import leika_import
from rathaus.core.models import AuditEntry

pytestmark = pytest.mark.django_db

HEADER = "leika_key,name,leika_type,legal_basis,law_shortcuts,ozg_id,ozg_name,lebenslage,themenfeld,description\n"
GOOD = (
    "99999999900001,Testleistung Erteilung,4,§ 1 TestG,TestG,19999,Testen,Wohnen & Umzug,Bauen & Wohnen,\n"
    '99999999900002,"Zweite Leistung, mit Komma",2/3,,,,,Tod,Familie & Kind,"Zeile eins\nZeile zwei"\n'
)


def _csv(tmp_path: Path, body: str, name: str = "leika.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + body).encode(encoding))
    return path


def _run(path: Path) -> str:
    out = StringIO()
    call_command("import-leika", str(path), stdout=out)
    return out.getvalue()


def test_import_creates_services_with_urn_and_life_situation(tmp_path: Path) -> None:
    output = _run(_csv(tmp_path, GOOD))
    service = Service.objects.get(leika_key="99999999900001")
    assert service.urn == "urn:de:fim:leika:leistung:99999999900001"
    assert service.life_situation.name == "Wohnen & Umzug"  # type: ignore[union-attr]
    assert service.topic.name == "Bauen & Wohnen"  # type: ignore[union-attr]
    assert Service.objects.get(leika_key="99999999900002").description == "Zeile eins\nZeile zwei"
    assert "2 read, 2 created" in output
    assert AuditEntry.objects.filter(action="catalog.import").exists()


def test_second_import_changes_nothing_and_says_so(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD)
    _run(path)
    output = _run(path)
    assert "0 created, 0 updated, 2 unchanged" in output
    assert "nothing to change" in output


def test_changed_rows_are_updated(tmp_path: Path) -> None:
    _run(_csv(tmp_path, GOOD))
    output = _run(
        _csv(tmp_path, GOOD.replace("Testleistung Erteilung", "Testleistung Ausstellung"), "v2.csv")
    )
    assert "1 updated" in output
    assert Service.objects.get(leika_key="99999999900001").name == "Testleistung Ausstellung"


def test_bad_rows_are_reported_with_line_numbers_and_the_rest_imported(tmp_path: Path) -> None:
    body = (
        GOOD
        + "12345,Zu kurzer Schlüssel,4,,,,,,,\n"  # line 5
        + "99999999900003,,4,,,,,,,\n"  # line 6: no name
        + "99999999900004,Zu wenige Felder\n"  # line 7
        + "99999999900001,Doppelt,4,,,,,,,\n"  # line 8: duplicate key
        + "99999999900005,Gültig am Ende,5,,,,,,,\n"  # line 9
    )
    report = leika_import(path=_csv(tmp_path, body))
    reasons = dict(report.rejected)
    assert "bad LeiKa key" in reasons[5]
    assert "missing name" in reasons[6]
    assert "expected 10 fields, found 2" in reasons[7]
    assert "duplicate key" in reasons[8] and "line 2" in reasons[8]
    assert Service.objects.filter(leika_key="99999999900005").exists()
    assert report.created == 3


def test_a_line_in_another_encoding_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        HEADER.encode()
        + GOOD.encode()
        + "99999999900006,Straßenfest Genehmigung,4,,,,,,,\n".encode("latin-1")
    )
    report = leika_import(path=path)
    assert report.rejected[0][0] == 5
    assert "not UTF-8" in report.rejected[0][1]
    assert report.created == 2


def test_a_file_without_the_columns_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("key;name\n1;2\n")
    with pytest.raises(CommandError, match="Spalten fehlen"):
        _run(path)
    with pytest.raises(CommandError, match="nicht gelesen"):
        _run(tmp_path / "missing.csv")


def test_broken_csv_lines_are_reported_with_their_number(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(
        HEADER.encode()
        + GOOD.encode()
        + b"99999999900007,Mit \x00 darin,4,,,,,,,\n"  # line 5
        + b'99999999900008,"offenes Anfuehrungszeichen,4,,,,,,,\n'  # line 6, never closed
    )
    report = leika_import(path=path)
    assert report.created == 2
    reasons = dict(report.rejected)
    assert "NUL" in reasons[5]
    assert "unclosed quote" in reasons[6]


def test_ozg_maturity_is_the_first_criterion_not_met(tmp_path: Path) -> None:
    from rathaus.catalog.constants import OzgMaturity

    leika_import(path=_csv(tmp_path, GOOD))
    services = Service.objects.filter(leika_key="99999999900001")
    assert services.get().ozg_maturity == OzgMaturity.INFORMATION
    services.update(online_form=True, online_submission=True)
    assert services.get().ozg_maturity == OzgMaturity.ONLINE
    services.update(online_form=False, online_decision=True)  # a gap: the lowest decides
    assert services.get().ozg_maturity == OzgMaturity.INFORMATION
    services.update(online_form=True)
    assert services.get().ozg_maturity == OzgMaturity.FULLY_DIGITAL


def test_an_unclosed_quote_does_not_swallow_the_following_rows(tmp_path: Path) -> None:
    body = (
        '99999999900010,"Kaputt ohne Ende,4,,,,,,,\n'  # line 2: the quote never closes
        "99999999900011,Gut A,4,,,,,,,\n"  # line 3
        "99999999900012,Gut B,4,,,,,,,\n"  # line 4
    )
    report = leika_import(path=_csv(tmp_path, body))
    assert report.rejected[0][0] == 2 and "unclosed quote" in report.rejected[0][1]
    assert set(
        Service.objects.filter(leika_key__startswith="999999999000").values_list("name", flat=True)
    ) >= {"Gut A", "Gut B"}


def test_a_bad_byte_inside_a_multi_line_field_rejects_only_that_record(tmp_path: Path) -> None:
    path = tmp_path / "bad-byte.csv"
    path.write_bytes(
        HEADER.encode()
        + b'99999999900013,Zweizeilig,4,,,,,,,"erste Zeile\nzwei\xdfte Zeile"\n'  # lines 2-3
        + b"99999999900014,Danach gut,4,,,,,,,\n"  # line 4
    )
    report = leika_import(path=path)
    assert report.rejected == [(2, "not UTF-8 (line 3); save the file as UTF-8")]
    assert Service.objects.filter(leika_key="99999999900014").exists()


def test_life_situations_differing_only_in_case_are_one(tmp_path: Path) -> None:
    body = (
        "99999999900015,Eins,4,,,,,Wohnen & Umzug,,\n99999999900016,Zwei,4,,,,,Wohnen & umzug,,\n"
    )
    report = leika_import(path=_csv(tmp_path, body))
    assert report.created == 2 and not report.rejected
    one, two = Service.objects.filter(leika_key__in=["99999999900015", "99999999900016"]).order_by(
        "leika_key"
    )
    assert one.life_situation_id == two.life_situation_id
