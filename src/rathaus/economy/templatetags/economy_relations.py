"""The relations include on an organisation's profile (economy/relations/_on_profile.html)
reads its data through this tag, so the profile view need not know about relations."""

from __future__ import annotations

from typing import Any

from django import template

from rathaus.economy.models import Organisation
from rathaus.economy.selectors.relations import ProfileRelations, relations_for_profile

register = template.Library()


@register.simple_tag
def relations_on_profile(organisation: Organisation, user: Any) -> ProfileRelations:
    return relations_for_profile(organisation=organisation, user=user)
