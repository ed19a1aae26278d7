from __future__ import annotations

import pytest
from django.test import Client

from rathaus.accounts.constants import Role
from rathaus.accounts.services import role_assign
from rathaus.accounts.tests.factories import UserFactory
from rathaus.catalog.models import Service, Synonym
from rathaus.catalog.selectors import service_search
from rathaus.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("leika_catalogue")]


@pytest.fixture
def department_client(client: Client) -> Client:
    user = UserFactory(email="referat@example.org")
    role_assign(actor=None, user=user, role=Role.DEPARTMENT_STAFF)
    client.force_login(user)
    return client


def test_department_staff_edit_a_service_in_german_audited_and_searchable(
    department_client: Client,
) -> None:
    service = Service.objects.get(leika_key="99102013000000")
    page = department_client.get(f"/admin/catalog/service/{service.pk}/change/")
    assert page.status_code == 200
    assert "Suchbegriffe" in page.content.decode()  # the admin speaks German
    data = {
        "leika_key": service.leika_key,
        "name": service.name,
        "keywords": "Bello, Wauwau",
        "leika_type": "4",
        "online_information": "on",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
    }
    response = department_client.post(f"/admin/catalog/service/{service.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.filter(action="admin.change", object_type="catalog.service").latest(
        "id"
    )
    assert entry.after["keywords"] == "Bello, Wauwau"  # type: ignore[index]
    assert service_search(query="Wauwau").services[0].pk == service.pk


def test_department_staff_add_a_synonym_that_search_uses(department_client: Client) -> None:
    response = department_client.post(
        "/admin/catalog/synonym/add/", {"terms": "Gassi, Hundesteuer"}
    )
    assert response.status_code == 302
    assert Synonym.objects.filter(terms="Gassi, Hundesteuer").exists()
    assert AuditEntry.objects.filter(action="admin.add", object_type="catalog.synonym").exists()
    assert service_search(query="Gassi", limit=1).services[0].leika_key == "99102013000000"


def test_caseworkers_cannot_edit_the_catalogue(client: Client, personas: dict[str, object]) -> None:
    client.force_login(personas["caseworker"])  # type: ignore[arg-type]
    response = client.get("/admin/catalog/service/", follow=True)
    assert response.status_code == 403
    assert "Zugriff verweigert" in response.content.decode()


def test_a_role_added_in_the_admin_brings_its_permissions(
    client: Client, personas: dict[str, object]
) -> None:
    from rathaus.accounts.models import RoleAssignment, User

    target = personas["jury"]
    client.force_login(personas["admin"])  # type: ignore[arg-type]
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")  # type: ignore[attr-defined]
    assert page.status_code == 200
    user = User.objects.get(pk=target.pk)  # type: ignore[attr-defined]
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "preferred_language": "de",
        "is_active": "on",
        "role_assignments-TOTAL_FORMS": "2",
        "role_assignments-INITIAL_FORMS": "1",
        "role_assignments-0-id": str(RoleAssignment.objects.get(user=user).pk),
        "role_assignments-0-user": str(user.pk),
        "role_assignments-0-role": "jury_member",
        "role_assignments-1-user": str(user.pk),
        "role_assignments-1-role": "department_staff",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.is_staff
    assert user.has_perm("catalog.change_service")


def test_bulk_deleted_services_leave_the_search(
    department_client: Client, personas: dict[str, object]
) -> None:
    from django.test import Client as TestClient

    admin = TestClient()
    admin.force_login(personas["admin"])  # type: ignore[arg-type]
    service = Service.objects.get(leika_key="99102013000000")
    admin.post(
        "/admin/catalog/service/",
        {"action": "delete_selected", "_selected_action": [service.pk], "post": "yes"},
    )
    assert not Service.objects.filter(pk=service.pk).exists()
    result = service_search(query="Hundesteuer")
    assert result.total == len(result.services)
    assert service.pk not in [s.pk for s in result.services]
    assert AuditEntry.objects.filter(action="admin.delete", object_id=str(service.pk)).exists()


def test_bulk_deleted_synonyms_stop_working(department_client: Client) -> None:
    synonym = Synonym.objects.create(terms="Knöllchen, Bußgeldverfahren")
    from rathaus.catalog.services import synonyms_changed

    synonyms_changed()
    assert service_search(query="Knöllchen").total > 0
    department_client.post(
        "/admin/catalog/synonym/",
        {"action": "delete_selected", "_selected_action": [synonym.pk], "post": "yes"},
    )
    assert not Synonym.objects.filter(pk=synonym.pk).exists()
    assert service_search(query="Knöllchen").total == 0


def test_changing_responsible_offices_is_audited_with_their_ids(department_client: Client) -> None:
    from rathaus.accounts.tests.factories import OfficeFactory

    service = Service.objects.get(leika_key="99108001001000")
    office = OfficeFactory(name="Verkehrsbehörde")
    data = {
        "leika_key": service.leika_key,
        "name": service.name,
        "leika_type": service.leika_type,
        "online_information": "on",
        "offices": [str(office.pk)],
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
    }
    response = department_client.post(f"/admin/catalog/service/{service.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.filter(action="admin.change", object_id=str(service.pk)).latest("id")
    assert entry.after["offices"] == [office.pk]  # type: ignore[index]


def test_the_online_button_address_must_be_this_site_or_https(department_client: Client) -> None:
    service = Service.objects.get(leika_key="99108001001000")
    base = {
        "leika_key": service.leika_key,
        "name": service.name,
        "leika_type": service.leika_type,
        "online_information": "on",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
    }
    for bad in ("javascript:alert(1)", "//evil.example/form", "http://evil.example/"):
        response = department_client.post(
            f"/admin/catalog/service/{service.pk}/change/", {**base, "form_url": bad}
        )
        assert response.status_code == 200, bad  # the form comes back with an error
    ok = department_client.post(
        f"/admin/catalog/service/{service.pk}/change/",
        {**base, "form_url": "/formulare/bewohnerparken/"},
    )
    assert ok.status_code == 302
