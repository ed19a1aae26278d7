"""Checks of submission data sent as JSON (the submission API): the version's compiled JSON
Schema, then what a schema cannot say (IBAN check digits, a date range in order), each problem
as ``{field, message, messages: {de, en}}`` with the messages the web form uses where they fit.
Field paths are the data's JSON paths joined with ``/`` (``weitere_hunde/0/name``)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from rathaus.forms.definition import FieldSpec
from rathaus.forms.schema import validator_for
from rathaus.forms.validation import iban_valid

REQUIRED = _("Bitte füllen Sie dieses Feld aus.")
UNKNOWN_FIELD = _("Dieses Feld gibt es in diesem Formular nicht.")
INVALID = _("Der Wert ist ungültig.")
BY_TYPE = {
    "number": _("Bitte geben Sie eine ganze Zahl ein, z. B. 3."),
    "decimal": _('Bitte geben Sie eine Zahl als Text an, z. B. "12.50".'),
    "money": _('Bitte geben Sie einen Betrag als Text an, z. B. "12.50".'),
    "date": _("Bitte geben Sie ein Datum im Format JJJJ-MM-TT an, z. B. 2026-12-24."),
    "daterange": _("Bitte geben Sie Beginn und Ende im Format JJJJ-MM-TT an."),
    "email": _("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org."),
    "phone": _("Bitte geben Sie eine Telefonnummer ein, z. B. 0341 123456."),
    "iban": _("Diese IBAN ist nicht gültig. Bitte prüfen Sie sie."),
    "postcode": _("Eine Postleitzahl hat fünf Ziffern."),
    "choice": _("Bitte wählen Sie eine der angebotenen Möglichkeiten."),
    "yesno": _("Bitte geben Sie true (ja) oder false (nein) an."),
    "consent": _("Bitte stimmen Sie zu, um fortzufahren."),
    "file": _("Bitte laden Sie eine Datei hoch."),
}


def entry(field: str, message: object) -> dict[str, Any]:
    """One field error with its message in German and English (``message``: a lazy text or
    anything whose ``str()`` follows the active language)."""
    texts = {}
    for language in ("de", "en"):
        with translation.override(language):
            texts[language] = str(message)
    return {"field": field, "message": str(message), "messages": texts}


def _spec_at(path: list[Any], specs: dict[str, FieldSpec]) -> FieldSpec | None:
    names = [part for part in path if isinstance(part, str)]
    return specs.get(names[-1]) if names else None


def _formatted(message: Promise, **params: object) -> Promise:
    """A lazy text with its parameters filled in, in whichever language is active then."""
    return lazy(lambda: str(message) % params, str)()  # type: ignore[return-value]


def _message(kind: Any, spec: FieldSpec | None) -> Promise:
    name = kind.name
    limit: Any = getattr(kind, "limit", 0)
    if name == "minLength" and int(limit) == 1:
        return REQUIRED  # an empty text is no answer
    texts = spec is not None and spec.type in {"text", "textarea", "street"}
    if name == "maxLength" and texts:
        return _formatted(_("Bitte höchstens %(count)d Zeichen eingeben."), count=int(limit))
    if name == "minLength" and texts:
        return _formatted(_("Bitte mindestens %(count)d Zeichen eingeben."), count=int(limit))
    if name == "minimum" and spec is not None:
        return _formatted(_("Die Zahl muss mindestens %(min)s sein."), min=limit)
    if name == "maximum" and spec is not None:
        return _formatted(_("Die Zahl darf höchstens %(max)s sein."), max=limit)
    if name == "minItems":
        return _formatted(_("Bitte geben Sie mindestens %(count)d Einträge an."), count=int(limit))
    if name == "maxItems":
        return _formatted(_("Bitte geben Sie höchstens %(count)d Einträge an."), count=int(limit))
    if (
        name == "pattern"
        and spec is not None
        and spec.pattern
        and spec.type in {"text", "textarea"}
    ):
        return _("Das Format stimmt nicht. Bitte prüfen Sie Ihre Eingabe.")
    if spec is not None and spec.type in BY_TYPE:
        return BY_TYPE[spec.type]
    return INVALID


def submission_errors(
    *, key: str, schema: dict[str, Any], specs: dict[str, FieldSpec], data: Any
) -> list[dict[str, Any]]:
    """Everything wrong with ``data``, field by field (``specs``: the form's fields by id, as
    forms.selectors ``version_facts`` has them); empty when it may be submitted."""
    errors: list[dict[str, Any]] = []
    for error in validator_for(key, schema).iter_errors(data):
        path = list(error.instance_path)
        where = "/".join(str(part) for part in path)
        kind = error.kind
        if kind.name == "required":
            errors.append(entry("/".join([*map(str, path), str(kind.property)]), REQUIRED))
        elif kind.name == "additionalProperties":
            for name in kind.unexpected:
                errors.append(entry("/".join([*map(str, path), str(name)]), UNKNOWN_FIELD))
        elif kind.name in {"allOf", "anyOf", "oneOf"}:
            continue  # its parts are reported on their own
        else:
            errors.append(entry(where or "$", _message(kind, _spec_at(path, specs))))
    if not errors and any(spec.type in _BEYOND_SCHEMA for spec in specs.values()):
        errors = _beyond_schema(data, specs)
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in errors:  # one message per field and text
        if (item["field"], item["message"]) not in seen:
            seen.add((item["field"], item["message"]))
            unique.append(item)
    return unique


_BEYOND_SCHEMA = {"iban", "daterange"}  # the field types checked beyond the JSON Schema


def _beyond_schema(data: Any, specs: dict[str, FieldSpec], path: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(data, list):
        for index, item in enumerate(data):
            found += _beyond_schema(item, specs, f"{path}/{index}")
        return found
    if not isinstance(data, dict):
        return found
    for name, value in data.items():
        where = f"{path}/{name}" if path else name
        spec = specs.get(name)
        if isinstance(value, list | dict) and (spec is None or spec.type != "daterange"):
            found += _beyond_schema(value, specs, where)
        elif spec is not None and spec.type == "iban" and not iban_valid(str(value)):
            found.append(entry(where, BY_TYPE["iban"]))
        elif (
            spec is not None
            and spec.type == "daterange"
            and isinstance(value, dict)
            and str(value.get("from")) > str(value.get("to"))
        ):
            found.append(entry(where, _("Das Ende liegt vor dem Beginn.")))
    return found
