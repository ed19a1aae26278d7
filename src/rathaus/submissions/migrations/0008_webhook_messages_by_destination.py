"""Queued submission webhooks written before 2026-11-26 carry the address and (encrypted)
secret themselves (topic ``webhook.post``); they become ``submissions.webhook`` messages that
name their destination, so that switching a destination off stops them too."""

from typing import Any

from django.db import migrations

OPEN = ["pending", "in_progress"]


def by_destination(apps: Any, schema_editor: Any) -> None:
    message_model = apps.get_model("core", "OutboxMessage")
    queued = message_model.objects.filter(
        topic="webhook.post", status__in=OPEN, idempotency_key__startswith="webhook:"
    )
    for message in queued.iterator():
        destination_id = message.idempotency_key.split(":")[1]
        if not destination_id.isdigit():
            continue
        message_model.objects.filter(pk=message.pk).update(
            topic="submissions.webhook",
            payload={"destination_id": int(destination_id), "body": message.payload.get("body")},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_outbox_key_index"),
        ("submissions", "0007_key_indexes"),
    ]

    operations = [migrations.RunPython(by_destination, migrations.RunPython.noop)]
