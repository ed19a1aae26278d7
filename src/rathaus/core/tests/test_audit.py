from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from rathaus.core.models import AppendOnlyError, AuditEntry
from rathaus.core.services import audit_entries_prune, audit_entry_create, pseudonymise

pytestmark = pytest.mark.django_db


def _entry(**kwargs: object) -> AuditEntry:
    defaults: dict[str, object] = {
        "actor": None,
        "action": "thing.change",
        "object_type": "test.thing",
        "object_id": 7,
        "before": {"status": "open"},
        "after": {"status": "closed"},
    }
    defaults.update(kwargs)
    return audit_entry_create(**defaults)  # type: ignore[arg-type]


def test_entry_records_actor_action_object_before_after_and_request_id(
    personas: dict[str, object], client: Client
) -> None:
    entry = _entry(actor=personas["caseworker"])
    assert entry.actor_label == f"user:{personas['caseworker'].pk}"  # type: ignore[attr-defined]
    assert (entry.action, entry.object_type, entry.object_id) == ("thing.change", "test.thing", "7")
    assert entry.before == {"status": "open"} and entry.after == {"status": "closed"}


def test_services_writing_during_a_request_store_its_request_id(
    personas: dict[str, object], client: Client
) -> None:
    client.force_login(personas["citizen"])  # type: ignore[arg-type]
    response = client.post("/konto/anmelden/link/", {"email": "new.person@example.org"})
    entry = AuditEntry.objects.get(action="user.create")
    assert entry.request_id == response["X-Request-ID"]


def test_personal_fields_are_stored_only_as_pseudonyms() -> None:
    entry = _entry(
        before={"email": "old@example.org", "status": "a"},
        after={"email": "max@example.org", "status": "b"},
        personal_fields=["email"],
    )
    entry.refresh_from_db()
    assert "max@example.org" not in str(entry.after)
    assert entry.after["email"] == pseudonymise("max@example.org")  # type: ignore[index]
    assert entry.before["email"] != entry.after["email"]  # type: ignore[index]
    assert entry.after["status"] == "b"  # type: ignore[index]


def test_changing_or_deleting_an_entry_through_the_orm_is_refused() -> None:
    entry = _entry()
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_the_database_refuses_updates_and_deletes_even_in_raw_sql() -> None:
    entry = _entry()
    table = AuditEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET action = 'forged' WHERE id = %s", [entry.pk])  # noqa: S608
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    entry.refresh_from_db()
    assert entry.action == "thing.change"


def test_retention_prune_deletes_old_entries_and_records_that_it_did() -> None:
    old = _entry()
    deleted = audit_entries_prune(older_than=timezone.now() + timedelta(seconds=1))
    assert deleted >= 1
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(action="audit.prune").count() == 1


def test_administrators_see_the_audit_log_filtered_by_action(
    personas: dict[str, object], client: Client
) -> None:
    _entry(action="case.close")
    _entry(action="case.open")
    client.force_login(personas["admin"])  # type: ignore[arg-type]
    response = client.get("/admin/core/auditentry/", {"action": "case.close"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<td class="field-action">case.close</td>' in html
    assert '<td class="field-action">case.open</td>' not in html


def test_caseworkers_do_not_see_the_audit_log(personas: dict[str, object], client: Client) -> None:
    client.force_login(personas["caseworker"])  # type: ignore[arg-type]
    response = client.get("/admin/core/auditentry/", follow=True)
    assert response.status_code == 403
    assert "field-action" not in response.content.decode()


def test_admin_cannot_edit_or_delete_audit_entries(
    personas: dict[str, object], client: Client
) -> None:
    entry = _entry()
    client.force_login(personas["admin"])  # type: ignore[arg-type]
    response = client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite rebuilds tables; PostgreSQL keeps triggers"
)
def test_append_only_triggers_come_back_after_a_table_rebuild() -> None:
    from rathaus.core.db_triggers import EXPECTED_SQLITE_TRIGGERS, ensure_triggers

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER core_auditentry_no_update")  # what a table rebuild does
        ensure_triggers()  # runs after every migrate (post_migrate)
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    assert EXPECTED_SQLITE_TRIGGERS <= names


def test_admin_bulk_delete_is_audited(personas: dict[str, object], client: Client) -> None:
    from rathaus.accounts.models import Office

    office = Office.objects.create(name="Zu löschen", kind="unit")
    client.force_login(personas["admin"])  # type: ignore[arg-type]
    client.post(
        "/admin/accounts/office/",
        {"action": "delete_selected", "_selected_action": [office.pk], "post": "yes"},
    )
    assert not Office.objects.filter(pk=office.pk).exists()
    assert AuditEntry.objects.filter(action="admin.delete", object_id=str(office.pk)).exists()
