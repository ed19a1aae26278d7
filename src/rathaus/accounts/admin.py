from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from rathaus.accounts.constants import ASSIGNABLE_ROLES, Role
from rathaus.accounts.models import Office, OfficeMembership, RoleAssignment, User
from rathaus.accounts.services import role_effects_apply
from rathaus.core.admin import AuditedAdmin
from rathaus.core.models import Area
from rathaus.core.services import audit_entry_create


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

    def save_formset(self, request: Any, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            if isinstance(obj, RoleAssignment):
                role_effects_apply(user=obj.user, role=Role(obj.role))

    def user_change_password(self, request: Any, id: str, form_url: str = "") -> Any:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_entry_create(
                actor=request.user,
                action="admin.password.change",
                object_type="accounts.user",
                object_id=id,
            )
        return response


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
