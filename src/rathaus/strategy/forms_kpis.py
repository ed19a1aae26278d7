"""Forms of the KPI pages: an indicator, a new observation, the correction of one. They read
the input (numbers written the German way "44,5" or "1.234,5", optionally followed by a unit
"12 Tage"); the rules are checked by ``services.kpis``, whose errors the views show at the
field they name (``show_error``)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.strategy.constants import AutoSource, Direction, Frequency
from rathaus.strategy.models import FieldOfAction, Indicator
from rathaus.strategy.selectors.kpis import user_id_by_email, value_text
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.kpis import IndicatorData

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
DATE_ERRORS = {"invalid": gettext_lazy("Bitte ein gültiges Datum angeben, z. B. 31.12.2027.")}

_NUMBER_AND_UNIT = re.compile(r"^\s*(?P<number>[-+]?[\d.,\s\u00a0]*\d)\s*(?P<unit>\D.*)?$")
_GERMAN = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$|^[-+]?\d+(,\d+)?$")
_ENGLISH = re.compile(r"^[-+]?\d+(\.\d+)?$")


def parse_number(text: str) -> tuple[Decimal, str | None]:
    """A number as people write it here, and the unit written after it (or None): "44,5",
    "1.234,5", "44.5", "12 Tage", "75 %". Raises ``ValueError`` with a German message."""
    match = _NUMBER_AND_UNIT.match(text or "")
    if match is None:
        raise ValueError(_("„%(text)s“ ist keine Zahl (Beispiel: 44,5).") % {"text": text})
    number = re.sub(r"[\s\u00a0]", "", match["number"])
    if _GERMAN.match(number):
        normal = number.replace(".", "").replace(",", ".")
    elif _ENGLISH.match(number):
        normal = number
    else:
        raise ValueError(_("„%(text)s“ ist keine Zahl (Beispiel: 44,5).") % {"text": text})
    try:
        value = Decimal(normal)
    except InvalidOperation as error:
        raise ValueError(
            _("„%(text)s“ ist keine Zahl (Beispiel: 44,5).") % {"text": text}
        ) from error
    unit = (match["unit"] or "").strip() or None
    return value, unit


class NumberField(forms.CharField):
    """A number with an optional unit after it; ``clean`` returns ``(Decimal, unit | None)``
    or None when left empty."""

    def __init__(self, *args: Any, allow_unit: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 60)
        super().__init__(*args, **kwargs)
        self.allow_unit = allow_unit

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            number, unit = parse_number(text)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error
        if unit is not None and not self.allow_unit:
            raise forms.ValidationError(
                _("Bitte nur die Zahl angeben, ohne Einheit."), code="invalid"
            )
        return (number, unit)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return value_text(value)
        return value


class ServiceErrorMixin(forms.Form):
    # the services' field names that this form calls otherwise
    error_fields: dict[str, str] = {}

    def show_error(self, error: StrategyError) -> None:
        """A service's refusal at the field it names, anything else above the form."""
        name = self.error_fields.get(error.field or "", error.field)
        self.add_error(name if name in self.fields else None, str(error.message))


