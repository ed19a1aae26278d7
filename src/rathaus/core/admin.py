"""Admin views of core: the audit log (read-only, filterable) and the outbox (dead letters,
retry). Also the mixin that writes every admin change to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import AuditEntry, OutboxMessage
from rathaus.core.services import audit_entry_create, outbox_message_retry


def _actor(request: HttpRequest) -> models.Model | None:
    return request.user if request.user.is_authenticated else None


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, models.QuerySet)):
        return sorted(_plain(item) for item in value)  # many-to-many: the chosen ids
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Writes an audit entry for every change an administrator makes through the admin.
    ``personal_fields`` are pseudonymised in the entry."""

    personal_fields: tuple[str, ...] = ()

    # Django's own admin history stores str(obj) (names, e-mail addresses) in clear text in a
    # table anyone with admin access can read; our audit log records the same actions without.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        return None

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        changed = list(form.changed_data)
        before = {name: _plain(form.initial.get(name)) for name in changed} if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and not changed:
                return  # saved without a change: nothing to record
            audit_entry_create(
                actor=_actor(request),
                action=f"admin.{'change' if change else 'add'}",
                object_type=obj._meta.label_lower,
                object_id=obj.pk,
                before=before,
                # Form values, not attributes: many-to-many fields are saved only after this.
                after={name: _plain(form.cleaned_data.get(name)) for name in changed},
                personal_fields=self.personal_fields,
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            actor = _actor(request)
            rows = [("admin.inline.add", obj) for obj in formset.new_objects]
            rows += [("admin.inline.change", obj) for obj, _fields in formset.changed_objects]
            rows += [("admin.inline.delete", obj) for obj in formset.deleted_objects]
            for action, obj in rows:
                audit_entry_create(
                    actor=actor,
                    action=action,
                    object_type=obj._meta.label_lower,
                    object_id=obj.pk or "",
                    after={
                        f.name: _plain(getattr(obj, f.attname))
                        for f in obj._meta.concrete_fields
                        if f.name not in {"created_at", "updated_at"}
                    },
                )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        """ "Delete selected" in the list: one audit entry per object, before it goes."""
        with transaction.atomic():
            for obj in queryset:
                audit_entry_create(
                    actor=_actor(request),
                    action="admin.delete",
                    object_type=obj._meta.label_lower,
                    object_id=obj.pk,
                    before={"repr": f"{obj._meta.label_lower}:{obj.pk}"},
                )
            super().delete_queryset(request, queryset)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            object_type, object_id = obj._meta.label_lower, obj.pk
            super().delete_model(request, obj)
            audit_entry_create(
                actor=_actor(request),
                action="admin.delete",
                object_type=object_type,
                object_id=object_id,
            )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "action", "object_type", "object_id", "actor_label", "request_id")
    list_filter = ("action", "object_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("object_id", "request_id", "actor_label", "action")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "topic",
        "status",
        "attempts",
        "max_attempts",
        "available_at",
        "delivered_at",
    )
    list_filter = ("status", "topic")
    search_fields = ("idempotency_key", "topic")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry_dead"]
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Aufgegebene Nachrichten erneut zustellen"))
    def retry_dead(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox_message_retry(
            actor=_actor(request), message_ids=queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            _("%(count)d Nachricht(en) erneut eingeplant.") % {"count": count},
            messages.SUCCESS,
        )
