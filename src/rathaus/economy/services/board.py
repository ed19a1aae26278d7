"""Writes of the board of offers and needs: posts (by department staff for the
administration, or by members on behalf of their organisation), closing them, messages
between a post's author and one member (encrypted; the recipient gets a notice through the
outbox without the text), and the weekly digest."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.crypto import encrypt_json
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.economy.constants import EntryStatus, PostKind, PostStatus, TermKind
from rathaus.economy.models import DigestSubscription, Membership, Message, Post, Term
from rathaus.economy.selectors.board import post_get_for_user

MAX_TAGS = 10
MAX_TAG_LENGTH = 40
MAX_MESSAGE_LENGTH = 5000
TOPIC_REPLY = "economy.board_reply"
TOPIC_DIGEST = "economy.board_digest"


class BoardRefused(Exception):
    """A board action cannot be done as asked; ``message`` says why, for the user."""

    def __init__(self, message: Promise | str, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def tags_parse(text: str) -> list[str]:
    """Free tags from "KI, Verkehr; Open Data": trimmed, without duplicates (case-blind)."""
    tags: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[,;\n]", text):
        tag = " ".join(part.split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise BoardRefused(
                _("Ein Schlagwort darf höchstens %(n)d Zeichen lang sein.") % {"n": MAX_TAG_LENGTH},
                field="tags",
            )
        if tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise BoardRefused(_("Bitte höchstens %(n)d Schlagworte.") % {"n": MAX_TAGS}, field="tags")
    return tags


def post_create(
    *,
    author: Any,
    kind: str,
    title: str,
    body: str,
    organisation_id: int | None = None,
    competence_ids: Iterable[int] = (),
    tags: Iterable[str] = (),
    deadline: date | None = None,
    contact: str = "",
    today: date | None = None,
) -> Post:
    """Publish an offer or a need. Members post on behalf of one of their organisations
    (published ones); department staff post for the administration (no organisation) or
    for any organisation."""
    if not author.is_authenticated:
        raise BoardRefused(_("Bitte melden Sie sich an."))
    if kind not in PostKind.values:
        raise BoardRefused(_("Bitte wählen Sie Angebot oder Gesuch."), field="kind")
    title, body = title.strip(), body.strip()
    if not title:
        raise BoardRefused(_("Bitte geben Sie einen Titel ein."), field="title")
    if not body:
        raise BoardRefused(_("Bitte beschreiben Sie Ihr Angebot oder Gesuch."), field="body")
    today = today or timezone.localdate()
    if deadline is not None and deadline < today:
        raise BoardRefused(_("Die Frist liegt in der Vergangenheit."), field="deadline")
    staff = user_is_department_staff(user=author)
    with transaction.atomic():
        if organisation_id is None:
            if not staff:
                raise BoardRefused(
                    _("Bitte wählen Sie die Organisation, für die Sie schreiben."),
                    field="organisation",
                )
        else:
            membership = Membership.objects.filter(
                user_id=author.pk, organisation_id=organisation_id
            ).select_related("organisation")
            member = membership.first()
            if member is None and not staff:
                raise BoardRefused(
                    _("Sie können nur für Organisationen schreiben, deren Mitglied Sie sind."),
                    field="organisation",
                )
            if member is not None and member.organisation.status != EntryStatus.PUBLISHED:
                raise BoardRefused(
                    _(
                        "Ihre Organisation ist noch nicht veröffentlicht. Sobald das Referat "
                        "sie geprüft hat, können Sie Beiträge schreiben."
                    ),
                    field="organisation",
                )
        competences = list(
            Term.objects.filter(pk__in=list(competence_ids), kind=TermKind.COMPETENCE)
        )
        post = Post.objects.create(
            kind=kind,
            title=title[:200],
            body=body,
            author=author,
            organisation_id=organisation_id,
            tags=list(tags),
            deadline=deadline,
            contact_encrypted=encrypt_json(contact.strip()[:200]) if contact.strip() else "",
        )
        post.competences.set(competences)
        if staff:
            audit_entry_create(
                actor=author,
                action="economy.post.create",
                object_type="economy.post",
                object_id=post.pk,
                after={
                    "kind": kind,
                    "title": post.title,
                    "organisation": organisation_id,
                    "competences": sorted(t.pk for t in competences),
                },
            )
    return post


def may_close(user: Any, post: Post) -> bool:
    return bool(
        user.is_authenticated and (post.author_id == user.pk or user_is_department_staff(user=user))
    )


def post_close(*, actor: Any, post_id: int) -> Post:
    """The author or staff close a post: it leaves the open list and takes no new replies
    (conversations already begun stay readable and can go on)."""
    with transaction.atomic():
        post = Post.objects.select_for_update().filter(pk=post_id).first()
        if post is None:
            raise BoardRefused(_("Diesen Beitrag gibt es nicht."))
        if not may_close(actor, post):
            raise BoardRefused(
                _("Schließen können nur die Verfasserin oder der Verfasser und das Referat.")
            )
        if post.status == PostStatus.CLOSED:
            return post
        post.status = PostStatus.CLOSED
        post.save(update_fields=["status", "updated_at"])
        if user_is_department_staff(user=actor):
            audit_entry_create(
                actor=actor,
                action="economy.post.close",
                object_type="economy.post",
                object_id=post.pk,
                before={"status": PostStatus.OPEN},
                after={"status": PostStatus.CLOSED},
            )
    return post


def may_reply(user: Any) -> bool:
    """Replies are between members: people who act for an organisation, and staff."""
    if not user.is_authenticated:
        return False
    return (
        user_is_department_staff(user=user) or Membership.objects.filter(user_id=user.pk).exists()
    )


def message_send(
    *, sender: Any, post_id: int, body: str, thread_user_id: int | None = None
) -> Message:
    """A member replies to a post (a new or their existing conversation), or the post's author
    answers in the conversation with ``thread_user_id``. The text is kept encrypted; the
    recipient gets an e-mail notice without it."""
    body = body.strip()
    if not body:
        raise BoardRefused(_("Bitte schreiben Sie eine Nachricht."), field="body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise BoardRefused(
            _("Die Nachricht ist zu lang (höchstens %(n)d Zeichen).") % {"n": MAX_MESSAGE_LENGTH},
            field="body",
        )
    with transaction.atomic():
        try:  # the post's gate: a post the sender may not see does not exist for them
            post = post_get_for_user(user=sender, post_id=post_id)
        except Http404:
            raise BoardRefused(_("Diesen Beitrag gibt es nicht.")) from None
        if sender.pk == post.author_id:
            if thread_user_id is None or thread_user_id == sender.pk:
                raise BoardRefused(_("Sie können nur auf Antworten zu Ihrem Beitrag antworten."))
            if not Message.objects.filter(post_id=post.pk, thread_user_id=thread_user_id).exists():
                raise BoardRefused(_("Dieses Gespräch gibt es nicht."))
            thread_user, recipient = thread_user_id, thread_user_id
        else:
            if thread_user_id is not None and thread_user_id != sender.pk:
                raise BoardRefused(_("Dieses Gespräch gibt es nicht."))
            if not may_reply(sender):
                raise BoardRefused(
                    _("Antworten können Mitglieder von Organisationen im Verzeichnis.")
                )
            started = Message.objects.filter(post_id=post.pk, thread_user_id=sender.pk).exists()
            if post.status == PostStatus.CLOSED and not started:
                raise BoardRefused(
                    _("Dieser Beitrag ist geschlossen und nimmt keine Antworten mehr an.")
                )
            thread_user, recipient = sender.pk, post.author_id
        message = Message.objects.create(
            post=post,
            thread_user_id=thread_user,
            sender=sender,
            recipient_id=recipient,
            body_encrypted=encrypt_json({"text": body}),
        )
        outbox_message_create(
            topic=TOPIC_REPLY,
            payload={"message_id": message.pk},
            idempotency_key=f"{TOPIC_REPLY}:{message.pk}",
        )
    return message


def conversation_mark_read(*, user: Any, post_id: int, thread_user_id: int) -> int:
    """The user has seen the conversation: their unread messages in it are read."""
    return Message.objects.filter(
        post_id=post_id, thread_user_id=thread_user_id, recipient_id=user.pk, read_at__isnull=True
    ).update(read_at=timezone.now())


def digest_subscription_set(*, user: Any, active: bool, only_matching: bool) -> DigestSubscription:
    with transaction.atomic():
        subscription, _created = DigestSubscription.objects.select_for_update().get_or_create(
            user_id=user.pk, defaults={"active": active, "only_matching": only_matching}
        )
        if (subscription.active, subscription.only_matching) != (active, only_matching):
            subscription.active = active
            subscription.only_matching = only_matching
            subscription.save(update_fields=["active", "only_matching", "updated_at"])
    return subscription


def week_key(moment: datetime) -> str:
    year, week, _day = timezone.localtime(moment).isocalendar()
    return f"{year}-W{week:02d}"


def board_digest_send(*, now: datetime | None = None) -> int:
    """Write one digest e-mail (an outbox row) per active subscriber with new matching posts
    of the last seven days; at most one per subscriber and calendar week (the outbox key),
    however often this runs. Returns how many were written."""
    from rathaus.economy.selectors.board import posts_for_digest

    now = now or timezone.now()
    week = week_key(now)
    since = now - timedelta(days=7)
    written = 0
    subscriptions = DigestSubscription.objects.filter(active=True, user__is_active=True).order_by(
        "pk"
    )
    for subscription in subscriptions.iterator(chunk_size=200):
        if subscription.last_sent_at and week_key(subscription.last_sent_at) == week:
            continue
        post_ids = posts_for_digest(
            user_id=subscription.user_id,
            since=since,
            until=now,
            only_matching=subscription.only_matching,
        )
        if not post_ids:
            continue
        with transaction.atomic():
            outbox_message_create(
                topic=TOPIC_DIGEST,
                payload={"user_id": subscription.user_id, "post_ids": post_ids, "week": week},
                idempotency_key=f"{TOPIC_DIGEST}:{subscription.user_id}:{week}",
            )
            DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=now)
        written += 1
    return written