class IndicatorForm(ServiceErrorMixin):
    code = forms.CharField(
        label=gettext_lazy("Kürzel"),
        max_length=40,
        help_text=gettext_lazy("Eindeutig in der Strategie, z. B. K-1"),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=300)
    definition = forms.CharField(
        label=gettext_lazy("Definition"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Was gezählt oder gemessen wird, und wie."),
    )
    auto_source = forms.ChoiceField(
        label=gettext_lazy("Werte automatisch aus Plattformdaten"),
        required=False,
        choices=[("", gettext_lazy("nein, Werte werden eingetragen")), *AutoSource.choices],
        help_text=gettext_lazy(
            "Die Werte werden täglich berechnet; die Einheit gibt dann die Quelle vor."
        ),
    )
    unit = forms.CharField(
        label=gettext_lazy("Einheit"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("z. B. %, Tage, Anzahl, t CO₂"),
    )
    direction = forms.ChoiceField(label=gettext_lazy("Richtung"), choices=Direction.choices)
    frequency = forms.ChoiceField(label=gettext_lazy("Erhebung"), choices=Frequency.choices)
    field_of_action: forms.ModelChoiceField[FieldOfAction] = forms.ModelChoiceField(
        label=gettext_lazy("Handlungsfeld"),
        queryset=FieldOfAction.objects.none(),
        required=False,
        empty_label=gettext_lazy("keines"),
    )
    measure_codes = forms.CharField(
        label=gettext_lazy("Maßnahmen"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Kürzel der Maßnahmen, durch Komma getrennt, z. B. LD-1, LD-3"),
    )
    baseline_value = NumberField(
        label=gettext_lazy("Ausgangswert"), required=False, allow_unit=False
    )
    baseline_date = forms.DateField(
        label=gettext_lazy("Ausgangswert vom"),
        required=False,
        widget=DATE_WIDGET,
        input_formats=DATE_FORMATS,
        error_messages=DATE_ERRORS,
    )
    target_value = NumberField(label=gettext_lazy("Zielwert"), required=False, allow_unit=False)
    target_date = forms.DateField(
        label=gettext_lazy("Ziel bis"),
        required=False,
        widget=DATE_WIDGET,
        input_formats=DATE_FORMATS,
        error_messages=DATE_ERRORS,
    )
    data_source = forms.CharField(label=gettext_lazy("Datenquelle"), max_length=300, required=False)
    owner_email = forms.EmailField(
        label=gettext_lazy("Verantwortlich (E-Mail-Adresse des Kontos)"),
        required=False,
        help_text=gettext_lazy("Diese Person trägt die Werte ein und korrigiert sie."),
    )
    external_id = forms.CharField(
        label=gettext_lazy("Externe Kennung"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Schlüssel in den Tabellen der Abteilung (CSV-Import)"),
    )
    position = forms.IntegerField(
        label=gettext_lazy("Reihenfolge"), min_value=0, max_value=32767, initial=0
    )

    error_fields = {  # noqa: RUF012 - a plain class constant
        "owner": "owner_email",
        "measures": "measure_codes",
    }

    def __init__(
        self,
        *args: Any,
        fields_of_action: Any,
        measures: Any,
        indicator: Indicator | None = None,
        **kwargs: Any,
    ) -> None:
        if indicator is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": indicator.code,
                "name": indicator.name,
                "definition": indicator.definition,
                "auto_source": indicator.auto_source,
                "unit": indicator.unit,
                "direction": indicator.direction,
                "frequency": indicator.frequency,
                "field_of_action": indicator.field_of_action_id,
                "measure_codes": ", ".join(m.code for m in indicator.measures.order_by("code")),
                "baseline_value": indicator.baseline_value,
                "baseline_date": indicator.baseline_date,
                "target_value": indicator.target_value,
                "target_date": indicator.target_date,
                "data_source": indicator.data_source,
                "owner_email": indicator.owner.email if indicator.owner else "",
                "external_id": indicator.external_id or "",
                "position": indicator.position,
            }
        super().__init__(*args, **kwargs)
        self._measures = measures
        field = self.fields["field_of_action"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = fields_of_action
        self.fields["code"].error_messages["required"] = _("Bitte ein Kürzel angeben.")
        self.fields["name"].error_messages["required"] = _("Bitte einen Namen angeben.")
        self.fields["definition"].error_messages["required"] = _(
            "Bitte angeben, wie die Kennzahl definiert ist."
        )

    def clean_measure_codes(self) -> list[int]:
        codes = [c.strip() for c in re.split(r"[,;\s]+", self.cleaned_data["measure_codes"])]
        codes = [c for c in codes if c]
        if not codes:
            return []
        found: dict[str, int] = dict(
            self._measures.filter(code__in=codes).values_list("code", "pk")
        )
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise forms.ValidationError(
                _("Diese Maßnahmen gibt es in der Strategie nicht: %(codes)s")
                % {"codes": ", ".join(unknown)}
            )
        return sorted(set(found.values()))

    def clean_owner_email(self) -> int | None:
        email = self.cleaned_data["owner_email"]
        if not email:
            return None
        owner_id = user_id_by_email(email=email)
        if owner_id is None:
            raise forms.ValidationError(_("Es gibt kein Konto mit dieser E-Mail-Adresse."))
        return owner_id

    def to_data(self) -> IndicatorData:
        d = self.cleaned_data
        field_of_action = d.get("field_of_action")
        baseline = d.get("baseline_value")
        target = d.get("target_value")
        return IndicatorData(
            code=d["code"],
            name=d["name"],
            definition=d["definition"],
            unit=d.get("unit") or "",
            direction=d["direction"],
            frequency=d["frequency"],
            field_id=field_of_action.pk if field_of_action is not None else None,
            measure_ids=d.get("measure_codes") or [],
            external_id=d.get("external_id") or None,
            baseline_value=baseline[0] if baseline else None,
            baseline_date=d.get("baseline_date"),
            target_value=target[0] if target else None,
            target_date=d.get("target_date"),
            data_source=d.get("data_source") or "",
            owner_id=d.get("owner_email"),
            auto_source=d.get("auto_source") or "",
            position=d.get("position") or 0,
        )


class ObservationForm(ServiceErrorMixin):
    """A new value (or, for a period that has one, its correction)."""

    period = forms.DateField(
        label=gettext_lazy("Zeitraum"),
        widget=DATE_WIDGET,
        input_formats=DATE_FORMATS,
        error_messages=DATE_ERRORS,
    )
    value = NumberField(label=gettext_lazy("Wert"))
    provisional = forms.BooleanField(label=gettext_lazy("vorläufiger Wert"), required=False)
    note = forms.CharField(
        label=gettext_lazy("Anmerkung"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Grund der Korrektur"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Nur nötig, wenn es für den Zeitraum schon einen endgültigen Wert gibt."
        ),
    )

    error_fields = {"unit": "value"}  # noqa: RUF012

    def __init__(self, *args: Any, indicator: Indicator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        frequency_hint: dict[str, str] = {
            Frequency.MONTHLY: _("Ein Tag im Monat; gespeichert wird der Monat."),
            Frequency.QUARTERLY: _("Ein Tag im Quartal; gespeichert wird das Quartal."),
            Frequency.YEARLY: _("Ein Tag im Jahr; gespeichert wird das Jahr."),
        }
        self.fields["period"].help_text = frequency_hint.get(indicator.frequency, "")
        self.fields["value"].help_text = _("In %(unit)s, z. B. 44,5") % {"unit": indicator.unit}
        self.fields["period"].error_messages["required"] = _("Bitte den Zeitraum angeben.")
        self.fields["value"].error_messages["required"] = _("Bitte einen Wert angeben.")

    @property
    def number(self) -> Decimal:
        number: Decimal = self.cleaned_data["value"][0]
        return number

    @property
    def unit(self) -> str | None:
        unit: str | None = self.cleaned_data["value"][1]
        return unit


class CorrectionForm(ServiceErrorMixin):
    value = NumberField(label=gettext_lazy("Wert"))
    provisional = forms.BooleanField(label=gettext_lazy("vorläufiger Wert"), required=False)
    note = forms.CharField(
        label=gettext_lazy("Anmerkung"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Grund der Korrektur"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Pflicht, wenn der bisherige Wert endgültig ist."),
    )

    error_fields = {"unit": "value"}  # noqa: RUF012

    def __init__(self, *args: Any, unit: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].help_text = _("In %(unit)s, z. B. 44,5") % {"unit": unit}
        self.fields["value"].error_messages["required"] = _("Bitte einen Wert angeben.")

    @property
    def number(self) -> Decimal:
        number: Decimal = self.cleaned_data["value"][0]
        return number

    @property
    def unit(self) -> str | None:
        unit: str | None = self.cleaned_data["value"][1]
        return unit
