"""Submissions in the Django admin: metadata only (the answers are encrypted and shown to the
office in the back office, not here); read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rathaus.submissions.models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("reference", "version", "service", "office", "status", "submitted_at")
    list_filter = ("status",)
    search_fields = ("reference",)
    fields = ("reference", "version", "service", "office", "status", "submitted_at", "language")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
