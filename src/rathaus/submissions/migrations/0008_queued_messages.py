"""Outbox messages of submissions queued before 2026-11-26, in today's shape:

- a receipt, confirmation or FIT-Connect message names its submission by reference number,
  not by id;
- a webhook (topic ``webhook.post``, carrying address and encrypted secret itself) becomes a
  ``submissions.webhook`` message that names its destination, so that switching the
  destination off stops it too."""

from typing import Any

from django.db import migrations

OPEN = ["pending", "in_progress"]
BY_SUBMISSION = ["submissions.receipt", "submissions.confirmation", "submissions.fitconnect"]


def todays_shape(apps: Any, schema_editor: Any) -> None:
    message_model = apps.get_model("core", "OutboxMessage")
    submissions = apps.get_model("submissions", "Submission").objects
    for message in message_model.objects.filter(topic__in=BY_SUBMISSION, status__in=OPEN):
        payload = dict(message.payload)
        if "submission_id" in payload:
            found = submissions.filter(pk=payload.pop("submission_id"))
            payload["reference"] = found.values_list("reference", flat=True).first() or ""
            message_model.objects.filter(pk=message.pk).update(payload=payload)
    webhooks = message_model.objects.filter(
        topic="webhook.post", status__in=OPEN, idempotency_key__startswith="webhook:"
    )
    for message in webhooks:
        destination_id = message.idempotency_key.split(":")[1]
        if destination_id.isdigit():
            message_model.objects.filter(pk=message.pk).update(
                topic="submissions.webhook",
                payload={
                    "destination_id": int(destination_id),
                    "body": message.payload.get("body"),
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_outbox_key_index"),
        ("submissions", "0007_key_indexes"),
    ]

    operations = [migrations.RunPython(todays_shape, migrations.RunPython.noop)]
