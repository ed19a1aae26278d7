"""Outbox handlers of accounts: the log-in link e-mail; the daily removal of expired sessions."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from rathaus.accounts.models import User
from rathaus.accounts.services import magic_link_token_make
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic

logger = logging.getLogger(__name__)


@outbox_handler("accounts.magic_link")
def send_magic_link(message: OutboxMessage) -> None:
    user = User.objects.filter(pk=message.payload["user_id"], is_active=True).first()
    if user is None:
        return  # account removed meanwhile: nothing to send
    path = reverse("accounts:magic_link_login", kwargs={"token": magic_link_token_make(user=user)})
    if message.payload.get("next"):
        path += "?" + urlencode({"next": message.payload["next"]})
    context = {
        "link": settings.SITE_URL.rstrip("/") + path,
        "minutes": settings.MAGIC_LINK_MAX_AGE // 60,
        "city": settings.CITY_NAME,
    }
    with translation.override(message.payload.get("language") or "de"):
        subject = render_to_string("accounts/email/magic_link_subject.txt", context).strip()
        body = render_to_string("accounts/email/magic_link.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@periodic(seconds=24 * 3600)
def delete_expired_sessions() -> None:
    """Sessions live in the database (every node reads them); expired ones are removed daily,
    as Django's ``clearsessions`` does."""
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    if deleted:
        logger.info("expired sessions deleted", extra={"count": deleted})
