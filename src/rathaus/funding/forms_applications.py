"""Forms of the staff's application pages: the application, the go/no-go decision, a step of
its status, a row of the consortium and a document. They check the input's form (amounts
the German way, dates, choices); the rules are the services' (services/applications.py),
whose ``ApplicationError`` the views show at its field (``show_error``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.core.money import AmountField
from rathaus.forms.definition import MAX_UPLOAD_BYTES
from rathaus.forms.uploads import accepted_types, size_text, types_text
from rathaus.funding.constants import ApplicationStatus, DocumentKind, GoDecision, Level, Role
from rathaus.funding.models import Application
from rathaus.funding.services.applications import (
    ApplicationData,
    ApplicationError,
    MemberData,
)

S = ApplicationStatus
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
DATE_ERRORS = {"invalid": _("Bitte ein gültiges Datum angeben, z. B. 31.03.2027.")}


def date_field(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=DATE_FORMATS,
        error_messages=DATE_ERRORS,
        **kwargs,
    )


class ServiceErrorMixin(forms.Form):
    def show_error(self, error: ApplicationError) -> None:
        """A service's refusal at the field it names, anything else above the form."""
        name = error.field if error.field in self.fields else None
        self.add_error(name, str(error.message))


def _required(form: forms.Form, messages: dict[str, Any]) -> None:
    for name, message in messages.items():
        form.fields[name].error_messages["required"] = message


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared on the form
    return field


# ---- the list's filters --------------------------------------------------------------------


