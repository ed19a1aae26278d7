"""The directory in the admin: staff see an entry with its members, but change members only
on the members page (which keeps an admin and writes the audit log)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rathaus.accounts.tests.factories import UserFactory
from rathaus.economy.tests.factories_directory import OrganisationFactory, membership

pytestmark = pytest.mark.django_db


def test_admin_shows_an_entry_with_its_members_read_only(
    client: Client, personas: dict[str, Any]
) -> None:
    entry = OrganisationFactory(name="Admin-Sicht GmbH")
    boss = UserFactory(email="chefin@example.org")
    membership(boss, entry)
    client.force_login(personas["admin"])

    page = client.get(f"/admin/economy/organisation/{entry.pk}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Admin-Sicht GmbH" in text and str(boss) in text
    assert "memberships-0-DELETE" not in text  # no deleting members here
    assert client.get("/admin/economy/organisation/add/").status_code == 200


def test_staff_enter_a_person_and_a_claims_evidence_is_shown_decrypted(
    client: Client, personas: dict[str, Any]
) -> None:
    from rathaus.core.models import AuditEntry
    from rathaus.economy.models import Person
    from rathaus.economy.services.directory import claim_create
    from rathaus.economy.tests.factories_directory import shadow

    client.force_login(personas["admin"])
    response = client.post(
        "/admin/economy/person/add/", {"name": "Dr. Erika Muster", "title": "Professorin"}
    )
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.name == "Dr. Erika Muster"
    assert AuditEntry.objects.filter(object_id=str(person.pk)).exists()
    claim = claim_create(
        user=UserFactory(), organisation=shadow(name="Alt AG"), evidence="Ich bin der Inhaber."
    )
    page = client.get(f"/admin/economy/claim/{claim.pk}/change/").content.decode()
    assert "Ich bin der Inhaber." in page and claim.evidence_encrypted not in page


def test_an_entry_deleted_in_the_admin_leaves_the_search(
    client: Client, personas: dict[str, Any]
) -> None:
    from rathaus.economy.selectors.directory import DirectoryFilters, organisation_search
    from rathaus.economy.services.directory import organisation_search_reindex

    entry = OrganisationFactory(name="Vergängliche Sensorik GmbH")
    organisation_search_reindex()
    assert organisation_search(query="Sensorik", filters=DirectoryFilters()).total == 1
    client.force_login(personas["admin"])
    response = client.post(f"/admin/economy/organisation/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert organisation_search(query="Sensorik", filters=DirectoryFilters()).total == 0
