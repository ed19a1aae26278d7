"""Forms of the editors' pages of strategies, fields of action, measures and milestones. They
check the input's form (dates, numbers, amounts the German way, choices); the rules are the
services' (services/measures.py), whose ``StrategyError`` the views show at its field
(``show_error``). Field names are those of the services' data classes."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from rathaus.core.money import AmountField
from rathaus.core.themes import MaskChoiceField, Theme
from rathaus.strategy.constants import (
    MeasureStatus,
    MilestoneStatus,
    ProgressMode,
    StrategyKind,
    StrategyStatus,
    TrafficLight,
)
from rathaus.strategy.models import FieldOfAction, Measure, Milestone, Strategy
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.measures import (
    EVIDENCE_MAX_BYTES,
    MEASURE_FIELDS,
    STAFF_ONLY,
    FieldData,
    MeasureData,
    MeasureLinks,
    MilestoneData,
    StrategyData,
)

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
DATE_ERRORS = {"invalid": _("Bitte ein gültiges Datum angeben, z. B. 31.03.2027.")}
MULTI_HINT = _("mehrere mit Strg oder Cmd wählen")


def date_field(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=DATE_FORMATS,
        error_messages=DATE_ERRORS,
        **kwargs,
    )


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    found = form.fields[name]
    assert isinstance(found, forms.ChoiceField)  # noqa: S101 - declared on the form
    return found


def _multi(label: Any, **kwargs: Any) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        label=label,
        coerce=int,
        required=False,
        error_messages={"invalid_choice": _("Bitte nur Einträge aus der Liste wählen.")},
        **kwargs,
    )


def _single(label: Any, **kwargs: Any) -> forms.TypedChoiceField:
    kwargs.setdefault("required", False)
    return forms.TypedChoiceField(
        label=label,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Bitte einen Eintrag aus der Liste wählen.")},
        **kwargs,
    )


class ServiceErrorMixin(forms.Form):
    def show_error(self, error: StrategyError) -> None:
        """A service's refusal at the field it names, anything else above the form."""
        name = error.field if error.field in self.fields else None
        self.add_error(name, str(error.message))


# ---- strategies ----------------------------------------------------------------------------


