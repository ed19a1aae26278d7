"""FIM XDatenfelder import and the JSON Schema of its submissions, on the real demo schemas."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rathaus.forms.constants import VersionStatus
from rathaus.forms.definition import FormDefinition, fields_of
from rathaus.forms.fim import FimImportError, parse_bytes, parse_file
from rathaus.forms.models import Form, FormVersion
from rathaus.forms.schema import json_schema, validation_errors
from rathaus.forms.services import (
    PublishedVersionError,
    form_draft_save,
    form_import_fim,
    form_version_publish,
)

FIM = Path(__file__).resolve().parents[5] / "shared" / "data" / "fim"  # ../shared beside the repo
PARKING = FIM / "xdf2" / "bewohnerparken" / "S05000058V1.0_xdf2.xml"
TRADE = FIM / "xdf2" / "gewerbeanmeldung" / "S00000009_xdatenfelder.xml"


def test_bewohnerparkausweis_imports_all_33_fields_with_its_code_lists() -> None:
    definition, report = parse_file(PARKING)
    assert (report.schema_id, report.fields) == ("S05000058", 33)
    assert (
        len(fields_of(definition))
        + sum(1 for s in definition.steps for i in s.items if i.kind == "text")
        >= 31
    )
    assert report.codelists == 6
    choice = next(f for f in fields_of(definition) if f.type == "choice")
    assert definition.codelists[choice.codelist or ""].items  # options from the genericode file
    consent = next(f for f in fields_of(definition) if f.type == "consent")
    assert consent.required
    # the two free-text rules are reported, not silently dropped
    assert {fim_id for fim_id, _ in report.unmapped} == {"R05000281", "R05000334"}


def test_gewerbeanmeldung_imports_all_132_fields_and_reports_missing_code_lists() -> None:
    definition, report = parse_file(TRADE)
    assert (report.schema_id, report.fields, report.groups) == ("S00000009", 132, 54)
    missing = [reason for _, reason in report.unmapped if "fehlt" in reason]
    assert any("C00000013" in reason for reason in missing)  # Rechtsformen
    ids = [item.id for step in definition.steps for item in step.items]
    assert len(ids) == len(set(ids))
    assert definition.source == "FIM S00000009 V"


def test_cardinalities_become_required_optional_and_repeatable() -> None:
    definition, _ = parse_file(TRADE)
    schema = json_schema(definition)
    repeatable = [k for k, v in schema["properties"].items() if v.get("type") == "array"]
    assert repeatable  # 0:* and 1:* groups
    assert schema["required"]
    optional = set(schema["properties"]) - set(schema["required"])
    assert optional


HAND_WRITTEN = {
    "title": {"de": "Hund anmelden"},
    "steps": [
        {
            "id": "hund",
            "title": {"de": "Ihr Hund"},
            "items": [
                {
                    "kind": "field",
                    "id": "name",
                    "type": "text",
                    "label": {"de": "Name des Hundes"},
                    "required": True,
                    "max_length": 30,
                },
                {
                    "kind": "field",
                    "id": "rasse",
                    "type": "choice",
                    "codelist": "rassen",
                    "label": {"de": "Rasse"},
                    "required": True,
                    "widget": "select",
                },
                {"kind": "field", "id": "geburt", "type": "date", "label": {"de": "Geboren am"}},
                {
                    "kind": "field",
                    "id": "plz",
                    "type": "postcode",
                    "label": {"de": "PLZ"},
                    "required": True,
                },
                {"kind": "field", "id": "iban", "type": "iban", "label": {"de": "IBAN"}},
                {"kind": "field", "id": "betrag", "type": "money", "label": {"de": "Betrag"}},
                {
                    "kind": "field",
                    "id": "zustimmung",
                    "type": "consent",
                    "label": {"de": "Ich stimme zu"},
                    "required": True,
                },
                {
                    "kind": "group",
                    "id": "halter",
                    "label": {"de": "Weitere Halter"},
                    "repeat": {"min": 0, "max": 3},
                    "required": False,
                    "items": [
                        {
                            "kind": "field",
                            "id": "halter_name",
                            "type": "text",
                            "label": {"de": "Name"},
                            "required": True,
                        }
                    ],
                },
            ],
        }
    ],
    "codelists": {
        "rassen": {
            "title": {"de": "Rassen"},
            "items": [
                {"code": "dackel", "label": {"de": "Dackel"}},
                {"code": "pudel", "label": {"de": "Pudel"}},
            ],
        }
    },
}


def test_the_schema_accepts_a_complete_submission_and_rejects_forgeries() -> None:
    definition = FormDefinition.model_validate(HAND_WRITTEN)
    schema = json_schema(definition)
    good = {
        "name": "Bello",
        "rasse": "dackel",
        "plz": "04109",
        "zustimmung": True,
        "halter": [{"halter_name": "Eva"}],
        "iban": "DE02120300000000202051",
    }
    assert validation_errors("dog-test", schema, good) == []
    for bad in (
        {**good, "erfunden": "extra"},  # an extra field
        {**good, "rasse": "wolf"},  # a forged choice
        {**good, "name": "x" * 31},  # too long
        {**good, "name": 12},  # wrong type
        {k: v for k, v in good.items() if k != "plz"},  # a required field missing
        {**good, "zustimmung": False},  # consent not given
        {**good, "halter": [{"halter_name": "A"}] * 4},  # more than the group allows
        {**good, "geburt": "26.11.2026"},  # not an ISO date
    ):
        assert validation_errors("dog-test", schema, bad), bad


def test_a_definition_with_broken_references_is_refused() -> None:
    from pydantic import ValidationError

    broken = {**HAND_WRITTEN, "codelists": {}}
    with pytest.raises(ValidationError, match="unknown code list"):
        FormDefinition.model_validate(broken)


def test_the_fim_schemas_require_their_mandatory_fields_and_nothing_unknown() -> None:
    for path in (PARKING, TRADE):
        definition, _ = parse_file(path)
        schema = json_schema(definition)
        assert validation_errors(str(path), schema, {})  # mandatory fields missing
        assert any(
            "erfunden" in message
            for _, message in validation_errors(str(path), schema, {"erfunden": 1})
        )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<not-xml", "XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "Sicherheitsgründen"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "Sicherheitsgründen",
        ),
        (
            b'<x:xdatenfelder.stammdatenschema.0102 xmlns:x="urn:xoev-de:fim:standard:xdatenfelder_3.0.0"/>',
            "3.0.0",
        ),
        (b'<x:other xmlns:x="urn:example"/>', "Stammdatenschema"),
        (
            b'<x:xdatenfelder.stammdatenschema.0102 xmlns:x="urn:xoev-de:fim:standard:xdatenfelder_2"/>',
            "Schema",
        ),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(raw: bytes, message: str) -> None:
    with pytest.raises(FimImportError, match=message):
        parse_bytes(raw)


@pytest.mark.django_db
def test_import_command_makes_a_draft_and_a_broken_file_writes_nothing(tmp_path: Path) -> None:
    out = StringIO()
    call_command("import-fim", str(PARKING), "--slug", "bewohnerparken", stdout=out)
    version = FormVersion.objects.get(form__slug="bewohnerparken")
    assert version.status == VersionStatus.DRAFT and version.number == 1
    assert "33 fields" in out.getvalue() and "not mapped R05000281" in out.getvalue()
    broken = tmp_path / "broken.xml"
    broken.write_bytes(PARKING.read_bytes()[:5000])
    with pytest.raises(CommandError, match="XML"):
        call_command("import-fim", str(broken), "--slug", "kaputt", stdout=StringIO())
    assert not Form.objects.filter(slug="kaputt").exists()


@pytest.mark.django_db
def test_a_published_version_is_immutable_and_a_new_draft_gets_the_next_number() -> None:
    version, _ = form_import_fim(path=PARKING, slug="bewohnerparken")
    published = form_version_publish(version=version, actor=None)
    assert published.published_at is not None
    with pytest.raises(PublishedVersionError):
        form_version_publish(version=published, actor=None)
    definition = FormDefinition.model_validate(published.definition)
    draft = form_draft_save(form=published.form, definition=definition, actor=None)
    assert draft.number == 2 and draft.status == VersionStatus.DRAFT
    published.refresh_from_db()
    assert (
        published.status == VersionStatus.PUBLISHED and published.definition == version.definition
    )
