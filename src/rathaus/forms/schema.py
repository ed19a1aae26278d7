"""JSON Schema (draft 2020-12) of a form's submission data, and the compiled validator.

Submission data is a JSON object keyed by field ids. Fields of plain groups sit in the same
object as the rest (ids are unique across a form); a repeatable group is a list of objects.
Nothing else is allowed (``additionalProperties: false``), so extra or forged keys fail.
"""

from __future__ import annotations

import threading
from typing import Any

import jsonschema_rs

from rathaus.forms.definition import FieldSpec, FormDefinition, Group, Item, StaticText

DATE = r"^\d{4}-\d{2}-\d{2}$"
DECIMAL = r"^-?\d+([.,]\d+)?$"
MONEY = r"^\d{1,12}([.,]\d{1,2})?$"
PHONE = r"^\+?[0-9 ()/.-]{3,30}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}$"
IBAN = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
POSTCODE = r"^[0-9]{5}$"
UPLOAD = r"^upload:[A-Za-z0-9_-]{16,64}$"


def field_schema(field: FieldSpec, definition: FormDefinition) -> dict[str, Any]:
    schema: dict[str, Any]
    if field.type in {"text", "textarea", "street"}:
        schema = {"type": "string"}
        if field.pattern:
            schema["pattern"] = field.pattern
    elif field.type == "number":
        schema = {"type": "integer"}
    elif field.type == "decimal":
        schema = {"type": "string", "pattern": DECIMAL}
    elif field.type == "money":
        schema = {"type": "string", "pattern": MONEY}
    elif field.type == "date":
        schema = {"type": "string", "pattern": DATE}
    elif field.type == "daterange":
        date = {"type": "string", "pattern": DATE}
        schema = {
            "type": "object",
            "properties": {"from": date, "to": date},
            "required": ["from", "to"],
            "additionalProperties": False,
        }
    elif field.type == "email":
        schema = {"type": "string", "pattern": EMAIL}
    elif field.type == "phone":
        schema = {"type": "string", "pattern": PHONE}
    elif field.type == "iban":
        schema = {"type": "string", "pattern": IBAN}
    elif field.type == "postcode":
        schema = {"type": "string", "pattern": POSTCODE}
    elif field.type == "choice":
        codes = [code.code for code in definition.codelists[field.codelist or ""].items]
        schema = {"type": "string", "enum": codes}
        if field.widget == "checkboxes":
            schema = {"type": "array", "items": schema, "uniqueItems": True}
    elif field.type == "yesno":
        schema = {"type": "boolean"}
    elif field.type == "consent":
        schema = {"type": "boolean", "const": True} if field.required else {"type": "boolean"}
    elif field.type == "file":
        schema = {"type": "string", "pattern": UPLOAD}
    else:  # pragma: no cover - FieldType is a closed list
        raise ValueError(field.type)
    if schema.get("type") == "string" and "enum" not in schema:
        # never empty: the web form leaves out what was not filled in, and so must others
        schema["minLength"] = max(field.min_length or 0, 1)
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
    if schema.get("type") == "integer":
        if field.minimum is not None:
            schema["minimum"] = field.minimum
        if field.maximum is not None:
            schema["maximum"] = field.maximum
    schema["title"] = field.label.de
    return schema


def _object(items: list[Item], definition: FormDefinition) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    conditional: list[dict[str, Any]] = []

    def add(item: Item) -> None:
        if isinstance(item, StaticText):
            return
        if isinstance(item, Group) and item.repeat is None:
            for child in item.items:
                add(child)  # a plain group's fields sit in the same object
            return
        if isinstance(item, Group):
            properties[item.id] = {
                "type": "array",
                "items": _object(item.items, definition),
                "minItems": item.repeat.min if item.repeat else 0,
                **({"maxItems": item.repeat.max} if item.repeat and item.repeat.max else {}),
            }
        else:
            properties[item.id] = field_schema(item, definition)
        if not item.required:
            return
        if item.condition is None:
            required.append(item.id)
        else:
            conditional.append(
                {
                    "if": {
                        "properties": {item.condition.field: {"enum": item.condition.equals}},
                        "required": [item.condition.field],
                    },
                    "then": {"required": [item.id]},
                }
            )

    for item in items:
        add(item)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    if conditional:
        schema["allOf"] = conditional
    return schema


def json_schema(definition: FormDefinition) -> dict[str, Any]:
    """The JSON Schema of the submission data of ``definition``."""
    items: list[Item] = [item for step in definition.steps for item in step.items]
    schema = _object(items, definition)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": definition.title.de,
        **schema,
    }


_compiled: dict[str, Any] = {}
_compiled_lock = threading.Lock()


def validator_for(key: str, schema: dict[str, Any]) -> Any:
    """The compiled validator of a (published, immutable) schema, built once per key."""
    validator = _compiled.get(key)
    if validator is None:
        with _compiled_lock:
            validator = _compiled.get(key) or jsonschema_rs.Draft202012Validator(schema)
            _compiled[key] = validator
    return validator


def validation_errors(key: str, schema: dict[str, Any], data: Any) -> list[tuple[str, str]]:
    """(field path, message) for everything wrong with ``data``; empty when valid."""
    validator = validator_for(key, schema)
    return [
        ("/".join(str(part) for part in error.instance_path) or "$", error.message)
        for error in validator.iter_errors(data)
    ]
