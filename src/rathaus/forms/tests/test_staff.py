"""Department staff import, edit, preview and publish forms; a published version never changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rathaus.accounts.constants import Role
from rathaus.accounts.services import role_assign
from rathaus.accounts.tests.factories import UserFactory
from rathaus.core.models import AuditEntry
from rathaus.forms.constants import VersionStatus
from rathaus.forms.definition import FormDefinition
from rathaus.forms.editing import differences
from rathaus.forms.models import FormVersion

pytestmark = pytest.mark.django_db
FIM = Path(__file__).resolve().parents[5] / "shared" / "data" / "fim" / "xdf2" / "bewohnerparken"


@pytest.fixture
def staff(client: Client) -> Client:
    user = UserFactory(email="referat@example.org")
    role_assign(actor=None, user=user, role=Role.DEPARTMENT_STAFF)
    client.force_login(user)
    return client


def _upload(staff: Client) -> Any:
    files = [
        SimpleUploadedFile(p.name, p.read_bytes(), content_type="text/xml")
        for p in sorted(FIM.glob("*.xml"))
    ]
    return staff.post("/verwaltung/formulare/import/", {"files": files})


def test_staff_import_a_fim_schema_with_its_code_lists_through_the_browser(staff: Client) -> None:
    response = _upload(staff)
    assert response.status_code == 302
    version = FormVersion.objects.get()
    assert version.status == VersionStatus.DRAFT
    assert len(FormDefinition.model_validate(version.definition).codelists) == 6
    page = staff.get(response["Location"]).content.decode()
    assert "Importbericht: 2 Hinweise" in page and "R05000281" in page


def test_a_broken_upload_is_explained_and_nothing_imported(staff: Client) -> None:
    bad = SimpleUploadedFile(
        "S1.xml", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"
    )
    response = staff.post("/verwaltung/formulare/import/", {"files": [bad]})
    assert response.status_code == 400 and "Sicherheitsgründen" in response.content.decode()
    assert not FormVersion.objects.exists()


def test_staff_edit_texts_required_and_order_then_preview_and_publish_with_differences(
    staff: Client,
) -> None:
    _upload(staff)
    version = FormVersion.objects.get()
    slug = version.form.slug
    definition = FormDefinition.model_validate(version.definition)
    first_step = definition.steps[0]
    first, second = first_step.items[0], first_step.items[1]
    data = {
        f"item-{first.id}-label_de": "Neue Bezeichnung",
        f"item-{first.id}-label_en": "New label",
        f"item-{first.id}-position": "2",
        f"item-{second.id}-position": "1",
    }
    assert staff.post(f"/verwaltung/formulare/{slug}/entwurf/", data).status_code == 302
    edited = FormDefinition.model_validate(FormVersion.objects.get().definition)
    assert edited.steps[0].items[0].id == second.id  # order changed
    assert edited.steps[0].items[1].label.de == "Neue Bezeichnung"  # type: ignore[union-attr]
    assert AuditEntry.objects.filter(action="form.draft.update").exists()
    preview = staff.get(f"/verwaltung/formulare/{slug}/vorschau/1/").content.decode()
    assert "Vorschau des Entwurfs" in preview and "Neue Bezeichnung" in preview
    diff_page = staff.get(f"/verwaltung/formulare/{slug}/veroeffentlichen/").content.decode()
    assert "Erste Version" in diff_page
    assert staff.post(f"/verwaltung/formulare/{slug}/veroeffentlichen/").status_code == 302
    assert FormVersion.objects.get().status == VersionStatus.PUBLISHED
    # a published version cannot be edited: there is no draft to open
    assert staff.get(f"/verwaltung/formulare/{slug}/entwurf/").status_code == 404


def test_differences_name_what_changed() -> None:
    from rathaus.forms.tests.test_fim import HAND_WRITTEN

    old = FormDefinition.model_validate(HAND_WRITTEN)
    new_data = {
        **HAND_WRITTEN,
        "steps": [{**HAND_WRITTEN["steps"][0], "items": HAND_WRITTEN["steps"][0]["items"][:-1]}],
    }  # type: ignore[index]
    new_data["steps"][0]["items"][0] = {**new_data["steps"][0]["items"][0], "required": False}
    changes = differences(old, FormDefinition.model_validate(new_data))
    assert any(c.what == "removed" and c.id == "halter" for c in changes)
    assert any(c.what == "changed" and c.id == "name" and "required" in c.detail for c in changes)


def test_caseworkers_cannot_manage_forms(client: Client, personas: dict[str, Any]) -> None:
    client.force_login(personas["caseworker"])
    assert client.get("/verwaltung/formulare/").status_code == 403
