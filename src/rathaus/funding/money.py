"""Amounts and rates as people write them: "1.234,56 €", "1234,56", "1 234 EUR", "1234.56",
"55 %". ``parse_amount`` reads them into a ``Decimal`` (two places) or raises ``ValueError``
with a message in the user's language; ``amount_text`` writes one back the German way for CSV
files ("1234,56")."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import get_language
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
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
