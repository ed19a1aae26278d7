"""Renders a form field's widget with KERN classes and the ARIA links to its hint and error."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def kern_widget(bound_field: forms.BoundField) -> SafeString:
    widget = bound_field.field.widget
    css = "kern-form-input__input"
    if isinstance(widget, forms.Select):
        css = "kern-form-input__select"
    if bound_field.errors:
        css += f" {css}--error"
    described = []
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}_helptext")
    if bound_field.errors:
        described.append(f"{bound_field.auto_id}_error")
    attrs: dict[str, str | bool] = {"class": css}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if bound_field.errors:
        attrs["aria-invalid"] = "true"
    return bound_field.as_widget(attrs=attrs)
