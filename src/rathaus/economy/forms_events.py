"""Forms of the events part: registering (name, e-mail and, when the event has one, the
questions of a form-engine form rendered and checked by the forms app's own code, see
``rathaus.forms.questions``), the staff's event editor, the check-in code and the outcome."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.economy.constants import EventFormat
from rathaus.economy.models import Organisation, Person, Room
from rathaus.economy.services.events import OUTCOME_KINDS, EventData
from rathaus.forms.questions import MAX_REPEAT as MAX_REPEAT
from rathaus.forms.questions import Questions as Questions
from rathaus.forms.questions import answer_rows as answer_rows
from rathaus.forms.questions import has_files as _has_files
from rathaus.forms.questions import questions_for as questions_for
from rathaus.forms.questions import questions_of_version as questions_of_version
from rathaus.forms.selectors import version_facts


class RegistrationForm(forms.Form):
    """Name and e-mail, always; the honeypot ``website`` is hidden from people (CSS and
    ``aria-hidden``), so only robots fill it in."""

    name = forms.CharField(
        label=_("Vor- und Nachname"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-Mail-Adresse"),
        max_length=254,
        help_text=_("Hierhin schicken wir die Bestätigung mit Kalendereintrag und Einlass-Code."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "invalid": _("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.")
        },
    )
    website = forms.CharField(
        required=False,
        label=_("Bitte leer lassen"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "anmeldung")  # never clashes with a question's id
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("Bitte geben Sie Ihren Namen an.")
        self.fields["email"].error_messages["required"] = _(
            "Bitte geben Sie Ihre E-Mail-Adresse an."
        )

    def is_robot(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))


# ---- staff --------------------------------------------------------------------------------

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.Form):
    title = forms.CharField(label=_("Titel"), max_length=200)
    title_en = forms.CharField(label=_("Titel (englisch)"), max_length=200, required=False)
    format = forms.ChoiceField(label=_("Format"), choices=EventFormat.choices)
    description = forms.CharField(label=_("Beschreibung"), widget=forms.Textarea, required=False)
    description_en = forms.CharField(
        label=_("Beschreibung (englisch)"), widget=forms.Textarea, required=False
    )
    starts_at = forms.DateTimeField(label=_("Beginn"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(label=_("Ende"), widget=DATETIME_WIDGET)
    room = forms.ModelChoiceField(
        label=_("Raum im Hub"),
        queryset=Room.objects.filter(active=True),
        required=False,
        empty_label=_("kein Raum des Hubs"),
    )
    venue_name = forms.CharField(label=_("Ort"), max_length=200, required=False)
    venue_address = forms.CharField(label=_("Adresse"), max_length=300, required=False)
    accessibility = forms.CharField(
        label=_("Barrierefreiheit des Orts"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("z. B. stufenloser Zugang, Aufzug, barrierefreies WC, Induktionsschleife"),
    )
    online_url = forms.URLField(
        label=_("Link zur Online-Teilnahme"), max_length=500, required=False, assume_scheme="https"
    )
    organisers = forms.ModelMultipleChoiceField(
        label=_("Veranstalter"), queryset=Organisation.objects.order_by("name"), required=False
    )
    speakers = forms.ModelMultipleChoiceField(
        label=_("Sprecherinnen und Sprecher"), queryset=Person.objects.all(), required=False
    )
    agenda = forms.CharField(
        label=_("Programm"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_(
            "Ein Punkt je Zeile: Uhrzeit | Titel | Sprecherin oder Sprecher, z. B. „18:00 | Begrüßung | Anna Schmidt“"
        ),
    )
    capacity = forms.IntegerField(label=_("Plätze"), min_value=1, max_value=100000)
    waiting_list = forms.BooleanField(
        label=_("Warteliste, wenn alle Plätze vergeben sind"), required=False
    )
    registration_opens_at = forms.DateTimeField(
        label=_("Anmeldung ab"),
        widget=DATETIME_WIDGET,
        required=False,
        help_text=_("Leer: sofort nach der Veröffentlichung"),
    )
    registration_closes_at = forms.DateTimeField(
        label=_("Anmeldung bis"),
        widget=DATETIME_WIDGET,
        required=False,
        help_text=_("Leer: bis zum Beginn"),
    )
    registration_form = forms.ChoiceField(
        label=_("Eigene Fragen (Formular)"),
        required=False,
        help_text=_(
            "Ein veröffentlichtes Formular der Formularverwaltung; ohne: nur Name und E-Mail"
        ),
    )

    def __init__(self, *args: Any, form_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["registration_form"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [("", _("keine eigenen Fragen")), *form_choices]

    def clean_agenda(self) -> list[dict[str, str]]:
        entries = []
        for line in str(self.cleaned_data.get("agenda") or "").splitlines():
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            time, title, speaker = (parts + ["", "", ""])[:3]
            if time and not re.fullmatch(r"[0-2]?\d[:.][0-5]\d", time):
                time, title, speaker = "", parts[0], parts[1] if len(parts) > 1 else ""
            if not title:
                raise forms.ValidationError(
                    _("Jeder Programmpunkt braucht einen Titel: „%(line)s“") % {"line": line[:80]}
                )
            entries.append(
                {"time": time.replace(".", ":"), "title": title[:200], "speaker": speaker[:200]}
            )
        return entries

    def clean_registration_form(self) -> str:
        slug = str(self.cleaned_data.get("registration_form") or "")
        questions = questions_for(slug)
        if slug and questions is None:
            raise forms.ValidationError(_("Dieses Formular hat keine veröffentlichte Version."))
        if questions is not None and (
            version_facts(questions.version).has_files or _has_files(questions.items)
        ):
            raise forms.ValidationError(
                _(
                    "Formulare mit Datei-Uploads gehen für Anmeldungen nicht. Bitte wählen Sie ein anderes."
                )
            )
        return slug

    def to_data(self) -> EventData:
        data = self.cleaned_data
        return EventData(
            title=data["title"],
            title_en=data["title_en"],
            format=data["format"],
            description=data["description"],
            description_en=data["description_en"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            room=data["room"],
            venue_name=data["venue_name"],
            venue_address=data["venue_address"],
            accessibility=data["accessibility"],
            online_url=data["online_url"],
            organisers=list(data["organisers"]),
            speakers=list(data["speakers"]),
            agenda=data["agenda"],
            capacity=data["capacity"],
            waiting_list=data["waiting_list"],
            registration_opens_at=data["registration_opens_at"],
            registration_closes_at=data["registration_closes_at"],
            registration_form=data["registration_form"],
        )

    @staticmethod
    def initial_from(event: Any) -> dict[str, Any]:
        initial = {
            name: getattr(event, name)
            for name in (
                "title",
                "title_en",
                "format",
                "description",
                "description_en",
                "starts_at",
                "ends_at",
                "room",
                "venue_name",
                "venue_address",
                "accessibility",
                "online_url",
                "capacity",
                "waiting_list",
                "registration_opens_at",
                "registration_closes_at",
                "registration_form",
            )
        }
        initial["organisers"] = list(event.organisers.all())
        initial["speakers"] = list(event.speakers.all())
        initial["agenda"] = "\n".join(
            f"{e.get('time', '')} | {e.get('title', '')} | {e.get('speaker', '')}".rstrip(" |")
            for e in event.agenda
            if isinstance(e, dict)
        )
        return initial


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Einlass-Code"),
        max_length=40,
        help_text=_("Steht unter dem QR-Code in der Bestätigung, z. B. ABCD-EFGH-JKLM"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": _("Bitte geben Sie den Einlass-Code ein.")},
    )


class OutcomeForm(forms.Form):
    notes = forms.CharField(
        label=_("Ergebnis"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    links = forms.CharField(
        label=_("Verknüpfungen"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_(
            "Eine je Zeile: Art | Kennung | Titel | Adresse. Arten: strategy_measure "
            "(Maßnahme der Strategie), competition (Wettbewerb), link (andere Seite); z. B. "
            "„competition | 12 | Smart City Challenge | https://…“"
        ),
    )

    def clean_links(self) -> list[dict[str, str]]:
        links = []
        for line in str(self.cleaned_data.get("links") or "").splitlines():
            if not line.strip():
                continue
            kind, ident, title, url = ([p.strip() for p in line.split("|")] + ["", "", "", ""])[:4]
            if kind not in OUTCOME_KINDS:
                raise forms.ValidationError(
                    _("Unbekannte Art „%(kind)s“: erlaubt sind %(kinds)s.")
                    % {"kind": kind[:40], "kinds": ", ".join(OUTCOME_KINDS)}
                )
            if not title:
                raise forms.ValidationError(
                    _("Jede Verknüpfung braucht einen Titel: „%(line)s“") % {"line": line[:80]}
                )
            if url and not re.match(r"^(https?://|/)", url):
                raise forms.ValidationError(
                    _("Die Adresse muss mit https:// oder / beginnen: „%(url)s“")
                    % {"url": url[:80]}
                )
            links.append({"kind": kind, "id": ident[:64], "title": title[:200], "url": url[:500]})
        return links

    @staticmethod
    def initial_from(event: Any) -> dict[str, Any]:
        return {
            "notes": event.outcome_notes,
            "links": "\n".join(
                " | ".join(str(link.get(k, "")) for k in ("kind", "id", "title", "url"))
                for link in event.outcome_links
                if isinstance(link, dict)
            ),
        }
