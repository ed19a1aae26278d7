"""Placeholder: filled in by the directory part."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
