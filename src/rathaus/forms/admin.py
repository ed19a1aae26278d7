"""Forms in the Django admin: see imported drafts with their import report, link them to
services, publish. Editing and preview are in the staff area /verwaltung/formulare/."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rathaus.core.admin import AuditedAdmin
from rathaus.forms.constants import VersionStatus
from rathaus.forms.models import Form, FormVersion
from rathaus.forms.services import form_version_publish


class FormVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FormVersion
    extra = 0
    fields = ("number", "status", "source", "published_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Form)
class FormAdmin(AuditedAdmin):
    list_display = ("title", "slug")
    search_fields = ("title", "slug")
    autocomplete_fields = ("services",)
    inlines = (FormVersionInline,)


@admin.register(FormVersion)
class FormVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("form", "number", "status", "source", "published_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in FormVersion._meta.fields]
    actions = ["publish"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Ausgewählte Entwürfe veröffentlichen"))
    def publish(self, request: HttpRequest, queryset: QuerySet[FormVersion]) -> None:
        actor = request.user if request.user.is_authenticated else None
        drafts = list(queryset.filter(status=VersionStatus.DRAFT))
        for version in drafts:
            form_version_publish(version=version, actor=actor)
        self.message_user(
            request, _("%(count)d veröffentlicht.") % {"count": len(drafts)}, messages.SUCCESS
        )
