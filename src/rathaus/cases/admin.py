"""Administration of the back office's settings: the decision letter templates (checked for
unknown placeholders when saved) and the tags of each office; changes audited."""

from django.contrib import admin

from rathaus.cases.models import LetterTemplate, Tag
from rathaus.core.admin import AuditedAdmin


@admin.register(LetterTemplate)
class LetterTemplateAdmin(AuditedAdmin):
    list_display = ("name", "office", "service", "updated_at")
    list_filter = ("office",)
    search_fields = ("name", "body")
    autocomplete_fields = ("service",)


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    list_display = ("name", "office")
    list_filter = ("office",)
