"""Forms of an application's budget page (views/budgets.py): a budget year's row, a duty,
and marking a duty done. They check the input's form (amounts the German way, dates, the
year's range); the rules are the services' (services/budgets.py), whose ``BudgetError`` the
view shows at its field (``show_budget_error``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.core.money import AmountField
from rathaus.funding.constants import DutyKind
from rathaus.funding.models import BudgetLine, Duty
from rathaus.funding.services.budgets import (
    REMIND_DAYS_MAX,
    YEAR_MAX,
    YEAR_MIN,
    BudgetError,
    BudgetLineData,
    DutyData,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
DATE_ERRORS = {"invalid": _("Bitte ein gültiges Datum angeben, z. B. 31.03.2027.")}


def _show_error(form: forms.Form, error: BudgetError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


class BudgetLineForm(forms.Form):
    year = forms.IntegerField(
        label=_("Haushaltsjahr"),
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        help_text=_("Eine Zeile je Jahr: Ein Jahr, das es schon gibt, wird überschrieben."),
        error_messages={
            "required": _("Bitte das Haushaltsjahr angeben, z. B. 2027."),
            "invalid": _("Bitte ein Jahr als Zahl angeben, z. B. 2027."),
            "min_value": _("Bitte ein Haushaltsjahr zwischen 2000 und 2100 angeben."),
            "max_value": _("Bitte ein Haushaltsjahr zwischen 2000 und 2100 angeben."),
        },
    )
    planned = AmountField(
        label=_("Geplant (€)"),
        required=True,
        help_text=_("Beispiel: 1.234,56"),
        error_messages={"required": _("Bitte den geplanten Betrag angeben (auch 0).")},
    )
    spent = AmountField(label=_("Ausgegeben (€)"), blank_amount=Decimal("0.00"))
    funded = AmountField(label=_("Fördermittel erhalten (€)"), blank_amount=Decimal("0.00"))
    own_share = AmountField(label=_("Eigenanteil der Stadt (€)"), blank_amount=Decimal("0.00"))
    note = forms.CharField(label=_("Anmerkung"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    @staticmethod
    def initial_from(line: BudgetLine) -> dict[str, Any]:
        return {
            "year": line.year,
            "planned": line.planned,
            "spent": line.spent,
            "funded": line.funded,
            "own_share": line.own_share,
            "note": line.note,
        }

    def to_data(self) -> BudgetLineData:
        data = self.cleaned_data
        return BudgetLineData(
            year=data["year"],
            planned=data["planned"],
            spent=data["spent"],
            funded=data["funded"],
            own_share=data["own_share"],
            note=data["note"],
        )

    def show_budget_error(self, error: BudgetError) -> None:
        _show_error(self, error)


class DutyForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Art"),
        choices=[("", _("Bitte wählen")), *DutyKind.choices],
        error_messages={"required": _("Bitte eine Art der Pflicht wählen.")},
    )
    title = forms.CharField(
        label=_("Bezeichnung"),
        max_length=250,
        required=False,
        help_text=_("z. B. „Zwischenbericht 1. Projektjahr“"),
    )
    due_on = forms.DateField(
        label=_("Fällig am"),
        widget=DATE_WIDGET,
        input_formats=DATE_FORMATS,
        error_messages={
            **DATE_ERRORS,
            "required": _("Bitte das Fälligkeitsdatum angeben."),
        },
    )
    responsible = forms.TypedChoiceField(
        label=_("Verantwortlich"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Ohne Angabe: die verantwortliche Person des Antrags. Sie wird erinnert."),
    )
    remind_days_before = forms.IntegerField(
        label=_("Erinnerung (Tage vorher)"),
        min_value=0,
        max_value=REMIND_DAYS_MAX,
        required=False,
        error_messages={
            "invalid": _("Bitte eine ganze Zahl von Tagen angeben."),
            "min_value": _("Bitte eine Zahl von 0 bis 365 Tagen angeben."),
            "max_value": _("Bitte eine Zahl von 0 bis 365 Tagen angeben."),
        },
    )
    note = forms.CharField(
        label=_("Anmerkung"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(
        self,
        *args: Any,
        responsible_choices: list[tuple[int, str]],
        default_days: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["responsible"])
        field.choices = [("", _("Verantwortliche Person des Antrags")), *responsible_choices]
        field.error_messages["invalid_choice"] = _("Bitte eine Person aus der Liste wählen.")
        days = self.fields["remind_days_before"]
        days.help_text = _("Ohne Angabe: %(days)d Tage vor der Frist.") % {"days": default_days}
        days.widget.attrs.update({"inputmode": "numeric"})

    @staticmethod
    def initial_from(duty: Duty) -> dict[str, Any]:
        return {
            "kind": duty.kind,
            "title": duty.title,
            "due_on": duty.due_on,
            "responsible": duty.responsible_id,
            "remind_days_before": duty.remind_days_before,
            "note": duty.note,
        }

    def to_data(self) -> DutyData:
        data = self.cleaned_data
        return DutyData(
            kind=data["kind"],
            title=data["title"],
            due_on=data["due_on"],
            responsible_id=data["responsible"],
            remind_days_before=data["remind_days_before"],
            note=data["note"],
        )

    def show_budget_error(self, error: BudgetError) -> None:
        _show_error(self, error)


class DutyDoneForm(forms.Form):
    done_on = forms.DateField(
        label=_("Erledigt am"),
        widget=DATE_WIDGET,
        input_formats=DATE_FORMATS,
        error_messages={**DATE_ERRORS, "required": _("Bitte das Datum angeben.")},
    )

    def __init__(self, *args: Any, today: date, label: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"done_on": today})
        super().__init__(*args, **kwargs)
        if label:  # one form per duty in a table: the label says which
            self.fields["done_on"].label = label

    def show_budget_error(self, error: BudgetError) -> None:
        _show_error(self, error)
