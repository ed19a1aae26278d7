"""The transit pages' forms: search a stop, plan a journey."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

NO_CONTROL = RegexValidator(r"^[^\x00-\x1f]*$", _("Bitte keine Steuerzeichen eingeben."))


class StopSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Haltestelle"),
        max_length=100,
        validators=[NO_CONTROL],
        help_text=_("Name der Haltestelle, Tippfehler sind erlaubt."),
    )


class JourneyForm(forms.Form):
    von = forms.CharField(
        label=_("Von"),
        max_length=100,
        validators=[NO_CONTROL],
        help_text=_("Haltestelle, Adresse oder Koordinaten (Breite, Länge)."),
    )
    nach = forms.CharField(
        label=_("Nach"),
        max_length=100,
        validators=[NO_CONTROL],
        help_text=_("Haltestelle, Adresse oder Koordinaten (Breite, Länge)."),
    )
    datum = forms.DateField(
        label=_("Datum"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    zeit = forms.TimeField(
        label=_("Uhrzeit"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ankunft = forms.TypedChoiceField(
        label=_("Die Uhrzeit ist"),
        choices=[("0", _("Abfahrt")), ("1", _("Ankunft"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="0",
    )
    rollstuhl = forms.BooleanField(
        label=_("Nur barrierefreie Fahrten und Haltestellen"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reise_%s")
        super().__init__(*args, **kwargs)
