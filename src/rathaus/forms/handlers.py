"""Outbox handlers and periodic jobs of the form engine: the resume-link e-mail and deleting
expired drafts."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from rathaus.core.crypto import decrypt_json
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic
from rathaus.forms.models import FormDraft
from rathaus.forms.services import draft_resume_token, drafts_delete_expired

logger = logging.getLogger(__name__)


@outbox_handler("forms.resume_link")
def send_resume_link(message: OutboxMessage) -> None:
    draft = (
        FormDraft.objects.select_related("version__form")
        .filter(pk=message.payload["draft_id"])
        .first()
    )
    if draft is None:
        return  # deleted or expired meanwhile: nothing to resume
    email = decrypt_json(message.payload["email"])  # stored encrypted, like the draft
    path = reverse("forms:resume", kwargs={"token": draft_resume_token(draft=draft)})
    context = {
        "link": settings.SITE_URL.rstrip("/") + path,
        "form": draft.version.form.title,
        "days": settings.FORM_DRAFT_DAYS,
        "city": settings.CITY_NAME,
    }
    with translation.override(message.payload.get("language") or "de"):
        subject = render_to_string("forms/email/resume_subject.txt", context).strip()
        body = render_to_string("forms/email/resume.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])


@periodic(seconds=3600)
def delete_expired_drafts() -> None:
    deleted = drafts_delete_expired()
    if deleted:
        logger.info("expired form drafts deleted", extra={"count": deleted})
