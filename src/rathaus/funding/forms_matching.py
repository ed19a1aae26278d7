"""The GET forms of the matching page (what someone plans: themes, who applies, where, how
much) and of the deadline calendar (level, theme, months ahead). Parameter names are German,
as they show in the address bar."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.core.money import parse_amount
from rathaus.core.themes import MaskChoiceField, Theme, values_of
from rathaus.funding.constants import ApplicantType, Level, Region
from rathaus.funding.selectors.calendar import DEFAULT_MONTHS, CalendarFilters
from rathaus.funding.selectors.matching import (
    MatchProfile,
    money_text,
    region_choice_of,
    regions_of_choice,
)

MONTH_CHOICES = [
    (1, gettext_lazy("1 Monat")),
    (3, gettext_lazy("3 Monate")),
    (6, gettext_lazy("6 Monate")),
    (12, gettext_lazy("12 Monate")),
    (24, gettext_lazy("24 Monate")),
]


def region_choices() -> list[tuple[str, Any]]:
    lands = [(value, label) for value, label in Region.choices if value.startswith("DE-")]
    return [
        ("", gettext_lazy("keine Angabe")),
        *lands,
        (Region.DE.value, gettext_lazy("Deutschland, Land nicht angegeben")),
        (Region.EU.value, gettext_lazy("anderer Staat der EU")),
    ]


class CheckBoxes(forms.CheckboxSelectMultiple):
    """Check boxes whose field is "labelled" by its first box: the error summary's link to
    the field then leads to the group (Django gives a group of boxes no id of its own)."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        if index is None and id_:
            return f"{id_}_0"
        return str(super().id_for_label(id_, index))


class MatchForm(forms.Form):
    themen = MaskChoiceField(
        choices_class=Theme,
        widget=CheckBoxes,
        label=gettext_lazy("Themen"),
        help_text=gettext_lazy("Aufrufe, deren Programm mindestens eines davon fördert."),
        error_messages={"invalid_choice": gettext_lazy("„%(value)s“ ist kein bekanntes Thema.")},
    )
    antragsteller = forms.ChoiceField(
        label=gettext_lazy("Wer beantragt?"),
        required=False,
        choices=[("", gettext_lazy("keine Angabe")), *ApplicantType.choices],
        error_messages={
            "invalid_choice": gettext_lazy("„%(value)s“ ist keine bekannte Art von Antragsteller.")
        },
    )
    region = forms.ChoiceField(
        label=gettext_lazy("Sitz des Antragstellers"),
        required=False,
        choices=region_choices,
        help_text=gettext_lazy(
            "Ein Sitz in einem Land passt auch zu Programmen des Bundes und der EU."
        ),
        error_messages={"invalid_choice": gettext_lazy("„%(value)s“ ist keine bekannte Region.")},
    )
    betrag = forms.CharField(
        label=gettext_lazy("Benötigte Förderung in Euro"),
        required=False,
        max_length=40,
        help_text=gettext_lazy(
            "Zum Beispiel 250.000 €. Es erscheinen Programme, deren Mindest- und Höchstbetrag "
            "dazu passen."
        ),
    )

    def clean_betrag(self) -> Decimal | None:
        text = self.cleaned_data.get("betrag", "").strip()
        if not text:
            return None
        try:
            amount = parse_amount(text)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error
        if amount < 0:
            raise forms.ValidationError(_("Der Betrag darf nicht negativ sein."), code="negative")
        if amount >= Decimal("1e12"):
            raise forms.ValidationError(_("Der Betrag ist zu groß."), code="too_large")
        return amount

    def profile(self) -> MatchProfile:
        """The profile of a valid form."""
        data = self.cleaned_data
        applicant = data.get("antragsteller") or ""
        return MatchProfile(
            themes_mask=int(data.get("themen") or 0),
            applicant_types_mask=(1 << list(ApplicantType.values).index(applicant))
            if applicant
            else 0,
            regions_mask=regions_of_choice(data.get("region") or ""),
            amount=data.get("betrag"),
        )


def match_form_data(profile: MatchProfile) -> dict[str, Any]:
    """The form's values for a profile (the page prefilled from a measure or organisation):
    the first of its applicant types, its most specific region."""
    applicants = values_of(profile.applicant_types_mask, ApplicantType)
    amount = ""
    if profile.amount is not None:
        amount = money_text(profile.amount)
    return {
        "themen": values_of(profile.themes_mask, Theme),
        "antragsteller": applicants[0] if applicants else "",
        "region": region_choice_of(profile.regions_mask),
        "betrag": amount,
    }


class DeadlineFilterForm(forms.Form):
    ebene = forms.ChoiceField(
        label=gettext_lazy("Ebene"),
        required=False,
        choices=[("", gettext_lazy("alle Ebenen")), *Level.choices],
        error_messages={"invalid_choice": gettext_lazy("„%(value)s“ ist keine bekannte Ebene.")},
    )
    thema = forms.ChoiceField(
        label=gettext_lazy("Thema"),
        required=False,
        choices=[("", gettext_lazy("alle Themen")), *Theme.choices],
        error_messages={"invalid_choice": gettext_lazy("„%(value)s“ ist kein bekanntes Thema.")},
    )
    monate = forms.TypedChoiceField(
        label=gettext_lazy("Zeitraum"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=MONTH_CHOICES,
        initial=DEFAULT_MONTHS,
        error_messages={
            "invalid_choice": gettext_lazy("Bitte wählen Sie einen der angebotenen Zeiträume.")
        },
    )

    def filters(self) -> CalendarFilters:
        """The filters of a valid form."""
        data = self.cleaned_data
        return CalendarFilters(
            level=data.get("ebene") or "",
            theme=data.get("thema") or "",
            months=int(data.get("monate") or DEFAULT_MONTHS),
        )
