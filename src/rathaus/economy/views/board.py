"""Placeholder: filled in by the board part."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
