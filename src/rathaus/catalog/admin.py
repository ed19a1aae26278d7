"""Staff editing of the catalogue (Django admin, in German; every change audited through
core.admin.AuditedAdmin). A change to a service or a synonym updates the search at once."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rathaus.catalog.models import (
    LifeSituation,
    Location,
    RequiredDocument,
    Service,
    Synonym,
    Topic,
)
from rathaus.catalog.services import service_search_reindex, services_delete, synonyms_changed
from rathaus.core.admin import AuditedAdmin


class RequiredDocumentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RequiredDocument
    extra = 1


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ("name", "leika_key", "leika_type", "ozg_maturity", "life_situation")
    list_filter = ("ozg_maturity", "leika_type", "topic", "life_situation")
    search_fields = ("name", "leika_key", "keywords", "ozg_name")
    autocomplete_fields = ("offices", "locations", "life_situation", "topic")
    readonly_fields = ("ozg_maturity", "created_at", "updated_at")
    inlines = (RequiredDocumentInline,)
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("leika_key", "name", "short_description", "description", "keywords")}),
        (
            "LeiKa / OZG",
            {"fields": ("leika_type", "ozg_id", "ozg_name", "life_situation", "topic")},
        ),
        ("Zuständigkeit", {"fields": ("offices", "locations")}),
        (
            "Gebühren und Dauer",
            {"fields": ("fee_min", "fee_max", "fee_regulation", "processing_time")},
        ),
        (
            "Online",
            {
                "fields": (
                    "online_information",
                    "online_form",
                    "online_submission",
                    "online_decision",
                    "ozg_maturity",
                    "form_url",
                    "official_form",
                    "official_form_mapping",
                    "retention_days",
                    "retention_anonymise",
                )
            },
        ),
        ("Recht", {"fields": ("legal_basis", "law_shortcuts", "last_checked")}),
    )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        service_search_reindex(service_ids=[form.instance.pk])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        pk = obj.pk
        super().delete_model(request, obj)  # writes the audit entry
        services_delete(service_ids=[pk])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)  # writes the audit entries
        services_delete(service_ids=ids)


@admin.register(Synonym)
class SynonymAdmin(AuditedAdmin):
    list_display = ("terms", "note", "updated_at")
    search_fields = ("terms",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        synonyms_changed()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        synonyms_changed()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        synonyms_changed()


@admin.register(Location)
class LocationAdmin(AuditedAdmin):
    list_display = ("name", "office", "street", "postal_code")
    search_fields = ("name", "street", "office__name")
    autocomplete_fields = ("office",)


@admin.register(LifeSituation)
class LifeSituationAdmin(AuditedAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Topic)
class TopicAdmin(AuditedAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
