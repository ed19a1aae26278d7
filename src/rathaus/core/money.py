"""Amounts and rates as people write them: "1.234,56 €", "1234,56", "1 234 EUR", "1234.56",
"55 %". ``parse_amount`` reads them into a ``Decimal`` (two places) or raises ``ValueError``
with a message in the user's language; ``AmountField`` is the form field that reads them,
``amount_input_text`` shows one back in a form, ``amount_text`` writes one for CSV files
("1234,56"). ``MAX_AMOUNT`` is the most a money column holds. Shared by the pillars' forms
(funding, strategy) and the CSV imports (``core.csvimport``)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # a money column: max_digits=14, decimal_places=2
_CURRENCY = re.compile(r"(€|eur|euro|%)", re.IGNORECASE)
_GERMAN = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$|^-?\d+(,\d+)?$")
_ENGLISH = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$|^-?\d+(\.\d+)?$")
# "50,000": fifty thousand to someone writing English, fifty to someone writing German
_COMMA_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+$")


def parse_amount(text: str) -> Decimal:
    """An amount in euros (or a percentage) from German or plain decimal notation.

    German notation wins when both would fit: "1.234" is one thousand two hundred and
    thirty-four, "1,5" is one and a half. "1,250,000" groups thousands. "50,000" is fifty
    thousand when the user's language is English and refused as ambiguous in German (where it
    would read as fifty with three decimals). "1.234,56 €" and "1234.56" are read as
    expected; anything else ("12,34,5", "abc") raises ``ValueError``."""
    cleaned = _CURRENCY.sub("", text or "").replace("\u00a0", " ").strip().replace(" ", "")
    if not cleaned:
        raise ValueError(_("Kein Betrag angegeben."))
    if _COMMA_THOUSANDS.match(cleaned):
        if cleaned.count(",") > 1 or (get_language() or "de").startswith("en"):
            return parse_amount(cleaned.replace(",", ""))
        raise ValueError(
            _(
                "„%(text)s“ ist nicht eindeutig: schreiben Sie Tausender mit Punkt "
                "(50.000 €) und Cent mit Komma (50,00 €)."
            )
            % {"text": text.strip()}
        )
    if _GERMAN.match(cleaned):
        normal = cleaned.replace(".", "").replace(",", ".")
    elif _ENGLISH.match(cleaned):
        normal = cleaned.replace(",", "")
    else:
        raise ValueError(
            _("„%(text)s“ ist kein Betrag (Beispiel: 1.234,56 €).") % {"text": text.strip()}
        )
    try:
        return Decimal(normal).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise ValueError(
            _("„%(text)s“ ist kein Betrag (Beispiel: 1.234,56 €).") % {"text": text.strip()}
        ) from error


def amount_text(value: Decimal | None) -> str:
    """1234.5 -> "1234,50"; None -> "" (for CSV files read by German spreadsheets)."""
    if value is None:
        return ""
    return f"{value.quantize(CENT):f}".replace(".", ",")


def amount_input_text(value: Decimal, *, grouping: bool = True) -> str:
    """How a form shows an amount back, German in every language (``parse_amount`` reads
    German first): 1234.5 -> "1.234,50"; without grouping (a rate) 37.50 -> "37,5"."""
    if grouping:
        text = f"{value.quantize(CENT):,f}"
        return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


class AmountField(forms.CharField):
    """A form field for an amount in euros (or a rate, ``grouping=False``) as people write it
    (``parse_amount``); never negative, never more than a money column holds. Blank is
    ``blank_amount`` (None unless given)."""

    def __init__(
        self, *, grouping: bool = True, blank_amount: Decimal | None = None, **kwargs: Any
    ) -> None:
        self.grouping = grouping
        self.blank_amount = blank_amount
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> Decimal | None:
        text = super().clean(value)
        if not text:
            return self.blank_amount
        try:
            amount = parse_amount(text)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None
        if amount < 0:
            raise forms.ValidationError(
                _("Bitte keinen negativen Betrag angeben."), code="negative"
            )
        if amount > MAX_AMOUNT:
            raise forms.ValidationError(_("Der Betrag ist zu groß."), code="too_large")
        return amount

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return amount_input_text(value, grouping=self.grouping)
        return value
