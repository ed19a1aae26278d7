"""Outbox handlers and the periodic job of the board of offers and needs and of relations:
the notice of a proposed relation to the other side, the notice of a new
message (without its text: the recipient reads it after logging in) and the weekly digest
(``board_digest_send`` writes one outbox e-mail per subscriber and week; this module sends
them)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic
from rathaus.economy.constants import RelationStatus
from rathaus.economy.models import Membership, Message, Relation
from rathaus.economy.selectors.board import digest_posts
from rathaus.economy.services.board import TOPIC_DIGEST, TOPIC_REPLY, board_digest_send
from rathaus.economy.services.relations import TOPIC_PROPOSED

logger = logging.getLogger(__name__)


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@outbox_handler(TOPIC_REPLY)
def send_reply_notice(message: OutboxMessage) -> None:
    reply = (
        Message.objects.select_related("post", "recipient")
        .filter(pk=message.payload["message_id"])
        .first()
    )
    if reply is None or not reply.recipient.is_active or not reply.recipient.email:
        return  # deleted meanwhile, or nobody to tell
    context = {
        "title": reply.post.title,
        "link": _site(
            reverse(
                "economy:conversation",
                kwargs={"post_id": reply.post_id, "thread_user_id": reply.thread_user_id},
            )
        ),
        "city": settings.CITY_NAME,
    }
    with translation.override(getattr(reply.recipient, "preferred_language", "") or "de"):
        subject = " ".join(
            render_to_string("economy/mail/board_reply_subject.txt", context).split()
        )
        body = render_to_string("economy/mail/board_reply.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [reply.recipient.email])


@outbox_handler(TOPIC_DIGEST)
def send_digest(message: OutboxMessage) -> None:
    user = get_user_model().objects.filter(pk=message.payload["user_id"], is_active=True).first()
    if user is None or not user.email:
        return
    posts = digest_posts(post_ids=list(message.payload["post_ids"]))
    if not posts:
        return  # every post was closed meanwhile
    context = {
        "posts": [
            {
                "title": p.title,
                "kind": p.get_kind_display(),
                "by": p.organisation.name if p.organisation else "",
                "deadline": p.deadline,
                "link": _site(reverse("economy:post", args=[p.pk])),
            }
            for p in posts
        ],
        "settings_link": _site(reverse("economy:digest")),
        "city": settings.CITY_NAME,
    }
    with translation.override(getattr(user, "preferred_language", "") or "de"):
        subject = " ".join(
            render_to_string("economy/mail/board_digest_subject.txt", context).split()
        )
        body = render_to_string("economy/mail/board_digest.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@periodic(seconds=3600)
def write_weekly_digests() -> None:
    """Hourly, but each subscriber gets one digest per calendar week (the first run of the
    week that finds new posts for them)."""
    written = board_digest_send()
    if written:
        logger.info("board digests written", extra={"count": written})


@outbox_handler(TOPIC_PROPOSED)
def send_relation_proposed(message: OutboxMessage) -> None:
    """Tell the other side of a proposal (the target organisation's members, or the person's
    own account) that it waits for them; nothing when it was decided meanwhile."""
    relation = (
        Relation.objects.select_related("source", "target", "person")
        .filter(pk=message.payload["relation_id"], status=RelationStatus.PROPOSED)
        .first()
    )
    if relation is None:
        return
    if relation.target_id is not None:
        users = [
            m.user
            for m in Membership.objects.filter(organisation_id=relation.target_id).select_related(
                "user"
            )
        ]
        other = relation.target.name if relation.target else ""
    else:
        person = relation.person
        users = [person.user] if person is not None and person.user is not None else []
        other = person.name if person is not None else ""
    link = _site(reverse("economy:relations"))
    for user in users:
        if not user.is_active or not user.email:
            continue
        context = {
            "source": relation.source.name,
            "kind": relation.kind,
            "other": other,
            "link": link,
            "city": settings.CITY_NAME,
        }
        with translation.override(getattr(user, "preferred_language", "") or "de"):
            context["kind"] = relation.get_kind_display()
            subject = " ".join(
                render_to_string("economy/mail/board_relation_subject.txt", context).split()
            )
            body = render_to_string("economy/mail/board_relation.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
