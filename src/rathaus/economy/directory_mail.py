"""E-mails of the directory, sent by the outbox worker: the invitation to join an
organisation (the link's token reaches the handler only encrypted in the message's payload;
the database keeps its hash; the invited person's language is not known, so the mail is in
German, then in English), the department's decision on a new entry to its admins, and the
decision on a claim to the claimant (in their account's language); and, daily, deleting
invitations that have been over for a month."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from rathaus.core.crypto import DecryptionError, decrypt_json
from rathaus.core.models import OutboxMessage
from rathaus.core.outbox import outbox_handler, periodic
from rathaus.economy.constants import ClaimStatus, EntryStatus, MemberRole
from rathaus.economy.models import Claim, Invitation, Organisation
from rathaus.economy.services.directory import invitation_is_open, invitations_purge


@outbox_handler("economy.membership_invitation")
def send_invitation(message: OutboxMessage) -> None:
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(pk=message.payload["invitation"])
        .first()
    )
    if invitation is None or not invitation_is_open(invitation):
        return  # withdrawn (or expired) before the worker came to it
    try:
        address = str(decrypt_json(invitation.email_encrypted))
        token = str(decrypt_json(message.payload["secret"])["token"])
    except (DecryptionError, KeyError, TypeError):
        return
    link = settings.SITE_URL.rstrip("/") + reverse("economy:invitation", args=[token])
    inviter = invitation.invited_by
    subjects, bodies = [], []
    for language in ("de", "en"):
        with translation.override(language):
            context = {
                "organisation": invitation.organisation.name,
                "inviter": (inviter.get_full_name() or inviter.email) if inviter else "",
                "role": invitation.get_role_display(),
                "link": link,
                "until": formats.date_format(
                    timezone.localtime(invitation.expires_at), "DATE_FORMAT"
                ),
                "city": settings.CITY_NAME,
            }
            subjects.append(
                " ".join(
                    render_to_string("economy/mail/member_invitation_subject.txt", context).split()
                )
            )
            bodies.append(render_to_string("economy/mail/member_invitation.txt", context))
    EmailMessage(
        f"{subjects[0]} / {subjects[1]}",
        "\n\n----------\n\n".join(body.strip() for body in bodies) + "\n",
        settings.DEFAULT_FROM_EMAIL,
        [address],
    ).send()


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send_to(user: Any, template: str, context: dict[str, Any]) -> None:
    """One e-mail to an account, in its language."""
    if not user.email or not user.is_active:
        return
    with translation.override(getattr(user, "preferred_language", "") or "de"):
        context = {**context, "city": settings.CITY_NAME}
        subject = " ".join(
            render_to_string(f"economy/mail/{template}_subject.txt", context).split()
        )
        body = render_to_string(f"economy/mail/{template}.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()


@outbox_handler("economy.organisation_moderated")
def send_moderation_decision(message: OutboxMessage) -> None:
    organisation = Organisation.objects.filter(pk=message.payload["organisation"]).first()
    if organisation is None or organisation.status not in (
        EntryStatus.PUBLISHED,
        EntryStatus.REJECTED,
    ):
        return
    context = {
        "name": organisation.name,
        "published": organisation.status == EntryStatus.PUBLISHED,
        "note": organisation.moderation_note,
        "url": _site(reverse("economy:organisation", args=[organisation.slug])),
        "register_url": _site(reverse("economy:organisation_register")),
    }
    admins = organisation.memberships.filter(role=MemberRole.ADMIN).select_related("user")
    for membership in admins:
        _send_to(membership.user, "organisation_moderated", context)


@outbox_handler("economy.claim_decided")
def send_claim_decision(message: OutboxMessage) -> None:
    claim = (
        Claim.objects.select_related("organisation", "user")
        .filter(pk=message.payload["claim"])
        .first()
    )
    if claim is None or claim.status == ClaimStatus.PENDING:
        return
    _send_to(
        claim.user,
        "claim_decided",
        {
            "name": claim.organisation.name,
            "approved": claim.status == ClaimStatus.APPROVED,
            # "superseded" is the service's marker for "someone else's claim was approved"
            "reason": "" if claim.reason == "superseded" else claim.reason,
            "url": _site(reverse("economy:organisation", args=[claim.organisation.slug])),
        },
    )


@periodic(seconds=24 * 3600)
def purge_old_invitations() -> None:
    invitations_purge()
