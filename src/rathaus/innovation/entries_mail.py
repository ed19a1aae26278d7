"""E-mails of entries, sent by the outbox worker: the result of an entry in a phase (passed
on, won, or not), to the person who started the entry, in their language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler
from rathaus.innovation.constants import PhaseResult
from rathaus.innovation.models import EntryPhase
from rathaus.innovation.selectors.entries import next_phase
from rathaus.innovation.services.entries import RESULT_TOPIC


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@outbox_handler(RESULT_TOPIC)
def send_entry_result(message: OutboxMessage) -> None:
    row = (
        EntryPhase.objects.select_related("entry__call", "entry__created_by", "phase")
        .filter(pk=message.payload.get("entry_phase"))
        .first()
    )
    if row is None or row.result == PhaseResult.OPEN:
        return
    user = row.entry.created_by
    if not user.email or not user.is_active:
        return
    call, phase, following = row.entry.call, row.phase, next_phase(row.phase)
    language = getattr(user, "preferred_language", "") or "de"
    with translation.override(language):
        english = language == "en"
        context = {
            "title": row.entry.title,
            "call": call.title_en if english and call.title_en else call.title,
            "phase": phase.name_en if english and phase.name_en else phase.name,
            "next_phase": (following.name_en if english and following.name_en else following.name)
            if following is not None
            else "",
            "result": row.result,
            "reason": row.result_reason,
            "url": _site(reverse("innovation:entry_detail", args=[row.entry_id])),
            "city": settings.CITY_NAME,
        }
        subject = " ".join(
            render_to_string("innovation/mail/entry_result_subject.txt", context).split()
        )
        body = render_to_string("innovation/mail/entry_result.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()
