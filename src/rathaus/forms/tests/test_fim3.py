"""XDatenfelder 3.0.0: the Bewohnerparkausweis converted to 3.0.0 (tests/data/xdf3, checked
against the official XSD) imports to the same form as the 2.0 original, plus what only 3.0.0
says (inline values, code-list columns, file size and types). And groups nested too deep."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from rathaus.forms.definition import FieldSpec, fields_of
from rathaus.forms.fim import MAX_DEPTH, NS2, FimImportError, parse_bytes, parse_file

DATA = Path(__file__).resolve().parent / "data" / "xdf3"
PARKING3 = DATA / "S05000058V1.0_xdf3.xml"
PARKING2 = (
    Path(__file__).resolve().parents[5]
    / "shared"
    / "data"
    / "fim"
    / "xdf2"
    / "bewohnerparken"
    / "S05000058V1.0_xdf2.xml"
)


def _by_id(path: Path) -> dict[str, FieldSpec]:
    definition, _report = parse_file(path)
    return {f.id: f for f in fields_of(definition)}


def test_the_3_0_0_schema_gives_the_same_form_as_its_2_0_original() -> None:
    definition3, report3 = parse_file(PARKING3)
    definition2, report2 = parse_file(PARKING2)
    assert (report3.schema_id, report3.version, report3.fields) == ("S05000058", "1.0.0", 33)
    assert (report3.groups, report3.steps) == (report2.groups, report2.steps)
    assert report3.name == report2.name
    assert [s.title for s in definition3.steps] == [s.title for s in definition2.steps]
    fields3, fields2 = _by_id(PARKING3), _by_id(PARKING2)
    assert fields3.keys() == fields2.keys()
    for field_id, field2 in fields2.items():
        same = ("type", "label", "help", "required", "min_length", "max_length", "pattern")
        assert {k: getattr(fields3[field_id], k) for k in same} == {
            k: getattr(field2, k) for k in same
        }, field_id
    # the free-text rules are reported, with their text (3.0.0 calls it freitextRegel)
    assert [fim_id for fim_id, _ in report3.unmapped] == ["R05000281", "R05000334"]
    assert "F05001047" in report3.unmapped[0][1]


def test_what_only_3_0_0_says_is_used() -> None:
    definition, _report = parse_file(PARKING3)
    fields = {f.id: f for f in fields_of(definition)}
    inline = definition.codelists[fields["F05001064"].codelist or ""]
    assert [(c.code, c.label.de) for c in inline.items] == [("1", "12 Monate"), ("2", "24 Monate")]
    upload = fields["F05001248"]
    assert upload.max_bytes == 2 * 1024 * 1024
    assert upload.media_types == ["application/pdf", "image/jpeg", "image/png"]
    country = definition.codelists[fields["F05001249"].codelist or ""]
    assert ("000", "Deutschland") in [(c.code, c.label.de) for c in country.items]


def test_a_missing_code_list_is_reported_and_the_field_taken_as_text(tmp_path: Path) -> None:
    for path in DATA.iterdir():
        if "C05000103" not in path.name:  # the vehicle-holder list goes missing
            shutil.copy(path, tmp_path / path.name)
    definition, report = parse_file(tmp_path / PARKING3.name)
    holder = next(f for f in fields_of(definition) if f.id == "F05001047")
    assert holder.type == "text"
    assert any(fim_id == "F05001047" and "fehlt" in reason for fim_id, reason in report.unmapped)


def test_a_3_0_0_file_that_breaks_the_schema_is_refused_by_name() -> None:
    broken = PARKING3.read_bytes().replace(
        b"<xdf:anzahl>1:1</xdf:anzahl>", b"<xdf:anzahl>one</xdf:anzahl>", 1
    )
    with pytest.raises(FimImportError, match="XDatenfelder 3.0.0 schema"):
        parse_bytes(broken)


def test_groups_nested_deeper_than_the_limit_are_refused_and_nothing_is_made() -> None:
    """A schema whose groups nest deeper than MAX_DEPTH (as a cyclic reference unrolled by an
    editor would) is refused with a message, not mapped half-way."""
    x = f"{{{NS2}}}"
    ET.register_namespace("xdf", NS2)
    root = ET.fromstring(PARKING2.read_bytes())  # noqa: S314 - our own test file
    schema = root.find(f"{x}stammdatenschema")
    assert schema is not None
    struktur = next(
        s for s in schema.findall(f"{x}struktur") if s.find(f"{x}enthaelt/{x}datenfeldgruppe")
    )
    pristine, innermost = copy.deepcopy(struktur), struktur
    for _level in range(MAX_DEPTH + 1):
        group = innermost.find(f"{x}enthaelt/{x}datenfeldgruppe")
        assert group is not None
        first = group.find(f"{x}struktur")
        assert first is not None
        nested = copy.deepcopy(pristine)
        group.insert(list(group).index(first), nested)
        innermost = nested
    with pytest.raises(FimImportError, match="too deep"):
        parse_bytes(ET.tostring(root))


@pytest.mark.django_db
def test_the_import_command_reads_3_0_0_into_a_draft() -> None:
    from io import StringIO

    from django.core.management import call_command

    from rathaus.forms.models import FormVersion

    out = StringIO()
    call_command("import-fim", str(PARKING3), "--slug", "parken3", stdout=out)
    assert "S05000058 V1.0.0" in out.getvalue() and "33 fields" in out.getvalue()
    version = FormVersion.objects.get(form__slug="parken3")
    assert version.source == "FIM S05000058 V1.0.0" and version.import_report["fields"] == 33
