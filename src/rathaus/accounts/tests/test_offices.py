"""The gate for offices: office_get_for_user, tested once and thoroughly."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from rathaus.accounts.constants import Role
from rathaus.accounts.selectors import office_get_for_user, office_list_for_user, user_roles

pytestmark = pytest.mark.django_db


def test_caseworker_opens_own_office(personas: dict[str, Any], offices: dict[str, Any]) -> None:
    office = office_get_for_user(user=personas["caseworker"], office_id=offices["ordnungsamt"].pk)
    assert office == offices["ordnungsamt"]


def test_caseworker_cannot_open_office_of_other_caseworker(
    personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    with pytest.raises(PermissionDenied):
        office_get_for_user(user=personas["caseworker"], office_id=offices["standesamt"].pk)


def test_caseworker_does_not_see_units_below_own_office(
    personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    with pytest.raises(PermissionDenied):
        office_get_for_user(user=personas["caseworker"], office_id=offices["unit"].pk)


def test_office_lead_sees_units_below(personas: dict[str, Any], offices: dict[str, Any]) -> None:
    assert office_get_for_user(user=personas["lead"], office_id=offices["unit"].pk)
    listed = set(office_list_for_user(user=personas["lead"]))
    assert listed == {offices["ordnungsamt"], offices["unit"]}


def test_department_staff_and_admins_see_every_office(
    personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    for who in ("department", "admin"):
        assert office_get_for_user(user=personas[who], office_id=offices["standesamt"].pk)
        assert office_list_for_user(user=personas[who]).count() == 4


@pytest.mark.parametrize("who", ["citizen", "jury", "organisation"])
def test_people_outside_the_administration_open_no_office(
    who: str, personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    with pytest.raises(PermissionDenied):
        office_get_for_user(user=personas[who], office_id=offices["ordnungsamt"].pk)
    assert not office_list_for_user(user=personas[who]).exists()


def test_anonymous_opens_no_office(offices: dict[str, Any]) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        office_get_for_user(user=AnonymousUser(), office_id=offices["ordnungsamt"].pk)


def test_unknown_office_id_is_404_not_403(personas: dict[str, Any]) -> None:
    with pytest.raises(Http404):
        office_get_for_user(user=personas["caseworker"], office_id=999999)


def test_roles_come_from_assignment_and_membership(personas: dict[str, Any]) -> None:
    assert user_roles(user=personas["citizen"]) == {Role.CITIZEN}
    assert user_roles(user=personas["caseworker"]) == {Role.CASEWORKER}
    assert user_roles(user=personas["lead"]) == {Role.OFFICE_LEAD}
    assert user_roles(user=personas["jury"]) == {Role.JURY_MEMBER, Role.CITIZEN}
    assert Role.ADMINISTRATOR in user_roles(user=personas["admin"])


def test_office_page_shows_members_to_the_office_and_403_to_others(
    client: Client, personas: dict[str, Any], offices: dict[str, Any]
) -> None:
    url = f"/konto/einheiten/{offices['ordnungsamt'].pk}/"
    client.force_login(personas["caseworker"])
    assert "Mitglieder" in client.get(url).content.decode()
    client.force_login(personas["caseworker_other"])
    denied = client.get(url)
    assert denied.status_code == 403
    assert "Zugriff verweigert" in denied.content.decode()
    client.logout()
    assert client.get(url)["Location"].startswith("/konto/anmelden/")


def test_public_office_api_lists_offices_without_staff_and_in_few_queries(
    client: Client,
    personas: dict[str, Any],
    django_assert_max_num_queries: Any,
) -> None:
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/offices?limit=2")
    body = response.json()
    assert body["count"] == 4
    assert len(body["items"]) == 2
    assert "cw1@example.org" not in response.content.decode()


def test_office_api_unknown_id_is_json_404(client: Client) -> None:
    response = client.get("/api/v1/offices/424242")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
