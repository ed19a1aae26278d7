"""Reads of the board of offers and needs: the list with its filters, the post's gate
(``post_get_for_user``), matching by shared competences, conversations (only their two
participants can read them: ``conversation_get_for_user``) and the digest's posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.crypto import DecryptionError, decrypt_json
from rathaus.economy.constants import EntryStatus, PostStatus
from rathaus.economy.models import (
    DigestSubscription,
    Membership,
    Message,
    Organisation,
    Post,
    Term,
)

PAGE_SIZE = 20


def _visible_posts() -> QuerySet[Post]:
    """Posts of the administration, or of a published organisation."""
    return Post.objects.filter(
        Q(organisation__isnull=True) | Q(organisation__status=EntryStatus.PUBLISHED)
    )


def competence_terms() -> list[Term]:
    return list(Term.objects.filter(kind="competence").order_by("name"))


def post_list(
    *,
    kind: str = "",
    competence_id: int | None = None,
    status: str = PostStatus.OPEN,
    page: int = 1,
) -> Page[Post]:
    """The board, newest first, filtered by kind, competence and open/closed ("" = both)."""
    posts = _visible_posts()
    if status:
        posts = posts.filter(status=status)
    if kind:
        posts = posts.filter(kind=kind)
    if competence_id:
        posts = posts.filter(competences__id=competence_id)
    posts = (
        posts.select_related("organisation")
        .prefetch_related("competences")
        .order_by("-created_at", "-pk")
    )
    paginator = Paginator(posts, PAGE_SIZE, allow_empty_first_page=True)
    return paginator.get_page(page)


def post_get_for_user(*, user: Any, post_id: int) -> Post:
    """The post's gate: public when it is the administration's or its organisation is
    published; otherwise only its author, the organisation's members and staff (else 404)."""
    post = (
        Post.objects.select_related("organisation", "author")
        .prefetch_related("competences")
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise Http404
    if post.organisation is None or post.organisation.status == EntryStatus.PUBLISHED:
        return post
    if user.is_authenticated and (
        post.author_id == user.pk
        or user_is_department_staff(user=user)
        or Membership.objects.filter(user_id=user.pk, organisation_id=post.organisation.pk).exists()
    ):
        return post
    raise Http404


def post_matching_organisations(*, post: Post, limit: int = 10) -> list[Organisation]:
    """Published organisations whose competences overlap the post's, most shared first
    (``overlap`` on each), without the post's own organisation."""
    ids = [t.pk for t in post.competences.all()]
    if not ids:
        return []
    from rathaus.economy.selectors.relations import organisation_url

    found: list[Organisation] = list(
        Organisation.objects.filter(status=EntryStatus.PUBLISHED, competences__in=ids)
        .exclude(pk=post.organisation_id or 0)
        .annotate(overlap=Count("competences", distinct=True))
        .order_by("-overlap", "name")[:limit]
    )
    for organisation in found:
        organisation.url = organisation_url(organisation)  # type: ignore[attr-defined]
    return found


def _user_competence_ids(user_id: int) -> list[int]:
    return list(
        Term.objects.filter(organisations_with_competence__memberships__user_id=user_id)
        .values_list("pk", flat=True)
        .distinct()
    )


def posts_matching_user(*, user: Any, limit: int = 10) -> list[Post]:
    """Open posts that share competences with the user's organisations, most shared first,
    without their own posts and those of their organisations."""
    if not user.is_authenticated:
        return []
    ids = _user_competence_ids(user.pk)
    if not ids:
        return []
    own_orgs = Membership.objects.filter(user_id=user.pk).values("organisation_id")
    return list(
        _visible_posts()
        .filter(status=PostStatus.OPEN, competences__in=ids)
        .exclude(author_id=user.pk)
        .exclude(organisation_id__in=own_orgs)
        .annotate(overlap=Count("competences", distinct=True))
        .select_related("organisation")
        .order_by("-overlap", "-created_at", "-pk")[:limit]
    )


def posts_for_digest(
    *, user_id: int, since: datetime, until: datetime, only_matching: bool
) -> list[int]:
    """The ids of the open posts new between ``since`` and ``until`` for a subscriber (those
    sharing a competence with their organisations, with ``only_matching``), newest first."""
    posts = (
        _visible_posts()
        .filter(status=PostStatus.OPEN, created_at__gte=since, created_at__lt=until)
        .exclude(author_id=user_id)
    )
    if only_matching:
        ids = _user_competence_ids(user_id)
        if not ids:
            return []
        posts = posts.filter(competences__in=ids)
    return list(posts.order_by("-created_at", "-pk").values_list("pk", flat=True).distinct()[:50])


def digest_posts(*, post_ids: list[int]) -> list[Post]:
    """The posts of a digest still open, in the digest's order."""
    by_id = {
        p.pk: p
        for p in _visible_posts()
        .filter(pk__in=post_ids, status=PostStatus.OPEN)
        .select_related("organisation")
    }
    return [by_id[pk] for pk in post_ids if pk in by_id]


# ---- conversations ---------------------------------------------------------------------


@dataclass
class ShownMessage:
    pk: int
    sender_id: int
    mine: bool
    text: str
    created_at: datetime
    read_at: datetime | None


def post_contact(post: Post) -> str:
    """The contact the author gave (kept encrypted); empty if none or unreadable. Views show
    it only to members (``services.board.may_reply``) and the author."""
    if not post.contact_encrypted:
        return ""
    try:
        return str(decrypt_json(post.contact_encrypted))
    except DecryptionError:
        return ""


def _text(message: Message) -> str:
    try:
        return str(decrypt_json(message.body_encrypted).get("text", ""))
    except DecryptionError:
        return ""


def conversation_get_for_user(
    *, user: Any, post_id: int, thread_user_id: int
) -> tuple[Post, list[ShownMessage]]:
    """A conversation's gate: only its two participants, the post's author and the member
    (``thread_user_id``), may read it; for anyone else it does not exist (404), so that ids
    tell nothing."""
    if not user.is_authenticated:
        raise Http404
    post = post_get_for_user(user=user, post_id=post_id)  # a post one may not see: 404
    if thread_user_id == post.author_id:
        raise Http404
    if user.pk not in (post.author_id, thread_user_id):
        raise Http404
    rows = list(
        Message.objects.filter(post_id=post_id, thread_user_id=thread_user_id).order_by(
            "created_at", "pk"
        )
    )
    if not rows and user.pk != thread_user_id:
        raise Http404
    return post, [
        ShownMessage(m.pk, m.sender_id, m.sender_id == user.pk, _text(m), m.created_at, m.read_at)
        for m in rows
    ]


@dataclass
class ConversationSummary:
    post: Post
    thread_user_id: int
    other_label: str
    last_at: datetime
    unread: int


def _person_label(user: Any) -> str:
    name = f"{getattr(user, 'first_name', '')} {getattr(user, 'last_name', '')}".strip()
    return name or f"#{user.pk}"


def conversations_of_user(*, user: Any, post_id: int | None = None) -> list[ConversationSummary]:
    """The user's conversations (as a post's author or as the member who replied), the most
    recent first; with ``post_id`` only those about that post."""
    if not user.is_authenticated:
        return []
    from django.contrib.auth import get_user_model

    q = Q(post__author_id=user.pk) | Q(thread_user_id=user.pk)
    rows = Message.objects.filter(q)
    if post_id is not None:
        rows = rows.filter(post_id=post_id)
    threads = list(
        rows.values("post_id", "thread_user_id")
        .annotate(
            last_at=Max("created_at"),
            unread=Count("pk", filter=Q(recipient_id=user.pk, read_at__isnull=True)),
        )
        .order_by("-last_at")[:200]
    )
    posts = Post.objects.select_related("author", "organisation").in_bulk(
        {t["post_id"] for t in threads}
    )
    users = get_user_model().objects.in_bulk({t["thread_user_id"] for t in threads})
    result = []
    for t in threads:
        post = posts[t["post_id"]]
        if post.author_id == user.pk:
            other = users.get(t["thread_user_id"])
            label = _person_label(other) if other else ""
        else:
            label = post.organisation.name if post.organisation else _person_label(post.author)
        result.append(
            ConversationSummary(post, t["thread_user_id"], label, t["last_at"], t["unread"])
        )
    return result


def person_label(user: Any) -> str:
    return _person_label(user)


def digest_subscription_of(*, user: Any) -> DigestSubscription | None:
    if not user.is_authenticated:
        return None
    return DigestSubscription.objects.filter(user_id=user.pk).first()
