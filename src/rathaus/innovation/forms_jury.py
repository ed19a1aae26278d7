"""Forms of the jury's pages: the declaration of conflicts, the scores per criterion, the
staff's manual assignment and decision on a conflict, the consensus. They only read the
input; the rules (scales, reasons, states) are checked by services.jury, whose errors are
put on the fields they name."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.innovation.constants import Scale
from rathaus.innovation.models import Criterion, JuryMember
from rathaus.innovation.services.calls import number_text, scale_max
from rathaus.innovation.services.jury import TEXT_MAX, comment_field, value_field


class DeclarationForm(forms.Form):
    conflict = forms.ChoiceField(
        label=_("Ihre Erklärung"),
        choices=[
            ("no", _("Ich habe keinen Interessenkonflikt bei diesem Beitrag.")),
            ("yes", _("Ich habe einen möglichen Interessenkonflikt.")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Bitte wählen Sie eine Erklärung.")},
    )
    note = forms.CharField(
        label=_("Worin besteht der Interessenkonflikt?"),
        help_text=_("Nur bei einem Interessenkonflikt: Die Verwaltung entscheidet darüber."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
        required=False,
    )


def _scale_hint(criterion: Criterion) -> str:
    if criterion.scale == Scale.POINTS:
        return str(_("Ganze Punkte von 0 bis %(max)s")) % {"max": criterion.max_points}
    if criterion.scale == Scale.HALF_POINTS:
        return str(_("0 bis 5 in halben Punkten"))
    return str(_("Ja oder Nein"))


def _value_widget(criterion: Criterion) -> forms.Widget:
    if criterion.scale == Scale.YES_NO:
        return forms.Select(choices=[("", "–"), ("1", _("Ja")), ("0", _("Nein"))])
    step = "0.5" if criterion.scale == Scale.HALF_POINTS else "1"
    return forms.NumberInput(
        attrs={"min": "0", "max": number_text(scale_max(criterion)), "step": step}
    )


class ScoreForm(forms.Form):
    """One value (on the criterion's scale) and one optional comment per criterion."""

    def __init__(self, *args: Any, criteria: Iterable[Criterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            weight = number_text(criterion.weight)
            self.fields[value_field(criterion.pk)] = forms.DecimalField(
                label=criterion.name,
                help_text=f"{_scale_hint(criterion)} · {_('Gewicht')} {weight} %",
                required=False,
                widget=_value_widget(criterion),
                error_messages={"invalid": _("Bitte eine Zahl angeben.")},
            )
            self.fields[comment_field(criterion.pk)] = forms.CharField(
                label=_("Kommentar zu „%(name)s“") % {"name": criterion.name},
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                max_length=TEXT_MAX,
            )

    def rows(self) -> list[tuple[Criterion, forms.BoundField, forms.BoundField]]:
        return [
            (criterion, self[value_field(criterion.pk)], self[comment_field(criterion.pk)])
            for criterion in self.criteria
        ]

    def values(self) -> dict[int, Any]:
        return {c.pk: self.cleaned_data.get(value_field(c.pk)) for c in self.criteria}

    def comments(self) -> dict[int, str]:
        return {c.pk: self.cleaned_data.get(comment_field(c.pk)) or "" for c in self.criteria}

    @staticmethod
    def initial_from(scores: dict[int, tuple[Decimal, str]]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for criterion_id, (value, comment) in scores.items():
            initial[value_field(criterion_id)] = number_text(value)
            initial[comment_field(criterion_id)] = comment
        return initial


class _MemberField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.public_name)


class AssignForm(forms.Form):
    evaluators = _MemberField(
        label=_("Jurymitglieder"),
        queryset=JuryMember.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Bitte mindestens ein Jurymitglied wählen.")},
    )

    def __init__(self, *args: Any, members: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["evaluators"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        field.queryset = members


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Entscheidung"),
        choices=[
            ("clear", _("Freigeben: kein Interessenkonflikt, der die Bewertung ausschließt")),
            ("recuse", _("Befangen: das Jurymitglied bewertet diesen Beitrag nicht")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Bitte eine Entscheidung wählen.")},
    )
    reason = forms.CharField(
        label=_("Begründung"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
        error_messages={"required": _("Bitte begründen Sie die Entscheidung.")},
    )


class ConsensusForm(forms.Form):
    """The agreed value per criterion (two decimals), a reason where it differs from the
    mean, a note on the whole, and the state the form was filled in on."""

    token = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Zusammenfassung der Konsensrunde"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
        required=False,
    )

    def __init__(self, *args: Any, criteria: Iterable[Criterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            top = number_text(scale_max(criterion))
            self.fields[value_field(criterion.pk)] = forms.DecimalField(
                label=_("Konsens: %(name)s") % {"name": criterion.name},
                help_text=_("0 bis %(max)s, höchstens zwei Nachkommastellen") % {"max": top},
                required=False,
                widget=forms.NumberInput(attrs={"min": "0", "max": top, "step": "0.01"}),
                error_messages={"invalid": _("Bitte eine Zahl angeben.")},
            )
            self.fields[f"reason_{criterion.pk}"] = forms.CharField(
                label=_("Begründung zu „%(name)s“") % {"name": criterion.name},
                help_text=_("Nötig, wenn der Wert vom Mittelwert abweicht."),
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                max_length=TEXT_MAX,
            )

    def rows(self) -> list[tuple[Criterion, forms.BoundField, forms.BoundField]]:
        return [
            (criterion, self[value_field(criterion.pk)], self[f"reason_{criterion.pk}"])
            for criterion in self.criteria
        ]

    def values(self) -> dict[int, Any]:
        return {c.pk: self.cleaned_data.get(value_field(c.pk)) for c in self.criteria}

    def reasons(self) -> dict[int, str]:
        return {c.pk: self.cleaned_data.get(f"reason_{c.pk}") or "" for c in self.criteria}
