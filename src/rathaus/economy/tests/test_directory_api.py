"""The directory's JSON API: the list with filters and paging, one entry, public fields
only, clear 4xx for bad parameters, and a fixed number of queries per page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rathaus.economy.constants import EntryStatus, TermKind, Visibility
from rathaus.economy.selectors.directory import organisation_public_get, organisations_of_user
from rathaus.economy.tests.factories_directory import (
    OrganisationFactory,
    TermFactory,
    membership,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/economy/organisations"


def test_list_filters_pages_and_hides_unpublished(client: Client) -> None:
    ki = TermFactory(kind=TermKind.COMPETENCE, slug="ki", name="KI")
    OrganisationFactory(name="Alpha", terms=[ki], hiring=True)
    OrganisationFactory(name="Beta")
    OrganisationFactory(name="Gamma", status=EntryStatus.PENDING, terms=[ki])
    body = client.get(URL).json()
    assert body["count"] == 2 and [o["name"] for o in body["items"]] == ["Alpha", "Beta"]
    assert client.get(URL, {"competence": "ki"}).json()["count"] == 1
    assert client.get(URL, {"hiring": "true"}).json()["items"][0]["name"] == "Alpha"
    assert client.get(URL, {"limit": 1, "offset": 1}).json()["items"][0]["name"] == "Beta"
    assert client.get(URL, {"q": "alpha"}).json()["count"] == 1


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"kind": "rocket"}, {"sector": "A B"}],
)
def test_bad_parameters_get_a_clear_4xx(client: Client, params: dict[str, Any]) -> None:
    response = client.get(URL, params)
    assert 400 <= response.status_code < 500
    assert "messages" in response.json()


def test_one_entry_with_public_fields_and_404_for_others(client: Client) -> None:
    entry = OrganisationFactory(
        name="Offen",
        phone="0341 9",
        email="intern@example.org",
        street="Markt 1",
        visibility={"email": Visibility.MEMBERS},
    )
    pending = OrganisationFactory(status=EntryStatus.PENDING)
    body = client.get(f"{URL}/{entry.pk}").json()
    assert body["name"] == "Offen" and body["phone"] == "0341 9" and body["street"] == "Markt 1"
    assert body["email"] == ""
    assert "contact" not in body and "contact_encrypted" not in body
    assert client.get(f"{URL}/{pending.pk}").status_code == 404
    assert client.get(f"{URL}/999999").status_code == 404
    assert client.get(f"{URL}/0").status_code == 404
    assert client.get(f"{URL}/abc").status_code in (404, 422)


def test_list_needs_the_same_number_of_queries_for_more_entries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    ki = TermFactory(kind=TermKind.COMPETENCE, slug="ki", name="KI")
    for n in range(30):
        OrganisationFactory(name=f"Firma {n}", terms=[ki])
    with django_assert_max_num_queries(8):
        assert len(client.get(URL, {"limit": 30}).json()["items"]) == 30


def test_selectors_for_other_apps(personas: dict[str, Any]) -> None:
    entry = OrganisationFactory(name="Für andere Apps")
    pending = OrganisationFactory(status=EntryStatus.PENDING)
    membership(personas["citizen"], entry)
    membership(personas["citizen"], pending)
    assert organisation_public_get(organisation_id=entry.pk)["name"] == "Für andere Apps"
    assert set(organisations_of_user(user=personas["citizen"])) == {entry, pending}
    assert not organisations_of_user(user=personas["caseworker"]).exists()
