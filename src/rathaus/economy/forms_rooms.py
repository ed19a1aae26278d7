"""Forms of the rooms part: a room (staff), a booking, the week shown on a room's page.

Times are entered in the hub's local time (Europe/Berlin); Django turns them into aware
datetimes and refuses times that do not exist or are ambiguous on a clock change."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.economy.models import Event, Organisation

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y, %H:%M"]
DATETIME_INVALID = _("Bitte geben Sie Datum und Uhrzeit an, zum Beispiel 24.12.2026 14:30.")


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    capacity = forms.IntegerField(
        label=_("Plätze"),
        min_value=1,
        max_value=10_000,
        error_messages={"invalid": _("Bitte geben Sie eine ganze Zahl ein.")},
    )
    equipment = forms.CharField(
        label=_("Ausstattung"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Ein Gegenstand pro Zeile, zum Beispiel Beamer, Whiteboard, Videokonferenz."),
    )
    accessibility = forms.CharField(
        label=_("Barrierefreiheit"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Zugang, Aufzug, Toilette, Induktionsschleife und Ähnliches."),
    )
    wheelchair_accessible = forms.BooleanField(label=_("rollstuhlgerecht"), required=False)
    active = forms.BooleanField(
        label=_("buchbar"),
        required=False,
        initial=True,
        help_text=_("Nicht buchbare Räume sehen nur Beschäftigte des Referats."),
    )

    def clean_equipment(self) -> list[str]:
        text: str = self.cleaned_data["equipment"]
        return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class BookingForm(forms.Form):
    title = forms.CharField(
        label=_("Anlass"),
        max_length=200,
        help_text=_("Andere Organisationen sehen nur „belegt“, das Referat sieht den Anlass."),
    )
    starts_at = forms.DateTimeField(
        label=_("Beginn"),
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Datum und Uhrzeit in Leipziger Ortszeit."),
        error_messages={"invalid": DATETIME_INVALID},
    )
    ends_at = forms.DateTimeField(
        label=_("Ende"),
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Höchstens 14 Tage nach dem Beginn."),
        error_messages={"invalid": DATETIME_INVALID},
    )
    attendees = forms.IntegerField(
        label=_("Erwartete Personen"),
        required=False,
        min_value=1,
        error_messages={"invalid": _("Bitte geben Sie eine ganze Zahl ein.")},
    )

    def __init__(
        self,
        *args: Any,
        capacity: int,
        organisations: list[Organisation],
        events: list[Event] | None = None,
        staff: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].help_text = _("Der Raum hat %(plaetze)d Plätze.") % {
            "plaetze": capacity
        }
        choices: list[tuple[str, Any]] = [(str(o.pk), o.name) for o in organisations]
        if staff:
            choices.insert(0, ("", _("– für das Referat –")))
        self.fields["organisation"] = forms.TypedChoiceField(
            label=_("Buchen für"),
            choices=choices,
            coerce=int,
            empty_value=None,
            required=not staff,
            error_messages={
                "invalid_choice": _("Bitte wählen Sie eine Organisation aus der Liste."),
                "required": _("Bitte wählen Sie die Organisation, für die Sie buchen."),
            },
        )
        if staff:
            self.fields["event"] = forms.TypedChoiceField(
                label=_("Für die Veranstaltung"),
                choices=[("", _("– keine –"))]
                + [
                    (str(e.pk), f"{e.title} ({timezone.localtime(e.starts_at):%d.%m.%Y})")
                    for e in events or []
                ],
                coerce=int,
                empty_value=None,
                required=False,
                error_messages={
                    "invalid_choice": _("Bitte wählen Sie eine Veranstaltung aus der Liste.")
                },
            )


class WeekForm(forms.Form):
    """The week a room's page shows: the week of any day chosen."""

    woche = forms.DateField(
        label=_("Woche mit dem Tag"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Bitte geben Sie ein Datum an, zum Beispiel 24.12.2026.")},
    )

    def clean_woche(self) -> date | None:
        value: date | None = self.cleaned_data["woche"]
        if value is not None and not (2000 <= value.year <= 2100):
            raise forms.ValidationError(_("Bitte wählen Sie ein Datum zwischen 2000 und 2100."))
        return value
