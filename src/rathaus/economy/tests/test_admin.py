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
