"""The forms of the back office: the inbox's filters and the actions on a case. They check
what was typed; the services decide what is allowed."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import Office, User
from rathaus.cases.constants import CaseStatus, Decision, Priority
from rathaus.cases.letters import MAX_TEXT
from rathaus.cases.models import Case, LetterTemplate, Tag
from rathaus.cases.selectors import COUNT_CAP, PAGE_SIZE
from rathaus.cases.services import MESSAGE_MAX_CHARS, NOTE_MAX_CHARS
from rathaus.catalog.models import Service

VIEWS: dict[str, dict[str, Any]] = {  # the saved views of every inbox: their filters
    "": {"status": "open"},
    "meine": {"status": "open", "mine": True},
    "ueberfaellig": {"status": "open", "overdue": True},
    "ohne": {"status": "open", "unassigned": True},
}
VIEW_LABELS = (
    ("", _("Alle offenen")),
    ("meine", _("Meine Fälle")),
    ("ueberfaellig", _("Überfällig")),
    ("ohne", _("Nicht zugewiesen")),
)
SORT_LABELS = (
    ("due", _("Fälligkeit")),
    ("received", _("Eingang, älteste zuerst")),
    ("-received", _("Eingang, neueste zuerst")),
    ("priority", _("Priorität")),
)
NOBODY = "niemand"


def whole_number(value: object) -> int | None:
    """A number typed or sent as plain ASCII digits ("²" and "٣" are digits to Python but
    not to us), else None."""
    text = str(value or "")
    return int(text) if re.fullmatch(r"[0-9]{1,12}", text) else None


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared so above
    return field


def _person(user: User) -> str:
    return user.get_full_name() or user.email


class PrefixedForm(forms.Form):
    """A form whose field ids start with ``id_prefix``: several forms share the case page,
    and ids must stay unique on it."""

    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class InboxFilterForm(forms.Form):
    # the saved view and the page come from links, not from typing: a value that is not one
    # falls back to the default (see clean_ansicht, clean_seite) instead of an error
    ansicht = forms.CharField(required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    bearbeitung = forms.ChoiceField(label=_("Bearbeitet von"), required=False)
    leistung = forms.ModelChoiceField(
        label=_("Leistung"), queryset=Service.objects.none(), required=False
    )
    schlagwort = forms.ModelChoiceField(
        label=_("Schlagwort"), queryset=Tag.objects.none(), required=False, to_field_name="name"
    )
    suche = forms.CharField(
        label=_("Aktenzeichen oder Name"),
        max_length=100,
        required=False,
        help_text=_("Ganze Wörter des Namens, z. B. „Müller“ oder „Erika Müller“."),
    )
    sortierung = forms.ChoiceField(label=_("Sortieren nach"), choices=SORT_LABELS, required=False)
    seite = forms.CharField(required=False)

    def __init__(self, *args: Any, office: Office, members: QuerySet[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choice(self, "status").choices = [
            ("", _("alle offenen")),
            *CaseStatus.choices,
            ("alle", _("alle")),
        ]
        _choice(self, "bearbeitung").choices = [
            ("", _("alle")),
            (NOBODY, _("niemand")),
            *[(str(m.pk), _person(m)) for m in members],
        ]
        leistung: Any = self.fields["leistung"]
        # the office's services with an online form: only those bring cases in (a select
        # of every service an Ordnungsamt is responsible for would run to a thousand)
        leistung.queryset = (
            Service.objects.filter(offices=office, forms__isnull=False).distinct().order_by("name")
        )
        leistung.empty_label = _("alle")
        schlagwort: Any = self.fields["schlagwort"]
        schlagwort.queryset = Tag.objects.filter(office=office).order_by("name")
        schlagwort.empty_label = _("alle")

    def clean_ansicht(self) -> str:
        value = self.cleaned_data.get("ansicht") or ""
        return value if value in VIEWS else ""

    def clean_seite(self) -> int:
        number = whole_number(self.cleaned_data.get("seite")) or 1
        return min(max(number, 1), COUNT_CAP // PAGE_SIZE)

    def filters(self, user: User) -> dict[str, Any]:
        """The keyword arguments for ``case_inbox``; a field with a wrong value is left out
        (and shown with its error)."""
        self.is_valid()
        data: dict[str, Any] = getattr(self, "cleaned_data", {})
        chosen: dict[str, Any] = dict(VIEWS.get(data.get("ansicht") or "", VIEWS[""]))
        if chosen.pop("mine", False):
            chosen["assignee_id"] = user.pk
        status = data.get("status") or ""
        if status:
            chosen["status"] = "" if status == "alle" else status
        assignee = data.get("bearbeitung") or ""
        if assignee == NOBODY:
            chosen["unassigned"] = True
        elif assignee:
            chosen["assignee_id"] = int(assignee)
        if data.get("leistung"):
            chosen["service_id"] = data["leistung"].pk
        if data.get("schlagwort"):
            chosen["tag"] = data["schlagwort"].name
        chosen["search"] = data.get("suche") or ""
        chosen["sort"] = data.get("sortierung") or "due"
        return chosen


SEPARATE_FORMS = (CaseStatus.QUERY, CaseStatus.DECIDED)


class TransitionForm(PrefixedForm):
    id_prefix = "status"
    to = forms.ChoiceField(label=_("Neuer Status"), widget=forms.RadioSelect)
    office = forms.ModelChoiceField(
        label=_("Weiterleiten an"),
        queryset=Office.objects.none(),
        required=False,
        help_text=_("Nur bei „weitergeleitet“."),
    )
    citizen_text = forms.CharField(
        label=_("Nachricht an die antragstellende Person"),
        help_text=_(
            "Steht im Verlauf auf der Statusseite. Keine internen Hinweise: dafür gibt es Notizen."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MESSAGE_MAX_CHARS,
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to") == CaseStatus.FORWARDED and not data.get("office"):
            self.add_error(
                "office", _("Bitte wählen Sie eine andere Stelle, an die weitergeleitet wird.")
            )
        return data

    def __init__(self, *args: Any, case: Case, allowed: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        # a question (QueryForm) and a decision (DecisionForm) have their own forms: they
        # need the question, the letter
        _choice(self, "to").choices = [
            (s, CaseStatus(s).label) for s in allowed if s not in SEPARATE_FORMS
        ]
        office: Any = self.fields["office"]
        office.queryset = Office.objects.exclude(pk=case.office_id).order_by("name")
        office.empty_label = _("– bitte wählen –")
        self.fields["version"].initial = case.version


class BulkAssignForm(PrefixedForm):
    """The member to give the chosen cases to, or nobody."""

    id_prefix = "bulk"
    assignee = forms.ChoiceField(label=_("Ausgewählte zuweisen an"), required=False)

    def __init__(self, *args: Any, members: QuerySet[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.members = {str(m.pk): m for m in members}
        _choice(self, "assignee").choices = [
            ("", _("niemand")),
            *[(pk, _person(m)) for pk, m in self.members.items()],
        ]

    def chosen(self) -> User | None:
        return self.members.get(self.cleaned_data.get("assignee") or "")


class AssignForm(BulkAssignForm):
    """The same for one case, with the version shown."""

    id_prefix = "assign"
    assignee = forms.ChoiceField(label=_("Zuweisen an"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, case: Case, members: QuerySet[User], **kwargs: Any):
        super().__init__(*args, members=members, **kwargs)
        self.fields["assignee"].initial = str(case.assignee_id or "")
        self.fields["version"].initial = case.version


class NoteForm(PrefixedForm):
    id_prefix = "note"
    text = forms.CharField(
        label=_("Interne Notiz"),
        help_text=_("Nur für die Stelle sichtbar, nie für die antragstellende Person."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=NOTE_MAX_CHARS,
    )


class StatisticsForm(PrefixedForm):
    id_prefix = "stat"
    monate = forms.TypedChoiceField(
        label=_("Zeitraum"),
        choices=[
            (3, _("3 Monate")),
            (6, _("6 Monate")),
            (12, _("12 Monate")),
            (24, _("24 Monate")),
            (36, _("36 Monate")),
        ],
        coerce=int,
        required=False,
    )
    stelle = forms.ModelChoiceField(
        label=_("Stelle"), queryset=Office.objects.none(), required=False
    )

    def __init__(self, *args: Any, offices: QuerySet[Office], **kwargs: Any):
        super().__init__(*args, **kwargs)
        stelle: Any = self.fields["stelle"]
        stelle.queryset = offices
        stelle.empty_label = _("alle")


class QueryForm(PrefixedForm):
    """A question to the citizen (Rückfrage), with the documents asked for."""

    id_prefix = "query"
    text = forms.CharField(
        label=_("Ihre Frage an die antragstellende Person"),
        help_text=_(
            "Die Person liest sie auf ihrer Statusseite; per E-Mail erfährt sie nur, dass es eine Rückfrage gibt."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MESSAGE_MAX_CHARS,
    )
    documents = forms.CharField(
        label=_("Angeforderte Unterlagen"),
        help_text=_("Eine Unterlage je Zeile, z. B. „Meldebescheinigung“."),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = case.version

    def document_list(self) -> list[str]:
        return [
            line for line in self.cleaned_data.get("documents", "").splitlines() if line.strip()
        ]


class AnswerForm(PrefixedForm):
    """The citizen's answer: text and files (checked like form uploads by the service)."""

    id_prefix = "answer"
    text = forms.CharField(
        label=_("Ihre Antwort"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=MESSAGE_MAX_CHARS,
        required=False,
    )


class DecisionForm(PrefixedForm):
    """The decision with its letter: previewed, then issued."""

    id_prefix = "decision"
    decision = forms.ChoiceField(
        label=_("Entscheidung"), choices=[("", _("– bitte wählen –")), *Decision.choices]
    )
    template = forms.ModelChoiceField(label=_("Vorlage"), queryset=LetterTemplate.objects.none())
    text = forms.CharField(
        label=_("Entscheidungstext"),
        help_text=_("Steht im Bescheid an der Stelle des Platzhalters {{ begruendung }}."),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=MAX_TEXT,
    )
    fee = forms.DecimalField(
        label=_("Gebühr in Euro"), required=False, min_value=0, max_digits=9, decimal_places=2
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        case: Case,
        templates: QuerySet[LetterTemplate],
        fee_range: tuple[Decimal, Decimal] | None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        template: Any = self.fields["template"]
        template.queryset = templates
        template.empty_label = _("– bitte wählen –")
        self.fields["version"].initial = case.version
        self.fee_range = fee_range
        if fee_range is None:
            del self.fields["fee"]
        else:
            low, high = fee_range
            self.fields["fee"].initial = low
            self.fields["fee"].help_text = _(
                "Nach der Gebührenordnung: %(low)s bis %(high)s €."
            ) % {
                "low": low,
                "high": high,
            }

    def clean_fee(self) -> Decimal | None:
        fee: Decimal | None = self.cleaned_data.get("fee")
        if fee is not None and self.fee_range is not None:
            low, high = self.fee_range
            if not low <= fee <= high:
                raise forms.ValidationError(
                    _("Die Gebühr muss zwischen %(low)s € und %(high)s € liegen."),
                    params={
                        "low": formats.number_format(low, 2),
                        "high": formats.number_format(high, 2),
                    },
                )
        return fee


class ClassifyForm(PrefixedForm):
    """Priority and tags of a case."""

    id_prefix = "classify"
    priority = forms.TypedChoiceField(label=_("Priorität"), choices=Priority.choices, coerce=int)
    tags = forms.CharField(
        label=_("Schlagwörter"),
        help_text=_("Durch Kommas getrennt, z. B. „Eilt, Nachweis fehlt“."),
        required=False,
        max_length=700,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["priority"].initial = case.priority
        self.fields["tags"].initial = ", ".join(t.name for t in case.tags.all())
        self.fields["version"].initial = case.version

    def tag_list(self) -> list[str]:
        return [t for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]
