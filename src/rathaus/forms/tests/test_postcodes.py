"""A German postcode fills in its place: from the GeoNames-format list, on the server when a
step is sent (JavaScript off) and live as the person types (the JSON the page asks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from pydantic import ValidationError

from rathaus.forms.definition import FormDefinition
from rathaus.forms.fim import parse_file
from rathaus.forms.models import FormDraft, PostalPlace
from rathaus.forms.postcodes import LEIPZIG_FILE
from rathaus.forms.selectors import places_for_postcode
from rathaus.forms.services import draft_data, postcodes_import

SHARED = Path(__file__).resolve().parents[5] / "shared" / "data"
pytestmark = pytest.mark.django_db


def test_import_keeps_good_lines_and_names_each_bad_one(tmp_path: Path) -> None:
    source = tmp_path / "DE.txt"
    source.write_text(
        "DE\t01067\tDresden\tSachsen\tSN\n"
        "DE\t99998\tKörner\tThüringen\tTH\n"
        "DE\t99998\tWeinbergen\tThüringen\tTH\n"
        "AT\t1010\tWien\n"
        "DE\t1234\tZu kurz\n"
        "DE\t04109\n"
        "\n",
        encoding="utf-8",
    )
    report = postcodes_import(path=source)
    assert (report.read, report.created, len(report.skipped), len(report.rejected)) == (7, 3, 2, 2)
    assert [line for line, _reason in report.rejected] == [5, 6]
    assert "5-digit" in report.rejected[0][1] and "3 Spalten" in report.rejected[1][1]
    assert places_for_postcode("99998") == ["Körner", "Weinbergen"]
    again = postcodes_import(path=source)
    assert (again.created, again.unchanged) == (0, 3) and PostalPlace.objects.count() == 3


def test_a_file_that_is_not_utf8_imports_nothing(tmp_path: Path) -> None:
    source = tmp_path / "DE.txt"
    source.write_bytes(b"DE\t01067\tDresden\nDE\t04109\tLeipzig \xe4\xff\xfe\n")
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("import-postcodes", str(source))
    assert not PostalPlace.objects.exists()
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("import-postcodes", str(tmp_path / "missing.txt"))


def test_leipzigs_list_covers_every_postcode_in_the_citys_open_data() -> None:
    call_command("import-postcodes")
    turtle = (SHARED / "leipzig" / "Stadtverwaltung.ttl").read_text(encoding="utf-8")
    in_open_data = set(re.findall(r"/Data/(\d{5})\.Leipzig\.", turtle))
    assert len(in_open_data) >= 5
    assert all(places_for_postcode(code) == ["Leipzig"] for code in in_open_data)
    assert places_for_postcode("0410") == [] and places_for_postcode("abcde") == []


def test_the_page_asks_for_the_place_and_gets_json(client: Client) -> None:
    postcodes_import(path=LEIPZIG_FILE)
    assert client.get("/formulare/orte/", {"plz": "04317"}).json() == {
        "postcode": "04317",
        "places": ["Leipzig"],
    }
    assert client.get("/formulare/orte/", {"plz": "<b>"}).json()["places"] == []


@pytest.fixture
def hund(client: Client) -> Client:
    from rathaus.forms.demo import load_demo_forms

    postcodes_import(path=LEIPZIG_FILE)
    load_demo_forms()
    client.post("/formulare/hund-anmelden/beginnen/")
    return client


STEP1 = {"vorname": "Erika", "familienname": "Mustermann", "strasse": "Markt 1"}


def test_without_javascript_the_server_fills_in_the_place(hund: Client) -> None:
    page = hund.get("/formulare/hund-anmelden/schritt/1/").content.decode()
    assert 'data-place-target="ort"' in page and 'autocomplete="address-level2"' in page
    response = hund.post("/formulare/hund-anmelden/schritt/1/", {**STEP1, "plz": "04109"})
    assert response.status_code == 302
    assert draft_data(FormDraft.objects.get())["ort"] == "Leipzig"


def test_the_place_someone_typed_wins_and_an_unknown_postcode_asks_for_it(hund: Client) -> None:
    hund.post("/formulare/hund-anmelden/schritt/1/", {**STEP1, "plz": "04109", "ort": "Lpz."})
    assert draft_data(FormDraft.objects.get())["ort"] == "Lpz."
    unknown = hund.post("/formulare/hund-anmelden/schritt/1/", {**STEP1, "plz": "99999"})
    assert unknown.status_code == 422 and 'href="#ort"' in unknown.content.decode()
    # a page that comes back with errors shows the place that was filled in
    other_error = hund.post(
        "/formulare/hund-anmelden/schritt/1/", {**STEP1, "plz": "04109", "vorname": ""}
    )
    assert other_error.status_code == 422 and 'value="Leipzig"' in other_error.content.decode()


def test_fim_address_groups_link_postcode_and_place() -> None:
    definition, _report = parse_file(
        SHARED / "fim" / "xdf2" / "bewohnerparken" / "S05000058V1.0_xdf2.xml"
    )
    postcodes = [f for f in _fields(definition) if f.fim_id == "F00000054"]
    assert postcodes and all(f.type == "postcode" and f.place_field for f in postcodes)
    places = {f.id: f for f in _fields(definition)}
    assert all(places[f.place_field or ""].label.de == "Ort" for f in postcodes)


def test_a_place_field_must_be_a_text_field_beside_the_postcode() -> None:
    step = {
        "id": "s",
        "title": {"de": "S"},
        "items": [
            {
                "kind": "field",
                "id": "plz",
                "type": "postcode",
                "label": {"de": "PLZ"},
                "place_field": "ort",
            },
            {
                "kind": "group",
                "id": "g",
                "label": {"de": "G"},
                "items": [{"kind": "field", "id": "ort", "type": "text", "label": {"de": "Ort"}}],
            },
        ],
    }
    with pytest.raises(ValidationError, match="same group"):
        FormDefinition.model_validate({"title": {"de": "T"}, "steps": [step]})


def _fields(definition: FormDefinition) -> list:  # type: ignore[type-arg]
    from rathaus.forms.definition import fields_of

    return fields_of(definition)
