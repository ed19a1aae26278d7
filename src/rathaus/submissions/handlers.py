"""Outbox handlers and jobs of submissions: the receipt made and kept, the confirmation
e-mail, and retention (daily)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from rathaus.core.crypto import decrypt_json
from rathaus.core.handlers import post_webhook
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic
from rathaus.submissions.models import Delivery, Destination, Submission
from rathaus.submissions.receipt import receipt_pdf, status_path
from rathaus.submissions.selectors import submission_by_reference, submission_email
from rathaus.submissions.services import submissions_apply_retention

logger = logging.getLogger(__name__)


def _submission(message: OutboxMessage) -> Submission | None:
    return submission_by_reference(message.payload["reference"])


@outbox_handler("submissions.receipt")
def make_receipt(message: OutboxMessage) -> None:
    submission = _submission(message)
    if submission is not None:  # gone: deleted by retention meanwhile
        receipt_pdf(submission)


@outbox_handler("submissions.confirmation")
def send_confirmation(message: OutboxMessage) -> None:
    submission = _submission(message)
    if submission is None:
        return
    email = submission_email(submission)
    if not email:
        return
    context = {
        "reference": submission.reference,
        "form": submission.version.form.title,
        "link": settings.SITE_URL.rstrip("/") + status_path(submission),
        "city": settings.CITY_NAME,
    }
    with translation.override(submission.language or "de"):
        subject = render_to_string("submissions/email/confirmation_subject.txt", context).strip()
        body = render_to_string("submissions/email/confirmation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])


@periodic(seconds=24 * 3600)
def apply_retention() -> None:
    counts = submissions_apply_retention()
    if any(counts.values()):
        logger.info("retention applied to submissions", extra=counts)


@outbox_handler("submissions.webhook")
def announce_to_webhook(message: OutboxMessage) -> None:
    """Announce a submission to an office's webhook, signed with its secret; nothing when the
    destination was switched off or removed after the submission came in."""
    destination = Destination.objects.filter(
        pk=message.payload["destination_id"], kind=Destination.Kind.WEBHOOK, active=True
    ).first()
    if destination is None:
        logger.info("webhook destination off: not announced", extra={"message": message.pk})
        return
    post_webhook(
        url=destination.url,
        body=message.payload["body"],
        idempotency_key=message.idempotency_key,
        secret_encrypted=destination.secret_encrypted,
    )


@outbox_handler("submissions.fitconnect")
def deliver_to_fitconnect(message: OutboxMessage) -> None:
    """Hand a submission to a FIT-Connect destination (the plugin); continues an announced
    submission on a retry."""
    from rathaus.submissions.contrib.fitconnect import FitConnectSender, OAuthClient
    from rathaus.submissions.handover import export_submission

    submission = _submission(message)
    destination = Destination.objects.filter(pk=message.payload["destination_id"]).first()
    if submission is None or destination is None or not destination.active:
        return
    # The row first (one per submission and destination), then the announcement: a second
    # worker finds the row and does not announce again once the id is there.
    delivery, _created = Delivery.objects.get_or_create(
        submission=submission, destination=destination, defaults={"external_id": ""}
    )
    if delivery.delivered_at is not None:
        return
    credentials = decrypt_json(destination.secret_encrypted) if destination.secret_encrypted else ""
    sender = FitConnectSender(  # credentials: OAuth client (a dict) or a fixed token
        url=destination.url,
        destination_id=destination.external_id,
        public_key=destination.public_key or {},
        access_token=credentials if isinstance(credentials, str) else "",
        oauth=OAuthClient.from_dict(credentials) if isinstance(credentials, dict) else None,
    )
    export = export_submission(submission)
    if not delivery.external_id:
        delivery.external_id = sender.announce(export, export.metadata.get("publicServiceType"))
        Delivery.objects.filter(pk=delivery.pk).update(external_id=delivery.external_id)
    sender.send(delivery.external_id, export)
    Delivery.objects.filter(pk=delivery.pk).update(delivered_at=timezone.now())
