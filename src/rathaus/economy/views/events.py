"""Placeholder: filled in by the events part."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
