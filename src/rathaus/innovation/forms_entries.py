"""Forms of the entries: starting one (for which organisation, title, team), the entry's own
details beside the phase's questions (those are the form engine's, see
``rathaus.forms.questions``), and the staff's eligibility check and decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.innovation.services.entries import MAX_TEAM, TeamMember

TEAM_HELP = _(
    "Eine Person je Zeile: Name | Rolle, z. B. „Anna Schmidt | Projektleitung“. "
    "Höchstens 30 Personen."
)


class EntryDetailsForm(forms.Form):
    """Title and team. Prefixed: never clashes with a question's id."""

    title = forms.CharField(
        label=_("Titel des Beitrags"),
        max_length=200,
        error_messages={"required": _("Bitte geben Sie dem Beitrag einen Titel.")},
    )
    team = forms.CharField(
        label=_("Team"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=TEAM_HELP,
        error_messages={"required": _("Bitte nennen Sie mindestens eine Person des Teams.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "beitrag")
        super().__init__(*args, **kwargs)

    def clean_team(self) -> list[TeamMember]:
        people = []
        for line in str(self.cleaned_data.get("team") or "").splitlines():
            if not line.strip():
                continue
            name, _sep, role = line.partition("|")
            if not name.strip():
                raise forms.ValidationError(
                    _("Jede Zeile braucht einen Namen: „%(line)s“") % {"line": line[:80]}
                )
            people.append(TeamMember(name=name.strip()[:200], role=role.strip()[:200]))
        if len(people) > MAX_TEAM:
            raise forms.ValidationError(
                _("Ein Team hat höchstens %(count)d Personen.") % {"count": MAX_TEAM}
            )
        return people

    @staticmethod
    def team_text(team: list[dict[str, str]]) -> str:
        return "\n".join(f"{person['name']} | {person['role']}".rstrip(" |") for person in team)


class EntryStartForm(EntryDetailsForm):
    organisation = forms.TypedChoiceField(
        label=_("Organisation"),
        coerce=int,
        help_text=_(
            "Sie nehmen für eine Organisation des Verzeichnisses teil, deren Mitglied Sie sind."
        ),
        error_messages={"required": _("Bitte wählen Sie die Organisation.")},
    )

    field_order = ["organisation", "title", "team"]

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
        choices: list[tuple[Any, Any]] = list(organisations)
        if len(organisations) != 1:
            choices.insert(0, ("", _("Bitte wählen")))
        field.choices = choices


class EligibilityForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Prüfung"),
        choices=[
            ("eligible", _("Teilnahmeberechtigt")),
            ("ineligible", _("Nicht teilnahmeberechtigt")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Bitte wählen Sie das Ergebnis der Prüfung.")},
    )
    reason = forms.CharField(
        label=_("Begründung"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text=_("Nötig, wenn der Beitrag nicht teilnahmeberechtigt ist."),
    )

    def __init__(self, *args: Any, entry_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"pruefung-{entry_id}")
        super().__init__(*args, **kwargs)


class DecisionForm(forms.Form):
    advanced = forms.TypedMultipleChoiceField(
        label=_("Diese Beiträge kommen weiter"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label=_("Begründung"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Bitte begründen Sie die Entscheidung.")},
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["advanced"]
        assert isinstance(field, forms.TypedMultipleChoiceField)  # noqa: S101 - declared above
        field.choices = choices
