"""Forms of the directory: the profile (registration and editing), the search filters,
moderation, claims and members. They parse and check input; the writes are in
services/directory.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rathaus.economy.constants import (
    MemberRole,
    OrganisationKind,
    SizeBand,
    Stage,
    TermKind,
    Visibility,
)
from rathaus.economy.selectors.directory import (
    contact_of,
    district_list,
    field_visibility,
    term_list,
)
from rathaus.economy.services.directory import (
    LOGO_MAX_BYTES,
    OrganisationInput,
    logo_check,
    register_number_normalise,
)

CHOICE_ERROR = _("Bitte einen Eintrag aus der Liste wählen.")


class OrganisationForm(forms.Form):
    """The profile of an organisation. ``website_url`` is a honeypot: people do not see it,
    form-filling robots fill it in."""

    name = forms.CharField(label=_("Name der Organisation"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Art"),
        choices=[("", _("Bitte wählen"))] + list(OrganisationKind.choices),
        error_messages={"invalid_choice": CHOICE_ERROR, "required": _("Bitte die Art wählen.")},
    )
    register_number = forms.CharField(
        label=_("Registernummer"),
        required=False,
        max_length=60,
        help_text=_("z. B. HRB 12345 (Handels-, Vereins- oder Genossenschaftsregister)"),
    )
    stage = forms.ChoiceField(
        label=_("Phase"),
        required=False,
        choices=[("", _("keine Angabe"))] + list(Stage.choices),
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    size_band = forms.ChoiceField(
        label=_("Größe"),
        required=False,
        choices=[("", _("keine Angabe"))] + list(SizeBand.choices),
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    founded_year = forms.IntegerField(
        label=_("Gründungsjahr"),
        required=False,
        min_value=1400,
        max_value=2100,
        error_messages={
            "invalid": _("Bitte eine Jahreszahl angeben, z. B. 2019."),
            "min_value": _("Bitte eine Jahreszahl ab 1400 angeben."),
            "max_value": _("Bitte eine Jahreszahl bis 2100 angeben."),
        },
    )
    sectors = forms.ModelMultipleChoiceField(
        label=_("Branchen"),
        required=False,
        queryset=term_list(kind=TermKind.SECTOR),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": CHOICE_ERROR, "invalid_pk_value": CHOICE_ERROR},
    )
    competences = forms.ModelMultipleChoiceField(
        label=_("Kompetenzen"),
        required=False,
        queryset=term_list(kind=TermKind.COMPETENCE),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": CHOICE_ERROR, "invalid_pk_value": CHOICE_ERROR},
    )
    description = forms.CharField(
        label=_("Beschreibung (deutsch)"), required=False, max_length=5000, widget=forms.Textarea
    )
    description_en = forms.CharField(
        label=_("Beschreibung (englisch)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea,
        help_text=_("Wird englischsprachigen Besucherinnen und Besuchern gezeigt."),
    )
    street = forms.CharField(label=_("Straße und Hausnummer"), required=False, max_length=200)
    postal_code = forms.RegexField(
        label=_("Postleitzahl"),
        required=False,
        regex=r"^\d{5}$",
        max_length=5,
        error_messages={"invalid": _("Bitte eine Postleitzahl mit fünf Ziffern angeben.")},
    )
    city = forms.CharField(label=_("Ort"), required=False, max_length=100, initial="Leipzig")
    area = forms.ModelChoiceField(
        label=_("Ortsteil"),
        required=False,
        queryset=district_list(),
        empty_label=_("keine Angabe"),
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    lat = forms.FloatField(
        label=_("Breitengrad (für die Karte)"),
        required=False,
        min_value=-90,
        max_value=90,
        help_text=_("z. B. 51,3397"),
        localize=True,
        error_messages={"invalid": _("Bitte eine Zahl angeben, z. B. 51,3397.")},
    )
    lon = forms.FloatField(
        label=_("Längengrad (für die Karte)"),
        required=False,
        min_value=-180,
        max_value=180,
        help_text=_("z. B. 12,3731"),
        localize=True,
        error_messages={"invalid": _("Bitte eine Zahl angeben, z. B. 12,3731.")},
    )
    website = forms.URLField(
        label=_("Webseite"),
        required=False,
        max_length=300,
        assume_scheme="https",
        error_messages={"invalid": _("Bitte eine Webadresse angeben, z. B. https://example.org.")},
    )
    email = forms.EmailField(
        label=_("E-Mail-Adresse (allgemein)"),
        required=False,
        error_messages={"invalid": _("Bitte eine E-Mail-Adresse angeben, z. B. info@example.org.")},
    )
    phone = forms.RegexField(
        label=_("Telefon"),
        required=False,
        max_length=50,
        regex=r"^[0-9 +()/-]{3,50}$",
        error_messages={"invalid": _("Bitte nur Ziffern, Leerzeichen und + ( ) / - verwenden.")},
    )
    contact_name = forms.CharField(label=_("Ansprechperson: Name"), required=False, max_length=200)
    contact_email = forms.EmailField(
        label=_("Ansprechperson: E-Mail-Adresse"),
        required=False,
        error_messages={"invalid": _("Bitte eine E-Mail-Adresse angeben, z. B. info@example.org.")},
    )
    contact_phone = forms.RegexField(
        label=_("Ansprechperson: Telefon"),
        required=False,
        max_length=50,
        regex=r"^[0-9 +()/-]{3,50}$",
        error_messages={"invalid": _("Bitte nur Ziffern, Leerzeichen und + ( ) / - verwenden.")},
    )
    hiring = forms.BooleanField(label=_("Wir stellen ein"), required=False)
    seeking_partners = forms.BooleanField(label=_("Wir suchen Partner"), required=False)
    visibility_contact = forms.ChoiceField(
        label=_("Wer sieht die Ansprechperson?"),
        choices=Visibility.choices,
        initial=Visibility.MEMBERS,
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    visibility_email = forms.ChoiceField(
        label=_("Wer sieht die E-Mail-Adresse?"),
        choices=Visibility.choices,
        initial=Visibility.PUBLIC,
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    visibility_phone = forms.ChoiceField(
        label=_("Wer sieht die Telefonnummer?"),
        choices=Visibility.choices,
        initial=Visibility.PUBLIC,
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    visibility_address = forms.ChoiceField(
        label=_("Wer sieht Adresse und Kartenposition?"),
        choices=Visibility.choices,
        initial=Visibility.PUBLIC,
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    website_url = forms.CharField(
        label=_("Bitte dieses Feld leer lassen"), required=False, max_length=300
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["website_url"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        self.fields["name"].error_messages["required"] = _("Bitte den Namen angeben.")

    def clean_register_number(self) -> str:
        return register_number_normalise(self.cleaned_data.get("register_number", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lon") is None) and not (
            self.has_error("lat") or self.has_error("lon")
        ):
            self.add_error(
                "lon", _("Bitte Breite und Länge zusammen angeben oder beide leer lassen.")
            )
        return data

    @property
    def is_robot(self) -> bool:
        return bool(self.cleaned_data.get("website_url"))

    def to_input(self) -> OrganisationInput:
        d = self.cleaned_data
        return OrganisationInput(
            name=d["name"],
            kind=d["kind"],
            register_number=d.get("register_number", ""),
            stage=d.get("stage", ""),
            size_band=d.get("size_band", ""),
            founded_year=d.get("founded_year"),
            street=d.get("street", ""),
            postal_code=d.get("postal_code", ""),
            city=d.get("city", "") or "",
            area=d.get("area"),
            lat=d.get("lat"),
            lon=d.get("lon"),
            website=d.get("website", ""),
            email=d.get("email", ""),
            phone=d.get("phone", ""),
            contact={
                "name": d.get("contact_name", ""),
                "email": d.get("contact_email", ""),
                "phone": d.get("contact_phone", ""),
            },
            description=d.get("description", ""),
            description_en=d.get("description_en", ""),
            hiring=bool(d.get("hiring")),
            seeking_partners=bool(d.get("seeking_partners")),
            sectors=list(d.get("sectors") or []),
            competences=list(d.get("competences") or []),
            visibility={
                name: d[f"visibility_{name}"]
                for name in ("contact", "email", "phone", "address")
                if d.get(f"visibility_{name}")
            },
        )

    @classmethod
    def initial_from(cls, organisation: Any) -> dict[str, Any]:
        contact = contact_of(organisation)
        visibility = field_visibility(organisation)
        return {
            **{
                name: getattr(organisation, name)
                for name in (
                    "name",
                    "kind",
                    "register_number",
                    "stage",
                    "size_band",
                    "founded_year",
                    "street",
                    "postal_code",
                    "city",
                    "lat",
                    "lon",
                    "website",
                    "email",
                    "phone",
                    "description",
                    "description_en",
                    "hiring",
                    "seeking_partners",
                )
            },
            "area": organisation.area_id,
            "sectors": [t.pk for t in organisation.sectors.all()],
            "competences": [t.pk for t in organisation.competences.all()],
            "contact_name": contact.get("name", ""),
            "contact_email": contact.get("email", ""),
            "contact_phone": contact.get("phone", ""),
            **{f"visibility_{k}": v for k, v in visibility.items()},
        }


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Logo"),
        help_text=_("PNG, JPEG oder WebP, höchstens 2 MB"),
        error_messages={
            "required": _("Bitte eine Bilddatei wählen."),
            "empty": _("Die Datei ist leer."),
            "invalid": _("Bitte eine Bilddatei wählen."),
        },
    )

    def clean_logo(self) -> bytes:
        upload = self.cleaned_data["logo"]
        if upload.size > LOGO_MAX_BYTES:
            raise ValidationError(_("Das Logo ist größer als 2 MB."))
        content: bytes = upload.read()
        logo_check(content=content)  # a clear message now, not at save
        return content


class DirectoryFilterForm(forms.Form):
    """The search and filters of the list (GET)."""

    q = forms.CharField(label=_("Suchbegriff"), required=False, max_length=200)
    art = forms.ChoiceField(
        label=_("Art"),
        required=False,
        choices=[("", _("alle"))] + list(OrganisationKind.choices),
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
    branche = forms.ChoiceField(
        label=_("Branche"), required=False, error_messages={"invalid_choice": CHOICE_ERROR}
    )
    kompetenz = forms.ChoiceField(
        label=_("Kompetenz"), required=False, error_messages={"invalid_choice": CHOICE_ERROR}
    )
    ortsteil = forms.ChoiceField(
        label=_("Ortsteil"), required=False, error_messages={"invalid_choice": CHOICE_ERROR}
    )
    stellt_ein = forms.BooleanField(label=_("stellt ein"), required=False)
    sucht_partner = forms.BooleanField(label=_("sucht Partner"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        everything = [("", _("alle"))]
        self.fields["branche"].choices = everything + [  # type: ignore[attr-defined]
            (t.slug, t.name) for t in term_list(kind=TermKind.SECTOR)
        ]
        self.fields["kompetenz"].choices = everything + [  # type: ignore[attr-defined]
            (t.slug, t.name) for t in term_list(kind=TermKind.COMPETENCE)
        ]
        self.fields["ortsteil"].choices = everything + [  # type: ignore[attr-defined]
            (str(a.pk), a.name) for a in district_list()
        ]


class ModerationForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Entscheidung"),
        choices=[("publish", _("Veröffentlichen")), ("reject", _("Ablehnen"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Bitte eine Entscheidung wählen."),
            "invalid_choice": CHOICE_ERROR,
        },
    )
    note = forms.CharField(
        label=_("Notiz an die Organisation"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", _("Bitte begründen Sie die Ablehnung."))
        return data


class ClaimForm(forms.Form):
    evidence = forms.CharField(
        label=_("Wie sind Sie mit der Organisation verbunden?"),
        max_length=2000,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("z. B. Ihre Funktion; das Referat prüft den Antrag und meldet sich."),
        error_messages={
            "required": _(
                "Bitte beschreiben Sie kurz, wie Sie mit der Organisation verbunden sind."
            ),
            "min_length": _("Bitte mindestens 10 Zeichen."),
        },
    )


class ClaimDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Entscheidung"),
        choices=[("approve", _("Bestätigen")), ("reject", _("Ablehnen"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Bitte eine Entscheidung wählen."),
            "invalid_choice": CHOICE_ERROR,
        },
    )
    reason = forms.CharField(
        label=_("Begründung"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MemberInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-Mail-Adresse der Person"),
        error_messages={
            "required": _("Bitte die E-Mail-Adresse angeben."),
            "invalid": _("Bitte eine E-Mail-Adresse angeben, z. B. info@example.org."),
        },
    )
    role = forms.ChoiceField(
        label=_("Rolle"),
        choices=MemberRole.choices,
        initial=MemberRole.MEMBER,
        error_messages={"invalid_choice": CHOICE_ERROR},
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Rolle"),
        choices=MemberRole.choices,
        error_messages={"invalid_choice": CHOICE_ERROR},
    )
