"""Factories of the directory: terms, organisations (published, pending, imported) and
memberships. Organisations made here are indexed for search like the services do."""

from __future__ import annotations

from typing import Any

import factory

from rathaus.economy.constants import (
    EntrySource,
    EntryStatus,
    MemberRole,
    OrganisationKind,
    TermKind,
)
from rathaus.economy.models import Membership, Organisation, Term
from rathaus.economy.services.directory import name_key_of, organisation_search_reindex


class TermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Term

    kind = TermKind.COMPETENCE
    name = factory.Sequence(lambda n: f"Kompetenz {n}")
    slug = factory.Sequence(lambda n: f"kompetenz-{n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Firma {n}")
    name_key = factory.LazyAttribute(lambda o: name_key_of(o.name))
    slug = factory.Sequence(lambda n: f"firma-{n}")
    kind = OrganisationKind.STARTUP
    status = EntryStatus.PUBLISHED
    source = EntrySource.SELF
    city = "Leipzig"

    @factory.post_generation
    def terms(obj: Organisation, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if not create:
            return
        for term in extracted or []:
            (obj.sectors if term.kind == TermKind.SECTOR else obj.competences).add(term)
        organisation_search_reindex(organisation_ids=[obj.pk])


def shadow(**kwargs: Any) -> Organisation:
    organisation: Organisation = OrganisationFactory(source=EntrySource.IMPORT, **kwargs)
    return organisation


def membership(user: Any, organisation: Organisation, role: str = MemberRole.ADMIN) -> Membership:
    return Membership.objects.create(user=user, organisation=organisation, role=role)
