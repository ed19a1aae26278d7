"""Forms of the staff's call pages: the call's text and settings, a phase, a criterion, a jury
member, and the reason asked for every change after publication. They check the input's
form (numbers, dates); the rules themselves are checked by the services (services/calls.py),
whose ``CallError`` the views show at its field (``show_call_error``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.innovation.constants import AdvanceRule, Scale, TieBreak
from rathaus.innovation.services.calls import (
    CallData,
    CallError,
    CriterionData,
    JuryData,
    PhaseData,
    number_text,
)

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"]
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_ERRORS = {
    "invalid": _("Bitte ein gültiges Datum mit Uhrzeit angeben, z. B. 31.03.2027 10:00."),
}
NUMBER_ERRORS = {"invalid": _("Bitte eine Zahl angeben, z. B. 2,5.")}
WHOLE_NUMBER_ERRORS = {"invalid": _("Bitte eine ganze Zahl angeben.")}
REASON_LABEL = _("Begründung der Änderung (wird öffentlich gezeigt)")


class CommaDecimalField(forms.DecimalField):
    """A decimal typed the German way ("2,5") or the English way ("2.5"), shown without
    trailing zeros ("60" rather than "60.00")."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", NUMBER_ERRORS)
        super().__init__(max_digits=5, decimal_places=2, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # no min/max/step: the input is text (a number input refuses "2,5")
        return {}

    # the stubs declare DecimalField an IntegerField; it returns a Decimal
    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace(" ", "").replace(",", ".")
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return number_text(value).replace(".", ",")
        return value


def _datetime_field(label: Any, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=DATETIME_WIDGET,
        input_formats=DATETIME_FORMATS,
        error_messages=DATETIME_ERRORS,
        **kwargs,
    )


def _required(form: forms.Form, messages: dict[str, Any]) -> None:
    for name, message in messages.items():
        form.fields[name].error_messages["required"] = message


class AmendmentReasonMixin(forms.Form):
    """After publication a required reason (shown on the call's public page)."""

    def add_reason(self, *, published: bool) -> None:
        self.published = published
        if published:
            self.fields["reason"] = forms.CharField(
                label=REASON_LABEL,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_(
                    "Der Wettbewerb ist veröffentlicht: Die Änderung wird mit dieser "
                    "Begründung auf seiner Seite gezeigt."
                ),
                error_messages={
                    "required": _("Bitte begründen Sie die Änderung; sie wird öffentlich gezeigt.")
                },
            )

    @property
    def reason(self) -> str:
        return str(self.cleaned_data.get("reason") or "")

    def show_call_error(self, error: CallError) -> None:
        """A service's refusal at its field: a missing reason at the reason field, a rule at
        the field it names, anything else above the form."""
        field = "reason" if error.code == "reason_needed" else error.field
        if field not in self.fields:
            field = None
        self.add_error(field, str(error.message))


class ReasonForm(AmendmentReasonMixin):
    """Only the reason: deleting a criterion, taking someone off the jury."""

    def __init__(self, *args: Any, published: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_reason(published=published)


# ---- the call ------------------------------------------------------------------------------


class CallForm(AmendmentReasonMixin):
    title = forms.CharField(label=_("Titel"), max_length=200)
    title_en = forms.CharField(label=_("Titel (englisch)"), max_length=200, required=False)
    challenge = forms.CharField(label=_("Aufgabe"), widget=forms.Textarea(attrs={"rows": 6}))
    challenge_en = forms.CharField(
        label=_("Aufgabe (englisch)"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    organiser_ids = forms.TypedMultipleChoiceField(
        label=_("Veranstalter"),
        coerce=int,
        required=False,
        help_text=_("Organisationen des Verzeichnisses; mehrere mit Strg oder Cmd wählen"),
    )
    partner_ids = forms.TypedMultipleChoiceField(
        label=_("Partner"),
        coerce=int,
        required=False,
        help_text=_("Organisationen des Verzeichnisses; mehrere mit Strg oder Cmd wählen"),
    )
    prize = forms.CharField(
        label=_("Preis oder Pilotbudget"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    budget_euros = forms.IntegerField(
        label=_("Budget in Euro"),
        required=False,
        min_value=0,
        max_value=2_000_000_000,
        error_messages=WHOLE_NUMBER_ERRORS,
    )
    eligibility = forms.CharField(
        label=_("Wer teilnehmen darf"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    terms = forms.CharField(
        label=_("Teilnahmebedingungen"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    tie_break = forms.ChoiceField(label=_("Regel bei Punktgleichheit"), choices=TieBreak.choices)
    evaluators_per_entry = forms.IntegerField(
        label=_("Bewertungen je Beitrag (mindestens)"),
        help_text=_("1 bis 20; die Jury braucht mindestens so viele Mitglieder"),
        error_messages=WHOLE_NUMBER_ERRORS,
    )
    blind_scoring = forms.BooleanField(
        label=_("Verdeckte Bewertung: Die Jury sieht die Punkte der anderen erst nach der eigenen"),
        required=False,
    )
    disagreement_spread = CommaDecimalField(
        label=_("Abweichung für Konsensrunde (Punkte)"),
        help_text=_(
            "Liegen die gewichteten Summen eines Beitrags weiter auseinander (0 bis 100), "
            "bespricht die Jury ihn gemeinsam."
        ),
    )

    def __init__(
        self,
        *args: Any,
        organisations: list[tuple[int, str]],
        published: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name in ("organiser_ids", "partner_ids"):
            field = self.fields[name]
            assert isinstance(field, forms.TypedMultipleChoiceField)  # noqa: S101 - declared above
            field.choices = organisations
        _required(
            self,
            {
                "title": _("Bitte einen Titel angeben."),
                "challenge": _("Bitte die Aufgabe beschreiben."),
                "evaluators_per_entry": _(
                    "Bitte angeben, wie viele Bewertungen ein Beitrag braucht."
                ),
                "disagreement_spread": _("Bitte die Abweichung für die Konsensrunde angeben."),
            },
        )
        self.add_reason(published=published)

    def to_data(self) -> CallData:
        data = self.cleaned_data
        return CallData(
            title=data["title"],
            title_en=data["title_en"],
            challenge=data["challenge"],
            challenge_en=data["challenge_en"],
            organiser_ids=list(data["organiser_ids"]),
            partner_ids=list(data["partner_ids"]),
            prize=data["prize"],
            budget_euros=data["budget_euros"],
            eligibility=data["eligibility"],
            terms=data["terms"],
            tie_break=data["tie_break"],
            evaluators_per_entry=data["evaluators_per_entry"],
            blind_scoring=data["blind_scoring"],
            disagreement_spread=data["disagreement_spread"],
        )

    @staticmethod
    def initial_from(call: Any) -> dict[str, Any]:
        names = (
            "title",
            "title_en",
            "challenge",
            "challenge_en",
            "organiser_ids",
            "partner_ids",
            "prize",
            "budget_euros",
            "eligibility",
            "terms",
            "tie_break",
            "evaluators_per_entry",
            "blind_scoring",
            "disagreement_spread",
        )
        return {name: getattr(call, name) for name in names}


# ---- phases --------------------------------------------------------------------------------


class PhaseForm(AmendmentReasonMixin):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("z. B. Konzept, Pitch"))
    name_en = forms.CharField(label=_("Name (englisch)"), max_length=200, required=False)
    opens_at = _datetime_field(_("Einreichung ab"))
    closes_at = _datetime_field(_("Einreichung bis"))
    evaluation_due_at = _datetime_field(_("Bewertung bis"))
    entry_form = forms.ChoiceField(
        label=_("Formular für die Beiträge"),
        required=False,
        help_text=_("Ein veröffentlichtes Formular der Formularverwaltung"),
    )
    advance_rule = forms.ChoiceField(label=_("Weiter kommen"), choices=AdvanceRule.choices)
    advance_count = forms.IntegerField(
        label=_("Anzahl (die besten N)"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=_("Nur für „Die besten N“"),
        error_messages=WHOLE_NUMBER_ERRORS,
    )
    advance_threshold = CommaDecimalField(
        label=_("Mindestpunktzahl (0-100)"),
        required=False,
        help_text=_("Nur für „Ab einer Mindestpunktzahl“"),
    )

    def __init__(
        self,
        *args: Any,
        form_choices: list[tuple[str, str]],
        published: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["entry_form"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        current = str(self.initial.get("entry_form") or "")
        choices = [("", _("noch kein Formular")), *form_choices]
        if current and current not in dict(form_choices):
            choices.append((current, current))  # a form no longer published stays chosen
        field.choices = choices
        _required(
            self,
            {
                "name": _("Bitte der Phase einen Namen geben."),
                "opens_at": _("Bitte angeben, ab wann Beiträge eingereicht werden können."),
                "closes_at": _("Bitte angeben, bis wann Beiträge eingereicht werden können."),
                "evaluation_due_at": _("Bitte angeben, bis wann die Jury bewertet."),
            },
        )
        self.add_reason(published=published)

    def to_data(self) -> PhaseData:
        data = self.cleaned_data
        return PhaseData(
            name=data["name"],
            name_en=data["name_en"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            evaluation_due_at=data["evaluation_due_at"],
            entry_form=data["entry_form"],
            advance_rule=data["advance_rule"],
            advance_count=data["advance_count"],
            advance_threshold=data["advance_threshold"],
        )

    @staticmethod
    def initial_from(phase: Any) -> dict[str, Any]:
        names = (
            "name",
            "name_en",
            "opens_at",
            "closes_at",
            "evaluation_due_at",
            "entry_form",
            "advance_rule",
            "advance_count",
            "advance_threshold",
        )
        return {name: getattr(phase, name) for name in names}


# ---- criteria ------------------------------------------------------------------------------


class CriterionForm(AmendmentReasonMixin):
    name = forms.CharField(label=_("Kriterium"), max_length=200)
    name_en = forms.CharField(label=_("Kriterium (englisch)"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Was bewertet wird"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    scale = forms.ChoiceField(label=_("Skala"), choices=Scale.choices)
    max_points = forms.IntegerField(
        label=_("Höchstpunktzahl"),
        initial=10,
        help_text=_("Nur für die Skala „Punkte“: 1 bis 100"),
        error_messages=WHOLE_NUMBER_ERRORS,
    )
    weight = CommaDecimalField(
        label=_("Gewicht (Prozent)"),
        help_text=_("Über 0 bis 100; die Gewichte einer Phase ergeben zusammen 100, z. B. 62,5"),
    )
    threshold = CommaDecimalField(
        label=_("Mindestwert"),
        required=False,
        help_text=_("Leer: kein Ausschlusskriterium. Sonst scheidet ein Beitrag darunter aus."),
    )

    def __init__(self, *args: Any, published: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required(
            self,
            {
                "name": _("Bitte das Kriterium benennen."),
                "max_points": _("Bitte die Höchstpunktzahl angeben."),
                "weight": _("Bitte das Gewicht angeben."),
            },
        )
        self.add_reason(published=published)

    def to_data(self) -> CriterionData:
        data = self.cleaned_data
        return CriterionData(
            name=data["name"],
            name_en=data["name_en"],
            description=data["description"],
            scale=data["scale"],
            max_points=data["max_points"],
            weight=data["weight"],
            threshold=data["threshold"],
        )

    @staticmethod
    def initial_from(criterion: Any) -> dict[str, Any]:
        names = ("name", "name_en", "description", "scale", "max_points", "weight", "threshold")
        return {name: getattr(criterion, name) for name in names}


# ---- the jury ------------------------------------------------------------------------------


class JuryForm(AmendmentReasonMixin):
    email = forms.EmailField(
        label=_("E-Mail-Adresse des Kontos"),
        max_length=254,
        help_text=_("Die Person braucht ein Konto auf dieser Plattform."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={
            "invalid": _("Bitte eine gültige E-Mail-Adresse angeben, z. B. name@example.org."),
            "required": _("Bitte die E-Mail-Adresse des Kontos angeben."),
        },
    )
    public_name = forms.CharField(
        label=_("Name (öffentlich)"),
        max_length=200,
        error_messages={
            "required": _("Bitte den Namen angeben, unter dem die Person in der Jury steht.")
        },
    )
    public_role = forms.CharField(
        label=_("Funktion (öffentlich)"),
        max_length=200,
        required=False,
        help_text=_("z. B. Professorin für Verkehrsplanung"),
    )
    organisation_id = forms.TypedChoiceField(
        label=_("Organisation"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_(
            "Für die sie oder er in der Jury sitzt: Daraus werden Interessenkonflikte erkannt."
        ),
    )
    chair = forms.BooleanField(label=_("Vorsitz der Jury"), required=False)

    def __init__(
        self,
        *args: Any,
        organisations: list[tuple[int, str]],
        published: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation_id"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
        field.choices = [("", _("keine Organisation")), *organisations]
        self.add_reason(published=published)

    def to_data(self, *, user: Any) -> JuryData:
        data = self.cleaned_data
        return JuryData(
            user=user,
            public_name=data["public_name"],
            public_role=data["public_role"],
            organisation_id=data["organisation_id"],
            chair=data["chair"],
        )
