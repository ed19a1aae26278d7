"""What a step page shows: the definition's items turned into simple dicts for the templates,
with the input type, the autocomplete token (WCAG 1.3.5), the value typed so far and the
error of each field. Conditions are evaluated here, on the server."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import get_language

from rathaus.forms.definition import (
    MAX_UPLOAD_BYTES,
    FieldSpec,
    FormDefinition,
    Group,
    Item,
    Text,
    fields_of,
)
from rathaus.forms.uploads import EXTENSIONS, accepted_types, size_text, types_text
from rathaus.forms.validation import NO, YES, visible

# Input purposes by words in FIM labels (FIM names these fields the same way everywhere).
AUTOCOMPLETE_BY_LABEL = (
    ("vorname", "given-name"),
    ("familienname", "family-name"),
    ("nachname", "family-name"),
    ("geburtsname", "family-name"),
    ("geburtsdatum", "bday"),
    ("e-mail", "email"),
    ("telefon", "tel"),
    ("postleitzahl", "postal-code"),
    ("wohnort", "address-level2"),
    ("straße", "address-line1"),
    ("strasse", "address-line1"),
    ("staatsangehörigkeit", "country-name"),
)
AUTOCOMPLETE_BY_TYPE = {
    "email": "email",
    "phone": "tel",
    "postcode": "postal-code",
    "street": "street-address",
}
INPUT_TYPE = {"email": "email", "phone": "tel"}
INPUT_MODE = {"number": "numeric", "postcode": "numeric", "decimal": "decimal", "money": "decimal"}


def text(value: Text | None) -> str:
    if value is None:
        return ""
    return value.en if get_language() == "en" and value.en else value.de


def autocomplete_for(spec: FieldSpec) -> str:
    if spec.autocomplete:
        return spec.autocomplete
    if spec.type in AUTOCOMPLETE_BY_TYPE:
        return AUTOCOMPLETE_BY_TYPE[spec.type]
    label = spec.label.de.lower()
    return next(
        (token for word, token in AUTOCOMPLETE_BY_LABEL if word in label),
        "off" if spec.type == "iban" else "",
    )


NAME_PURPOSES = ("given-name", "family-name", "name")


def applicant_name(definition: FormDefinition, data: dict[str, Any]) -> str:
    """The applicant's name as the answers give it: the first answered field of each name
    purpose (given name, family name, full name) at the top level of the answers, in form
    order; later ones (a child's, a representative's, a birth name) are someone else's or
    not the name in use."""
    parts: dict[str, str] = {}
    for spec in fields_of(definition):
        purpose, value = autocomplete_for(spec), data.get(spec.id)
        if purpose in NAME_PURPOSES and purpose not in parts and isinstance(value, str):
            if value.strip():
                parts[purpose] = value.strip()
    return " ".join(parts.values())


def display_value(spec: FieldSpec, value: Any) -> Any:
    """A stored value as the input shows it again (ISO dates back to German, booleans to ja/nein)."""
    if value is None:
        return ""
    if spec.type == "date" and isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return f"{day}.{month}.{year}"
    if spec.type == "yesno" and isinstance(value, bool):
        return YES if value else NO
    if spec.type in {"decimal", "money"}:
        return str(value).replace(".", ",")
    if spec.type == "file" and isinstance(value, dict):
        return value.get("filename", "")
    if spec.type == "daterange" and isinstance(value, dict):
        return {
            key: display_value(spec.model_copy(update={"type": "date"}), value.get(key))
            for key in ("from", "to")
        }
    return value


def build(
    items: list[Item],
    definition: FormDefinition,
    data: dict[str, Any],
    typed: Any,
    errors: dict[str, str],
    counts: dict[str, int],
    prefix: str = "",
) -> list[dict[str, Any]]:
    """The render tree of ``items``. ``typed`` (the posted inputs) wins over ``data`` (what was
    saved), so a page with errors shows exactly what the person typed."""
    nodes: list[dict[str, Any]] = []
    for item in items:
        node_count = len(nodes)
        _add_node(item, definition, data, typed, errors, counts, prefix, nodes)
        if len(nodes) > node_count:
            nodes[-1].update(_condition_attributes(item, definition, data))
    return nodes


def _condition_attributes(
    item: Item, definition: FormDefinition, data: dict[str, Any]
) -> dict[str, Any]:
    """For the browser: which input decides whether the item shows, and for which values (as
    the input's own values: yes/no questions post "ja"/"nein"). Hidden items are in the page
    but hidden, so the check can be re-run live; the server decides again on every post."""
    condition = item.condition
    if condition is None:
        return {"hidden": False, "condition_field": "", "condition_values": ""}
    controlling = next((f for f in fields_of(definition) if f.id == condition.field), None)
    values = list(condition.equals)
    if controlling is not None and controlling.type == "yesno":
        values = [YES if v == "True" else NO if v == "False" else v for v in values]
    return {
        "hidden": not visible(item, data),
        "condition_field": condition.field,
        "condition_values": json.dumps(values),
    }


def _add_node(
    item: Item,
    definition: FormDefinition,
    data: dict[str, Any],
    typed: Any,
    errors: dict[str, str],
    counts: dict[str, int],
    prefix: str,
    nodes: list[dict[str, Any]],
) -> None:
    if item.kind == "text":
        nodes.append({"kind": "text", "id": f"{prefix}{item.id}", "text": text(item.text)})
        return
    if isinstance(item, Group):
        node: dict[str, Any] = {
            "kind": "group",
            "id": f"{prefix}{item.id}",
            "label": text(item.label),
            "help": text(item.help),
            "repeat": item.repeat is not None,
            "error": errors.get(f"{prefix}{item.id}", ""),
        }
        if item.repeat is None:
            node["items"] = build(item.items, definition, data, typed, errors, counts, prefix)
        else:
            saved = data.get(item.id) if not prefix else None
            count = counts.get(
                f"{prefix}{item.id}",
                len(saved) if isinstance(saved, list) else item.repeat.min,
            )
            node["count"] = count
            node["can_add"] = item.repeat.max is None or count < item.repeat.max
            node["entries"] = [
                build(
                    item.items,
                    definition,
                    saved[index] if isinstance(saved, list) and index < len(saved) else {},
                    typed,
                    errors,
                    counts,
                    prefix=f"{prefix}{item.id}__{index}__",
                )
                for index in range(count)
            ]
        nodes.append(node)
        return
    assert isinstance(item, FieldSpec)  # noqa: S101 - the remaining kind
    name = f"{prefix}{item.id}"
    if typed is not None and item.type == "daterange":
        value: Any = {"from": typed.get(f"{name}__from", ""), "to": typed.get(f"{name}__to", "")}
    elif (
        typed is not None
        and item.type != "file"
        and (name in typed or item.type == "consent" or item.widget == "checkboxes")
    ):
        value = typed.getlist(name) if item.widget == "checkboxes" else typed.get(name, "")
    else:
        value = display_value(item, data.get(item.id))
    options = []
    if item.codelist:
        options = [
            {"value": c.code, "label": text(c.label)}
            for c in definition.codelists[item.codelist].items
        ]
    nodes.append(
        {
            "kind": "field",
            "id": name,
            "type": item.type,
            "widget": item.widget or ("radio" if item.type == "yesno" else ""),
            "input_type": INPUT_TYPE.get(item.type, "text"),
            "inputmode": INPUT_MODE.get(item.type, ""),
            "autocomplete": autocomplete_for(item),
            "label": text(item.label),
            "help": text(item.help),
            "hint": _hint(item),
            "required": item.required,
            "max_length": item.max_length,
            "value": value,
            "checked": value in ("on", True, "true") if item.type == "consent" else False,
            "options": options,
            "error": errors.get(name, ""),
            "place_target": f"{prefix}{item.place_field}" if item.place_field else "",
            **(_file_attributes(item, data.get(item.id)) if item.type == "file" else {}),
        }
    )


def _file_attributes(spec: FieldSpec, saved: Any) -> dict[str, str]:
    """What a file input needs: the types it accepts and the reference of the file kept
    from before (sent back with the page, checked against the draft's files)."""
    types = accepted_types(spec.media_types)
    return {
        "accept": ",".join([EXTENSIONS[t] for t in types] + types),
        "kept": saved.get("upload", "") if isinstance(saved, dict) else "",
    }


def _hint(spec: FieldSpec) -> str:
    from django.utils.translation import gettext as _

    if spec.type in {"date", "daterange"}:
        return _("Format: TT.MM.JJJJ, z. B. 24.12.2026")
    if spec.type == "money":
        return _("Betrag in Euro, z. B. 12,50")
    if spec.type == "iban":
        return _("Beginnt mit DE und hat 22 Zeichen.")
    if spec.type == "file":
        return _("%(types)s, höchstens %(size)s.") % {
            "types": types_text(spec.media_types),
            "size": size_text(min(spec.max_bytes or MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES)),
        }
    return ""


def error_list(nodes: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every error of a step, in page order, for the error summary at the top."""
    found: list[dict[str, str]] = []
    for node in nodes:
        if node.get("error"):
            found.append({"id": node["id"], "label": node.get("label", ""), "error": node["error"]})
        for child in node.get("items", []):
            found += error_list([child])
        for entry in node.get("entries", []):
            found += error_list(entry)
    return found


def summary_sections(definition: FormDefinition, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every answer with its label, step by step, as people read them (the summary page, the
    receipt): code-list values by their labels, dates in German, files by their names; entries
    of repeatable groups numbered, their answers one level deeper."""
    sections = []
    for number, step in enumerate(definition.steps, start=1):
        rows: list[dict[str, Any]] = []
        _summary_rows(step.items, definition, data, rows, level=0)
        sections.append({"number": number, "title": text(step.title), "rows": rows})
    return sections


def _summary_rows(
    items: list[Item],
    definition: FormDefinition,
    data: dict[str, Any],
    rows: list[dict[str, Any]],
    level: int,
) -> None:
    from django.utils.translation import gettext as _

    for item in items:
        if not visible(item, data) or item.kind == "text":
            continue
        if isinstance(item, Group):
            if item.repeat is None:
                _summary_rows(item.items, definition, data, rows, level)
            else:
                for index, entry in enumerate(data.get(item.id) or [], start=1):
                    rows.append(
                        {"label": f"{text(item.label)} ({index})", "value": "", "level": level}
                    )
                    _summary_rows(item.items, definition, entry, rows, level + 1)
            continue
        assert isinstance(item, FieldSpec)  # noqa: S101 - the remaining kind
        value = data.get(item.id)
        shown = display_value(item, value)
        if item.codelist and value is not None:
            labels = {c.code: text(c.label) for c in definition.codelists[item.codelist].items}
            shown = ", ".join(
                labels.get(str(v), str(v)) for v in (value if isinstance(value, list) else [value])
            )
        if item.type == "consent":
            shown = _("ja") if value else ""
        if item.type == "daterange" and isinstance(shown, dict):
            shown = f"{shown['from']} – {shown['to']}"
        rows.append(
            {
                "label": text(item.label),
                "value": str(shown) if shown not in (None, "") else "–",
                "level": level,
            }
        )


def answer_texts(definition: FormDefinition, data: dict[str, Any]) -> dict[str, str]:
    """Each top-level answer as one line of text, by field or group id (for filling another
    form): as the summary shows it; a repeatable group's entries joined with "; "."""
    answers: dict[str, str] = {}

    def collect(items: list[Item]) -> None:
        for item in items:
            if isinstance(item, Group) and item.repeat is None:
                collect(item.items)
                continue
            if item.kind == "text":
                continue
            rows: list[dict[str, Any]] = []
            _summary_rows([item], definition, data, rows, level=0)
            if isinstance(item, Group):
                entries: list[list[str]] = []
                for row in rows:
                    if row["level"] == 0:
                        entries.append([])
                    elif entries and row["value"] != "–":
                        entries[-1].append(row["value"])
                answers[item.id] = "; ".join(", ".join(entry) for entry in entries if entry)
            elif rows and rows[0]["value"] != "–":
                answers[item.id] = rows[0]["value"]

    for step in definition.steps:
        collect(step.items)
    return answers
