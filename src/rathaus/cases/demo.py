"""The demo city's back office: a standard decision letter for every office that has demo
caseworkers (``rathaus seed-demo``)."""

from __future__ import annotations

from rathaus.accounts.models import Office
from rathaus.cases.models import LetterTemplate
from rathaus.cases.services import letter_template_create

STANDARD_LETTER = """Sehr geehrte Antragstellerin, sehr geehrter Antragsteller ({{ antragsteller }}),

über Ihren Antrag vom {{ eingang }} auf {{ leistung }} (Aktenzeichen {{ aktenzeichen }}) haben wir entschieden: Ihr Antrag wird {{ entscheidung }}.

{{ begruendung }}

Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch erhoben werden, schriftlich oder zur Niederschrift bei der {{ stelle }}."""


def load_demo_letter_templates() -> int:
    """A standard letter for each office with members that has none; how many were made."""
    made = 0
    for office in Office.objects.filter(memberships__isnull=False).distinct():
        if not LetterTemplate.objects.filter(office=office).exists():
            letter_template_create(office=office, name="Standardbescheid", body=STANDARD_LETTER)
            made += 1
    return made
