"""Forms of the funding register: the register's search and filters, a programme, a call with
its deadlines, and the CSV import. They read the input (German amounts "1.234,56 €", dates,
times, time zones); the rules are checked by the services (services/programmes.py), whose
problems the views show at their fields (``show_problems``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.core.csvimport import CsvUploadField
from rathaus.core.money import AmountField
from rathaus.core.themes import MaskChoiceField, Theme
from rathaus.funding.constants import (
    ApplicantType,
    CallStatus,
    DeadlineModel,
    FundingType,
    Level,
    Region,
)
from rathaus.funding.models import Call, Programme
from rathaus.funding.services.programmes import (
    COMMON_ZONES,
    CallData,
    DeadlineData,
    Problem,
    ProgrammeData,
    call_data_of,
    programme_data_of,
)

DEADLINE_ROWS = 6
OTHER_ZONE = "other"
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%H.%M"]
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_ERRORS = {"invalid": gettext_lazy("Bitte ein gültiges Datum angeben, z. B. 15.03.2027.")}
TIME_ERRORS = {"invalid": gettext_lazy("Bitte eine gültige Uhrzeit angeben, z. B. 17:00.")}


def _required(form: forms.Form, messages: dict[str, str]) -> None:
    for name, message in messages.items():
        form.fields[name].error_messages["required"] = message


class ProblemsMixin(forms.Form):
    """Shows the services' problems at the form's fields."""

    # the services' field names that the form calls otherwise
    problem_fields: dict[str, str] = {}

    def field_of(self, problem: Problem) -> str | None:
        name = self.problem_fields.get(problem.field or "", problem.field)
        return name if name in self.fields else None

    def show_problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            name = self.field_of(problem)
            if name is not None and name in self.errors:
                # one message a field is enough; the rest are in the summary
                if problem.message in self.errors[name]:
                    continue
            self.add_error(name, problem.message)


# ---- the register's filters ------------------------------------------------------------------


def _with_all(choices: list[tuple[str, Any]], label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class RegisterFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Suche"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Name, Kürzel, Fördergeber oder Kennung eines Aufrufs"),
    )
    ebene = forms.ChoiceField(
        label=gettext_lazy("Ebene"),
        required=False,
        choices=_with_all(Level.choices, gettext_lazy("Alle Ebenen")),
    )
    thema = forms.ChoiceField(
        label=gettext_lazy("Thema"),
        required=False,
        choices=_with_all(Theme.choices, gettext_lazy("Alle Themen")),
    )
    antragsberechtigt = forms.ChoiceField(
        label=gettext_lazy("Wer beantragen darf"),
        required=False,
        choices=_with_all(ApplicantType.choices, gettext_lazy("Alle")),
    )
    aktuell = forms.BooleanField(
        label=gettext_lazy("Nur mit offenem oder angekündigtem Aufruf"), required=False
    )


# ---- a programme -----------------------------------------------------------------------------


class ProgrammeForm(ProblemsMixin):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=250)
    code = forms.CharField(
        label=gettext_lazy("Programmkürzel"),
        max_length=60,
        help_text=gettext_lazy(
            "Eindeutig, z. B. DIGITAL oder EFRE-SN; Schlüssel für den CSV-Import"
        ),
    )
    funder = forms.CharField(label=gettext_lazy("Fördergeber"), max_length=200)
    level = forms.ChoiceField(
        label=gettext_lazy("Ebene"),
        choices=_with_all(Level.choices, gettext_lazy("Bitte wählen")),
    )
    funding_type = forms.ChoiceField(
        label=gettext_lazy("Förderart"), choices=FundingType.choices, initial=FundingType.GRANT
    )
    description = forms.CharField(
        label=gettext_lazy("Beschreibung"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    themes_mask = MaskChoiceField(choices_class=Theme, label=gettext_lazy("Themen"))
    applicant_types_mask = MaskChoiceField(
        choices_class=ApplicantType, label=gettext_lazy("Antragsberechtigte")
    )
    regions_mask = MaskChoiceField(choices_class=Region, label=gettext_lazy("Förderregion"))
    rate_max = AmountField(
        label=gettext_lazy("Förderquote höchstens (%)"),
        grouping=False,
        help_text=gettext_lazy("In Prozent der förderfähigen Kosten, z. B. 50 oder 37,5"),
    )
    amount_min = AmountField(
        label=gettext_lazy("Mindestbetrag (€)"), help_text=gettext_lazy("z. B. 100.000")
    )
    amount_max = AmountField(
        label=gettext_lazy("Höchstbetrag (€)"), help_text=gettext_lazy("z. B. 1.500.000,00")
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("Rechtsgrundlage"), max_length=300, required=False
    )
    source_url = forms.URLField(
        label=gettext_lazy("Quelle"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("Die Seite des Fördergebers, auf der die Angaben stehen"),
        error_messages={
            "invalid": gettext_lazy("Bitte eine vollständige Adresse angeben, z. B. https://…")
        },
    )
    last_checked = forms.DateField(
        label=gettext_lazy("Zuletzt geprüft"),
        required=False,
        widget=DATE_WIDGET,
        input_formats=DATE_FORMATS,
        error_messages=DATE_ERRORS,
        help_text=gettext_lazy("Wann die Angaben zuletzt mit der Quelle verglichen wurden"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required(
            self,
            {
                "name": _("Bitte den Namen des Programms angeben."),
                "code": _("Bitte ein Programmkürzel angeben, z. B. DIGITAL."),
                "funder": _("Bitte den Fördergeber angeben."),
                "level": _("Bitte eine Ebene wählen."),
                "funding_type": _("Bitte eine Förderart wählen."),
            },
        )

    @staticmethod
    def initial_from(programme: Programme) -> dict[str, Any]:
        return dict(vars(programme_data_of(programme)))

    def to_data(self) -> ProgrammeData:
        d = self.cleaned_data
        return ProgrammeData(
            name=d["name"],
            code=d["code"],
            funder=d["funder"],
            level=d["level"],
            funding_type=d["funding_type"],
            description=d["description"],
            themes_mask=d["themes_mask"],
            applicant_types_mask=d["applicant_types_mask"],
            regions_mask=d["regions_mask"],
            rate_max=d["rate_max"],
            amount_min=d["amount_min"],
            amount_max=d["amount_max"],
            legal_basis=d["legal_basis"],
            source_url=d["source_url"],
            last_checked=d["last_checked"],
        )


# ---- a call ----------------------------------------------------------------------------------


def _zone_choices() -> list[tuple[str, Any]]:
    return [
        *((zone, zone) for zone in COMMON_ZONES),
        (OTHER_ZONE, gettext_lazy("Andere Zeitzone (unten eingeben)")),
    ]


class CallForm(ProblemsMixin):
    identifier = forms.CharField(
        label=gettext_lazy("Kennung"),
        max_length=120,
        help_text=gettext_lazy("Wie der Fördergeber sie angibt, z. B. DIGITAL-2027-CLOUD-AI-01"),
    )
    title = forms.CharField(label=gettext_lazy("Titel"), max_length=300)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=CallStatus.choices,
        initial=CallStatus.FORTHCOMING,
        help_text=gettext_lazy(
            "„Geschlossen“ auch, um einen früheren Aufruf mit vergangenen Fristen zu erfassen"
        ),
    )
    opens_on = forms.DateField(
        label=gettext_lazy("Öffnet am"),
        required=False,
        widget=DATE_WIDGET,
        input_formats=DATE_FORMATS,
        error_messages=DATE_ERRORS,
    )
    deadline_model = forms.ChoiceField(
        label=gettext_lazy("Fristmodell"),
        choices=DeadlineModel.choices,
        initial=DeadlineModel.SINGLE,
        help_text=gettext_lazy(
            "Eine Frist: genau eine; zweistufig: Skizze und Vollantrag; mehrere Stichtage: "
            "mindestens zwei"
        ),
    )
    budget = AmountField(label=gettext_lazy("Budget des Aufrufs (€)"))
    expected_grants = forms.IntegerField(
        label=gettext_lazy("Erwartete Zahl der Förderungen"),
        required=False,
        min_value=0,
        max_value=1_000_000,
        error_messages={"invalid": gettext_lazy("Bitte eine ganze Zahl angeben.")},
    )
    url = forms.URLField(
        label=gettext_lazy("Link zum Aufruf"),
        max_length=500,
        required=False,
        assume_scheme="https",
        error_messages={
            "invalid": gettext_lazy("Bitte eine vollständige Adresse angeben, z. B. https://…")
        },
    )
    notes = forms.CharField(
        label=gettext_lazy("Hinweise"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    problem_fields = {"programme": ""}

    def __init__(
        self,
        *args: Any,
        rows: int = DEADLINE_ROWS,
        default_zone: str = "Europe/Berlin",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _required(
            self,
            {
                "identifier": _("Bitte die Kennung des Aufrufs angeben."),
                "title": _("Bitte den Titel des Aufrufs angeben."),
            },
        )
        self.rows = rows
        before = set(self.fields)
        for row in range(1, rows + 1):
            prefix = f"deadline_{row}_"
            name = _("Frist %(number)d") % {"number": row}
            self.fields[prefix + "date"] = forms.DateField(
                label=_("%(deadline)s: Datum") % {"deadline": name},
                required=False,
                widget=DATE_WIDGET,
                input_formats=DATE_FORMATS,
                error_messages=DATE_ERRORS,
            )
            self.fields[prefix + "time"] = forms.TimeField(
                label=_("%(deadline)s: Uhrzeit") % {"deadline": name},
                required=False,
                widget=TIME_WIDGET,
                input_formats=TIME_FORMATS,
                error_messages=TIME_ERRORS,
            )
            self.fields[prefix + "zone"] = forms.ChoiceField(
                label=_("%(deadline)s: Zeitzone") % {"deadline": name},
                choices=_zone_choices(),
                initial=default_zone if default_zone in COMMON_ZONES else "Europe/Berlin",
                required=False,
            )
            self.fields[prefix + "other"] = forms.CharField(
                label=_("%(deadline)s: andere Zeitzone") % {"deadline": name},
                required=False,
                max_length=64,
                help_text=_("IANA-Name, z. B. America/New_York"),
            )
            self.fields[prefix + "label"] = forms.CharField(
                label=_("%(deadline)s: Bezeichnung") % {"deadline": name},
                required=False,
                max_length=120,
                help_text=_("z. B. Skizze, Vollantrag, Stichtag 1"),
            )
        self._row_fields = set(self.fields) - before
        self._rows_given: list[int] = []

    def deadline_rows(self) -> list[dict[str, Any]]:
        """The bound fields of each deadline row, for the template."""
        return [
            {
                "number": row,
                **{
                    part: self[f"deadline_{row}_{part}"]
                    for part in ("date", "time", "zone", "other", "label")
                },
            }
            for row in range(1, self.rows + 1)
        ]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self._row_fields]

    @staticmethod
    def initial_from(call: Call) -> dict[str, Any]:
        data = call_data_of(call, deadlines=call.deadlines.all())
        initial: dict[str, Any] = {name: getattr(data, name) for name in vars(data)}
        initial.pop("deadlines")
        for row, deadline in enumerate(data.deadlines, start=1):
            prefix = f"deadline_{row}_"
            initial[prefix + "date"] = deadline.local.date()
            initial[prefix + "time"] = deadline.local.time()
            initial[prefix + "label"] = deadline.label
            if deadline.timezone in COMMON_ZONES:
                initial[prefix + "zone"] = deadline.timezone
            else:
                initial[prefix + "zone"] = OTHER_ZONE
                initial[prefix + "other"] = deadline.timezone
        return initial

    @staticmethod
    def rows_for(call: Call | None) -> int:
        """Enough rows for the call's deadlines and one more."""
        count = len(call.deadlines.all()) if call is not None else 0
        return max(DEADLINE_ROWS, count + 1)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        deadlines: list[DeadlineData] = []
        self._rows_given = []
        for row in range(1, self.rows + 1):
            prefix = f"deadline_{row}_"
            day = cleaned.get(prefix + "date")
            moment = cleaned.get(prefix + "time")
            label = (cleaned.get(prefix + "label") or "").strip()
            other = (cleaned.get(prefix + "other") or "").strip()
            zone = cleaned.get(prefix + "zone") or "Europe/Berlin"
            if prefix + "date" in self.errors or prefix + "time" in self.errors:
                continue
            if day is None and moment is None and not label and not other:
                continue  # a blank row
            if day is None:
                self.add_error(prefix + "date", _("Bitte das Datum der Frist angeben."))
            if moment is None:
                self.add_error(
                    prefix + "time",
                    _("Bitte die Uhrzeit der Frist angeben, z. B. 17:00."),
                )
            if zone == OTHER_ZONE and not other:
                self.add_error(
                    prefix + "other",
                    _("Bitte den Namen der Zeitzone angeben, z. B. America/New_York."),
                )
            if day is None or moment is None or (zone == OTHER_ZONE and not other):
                continue
            deadlines.append(
                DeadlineData(
                    label=label,
                    local=datetime.combine(day, moment),
                    timezone=other or zone,
                )
            )
            self._rows_given.append(row)
        cleaned["deadlines"] = deadlines
        return cleaned

    def field_of(self, problem: Problem) -> str | None:
        if problem.index is not None and problem.index < len(self._rows_given):
            prefix = f"deadline_{self._rows_given[problem.index]}_"
            if problem.field == "timezone":
                chosen_other = self.cleaned_data.get(prefix + "other") or (
                    self.cleaned_data.get(prefix + "zone") == OTHER_ZONE
                )
                return prefix + ("other" if chosen_other else "zone")
            if problem.field == "label":
                return prefix + "label"
            return prefix + "date"
        return super().field_of(problem)

    def to_data(self, *, programme_id: int) -> CallData:
        d = self.cleaned_data
        return CallData(
            programme_id=programme_id,
            identifier=d["identifier"],
            title=d["title"],
            status=d["status"],
            opens_on=d["opens_on"],
            deadline_model=d["deadline_model"],
            deadlines=d["deadlines"],
            budget=d["budget"],
            expected_grants=d["expected_grants"],
            url=d["url"],
            notes=d["notes"],
        )


# ---- the CSV import --------------------------------------------------------------------------


class ImportForm(forms.Form):
    programmes = CsvUploadField(
        label=gettext_lazy("Programme (programme.csv)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    calls = CsvUploadField(
        label=gettext_lazy("Aufrufe (aufrufe.csv)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    check_only = forms.BooleanField(
        label=gettext_lazy("Nur prüfen, nichts speichern"), required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("programmes") and not cleaned.get("calls"):
            self.add_error(
                "programmes",
                _("Bitte mindestens eine Datei wählen: Programme, Aufrufe oder beide."),
            )
        return cleaned