class StrategyForm(ServiceErrorMixin):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.CharField(
        label=_("Kürzel"),
        max_length=80,
        help_text=_("Teil der Adresse des Dashboards, z. B. leipzig-digital"),
    )
    version = forms.CharField(label=_("Version oder Jahr"), max_length=40, required=False)
    kind = forms.ChoiceField(label=_("Art"), choices=StrategyKind.choices)
    description = forms.CharField(
        label=_("Beschreibung"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    status = forms.ChoiceField(label=_("Status"), choices=StrategyStatus.choices)
    council_decision_number = forms.CharField(
        label=_("Beschlussnummer des Stadtrats"),
        max_length=60,
        required=False,
        help_text=_("Pflicht, wenn der Stadtrat die Strategie beschlossen hat"),
    )
    council_decision_date = date_field(_("Beschlossen am"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("Bitte geben Sie einen Namen an.")
        self.fields["slug"].error_messages["required"] = _("Bitte geben Sie ein Kürzel an.")

    @staticmethod
    def initial_from(strategy: Strategy) -> dict[str, Any]:
        return {name: getattr(strategy, name) for name in StrategyForm.base_fields}

    def to_data(self) -> StrategyData:
        return StrategyData(**{name: self.cleaned_data[name] for name in self.fields})


# ---- fields of action ----------------------------------------------------------------------


class FieldForm(ServiceErrorMixin):
    code = forms.CharField(label=_("Nummer"), max_length=20, help_text=_("z. B. 1.2"))
    title = forms.CharField(label=_("Titel"), max_length=300)
    description = forms.CharField(
        label=_("Beschreibung"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    parent_id = _single(_("Gehört zu"))
    position = forms.IntegerField(
        label=_("Reihenfolge"),
        min_value=0,
        max_value=32767,
        initial=0,
        error_messages={"invalid": _("Bitte eine ganze Zahl angeben.")},
    )

    def __init__(self, *args: Any, parents: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "parent_id").choices = [("", _("keinem (oberste Ebene)")), *parents]
        self.fields["code"].error_messages["required"] = _("Bitte geben Sie eine Nummer an.")
        self.fields["title"].error_messages["required"] = _("Bitte geben Sie einen Titel an.")

    @staticmethod
    def initial_from(item: FieldOfAction) -> dict[str, Any]:
        return {name: getattr(item, name) for name in FieldForm.base_fields}

    def to_data(self) -> FieldData:
        return FieldData(**{name: self.cleaned_data[name] for name in self.fields})


# ---- measures ------------------------------------------------------------------------------


class MeasureForm(ServiceErrorMixin):
    code = forms.CharField(label=_("Kürzel"), max_length=40, help_text=_("z. B. LD-1.2"))
    title = forms.CharField(label=_("Titel"), max_length=300)
    description = forms.CharField(
        label=_("Beschreibung"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    strategy_ids = _multi(
        _("Strategien und EU-Projekte"),
        help_text=format_lazy(
            "{}; {}", _("Eine Teilmaßnahme gehört zu den Strategien ihrer Maßnahme"), MULTI_HINT
        ),
    )
    field_ids = _multi(
        _("Handlungsfelder"),
        help_text=format_lazy("{}; {}", _("Aus den Strategien der Maßnahme"), MULTI_HINT),
    )
    parent_id = _single(_("Teilmaßnahme von"))
    weight = forms.IntegerField(
        label=_("Gewicht (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Nur für Teilmaßnahmen: Anteil am Fortschritt der Maßnahme"),
        error_messages={
            "invalid": _("Bitte eine ganze Zahl von 0 bis 100 angeben."),
            "min_value": _("Das Gewicht ist eine Zahl von 0 bis 100 %."),
            "max_value": _("Das Gewicht ist eine Zahl von 0 bis 100 %."),
        },
    )
    external_id = forms.CharField(
        label=_("Externe Kennung"),
        max_length=100,
        required=False,
        help_text=_("Schlüssel der Tabelle der Abteilung (CSV-Import)"),
    )
    office_id = _single(_("Verantwortliche Stelle"))
    responsible_id = _single(_("Verantwortliche Person"))
    area_ids = _multi(_("Stadtbezirke und Ortsteile"), help_text=MULTI_HINT)
    partner_ids = _multi(
        _("Partnerorganisationen"),
        help_text=format_lazy("{}; {}", _("Aus dem Verzeichnis"), MULTI_HINT),
    )
    themes_mask = MaskChoiceField(label=_("Themen"), choices_class=Theme)
    status = forms.ChoiceField(label=_("Status"), choices=MeasureStatus.choices)
    traffic_light = forms.ChoiceField(label=_("Ampel"), choices=TrafficLight.choices)
    status_reason = forms.CharField(
        label=_("Begründung"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Pflicht, wenn die Ampel nicht auf „im Plan“ steht"),
    )
    progress_mode = forms.ChoiceField(label=_("Fortschritt"), choices=ProgressMode.choices)
    progress = forms.IntegerField(
        label=_("Fortschritt (%)"),
        required=False,
        help_text=_("0 bis 100; wird bei Berechnung aus den Teilmaßnahmen ignoriert"),
        error_messages={"invalid": _("Bitte eine ganze Zahl von 0 bis 100 angeben.")},
    )
    planned_start = date_field(_("Geplanter Beginn"), required=False)
    planned_end = date_field(_("Geplantes Ende"), required=False)
    actual_start = date_field(_("Tatsächlicher Beginn"), required=False)
    actual_end = date_field(_("Tatsächliches Ende"), required=False)
    planned_budget = AmountField(
        label=_("Geplantes Budget (€)"), required=False, help_text=_("z. B. 1.500.000,00")
    )
    spent_budget = AmountField(label=_("Ausgegebenes Budget (€)"), required=False)
    event_ids = _multi(_("Veranstaltungen"), help_text=MULTI_HINT)
    competition_ids = _multi(_("Wettbewerbe"), help_text=MULTI_HINT)
    dataset_ids = _multi(_("Offene Datensätze"), help_text=MULTI_HINT)

    LINK_FIELDS = {"event": "event_ids", "competition": "competition_ids", "dataset": "dataset_ids"}

    def __init__(
        self,
        *args: Any,
        choices: dict[str, list[tuple[int, str]]],
        links: dict[str, list[tuple[int, str]]],
        staff: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name in ("strategy_ids", "field_ids", "area_ids", "partner_ids"):
            _choice(self, name).choices = choices[name]
        _choice(self, "parent_id").choices = [
            ("", _("keiner (Maßnahme der obersten Ebene)")),
            *choices["parent_id"],
        ]
        _choice(self, "office_id").choices = [("", _("keine")), *choices["office_id"]]
        _choice(self, "responsible_id").choices = [
            ("", _("niemand")),
            *choices["responsible_id"],
        ]
        for kind, name in self.LINK_FIELDS.items():
            _choice(self, name).choices = links.get(kind, [])
        self.fields["code"].error_messages["required"] = _("Bitte geben Sie ein Kürzel an.")
        self.fields["title"].error_messages["required"] = _("Bitte geben Sie einen Titel an.")
        if not staff:
            # the structure stays with department staff (the service refuses it, too)
            for name in STAFF_ONLY:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Ändern nur die Mitarbeitenden der Abteilung")

    @staticmethod
    def initial_from(
        measure: Measure, *, partner_ids: list[int], link_ids: dict[str, list[int]]
    ) -> dict[str, Any]:
        initial = {name: getattr(measure, name) for name in MEASURE_FIELDS}
        initial["external_id"] = measure.external_id or ""
        initial["strategy_ids"] = list(measure.strategies.values_list("pk", flat=True))
        initial["field_ids"] = list(measure.fields_of_action.values_list("pk", flat=True))
        initial["area_ids"] = list(measure.areas.values_list("pk", flat=True))
        initial["partner_ids"] = partner_ids
        for kind, name in MeasureForm.LINK_FIELDS.items():
            initial[name] = link_ids.get(kind, [])
        return initial

    def to_data(self) -> MeasureData:
        data = self.cleaned_data
        progress = data.get("progress")
        return MeasureData(
            code=data["code"],
            title=data["title"],
            strategy_ids=list(data["strategy_ids"]),
            description=data["description"],
            field_ids=list(data["field_ids"]),
            parent_id=data["parent_id"],
            weight=data["weight"],
            external_id=data["external_id"] or None,
            office_id=data["office_id"],
            responsible_id=data["responsible_id"],
            area_ids=list(data["area_ids"]),
            partner_ids=list(data["partner_ids"]),
            themes_mask=data["themes_mask"],
            status=data["status"],
            traffic_light=data["traffic_light"],
            status_reason=data["status_reason"],
            progress=progress if progress is not None else 0,
            progress_mode=data["progress_mode"],
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
            actual_start=data["actual_start"],
            actual_end=data["actual_end"],
            planned_budget=data["planned_budget"],
            spent_budget=data["spent_budget"],
        )

    def to_links(self) -> MeasureLinks:
        data = self.cleaned_data
        return MeasureLinks(
            event_ids=list(data["event_ids"]),
            competition_ids=list(data["competition_ids"]),
            dataset_ids=list(data["dataset_ids"]),
        )


class WeightsForm(ServiceErrorMixin):
    """A weight per sub-measure (``weight_<id>``); together 100 % (the service's refusal of
    the sum is shown above the form)."""

    def __init__(self, *args: Any, children: list[Measure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.children = children
        for child in children:
            self.fields[f"weight_{child.pk}"] = forms.IntegerField(
                label=_("Gewicht von %(code)s %(title)s (%%)")
                % {"code": child.code, "title": child.title},
                min_value=0,
                max_value=100,
                initial=child.weight or 0,
                error_messages={
                    "required": _("Bitte ein Gewicht angeben."),
                    "invalid": _("Bitte eine ganze Zahl von 0 bis 100 angeben."),
                    "min_value": _("Das Gewicht ist eine Zahl von 0 bis 100 %."),
                    "max_value": _("Das Gewicht ist eine Zahl von 0 bis 100 %."),
                },
            )

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{child.pk}"] for child in self.children]

    def to_weights(self) -> dict[int, int]:
        return {child.pk: self.cleaned_data[f"weight_{child.pk}"] for child in self.children}


# ---- milestones ----------------------------------------------------------------------------


def _evidence_help() -> str:
    """The evidence field's hint, translated when it is shown (in the request's language)."""
    return str(_("PDF, PNG oder JPEG, höchstens %(size)d MB")) % {
        "size": EVIDENCE_MAX_BYTES // (1024 * 1024)
    }


class MilestoneForm(ServiceErrorMixin):
    title = forms.CharField(label=_("Titel"), max_length=300)
    planned_date = date_field(_("Geplant am"))
    actual_date = date_field(_("Erreicht am"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=MilestoneStatus.choices)
    slip_reason = forms.CharField(
        label=_("Grund der Verschiebung"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Pflicht, wenn der Meilenstein später liegt als ursprünglich geplant"),
    )
    evidence_url = forms.CharField(
        label=_("Nachweis (Link)"),
        max_length=500,
        required=False,
        help_text=_("z. B. https://www.leipzig.de/…"),
        widget=forms.URLInput,
    )
    evidence_file = forms.FileField(
        label=_("Nachweis (Dokument)"),
        required=False,
        help_text=lazy(_evidence_help, str)(),
        error_messages={"empty": _("Die Datei ist leer.")},
    )
    remove_evidence_file = forms.BooleanField(
        label=_("Hochgeladenes Dokument entfernen"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["required"] = _("Bitte geben Sie einen Titel an.")
        self.fields["planned_date"].error_messages["required"] = _(
            "Bitte geben Sie das geplante Datum an."
        )
        self.fields["evidence_file"].widget.attrs["accept"] = ".pdf,.png,.jpg,.jpeg"

    @staticmethod
    def initial_from(milestone: Milestone) -> dict[str, Any]:
        names = ("title", "planned_date", "actual_date", "status", "slip_reason", "evidence_url")
        return {name: getattr(milestone, name) for name in names}

    def to_data(self) -> MilestoneData:
        data = self.cleaned_data
        return MilestoneData(
            title=data["title"],
            planned_date=data["planned_date"],
            actual_date=data["actual_date"],
            status=data["status"],
            slip_reason=data["slip_reason"],
            evidence_url=data["evidence_url"],
            evidence_file=cast(Any, data.get("evidence_file")) or None,
            remove_evidence_file=bool(data.get("remove_evidence_file")),
        )


# ---- the list's filters --------------------------------------------------------------------


class MeasureFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    amt = _single(_("Verantwortliche Stelle"))
    feld = _single(_("Handlungsfeld"))

    def __init__(
        self,
        *args: Any,
        offices: list[tuple[int, str]],
        fields: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "status").choices = [("", _("alle")), *MeasureStatus.choices]
        _choice(self, "amt").choices = [("", _("alle")), *offices]
        _choice(self, "feld").choices = [("", _("alle")), *fields]

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid one is left out, and shown at its field)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or "",
            "office_id": data.get("amt"),
            "field_id": data.get("feld"),
        }
