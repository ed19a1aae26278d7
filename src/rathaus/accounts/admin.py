from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from rathaus.accounts.constants import ASSIGNABLE_ROLES
from rathaus.accounts.models import Office, OfficeMembership, RoleAssignment, User
from rathaus.core.admin import AuditedAdmin
from rathaus.core.models import Area


class RoleInline(admin.TabularInline):  # type: ignore[type-arg]
    """Only roles that are assigned; caseworker and lead come from office membership."""

    model = RoleAssignment
    extra = 0

    def formfield_for_choice_field(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name == "role":
            kwargs["choices"] = [(r.value, r.label) for r in ASSIGNABLE_ROLES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OfficeMembership
    extra = 0
    autocomplete_fields = ("office",)


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):  # type: ignore[type-arg]
    personal_fields = ("email", "first_name", "last_name", "password")
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    inlines = (RoleInline, MembershipInline)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "preferred_language")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Office)
class OfficeAdmin(AuditedAdmin):
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)
    inlines = (MembershipInline,)


@admin.register(Area)
class AreaAdmin(AuditedAdmin):
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("name",)
