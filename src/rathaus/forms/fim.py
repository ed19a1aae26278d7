"""Import of FIM XDatenfelder 2.0 and 3.0.0 Stammdatenschemas into our form definition format.

The XML is parsed with defusedxml (no entity expansion, no external entities, no DTDs) and
validated against the official XML Schemas shipped in ``forms/data/fim-xsd`` before anything
is mapped. What cannot be mapped (free-text or script rules, hidden fields, patterns that are
not regular expressions, missing code lists) is listed in the import report, never dropped
silently. Parsing only: the service ``form_import_fim`` stores the result.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import jsonschema_rs
import xmlschema
from defusedxml import DefusedXmlException

from rathaus.forms.definition import (
    MAX_UPLOAD_BYTES,
    MEDIA_TYPES,
    Code,
    CodeList,
    FieldSpec,
    FormDefinition,
    Group,
    Item,
    Repeat,
    StaticText,
    Step,
    Text,
)

XSD_DIR = Path(__file__).resolve().parent / "data" / "fim-xsd"
NS2 = "urn:xoev-de:fim:standard:xdatenfelder_2"
NS3 = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0"
GC = "http://docs.oasis-open.org/codelist/ns/genericode/1.0/"
MAX_DEPTH = 12
XSD_VERSION = {NS2: "2.0", NS3: "3.0.0"}


class FimImportError(Exception):
    """The file cannot be imported at all; the message says why (German / English)."""


@dataclass
class ImportReport:
    schema_id: str = ""
    version: str = ""
    name: str = ""
    fields: int = 0
    groups: int = 0
    steps: int = 0
    codelists: int = 0
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (FIM id, what and why)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_id": self.schema_id,
            "version": self.version,
            "name": self.name,
            "fields": self.fields,
            "groups": self.groups,
            "steps": self.steps,
            "codelists": self.codelists,
            "unmapped": [{"fim_id": i, "reason": r} for i, r in self.unmapped],
        }


def _text(element: Element | None, path: str) -> str:
    found = element.find(path) if element is not None else None
    return " ".join((found.text or "").split()) if found is not None else ""


@lru_cache(maxsize=2)
def _xsd(version: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_DIR / version / "xdatenfelder.xsd"))


def parse_file(path: Path) -> tuple[FormDefinition, ImportReport]:
    """Read a Stammdatenschema file; code lists are looked for beside it (``C..._genericode``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FimImportError(
            f"{path}: kann nicht gelesen werden / cannot be read ({exc.strerror})"
        ) from None
    return parse_bytes(raw, codelist_dir=path.parent)


def parse_bytes(
    raw: bytes, *, codelist_dir: Path | None = None
) -> tuple[FormDefinition, ImportReport]:
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise FimImportError(
            "Die Datei enthält DTDs oder Entitäten und wird aus Sicherheitsgründen nicht gelesen. / "
            "The file contains DTDs or entities and is refused for safety."
        ) from None
    except SafeET.ParseError as exc:
        raise FimImportError(f"Kein gültiges XML / not well-formed XML ({exc})") from None
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    version = XSD_VERSION.get(namespace)
    if version is None or not root.tag.endswith("}xdatenfelder.stammdatenschema.0102"):
        raise FimImportError(
            "Keine Stammdatenschema-Nachricht in XDatenfelder 2.0 oder 3.0.0 / not an "
            f"XDatenfelder 2.0 or 3.0.0 Stammdatenschema message ({root.tag[:120]})"
        )
    errors = [str(error.reason or error)[:300] for error in _xsd(version).iter_errors(root)][:5]
    if errors:
        raise FimImportError(
            f"Die Datei entspricht nicht dem XDatenfelder-{version}-Schema / does not match the "
            f"XDatenfelder {version} schema: " + "; ".join(errors)
        )
    return _Mapper(codelist_dir, namespace).map(root)


_TYPE = {
    "text": "text",
    "text_latin": "text",  # 3.0.0: text in the DIN SPEC 91379 character set
    "date": "date",
    "bool": "yesno",
    "num": "decimal",
    "num_int": "number",
    "num_currency": "money",
    "file": "file",
}


class _Mapper:
    def __init__(self, codelist_dir: Path | None, namespace: str) -> None:
        self.codelist_dir = codelist_dir
        self.x = f"{{{namespace}}}"
        self.v3 = namespace == NS3
        self._genericode_index: dict[str, Path] | None = None
        self.report = ImportReport()
        self.codelists: dict[str, CodeList] = {}
        self.used_ids: set[str] = set()

    def unique_id(self, fim_id: str, parent: str) -> str:
        """FIM reuses fields and groups (the same address group twice): ids must be unique."""
        candidate = fim_id if fim_id not in self.used_ids else f"{parent}.{fim_id}"
        number = 2
        while candidate in self.used_ids:
            candidate = f"{parent}.{fim_id}.{number}"
            number += 1
        self.used_ids.add(candidate)
        return candidate

    def map(self, root: Element) -> tuple[FormDefinition, ImportReport]:
        schema = root.find(f"{self.x}stammdatenschema")
        if schema is None:
            raise FimImportError("Kein Stammdatenschema in der Nachricht / no Stammdatenschema")
        report = self.report
        report.schema_id = _text(schema, f"{self.x}identifikation/{self.x}id")
        report.version = _text(schema, f"{self.x}identifikation/{self.x}version")
        report.name = (
            _text(schema, f"{self.x}bezeichnungEingabe")  # 2.0
            or _text(schema, f"{self.x}bezeichnung")  # 3.0.0
            or _text(schema, f"{self.x}name")
        )
        for rule in schema.findall(f"{self.x}regel"):
            self.unmapped_rule(rule)
        steps: list[Step] = []
        loose: list[Item] = []
        for number, struktur in enumerate(schema.findall(f"{self.x}struktur"), start=1):
            group = struktur.find(f"{self.x}enthaelt/{self.x}datenfeldgruppe")
            if group is not None:
                mapped = self.group(group, struktur, parent="step", depth=1)
                if isinstance(mapped, Group) and mapped.repeat is None:
                    steps.append(Step(id=f"step{number}", title=mapped.label, items=mapped.items))
                else:
                    steps.append(Step(id=f"step{number}", title=mapped.label, items=[mapped]))
                continue
            item = self.element(struktur, parent="step", depth=1)
            if item is not None:
                loose.append(item)
        if loose:
            steps.append(
                Step(
                    id="step-more",
                    title=Text(de="Weitere Angaben", en="Further details"),
                    items=loose,
                )
            )
        report.steps = len(steps)
        report.codelists = len(self.codelists)
        definition = FormDefinition(
            title=Text(de=report.name or report.schema_id),
            source=f"FIM {report.schema_id} V{report.version}",
            steps=steps,
            codelists=self.codelists,
        )
        return definition, report

    def unmapped_rule(self, rule: Element) -> None:
        name = _text(rule, f"{self.x}name")
        definition = _text(rule, f"{self.x}definition") or _text(rule, f"{self.x}freitextRegel")
        rule_id = _text(rule, f"{self.x}identifikation/{self.x}id") or name
        self.report.unmapped.append(
            (
                rule_id,
                f"Regel nicht übernommen (Freitext/Skript) / rule not mapped: {name}: {definition}"[
                    :500
                ],
            )
        )

    def cardinality(self, struktur: Element) -> tuple[int, int | None]:
        text = _text(struktur, f"{self.x}anzahl") or "1:1"
        low, _, high = text.partition(":")
        try:
            return int(low), None if high in {"*", "n", ""} else int(high)
        except ValueError:
            self.report.unmapped.append(
                ("", f"Anzahl {text!r} unverständlich, 1:1 angenommen / unclear cardinality")
            )
            return 1, 1

    def element(self, struktur: Element, *, parent: str, depth: int) -> Item | None:
        contained = struktur.find(f"{self.x}enthaelt")
        if contained is None:
            return None
        group = contained.find(f"{self.x}datenfeldgruppe")
        if group is not None:
            return self.group(group, struktur, parent=parent, depth=depth)
        data_field = contained.find(f"{self.x}datenfeld")
        if data_field is not None:
            return self.field(data_field, struktur, parent=parent)
        return None

    def group(self, element: Element, struktur: Element, *, parent: str, depth: int) -> Group:
        fim_id = _text(element, f"{self.x}identifikation/{self.x}id")
        if depth > MAX_DEPTH:
            raise FimImportError(
                f"Gruppen zu tief verschachtelt (zyklisch?) / groups nested too deep: {fim_id}"
            )
        for rule in element.findall(f"{self.x}regel"):
            self.unmapped_rule(rule)
        if _text(element, f"{self.x}art/code") == "X":  # 3.0.0 "Auswahlgruppe"
            self.report.unmapped.append(
                (
                    fim_id,
                    "Auswahlgruppe (nur eines der Elemente) als normale Gruppe übernommen / "
                    "choice group taken as a plain group",
                )
            )
        group_id = self.unique_id(fim_id, parent)
        items = [
            item
            for child in element.findall(f"{self.x}struktur")
            if (item := self.element(child, parent=group_id, depth=depth + 1)) is not None
        ]
        items = _postcode_with_place(items)
        if not items:
            items = [
                StaticText(id=self.unique_id(f"{group_id}-empty", group_id), text=Text(de="–"))
            ]
        low, high = self.cardinality(struktur)
        self.report.groups += 1
        help_text = _text(element, f"{self.x}hilfetextEingabe")
        return Group(
            id=group_id,
            fim_id=fim_id,
            label=Text(
                de=_text(element, f"{self.x}bezeichnungEingabe")
                or _text(element, f"{self.x}name")
                or fim_id
            ),
            help=Text(de=help_text) if help_text else None,
            required=low >= 1,
            repeat=Repeat(min=low, max=high) if high != 1 else None,
            items=items,
        )

    def field(self, element: Element, struktur: Element, *, parent: str) -> Item | None:
        fim_id = _text(element, f"{self.x}identifikation/{self.x}id")
        field_kind = _text(element, f"{self.x}feldart/code")
        data_type = _text(element, f"{self.x}datentyp/code")
        label = (
            _text(element, f"{self.x}bezeichnungEingabe")
            or _text(element, f"{self.x}name")
            or fim_id
        )
        help_text = _text(element, f"{self.x}hilfetextEingabe")
        for rule in element.findall(f"{self.x}regel"):
            self.unmapped_rule(rule)
        if field_kind == "label":
            self.report.fields += 1
            content = _text(element, f"{self.x}inhalt") or label
            return StaticText(
                id=self.unique_id(fim_id, parent), fim_id=fim_id, text=Text(de=content)
            )
        if field_kind in {"hidden", "locked"}:
            self.report.unmapped.append(
                (fim_id, f"Feldart {field_kind!r} nicht übernommen / field kind not mapped")
            )
            return None
        low, high = self.cardinality(struktur)
        field_type = _TYPE.get(data_type)
        if field_type is None:
            self.report.unmapped.append(
                (fim_id, f"Datentyp {data_type!r} als Text übernommen / data type taken as text")
            )
            field_type = "text"
        spec: dict[str, Any] = {
            "id": self.unique_id(fim_id, parent),
            "fim_id": fim_id,
            "type": field_type,
            "label": Text(de=label),
            "help": Text(de=help_text) if help_text else None,
            "required": low >= 1,
        }
        if _text(element, f"{self.x}vorbefuellung/code") == "verpflichtend":
            self.report.unmapped.append(
                (fim_id, "Vorbefüllung durch die Behörde nicht übernommen / prefill not mapped")
            )
        if field_kind == "select":
            codelist_id, codelist = (
                self.codelist_v3(element, fim_id) if self.v3 else self.codelist_v2(element, fim_id)
            )
            if codelist is None:
                spec["type"] = "text"
            elif len(codelist.items) == 1:
                spec["type"] = "consent"  # one code to agree to ("Ich stimme zu.")
            else:
                spec.update(
                    type="choice",
                    codelist=codelist_id,
                    widget="radio" if len(codelist.items) <= 5 else "select",
                )
        self.precision(element, spec, fim_id)
        if spec["type"] == "file":
            self.file_limits(element, spec, fim_id)
        if spec["type"] == "text" and (spec.get("max_length") or 0) > 255:
            spec["type"] = "textarea"
        self.report.fields += 1
        mapped = FieldSpec(**spec)
        if high == 1:
            return mapped
        # A repeatable field becomes a repeatable group holding it.
        self.report.groups += 1
        return Group(
            id=self.unique_id(f"{fim_id}-list", parent),
            fim_id=fim_id,
            label=Text(de=label),
            required=low >= 1,
            repeat=Repeat(min=low, max=high),
            items=[
                mapped.model_copy(
                    update={"id": self.unique_id(f"{fim_id}-item", parent), "required": True}
                )
            ],
        )

    def precision(self, element: Element, spec: dict[str, Any], fim_id: str) -> None:
        found = element.find(f"{self.x}praezisierung")
        attributes = {
            key: found.get(key)
            for key in ("minLength", "maxLength", "minValue", "maxValue", "pattern")
            if found is not None and found.get(key) is not None
        }
        raw = _text(element, f"{self.x}praezisierung")
        if not raw and not attributes:
            return
        range_match = re.fullmatch(r"(-?\d+)\.\.(-?\d+)", raw)
        if range_match and not attributes:  # 2.0 "1..31": a range of numbers
            spec["minimum"], spec["maximum"] = float(range_match[1]), float(range_match[2])
            return
        values: Any = attributes  # 3.0.0: attributes; 2.0: JSON in the text
        if not attributes:
            try:
                values = json.loads(raw)
            except json.JSONDecodeError:
                values = None
        if not isinstance(values, dict):
            self.report.unmapped.append(
                (fim_id, f"Präzisierung nicht lesbar / precision not readable: {raw[:100]}")
            )
            return
        for key, target in (("minLength", "min_length"), ("maxLength", "max_length")):
            if str(values.get(key, "")).isdigit():
                spec[target] = int(values[key])
        for key, target in (("minValue", "minimum"), ("maxValue", "maximum")):
            try:
                if key in values:
                    spec[target] = float(values[key])
            except (TypeError, ValueError):
                self.report.unmapped.append(
                    (fim_id, f"{key} {values[key]!r} keine Zahl / not a number")
                )
        pattern = values.get("pattern")
        if pattern:
            if spec["type"] in {"text", "textarea"} and _is_regex(pattern):
                spec["pattern"] = pattern
            else:
                self.report.unmapped.append(
                    (fim_id, f"Muster nicht übernommen / pattern not mapped: {pattern[:100]}")
                )

    def file_limits(self, element: Element, spec: dict[str, Any], fim_id: str) -> None:
        """3.0.0 ``maxSize`` (bytes) and ``mediaType`` of a file field."""
        size = _text(element, f"{self.x}maxSize")
        if size.isdigit():
            if int(size) > MAX_UPLOAD_BYTES:
                self.report.unmapped.append(
                    (fim_id, f"maxSize {size} über {MAX_UPLOAD_BYTES} Bytes / above our limit")
                )
            spec["max_bytes"] = min(int(size), MAX_UPLOAD_BYTES)
        wanted = [" ".join((m.text or "").split()) for m in element.findall(f"{self.x}mediaType")]
        known = [m for m in wanted if m in MEDIA_TYPES]
        if set(wanted) - set(known):
            self.report.unmapped.append(
                (
                    fim_id,
                    "Dateitypen nicht unterstützt / media types not supported: "
                    + ", ".join(sorted(set(wanted) - set(known))),
                )
            )
        spec["media_types"] = known

    def codelist_v2(self, element: Element, fim_id: str) -> tuple[str, CodeList | None]:
        """2.0: the code list's id (C...) names the genericode file beside the schema."""
        reference = f"{self.x}codelisteReferenz"
        codelist_id = _text(element, f"{reference}/{self.x}identifikation/{self.x}id")
        canonical = _text(
            element,
            f"{reference}/{self.x}genericodeIdentification/{self.x}canonicalIdentification",
        )
        if codelist_id in self.codelists:
            return codelist_id, self.codelists[codelist_id]
        path = (
            next(iter(sorted(self.codelist_dir.glob(f"{codelist_id}*.xml"))), None)
            if self.codelist_dir and codelist_id
            else None
        )
        return codelist_id, self.read_codelist(codelist_id, path, canonical, fim_id)

    def codelist_v3(self, element: Element, fim_id: str) -> tuple[str, CodeList | None]:
        """3.0.0: values inline (``werte``) or a genericode list found by its canonical URI."""
        inline = element.find(f"{self.x}werte")
        if inline is not None:
            codelist_id = _safe_id(f"{fim_id}-werte")
            items = [
                Code(
                    code=_text(value, f"{self.x}code"),
                    label=Text(de=_text(value, f"{self.x}name") or _text(value, f"{self.x}code")),
                )
                for value in inline.findall(f"{self.x}wert")
            ]
            codelist = CodeList(title=Text(de=fim_id), items=items)
            self.codelists[codelist_id] = codelist
            return codelist_id, codelist
        reference = f"{self.x}codelisteReferenz"
        canonical = _text(element, f"{reference}/{self.x}canonicalIdentification")
        version = _text(element, f"{reference}/{self.x}version")
        version_uri = _text(element, f"{reference}/{self.x}canonicalVersionUri")
        code_key = _text(element, f"{self.x}codeKey")
        name_key = _text(element, f"{self.x}nameKey")
        codelist_id = _safe_id(f"{version_uri or canonical}-{code_key}-{name_key}".strip("-"))
        if codelist_id in self.codelists:
            return codelist_id, self.codelists[codelist_id]
        index = self.genericode_index()
        path = index.get(version_uri) or index.get(f"{canonical}_{version}") or index.get(canonical)
        return codelist_id, self.read_codelist(
            codelist_id, path, version_uri or canonical, fim_id, code_key, name_key
        )

    def genericode_index(self) -> dict[str, Path]:
        """The genericode files beside the schema by their CanonicalVersionUri and CanonicalUri."""
        if self._genericode_index is None:
            self._genericode_index = {}
            for path in sorted(self.codelist_dir.glob("*.xml")) if self.codelist_dir else []:
                try:
                    root = SafeET.parse(str(path), forbid_dtd=True).getroot()
                except (DefusedXmlException, SafeET.ParseError, OSError):
                    continue  # reported when a field needs it and it is not found
                if _local(root.tag) != "CodeList":
                    continue
                identification = root.find(f"{{{GC}}}Identification")
                for key in ("CanonicalVersionUri", "CanonicalUri"):
                    uri = _text(identification, f"{{{GC}}}{key}")
                    if uri:
                        self._genericode_index.setdefault(uri, path)
                uri = _text(identification, f"{{{GC}}}CanonicalUri")
                version = _text(identification, f"{{{GC}}}Version")
                if uri and version:
                    self._genericode_index.setdefault(f"{uri}_{version}", path)
        return self._genericode_index

    def read_codelist(
        self,
        codelist_id: str,
        path: Path | None,
        canonical: str,
        fim_id: str,
        code_key: str = "",
        name_key: str = "",
    ) -> CodeList | None:
        if path is None:
            self.report.unmapped.append(
                (
                    fim_id,
                    f"Codeliste {codelist_id} ({canonical}) fehlt: Feld als Text übernommen / "
                    "code list missing: taken as text",
                )
            )
            return None
        try:
            codelist = _read_genericode(path.read_bytes(), canonical, code_key, name_key)
        except FimImportError as exc:
            self.report.unmapped.append(
                (fim_id, f"Codeliste {codelist_id} unlesbar / unreadable: {exc}")
            )
            return None
        self.codelists[codelist_id] = codelist
        return codelist


def _safe_id(text: str) -> str:
    """A definition id from a URI or a name ("Parkgenehmigung (Dauer)" has spaces)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text).strip("-.")
    return ("c-" + cleaned)[:100] if not cleaned[:1].isalpha() else cleaned[:100]


_PLACE_LABELS = {"ort", "wohnort"}


def _postcode_with_place(items: list[Item]) -> list[Item]:
    """FIM's address groups hold "Postleitzahl" and "Ort" side by side (F00000054 and
    F00000035 in the demo schemas): the postcode becomes our postcode type, which fills in
    the place beside it."""
    fields = [item for item in items if isinstance(item, FieldSpec) and item.type == "text"]
    postcode = next((f for f in fields if f.label.de.casefold() == "postleitzahl"), None)
    place = next((f for f in fields if f.label.de.casefold() in _PLACE_LABELS), None)
    if postcode is None or place is None:
        return items
    linked = postcode.model_copy(
        update={"type": "postcode", "place_field": place.id, "pattern": None}
    )
    return [linked if item is postcode else item for item in items]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _is_regex(pattern: str) -> bool:
    """A pattern the validator can use (ECMA-style, \\p{L} allowed), not prose such as
    "Codeliste Regionalschlüssel" (which would compile, but has no metacharacter)."""
    if not re.search(r"[\\\[\]^$.*+?{}()|]", pattern):
        return False
    try:
        jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    except Exception:  # noqa: BLE001 - any compile error means "not usable"
        return False
    return True


def _read_genericode(
    raw: bytes, canonical: str, code_key: str = "", name_key: str = ""
) -> CodeList:
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError) as exc:
        raise FimImportError(str(exc)) from None
    name = (
        _text(root, f"{{{GC}}}Identification/{{{GC}}}LongName")
        or _text(root, f"{{{GC}}}Identification/{{{GC}}}ShortName")
        or canonical
    )
    items: list[Code] = []
    for row in (el for el in root.iter() if _local(el.tag) == "Row"):
        values = {
            value.get("ColumnRef", ""): " ".join(
                "".join(
                    v.text or "" for v in value.iter() if _local(v.tag) == "SimpleValue"
                ).split()
            )
            for value in row
            if _local(value.tag) == "Value"
        }
        columns = list(values.values())
        code = values.get(code_key) or values.get("code") or next(iter(columns), "")
        label = (
            values.get(name_key)
            or values.get("name")
            or values.get("beschreibung")
            or (columns[1] if len(columns) > 1 else "")  # e.g. the country's name beside its key
            or code
        )
        if code:
            items.append(Code(code=code, label=Text(de=label)))
    if not items:
        raise FimImportError("keine Einträge / no entries")
    return CodeList(title=Text(de=name or canonical or "Codeliste"), source=canonical, items=items)
