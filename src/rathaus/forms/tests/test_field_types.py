"""Server-side checks per field type, in plain words, with German formats accepted."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from rathaus.forms import rendering
from rathaus.forms.definition import FieldSpec, FormDefinition, Text
from rathaus.forms.validation import StepResult, clean_field, clean_items, iban_valid

DEFINITION = FormDefinition.model_validate(
    {
        "title": {"de": "T"},
        "steps": [
            {
                "id": "s",
                "title": {"de": "S"},
                "items": [
                    {
                        "kind": "field",
                        "id": "urlaub",
                        "type": "daterange",
                        "label": {"de": "Zeitraum"},
                        "required": True,
                    },
                ],
            }
        ],
    }
)


def spec(kind: str, **extra: object) -> FieldSpec:
    return FieldSpec(id="f", type=kind, label=Text(de="Feld"), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("number", "1.234", 1234),
        ("decimal", "12,5", "12.5"),
        ("money", "1.234,50 €", "1234.50"),
        ("date", "24.12.2026", "2026-12-24"),
        ("date", "2026-12-24", "2026-12-24"),
        ("email", "a@b.de", "a@b.de"),
        ("iban", "de02 1203 0000 0000 2020 51", "DE02120300000000202051"),
        ("postcode", "04109", "04109"),
        ("yesno", "ja", True),
        ("phone", "+49 341 123-456", "+49 341 123-456"),
    ],
)
def test_values_are_cleaned(kind: str, raw: str, value: object) -> None:
    assert clean_field(spec(kind), raw, DEFINITION) == (value, None)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("number", "drei"),
        ("money", "12,345"),
        ("date", "31.02.2026"),
        ("email", "a@b"),
        ("iban", "DE02120300000000202052"),
        ("postcode", "4109"),
        ("yesno", "vielleicht"),
        ("text", "a\x00b"),
    ],
)
def test_wrong_values_get_a_message(kind: str, raw: str) -> None:
    value, error = clean_field(spec(kind), raw, DEFINITION)
    assert value is None and error


def test_iban_check_digits() -> None:
    assert iban_valid("DE02120300000000202051")
    assert not iban_valid("DE03120300000000202051")


def test_a_date_range_is_two_dates_in_order_and_shown_again_as_typed() -> None:
    good = StepResult()
    clean_items(
        DEFINITION.steps[0].items,
        QueryDict("urlaub__from=01.07.2026&urlaub__to=14.07.2026"),
        {},
        DEFINITION,
        good,
    )
    assert good.values == {"urlaub": {"from": "2026-07-01", "to": "2026-07-14"}} and not good.errors
    backwards = StepResult()
    clean_items(
        DEFINITION.steps[0].items,
        QueryDict("urlaub__from=14.07.2026&urlaub__to=01.07.2026"),
        {},
        DEFINITION,
        backwards,
    )
    assert "vor dem Beginn" in backwards.errors["urlaub"]
    nodes = rendering.build(DEFINITION.steps[0].items, DEFINITION, good.values, None, {}, {})
    assert nodes[0]["value"] == {"from": "01.07.2026", "to": "14.07.2026"}
