"""Staff editing of the directory in the Django admin: the taxonomy (sectors and
competences), organisations, memberships, people and claims. Every change is audited through
core.admin.AuditedAdmin; moderation and claims have their own pages under
/wirtschaft/verzeichnis/pruefung/ as well."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rathaus.core.admin import AuditedAdmin
from rathaus.economy.models import Claim, Membership, Organisation, Person, Term
from rathaus.economy.selectors.directory import claim_evidence
from rathaus.economy.services.directory import name_key_of, organisation_search_reindex


@admin.register(Term)
class TermAdmin(AuditedAdmin):
    list_display = ("name", "name_en", "kind", "slug", "parent")
    list_filter = ("kind",)
    search_fields = ("name", "name_en", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        super().save_model(request, obj, form, change)
        if change:  # a renamed term: the entries that carry it are found by the new name
            ids = list(
                Organisation.objects.filter(Q(sectors=obj) | Q(competences=obj))
                .values_list("pk", flat=True)
                .distinct()
            )
            organisation_search_reindex(organisation_ids=ids)


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    """Read-only: members are changed on the members page (services.directory), which keeps
    an admin and writes the audit log."""

    model = Membership
    extra = 0
    fields = readonly_fields = ("user", "role", "created_at")
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "status", "source", "register_number", "city", "updated_at")
    list_filter = ("status", "source", "kind", "hiring", "seeking_partners")
    search_fields = ("name", "register_number", "slug")
    filter_horizontal = ("sectors", "competences")
    raw_id_fields = ("duplicate_of", "area")
    readonly_fields = (
        "created_by",
        "moderated_by",
        "moderated_at",
        "contact_encrypted",
        "logo",
        "created_at",
        "updated_at",
    )
    exclude = ("visibility",)
    inlines = (MembershipInline,)
    personal_fields = ("email", "phone")

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        obj.name_key = name_key_of(obj.name)  # the duplicate key follows the name
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        organisation_search_reindex(organisation_ids=[form.instance.pk])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        pk = obj.pk
        super().delete_model(request, obj)
        organisation_search_reindex(organisation_ids=[pk])  # gone: out of the index

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        organisation_search_reindex(organisation_ids=ids)


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    """People of the ecosystem for relations and as speakers, entered by staff. Linking an
    account lets that person confirm or decline relations to them themself."""

    list_display = ("name", "title", "user")
    search_fields = ("name", "title")
    raw_id_fields = ("user",)


@admin.register(Claim)
class ClaimAdmin(AuditedAdmin):
    list_display = ("organisation", "user", "status", "created_at", "decided_at")
    list_filter = ("status",)
    raw_id_fields = ("organisation", "user", "decided_by")
    exclude = ("evidence_encrypted",)
    readonly_fields = (
        "evidence",
        "code_hash",
        "decided_by",
        "decided_at",
        "created_at",
        "updated_at",
    )

    @admin.display(description=_("Nachweis"))
    def evidence(self, claim: Claim) -> str:
        return claim_evidence(claim)