class ApplicationFilterForm(forms.Form):
    suche = forms.CharField(
        label=_("Suche"),
        required=False,
        max_length=200,
        help_text=_("Titel, Akronym oder Kennung des Aufrufs"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    ebene = forms.ChoiceField(label=_("Ebene des Programms"), required=False)
    jahr = forms.TypedChoiceField(
        label=_("Jahr"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Jahr der Einreichung, sonst der Frist des Aufrufs"),
    )

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "status").choices = [("", _("alle")), *ApplicationStatus.choices]
        _choice(self, "ebene").choices = [("", _("alle")), *Level.choices]
        _choice(self, "jahr").choices = [("", _("alle")), *((y, str(y)) for y in years)]

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid one is left out, and shown at its field)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        return {
            "status": data.get("status") or "",
            "level": data.get("ebene") or "",
            "year": data.get("jahr"),
            "query": data.get("suche") or "",
        }


# ---- the application -----------------------------------------------------------------------


class ApplicationForm(ServiceErrorMixin):
    call = forms.TypedChoiceField(
        label=_("Aufruf"),
        coerce=int,
        help_text=_("Aufrufe, die noch offen sind, nach ihrer Frist"),
    )
    title = forms.CharField(label=_("Projekttitel"), max_length=300)
    acronym = forms.CharField(label=_("Akronym"), max_length=40, required=False)
    summary = forms.CharField(
        label=_("Kurzbeschreibung"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    role = forms.ChoiceField(label=_("Rolle der Stadt"), choices=Role.choices)
    office = forms.TypedChoiceField(
        label=_("Federführende Stelle"), coerce=int, empty_value=None, required=False
    )
    responsible = forms.TypedChoiceField(
        label=_("Verantwortlich"), coerce=int, empty_value=None, required=False
    )
    measures = forms.TypedMultipleChoiceField(
        label=_("Maßnahmen der Strategie"),
        coerce=int,
        required=False,
        help_text=_("Die Maßnahmen, die das Projekt umsetzt; mehrere mit Strg oder Cmd wählen"),
        error_messages={"invalid_choice": _("Diese Maßnahme gibt es nicht: %(value)s.")},
    )
    total_cost = AmountField(
        label=_("Gesamtkosten (€)"), required=False, help_text=_("z. B. 2.000.000,00")
    )
    requested_funding = AmountField(label=_("Beantragte Förderung (€)"), required=False)
    own_share = AmountField(
        label=_("Eigenanteil der Stadt (€)"),
        required=False,
        help_text=_("Leer: Gesamtkosten minus beantragte Förderung"),
    )
    own_share_budget_line = forms.CharField(
        label=_("Haushaltsstelle des Eigenanteils"),
        max_length=120,
        required=False,
        help_text=_("Produkt oder Kostenstelle und Sachkonto, z. B. 1.11.02.01 / 5431 0000"),
    )
    project_start = date_field(_("Projektbeginn"), required=False)
    project_end = date_field(_("Projektende"), required=False)
    grant_agreement_number = forms.CharField(
        label=_("Nummer der Finanzhilfevereinbarung / des Bescheids"),
        max_length=120,
        required=False,
    )
    result_score = forms.CharField(
        label=_("Bewertung"),
        max_length=60,
        required=False,
        help_text=_("Wie der Fördergeber bewertet hat, z. B. 12,5 von 15 Punkten"),
    )
    result_note = forms.CharField(
        label=_("Ergebnis"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    granted_amount = AmountField(label=_("Bewilligte Förderung (€)"), required=False)

    def __init__(
        self,
        *args: Any,
        calls: list[tuple[int, str]],
        offices: list[tuple[int, str]],
        people: list[tuple[int, str]],
        measures: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "call").choices = [("", _("Bitte wählen")), *calls]
        _choice(self, "office").choices = [("", _("keine")), *offices]
        _choice(self, "responsible").choices = [("", _("niemand")), *people]
        _choice(self, "measures").choices = measures
        _required(
            self,
            {
                "call": _("Bitte den Aufruf wählen."),
                "title": _("Bitte einen Projekttitel angeben."),
            },
        )
        _choice(self, "call").error_messages["invalid_choice"] = _(
            "Diesem Aufruf kann kein Antrag zugeordnet werden: Er ist geschlossen oder seine "
            "Frist ist abgelaufen."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("project_start"), data.get("project_end")
        if start and end and start > end:
            self.add_error("project_end", _("Das Projektende liegt vor dem Projektbeginn."))
        return data

    def to_data(self) -> ApplicationData:
        data = self.cleaned_data
        return ApplicationData(
            call_id=data["call"],
            title=data["title"],
            acronym=data["acronym"],
            summary=data["summary"],
            role=data["role"],
            office_id=data["office"],
            responsible_id=data["responsible"],
            measure_ids=list(data["measures"]),
            total_cost=data["total_cost"] or Decimal(0),
            requested_funding=data["requested_funding"] or Decimal(0),
            own_share=data["own_share"],
            own_share_budget_line=data["own_share_budget_line"],
            project_start=data["project_start"],
            project_end=data["project_end"],
            grant_agreement_number=data["grant_agreement_number"],
            result_score=data["result_score"],
            result_note=data["result_note"],
            granted_amount=data["granted_amount"],
        )

    @staticmethod
    def initial_from(application: Application, measure_ids: list[int]) -> dict[str, Any]:
        names = (
            "title",
            "acronym",
            "summary",
            "role",
            "total_cost",
            "requested_funding",
            "own_share",
            "own_share_budget_line",
            "project_start",
            "project_end",
            "grant_agreement_number",
            "result_score",
            "result_note",
            "granted_amount",
        )
        return {
            **{name: getattr(application, name) for name in names},
            "call": application.call_id,
            "office": application.office_id,
            "responsible": application.responsible_id,
            "measures": measure_ids,
        }


# ---- the decision --------------------------------------------------------------------------


class DecisionForm(ServiceErrorMixin):
    decision = forms.ChoiceField(
        label=_("Entscheidung"),
        choices=[(GoDecision.GO, GoDecision.GO.label), (GoDecision.NO_GO, GoDecision.NO_GO.label)],
        widget=forms.RadioSelect,
    )
    decided_on = date_field(_("Entschieden am"), help_text=_("Leer: heute"), required=False)
    note = forms.CharField(
        label=_("Begründung"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Warum die Stadt den Antrag stellt oder nicht"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required(
            self,
            {
                "decision": _("Bitte Go oder No-Go wählen."),
                "note": _("Bitte begründen Sie die Entscheidung."),
            },
        )


# ---- a step of the status ------------------------------------------------------------------

# what the button of each step says
STEP_LABELS: dict[str, Any] = {
    S.IDEA: _("Zurück zur Idee"),
    S.PREPARATION: _("In Vorbereitung nehmen"),
    S.SUBMITTED: _("Als eingereicht eintragen"),
    S.RESERVE: _("Auf die Nachrückliste setzen"),
    S.REJECTED: _("Ablehnung eintragen"),
    S.GRANTED: _("Bewilligung eintragen"),
    S.RUNNING: _("Projekt starten"),
    S.CLOSED: _("Projekt abschließen"),
    S.WITHDRAWN: _("Antrag zurückziehen"),
}

# the fields each step asks for (besides an optional note)
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    S.SUBMITTED: ("submitted_on",),
    S.GRANTED: ("granted_amount",),
    S.RUNNING: ("grant_agreement_number", "project_start", "project_end"),
}


class TransitionForm(ServiceErrorMixin):
    """One step to ``to_status``; prefixed with it, so that the page can hold a form for
    every step. ``expected`` is the status the person saw."""

    expected = forms.ChoiceField(choices=ApplicationStatus.choices, widget=forms.HiddenInput)
    submitted_on = date_field(_("Eingereicht am"), required=False, help_text=_("Leer: heute"))
    granted_amount = AmountField(label=_("Bewilligte Förderung (€)"), required=False)
    grant_agreement_number = forms.CharField(
        label=_("Nummer der Finanzhilfevereinbarung / des Bescheids"),
        max_length=120,
        required=False,
    )
    project_start = date_field(_("Projektbeginn"), required=False)
    project_end = date_field(_("Projektende"), required=False)
    note = forms.CharField(
        label=_("Anmerkung"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Steht im Verlauf des Antrags"),
    )

    def __init__(self, *args: Any, to_status: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"schritt-{to_status}")
        super().__init__(*args, **kwargs)
        self.to_status = to_status
        self.label = STEP_LABELS.get(to_status, to_status)
        keep = {"expected", "note", *STEP_FIELDS.get(to_status, ())}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    @staticmethod
    def initial_from(application: Application) -> dict[str, Any]:
        return {
            "expected": application.status,
            "granted_amount": application.granted_amount,
            "grant_agreement_number": application.grant_agreement_number,
            "project_start": application.project_start,
            "project_end": application.project_end,
        }

    def values(self) -> dict[str, Any]:
        """The service's keyword arguments for this step."""
        data = self.cleaned_data
        values: dict[str, Any] = {"expected_status": data["expected"], "note": data["note"]}
        for name in STEP_FIELDS.get(self.to_status, ()):
            values[name] = data[name]
        return values

    def visible(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "expected"]


# ---- the consortium ------------------------------------------------------------------------

CITY = "stadt"


class MemberRowForm(forms.Form):
    """One row: who (the city or an organisation of the directory), or a name typed by hand;
    the role; the budget share. An empty row is left out."""

    member = forms.ChoiceField(label=_("Stadt oder Organisation"), required=False)
    name = forms.CharField(
        label=_("oder Name (nicht im Verzeichnis)"), max_length=250, required=False
    )
    role = forms.ChoiceField(label=_("Rolle"), choices=Role.choices, initial=Role.PARTNER)
    budget_share = AmountField(label=_("Budgetanteil (€)"), required=False)

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "member").choices = [("", _("bitte wählen")), *members]
        self.fields["role"].required = False

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("member") or data.get("name") or data.get("budget_share"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank():
            return data
        if data.get("member") and data.get("name"):
            self.add_error(
                "name", _("Bitte entweder eine Organisation wählen oder einen Namen eintragen.")
            )
        elif not data.get("member") and not data.get("name"):
            self.add_error(
                "member", _("Bitte eine Organisation wählen oder einen Namen eintragen.")
            )
        if not data.get("role"):
            self.add_error("role", _("Bitte die Rolle wählen."))
        if data.get("budget_share") is None and "budget_share" not in self.errors:
            self.add_error("budget_share", _("Bitte den Budgetanteil angeben."))
        return data

    def to_data(self) -> MemberData:
        data = self.cleaned_data
        member = data.get("member") or ""
        return MemberData(
            role=data["role"],
            budget_share=data["budget_share"],
            is_city=member == CITY,
            organisation_id=int(member) if member and member != CITY else None,
            name="" if member else data.get("name", ""),
        )

    def show_error(self, error: ApplicationError) -> None:
        name = error.field if error.field in self.fields else None
        self.add_error(name, str(error.message))


class BaseMemberFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """The rows of the consortium: the members stored (or typed), then ``extra`` empty rows
    (at least enough for eight members)."""

    def __init__(
        self,
        *args: Any,
        members: list[tuple[str, str]],
        extra: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.member_choices = members
        filled = len(kwargs.get("initial") or [])
        self.extra = extra if extra is not None else max(3, 8 - filled)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "members": self.member_choices}


MemberFormSet = cast(
    type[BaseMemberFormSet],
    forms.formset_factory(
        MemberRowForm,
        formset=BaseMemberFormSet,
        max_num=60,
        validate_max=True,
        absolute_max=60,
    ),
)


MORE_ROWS = 5


def typed_rows(data: Any) -> list[dict[str, Any]]:
    """The rows as typed in a posted consortium form (for showing them again with more empty
    rows, nothing checked yet)."""
    try:
        count = min(max(int(data.get("form-TOTAL_FORMS", 0)), 0), 60)
    except (TypeError, ValueError):
        count = 0
    names = ("member", "name", "role", "budget_share")
    return [
        {name: data.get(f"form-{index}-{name}", "") for name in names} for index in range(count)
    ]


def member_initial(member: Any) -> dict[str, Any]:
    """A stored member as a row of the form."""
    if member.is_city:
        who = CITY
    elif member.organisation_id is not None:
        who = str(member.organisation_id)
    else:
        who = ""
    return {
        "member": who,
        "name": member.name if not who else "",
        "role": member.role,
        "budget_share": member.budget_share,
    }


# ---- documents -----------------------------------------------------------------------------


class DocumentForm(ServiceErrorMixin):
    kind = forms.ChoiceField(label=_("Art"), choices=DocumentKind.choices)
    title = forms.CharField(
        label=_("Titel"),
        max_length=250,
        required=False,
        help_text=_("Leer: der Name der Datei"),
    )
    file = forms.FileField(
        label=_("Datei"),
        error_messages={
            "required": _("Bitte wählen Sie eine Datei aus."),
            "empty": _("Die Datei ist leer."),
            "invalid": _("Bitte wählen Sie eine Datei aus."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # what forms.uploads accepts (checked by content, not by name)
        self.fields["file"].help_text = _("%(types)s, höchstens %(size)s") % {
            "types": types_text(()),
            "size": size_text(MAX_UPLOAD_BYTES),
        }
        self.fields["file"].widget.attrs["accept"] = ",".join(
            [*accepted_types(()), ".pdf", ".png", ".jpg", ".jpeg"]
        )
