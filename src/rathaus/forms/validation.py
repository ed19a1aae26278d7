"""Server-side checks of what a person typed into one step: each field's value is cleaned
(German number and date formats accepted) or gets a message in the person's language.

The JSON Schema of the version checks the complete submission again (forms.schema); these
checks exist to tell a person, field by field and in plain words, what to correct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from rathaus.forms.definition import FieldSpec, FormDefinition, Group, Item, StaticText
from rathaus.forms.selectors import places_for_postcode

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}$")
_PHONE = re.compile(r"^\+?[0-9 ()/.-]{3,30}$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
YES, NO = "ja", "nein"


@dataclass
class StepResult:
    values: dict[str, Any] = field(default_factory=dict)  # cleaned, keyed by field id
    errors: dict[str, str] = field(default_factory=dict)  # field id -> message


def visible(item: Item, data: dict[str, Any]) -> bool:
    """Conditions are evaluated on the server, on everything entered so far."""
    condition = item.condition
    if condition is None:
        return True
    value = data.get(condition.field)
    values = value if isinstance(value, list) else [value]
    return any(str(v) in condition.equals for v in values if v is not None)


def iban_valid(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _date(text: str) -> str | None:
    match = _GERMAN_DATE.match(text)
    parts = (match[3], match[2], match[1]) if match else None
    if parts is None and (iso := _ISO_DATE.match(text)):
        parts = (iso[1], iso[2], iso[3])
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except ValueError:
        return None


def clean_field(spec: FieldSpec, raw: Any, definition: FormDefinition) -> tuple[Any, str | None]:
    """(clean value or None when empty, message or None) for one field."""
    if spec.type == "choice" and spec.widget == "checkboxes":
        chosen = [str(v) for v in (raw or [])]
        if not chosen:
            return None, _(
                "Bitte wählen Sie mindestens eine Möglichkeit."
            ) if spec.required else None
        allowed = {code.code for code in definition.codelists[spec.codelist or ""].items}
        if not set(chosen) <= allowed:
            return None, _("Bitte wählen Sie nur aus den angebotenen Möglichkeiten.")
        return chosen, None
    if spec.type == "daterange":
        return _clean_range(spec, raw)
    text = " ".join(str(raw or "").split()) if spec.type != "textarea" else str(raw or "").strip()
    if spec.type == "consent":
        if raw in ("on", "true", True, "1"):
            return True, None
        return None, _("Bitte stimmen Sie zu, um fortzufahren.") if spec.required else None
    if not text:
        if not spec.required:
            return None, None
        if spec.type == "file":
            return None, _("Bitte laden Sie eine Datei hoch.")
        if spec.type in {"choice", "yesno"}:
            return None, _("Bitte wählen Sie eine der Möglichkeiten.")
        return None, _("Bitte füllen Sie dieses Feld aus.")
    if "\x00" in text:
        return None, _("Die Eingabe enthält ungültige Zeichen.")
    if spec.max_length is not None and len(text) > spec.max_length:
        return None, _("Bitte höchstens %(count)d Zeichen eingeben.") % {"count": spec.max_length}
    if spec.min_length is not None and len(text) < spec.min_length:
        return None, _("Bitte mindestens %(count)d Zeichen eingeben.") % {"count": spec.min_length}
    if spec.type in {"text", "textarea", "street"}:
        if spec.pattern and not _pattern_matches(spec.pattern, text):
            return None, _("Das Format stimmt nicht. Bitte prüfen Sie Ihre Eingabe.")
        return text, None
    if spec.type == "number":
        try:
            number = int(text.replace(".", "").replace(" ", ""))
        except ValueError:
            return None, _("Bitte geben Sie eine ganze Zahl ein, z. B. 3.")
        if spec.minimum is not None and number < spec.minimum:
            return None, _("Die Zahl muss mindestens %(min)s sein.") % {"min": int(spec.minimum)}
        if spec.maximum is not None and number > spec.maximum:
            return None, _("Die Zahl darf höchstens %(max)s sein.") % {"max": int(spec.maximum)}
        return number, None
    if spec.type in {"decimal", "money"}:
        normalised = text.replace("€", "").replace(" ", "").replace(".", "").replace(",", ".")
        try:
            value = Decimal(normalised)
        except InvalidOperation:
            return None, _("Bitte geben Sie eine Zahl ein, z. B. 12,50.")
        if spec.type == "money" and (value < 0 or value.as_tuple().exponent < -2):  # type: ignore[operator]
            return None, _(
                "Bitte geben Sie einen Betrag in Euro mit höchstens zwei Nachkommastellen ein."
            )
        return format(value, "f"), None
    if spec.type == "date":
        iso = _date(text)
        return (iso, None) if iso else (None, _("Bitte geben Sie ein Datum ein, z. B. 24.12.2026."))
    if spec.type == "email":
        return (
            (text, None)
            if _EMAIL.match(text)
            else (
                None,
                _("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org."),
            )
        )
    if spec.type == "phone":
        return (
            (text, None)
            if _PHONE.match(text)
            else (None, _("Bitte geben Sie eine Telefonnummer ein, z. B. 0341 123456."))
        )
    if spec.type == "iban":
        iban = text.replace(" ", "").upper()
        return (
            (iban, None)
            if iban_valid(iban)
            else (None, _("Diese IBAN ist nicht gültig. Bitte prüfen Sie sie."))
        )
    if spec.type == "postcode":
        return (
            (text, None)
            if re.fullmatch(r"[0-9]{5}", text)
            else (None, _("Eine Postleitzahl hat fünf Ziffern."))
        )
    if spec.type == "yesno":
        if text not in (YES, NO):
            return None, _("Bitte wählen Sie Ja oder Nein.")
        return text == YES, None
    if spec.type == "choice":
        allowed = {code.code for code in definition.codelists[spec.codelist or ""].items}
        return (
            (text, None)
            if text in allowed
            else (None, _("Bitte wählen Sie eine der angebotenen Möglichkeiten."))
        )
    if spec.type == "file":
        return (
            (text, None)
            if text.startswith("upload:")
            else (None, _("Bitte laden Sie eine Datei hoch."))
        )
    return text, None  # pragma: no cover


def _clean_range(spec: FieldSpec, raw: Any) -> tuple[Any, str | None]:
    start_text, end_text = (" ".join(str(part or "").split()) for part in (raw or ("", "")))
    if not start_text and not end_text:
        return None, _("Bitte geben Sie Beginn und Ende an.") if spec.required else None
    start, end = _date(start_text), _date(end_text)
    if start is None or end is None:
        return None, _("Bitte geben Sie Beginn und Ende als Datum ein, z. B. 24.12.2026.")
    if start > end:
        return None, _("Das Ende liegt vor dem Beginn.")
    return {"from": start, "to": end}, None


def _pattern_matches(pattern: str, text: str) -> bool:
    import jsonschema_rs

    try:
        return bool(jsonschema_rs.is_valid({"type": "string", "pattern": pattern}, text))
    except Exception:  # noqa: BLE001 - a pattern that cannot be used does not block people
        return True


def _fill_places(items: list[Item], post: Any, prefix: str) -> None:
    for item in items:
        if not (isinstance(item, FieldSpec) and item.type == "postcode" and item.place_field):
            continue
        place_name = f"{prefix}{item.place_field}"
        if str(post.get(place_name) or "").strip():
            continue  # what the person typed wins
        places = places_for_postcode(" ".join(str(post.get(f"{prefix}{item.id}") or "").split()))
        if len(places) == 1:
            post[place_name] = places[0]


def clean_items(
    items: list[Item],
    post: Any,
    data: dict[str, Any],
    definition: FormDefinition,
    result: StepResult,
    prefix: str = "",
) -> None:
    """Clean the visible items of a step from ``post`` (a mutable QueryDict: the inputs by
    name). An empty place beside a known postcode is filled in, in ``post`` as well, so that
    the page shows it if it comes back with errors."""
    _fill_places(items, post, prefix)
    for item in items:
        if not visible(item, {**data, **result.values}):
            continue
        if isinstance(item, StaticText):
            continue
        if isinstance(item, Group) and item.repeat is None:
            clean_items(item.items, post, data, definition, result, prefix)
            continue
        if isinstance(item, Group):
            count = int(post.get(f"{prefix}{item.id}__count") or 0)
            entries: list[dict[str, Any]] = []
            for index in range(min(count, item.repeat.max or 50, 50) if item.repeat else 0):
                sub = StepResult()
                clean_items(
                    item.items, post, data, definition, sub, prefix=f"{prefix}{item.id}__{index}__"
                )
                entries.append(sub.values)
                result.errors.update(sub.errors)
            minimum = item.repeat.min if item.repeat else 0
            if len(entries) < minimum:
                result.errors[f"{prefix}{item.id}"] = _(
                    "Bitte geben Sie mindestens %(count)d Einträge an."
                ) % {"count": minimum}
            result.values[item.id] = entries
            continue
        name = f"{prefix}{item.id}"
        multiple = item.type == "choice" and item.widget == "checkboxes"
        if item.type == "daterange":
            raw = (post.get(f"{name}__from"), post.get(f"{name}__to"))
        else:
            raw = post.getlist(name) if multiple else post.get(name)
        value, error = clean_field(item, raw, definition)
        if error:
            result.errors[name] = error
        if value is not None:
            result.values[item.id] = value
