"""Every write of the economy app, one module per part: ``directory`` (organisations,
members, claims, moderation, the taxonomy), ``relations``, ``events`` (events,
registrations, the waiting list, check-in, outcome), ``rooms`` (bookings) and ``board``
(offers and needs, messages, the digest)."""

from collections.abc import Collection

from django.db.models import Model
from django.utils.text import slugify


def unique_slug(
    model: type[Model], text: str, *, fallback: str, reserved: Collection[str] = ()
) -> str:
    """A slug of ``text`` for a new row of ``model``: ``-2``, ``-3`` ... added while it is
    taken or one of the page names ``reserved`` beside it in the URLs."""
    base = (slugify(text) or fallback)[:200]
    slug, number = base, 2
    while slug in reserved or model._default_manager.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug
