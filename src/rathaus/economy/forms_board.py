"""Forms of the board of offers and needs and of relations. They parse input only; the rules
are in services.board and services.relations."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.economy.constants import PostKind, PostStatus, RelationKind
from rathaus.economy.models import Organisation, Person, Term

ADMINISTRATION = ""


def choices_of(field: forms.Field) -> forms.ChoiceField:
    """The field as a choice field, to set its choices at run time."""
    return cast(forms.ChoiceField, field)


class PostFilterForm(forms.Form):
    art = forms.ChoiceField(
        label=_("Art"), required=False, choices=[("", _("Alle"))] + list(PostKind.choices)
    )
    kompetenz = forms.TypedChoiceField(
        label=_("Kompetenz"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (PostStatus.OPEN, _("Offen")),
            (PostStatus.CLOSED, _("Geschlossen")),
            ("alle", _("Alle")),
        ],
    )
    seite = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, *args: Any, terms: list[Term], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_of(self.fields["kompetenz"]).choices = [("", _("Alle"))] + [
            (t.pk, t.name) for t in terms
        ]


class PostForm(forms.Form):
    kind = forms.ChoiceField(label=_("Art"), choices=PostKind.choices, widget=forms.RadioSelect)
    organisation = forms.ChoiceField(
        label=_("Im Namen von"),
        help_text=_("Die Organisation, für die Sie diesen Beitrag schreiben."),
    )
    title = forms.CharField(
        label=_("Titel"),
        max_length=200,
        help_text=_("z. B. „Wir suchen eine Lösung für die digitale Parkraumerfassung“"),
    )
    body = forms.CharField(label=_("Beschreibung"), max_length=10_000, widget=forms.Textarea)
    competences = forms.TypedMultipleChoiceField(
        label=_("Kompetenzen"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    tags = forms.CharField(
        label=_("Schlagworte"),
        required=False,
        max_length=500,
        help_text=_("Durch Kommas getrennt, höchstens 10, z. B. „KI, Verkehr, Open Data“"),
    )
    deadline = forms.DateField(
        label=_("Frist"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Bis wann Sie Antworten brauchen (Tag.Monat.Jahr oder Jahr-Monat-Tag)"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )
    contact = forms.CharField(
        label=_("Kontakt"),
        required=False,
        max_length=200,
        help_text=_(
            "Nur für Mitglieder von Organisationen im Verzeichnis sichtbar, z. B. eine E-Mail-Adresse"
        ),
    )
    # a field people do not see (hidden); bots that fill in every field give themselves away
    website = forms.CharField(label=_("Bitte leer lassen"), required=False)

    def __init__(
        self,
        *args: Any,
        organisations: list[Organisation],
        staff: bool,
        terms: list[Term],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = []
        if staff:
            choices.append((ADMINISTRATION, str(_("die Stadtverwaltung (Referat Digitale Stadt)"))))
        choices += [(str(o.pk), o.name) for o in organisations]
        choices_of(self.fields["organisation"]).choices = choices
        self.fields["organisation"].required = not staff
        choices_of(self.fields["competences"]).choices = [(t.pk, t.name) for t in terms]

    def clean_organisation(self) -> int | None:
        value = self.cleaned_data.get("organisation") or ""
        return int(value) if value else None


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Ihre Nachricht"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Bitte schreiben Sie eine Nachricht.")},
    )


class DigestForm(forms.Form):
    active = forms.BooleanField(label=_("Wochenübersicht per E-Mail erhalten"), required=False)
    only_matching = forms.BooleanField(
        label=_("Nur Beiträge, die zu den Kompetenzen meiner Organisationen passen"),
        required=False,
    )


class RelationForm(forms.Form):
    source = forms.ChoiceField(label=_("Organisation"))
    kind = forms.ChoiceField(label=_("Art der Beziehung"), choices=RelationKind.choices)
    target = forms.TypedChoiceField(
        label=_("zu Organisation"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Für Beziehungen zu Organisationen"),
    )
    person = forms.TypedChoiceField(
        label=_("zu Person"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Für „gegründet von“, „beschäftigt“ und „beraten von“"),
    )
    starts_on = forms.DateField(
        label=_("seit"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )
    ends_on = forms.DateField(
        label=_("bis"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )
    note = forms.CharField(label=_("Anmerkung"), required=False, max_length=300)

    def __init__(
        self,
        *args: Any,
        sources: list[Organisation],
        targets: list[Organisation],
        people: list[Person],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices_of(self.fields["source"]).choices = [(str(o.pk), o.name) for o in sources]
        choices_of(self.fields["target"]).choices = [("", "–")] + [(o.pk, o.name) for o in targets]
        choices_of(self.fields["person"]).choices = [("", "–")] + [(p.pk, str(p)) for p in people]

    def clean_source(self) -> int:
        return int(self.cleaned_data["source"])
