"""The policy themes every pillar tags with (a funding programme, a strategy measure), and bit
masks of choices.

A set of choices is kept as one integer (``*_mask``): bit *n* stands for the *n*-th value of the
choices, so a query tests "has any of these" with one bitwise AND on every database. The order
of a choices class is therefore its storage format: append new values, never reorder or
remove."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _


class Theme(models.TextChoices):
    DIGITALISATION = "digitalisation", _("Digitalisierung")
    ADMINISTRATION = "administration", _("Verwaltungsmodernisierung")
    SMART_CITY = "smart_city", _("Smart City")
    MOBILITY = "mobility", _("Mobilität")
    ENERGY = "energy", _("Energie und Klima")
    ENVIRONMENT = "environment", _("Umwelt")
    DATA = "data", _("Daten und KI")
    RESEARCH = "research", _("Forschung und Innovation")
    ECONOMY = "economy", _("Wirtschaft und Gründung")
    EDUCATION = "education", _("Bildung")
    HEALTH = "health", _("Gesundheit")
    SOCIAL = "social", _("Soziales und Teilhabe")
    CULTURE = "culture", _("Kultur")
    URBAN = "urban", _("Stadtentwicklung")
    INFRASTRUCTURE = "infrastructure", _("Infrastruktur und Breitband")


def mask_of(values: Iterable[str], choices: type[models.TextChoices]) -> int:
    """The bit mask of choice values (an unknown value raises ``ValueError``)."""
    order = list(choices.values)
    mask = 0
    for value in values:
        mask |= 1 << order.index(value)
    return mask


def values_of(mask: int, choices: type[models.TextChoices]) -> list[str]:
    """The choice values set in a bit mask, in the choices' order."""
    return [value for bit, value in enumerate(choices.values) if mask & (1 << bit)]


def labels_of(mask: int, choices: type[models.TextChoices]) -> list[str]:
    """The labels of the choice values set in a bit mask."""
    labels = dict(choices.choices)
    return [str(labels[value]) for value in values_of(mask, choices)]


class MaskChoiceField(forms.TypedMultipleChoiceField):
    """Check boxes for a set of choices that is stored as a bit mask: shows the values of the
    mask it is given, cleans to the mask (an int)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, choices_class: type[models.TextChoices], **kwargs: object) -> None:
        self.choices_class = choices_class
        kwargs.setdefault("required", False)
        super().__init__(choices=choices_class.choices, **kwargs)  # type: ignore[arg-type]

    def prepare_value(self, value: object) -> object:
        if isinstance(value, int):
            return values_of(value, self.choices_class)
        return value

    def clean(self, value: object) -> int:
        return mask_of(super().clean(value), self.choices_class)

    def has_changed(self, initial: object, data: object) -> bool:
        return bool(super().has_changed(self.prepare_value(initial), data))  # type: ignore[arg-type]
