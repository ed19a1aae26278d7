"""Staff editing of the open-data catalogue (Django admin, every change audited through
core.admin.AuditedAdmin). Generated datasets can be edited too, but their generator
overwrites everything except "veröffentlicht" on its next run."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rathaus.citydata.catalogue import (
    EDITABLE,
    clean_keywords,
    dataset_create,
    dataset_update,
    distribution_prepare,
)
from rathaus.citydata.constants import GEOCODING_LEVEL_CHOICES, THEME_CHOICES
from rathaus.citydata.models import Dataset, Distribution
from rathaus.core.admin import AuditedAdmin

URL_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class DatasetForm(forms.ModelForm):  # type: ignore[type-arg]
    theme_codes = forms.MultipleChoiceField(
        label=_("Kategorien"),
        choices=THEME_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    keywords = forms.CharField(
        label=_("Schlagwörter"),
        required=False,
        help_text=_("Durch Kommas getrennt, z. B. „Bäume, Stadtgrün“."),
        widget=forms.TextInput(attrs={"size": 80}),
    )
    political_geocoding_level_uri = forms.ChoiceField(
        label=_("Ebene des Verwaltungsgebiets"),
        choices=[("", "–"), *GEOCODING_LEVEL_CHOICES],
        required=False,
    )

    class Meta:
        model = Dataset
        fields = tuple(name for name in EDITABLE if name != "themes")  # themes: theme_codes
        formfield_callback = _formfield

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["theme_codes"] = self.instance.theme_list
            self.initial["keywords"] = ", ".join(
                self.instance.keywords.values_list("name", flat=True)
            )

    def clean_keywords(self) -> list[str]:
        return clean_keywords(str(self.cleaned_data.get("keywords") or "").split(","))


class DistributionForm(forms.ModelForm):  # type: ignore[type-arg]
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # the checks of catalogue.distribution_create, on what was entered
        self.instance.format = data.get("format") or ""
        self.instance.access_url = data.get("access_url") or ""
        distribution_prepare(self.instance)
        return data


class DistributionInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Distribution
    form = DistributionForm
    extra = 0
    formfield_overrides = URL_FIELDS
    fields = (
        "title",
        "description",
        "format",
        "access_url",
        "download_url",
        "license",
        "byte_size",
        "modified",
        "position",
        "file_name",
        "checksum",
    )
    readonly_fields = ("file_name", "checksum")


@admin.register(Dataset)
class DatasetAdmin(AuditedAdmin):
    """Saves through catalogue.dataset_create/dataset_update: the same validation, keyword
    cleaning, search text and audit entries as every other write."""

    form = DatasetForm
    formfield_overrides = URL_FIELDS
    list_display = ("title", "slug", "publisher", "license", "published", "source", "modified")
    list_filter = ("published", "license", "accrual_periodicity", "publisher")
    search_fields = ("title", "slug", "description")
    autocomplete_fields = ("publisher",)
    readonly_fields = ("uuid", "source", "created_at", "updated_at")
    inlines = (DistributionInline,)
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("title", "slug", "description", "published", "publisher")}),
        (_("Englisch"), {"fields": ("title_en", "description_en")}),
        (_("Kontakt"), {"fields": ("contact_name", "contact_email", "landing_page")}),
        (_("Lizenz"), {"fields": ("license", "license_attribution")}),
        (_("Einordnung"), {"fields": ("theme_codes", "keywords", "accrual_periodicity")}),
        (
            _("Zeit und Raum"),
            {
                "fields": (
                    "temporal_start",
                    "temporal_end",
                    "political_geocoding_uri",
                    "political_geocoding_level_uri",
                    ("bbox_west", "bbox_south", "bbox_east", "bbox_north"),
                )
            },
        ),
        (
            _("Verwaltung"),
            {"fields": ("issued", "modified", "uuid", "source", "created_at", "updated_at")},
        ),
    )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = {name: data[name] for name in EDITABLE if name in data}
        actor = request.user if request.user.is_authenticated else None
        common = {
            "actor": actor,
            "themes": data.get("theme_codes") or [],
            "keywords": data.get("keywords") or [],
        }
        if change:
            current = Dataset.objects.get(pk=obj.pk)
            dataset = dataset_update(dataset=current, **common, **fields)  # type: ignore[arg-type]
        else:
            dataset = dataset_create(**common, **fields)  # type: ignore[arg-type]
        # the admin goes on with its own object (inlines, messages): the saved row
        obj.pk = dataset.pk
        obj._state.adding = False
        obj.refresh_from_db()
