"""The staff's CSV import form of the strategy pillar: one file, its kind (measures or KPI
observations) and "only check". The file is read by ``services.csv_io``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from rathaus.core.csvimport import CsvUploadField

KIND_CHOICES = [
    ("measures", gettext_lazy("Maßnahmen (measures.csv)")),
    ("observations", gettext_lazy("Messwerte von Kennzahlen (observations.csv)")),
]


class StrategyImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Art der Datei"), choices=KIND_CHOICES)
    file = CsvUploadField(
        label=gettext_lazy("CSV-Datei"),
        help_text=gettext_lazy("UTF-8 oder Windows-1252, Trennzeichen ; oder ,, höchstens 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={
            "required": gettext_lazy("Bitte eine CSV-Datei wählen."),
            "empty": gettext_lazy("Die Datei ist leer."),
        },
    )
    check_only = forms.BooleanField(
        label=gettext_lazy("Nur prüfen, nichts speichern"), required=False
    )
