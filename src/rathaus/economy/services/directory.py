"""Writes of the directory: registering an organisation (with the duplicate check),
moderation, profile editing with per-field visibility and the logo, members, claims of
imported ("shadow") entries, the CSV import, and the search index of published entries.

Every function is the one place its change happens; each writes inside
``transaction.atomic`` and records an audit entry."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core import search
from rathaus.core.crypto import encrypt_json
from rathaus.core.models import Area
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.economy.constants import (
    ClaimStatus,
    EntrySource,
    EntryStatus,
    MemberRole,
    OrganisationKind,
    SizeBand,
    Stage,
    TermKind,
    Visibility,
)
from rathaus.economy.models import Claim, Invitation, Membership, Organisation, Term
from rathaus.economy.services import unique_slug

SEARCH_DOC_TYPE = "economy.organisation"
SEARCH_PRIMARY = ("name", "competences")

# Fields whose visibility an organisation's admins choose; fields not named are public.
VISIBILITY_FIELDS = ("contact", "email", "phone", "address")
VISIBILITY_DEFAULTS: dict[str, str] = {
    "contact": Visibility.MEMBERS,
    "email": Visibility.PUBLIC,
    "phone": Visibility.PUBLIC,
    "address": Visibility.PUBLIC,
}

# paths under /wirtschaft/verzeichnis/ that are not profiles
RESERVED_SLUGS = frozenset({"eintragen", "meine", "pruefung", "uebernahmen"})

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 4096
LOGO_BOX = 400  # the stored logo fits into 400 x 400 pixels
LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}

# legal forms dropped from a name for the duplicate key (longest first)
_LEGAL_FORMS = (
    "gmbh & co. kgaa",
    "gmbh & co. kg",
    "gmbh & co kg",
    "ug (haftungsbeschrankt)",
    "ug haftungsbeschrankt",
    "e. v.",
    "e.v.",
    "ggmbh",
    "gmbh",
    "mbh",
    "kgaa",
    "ug",
    "ag",
    "se",
    "kg",
    "ohg",
    "gbr",
    "ev",
    "eg",
)
_LEGAL_FORM = re.compile(
    r"(?<![a-z0-9])(" + "|".join(re.escape(f) for f in _LEGAL_FORMS) + r")(?![a-z0-9])"
)
_REGISTER = re.compile(r"^(HRA|HRB|VR|GNR|PR|GSR)\s*(\d{1,7})\s*([A-Z]{0,3})$")


class DirectoryError(Exception):
    """A write the rules do not allow; ``message`` is shown to the person (German + English
    through gettext)."""

    def __init__(self, message: Any, *, field_name: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field_name = field_name


class DuplicateError(DirectoryError):
    """The organisation is already in the directory: show it and offer to claim it."""

    def __init__(self, existing: Organisation, *, by_register: bool) -> None:
        super().__init__(_("Diese Organisation steht schon im Verzeichnis."))
        self.existing = existing
        self.by_register = by_register


def name_key_of(name: str) -> str:
    """``"Muster-Software GmbH & Co. KG"`` -> ``"muster software"``: lower case, legal forms
    and punctuation dropped, each word folded as the search folds it (umlauts and accents to
    their base letter)."""
    letters = "".join(search.fold(char) or char for char in name.lower())  # keeps punctuation
    return " ".join(re.findall(r"[a-z0-9]+", _LEGAL_FORM.sub(" ", letters)))[:200]


def register_number_normalise(value: str) -> str:
    """``"hrb12345"``, ``"HRB  12345"`` -> ``"HRB 12345"``; empty stays empty. Raises
    ValidationError for something that is not a German register number."""
    text = " ".join(value.upper().replace(".", " ").split())
    if not text:
        return ""
    match = _REGISTER.match(text)
    if not match:
        raise ValidationError(
            _("Bitte eine Registernummer wie „HRB 12345“ angeben (HRA, HRB, VR, GnR, PR, GsR)."),
            code="register_number",
        )
    kind, number, suffix = match.groups()
    return f"{kind} {number}" + (f" {suffix}" if suffix else "")


def _is_admin_member(user: Any, organisation: Organisation) -> bool:
    return bool(
        user.is_authenticated
        and Membership.objects.filter(
            organisation=organisation, user=user, role=MemberRole.ADMIN
        ).exists()
    )


def duplicate_find(
    *, name: str, city: str, register_number: str, exclude_id: int | None = None
) -> tuple[Organisation | None, bool]:
    """The entry this one would duplicate (rejected entries do not count), and whether the
    register number matched (else the name key and city)."""
    entries = Organisation.objects.exclude(status=EntryStatus.REJECTED)
    if exclude_id is not None:
        entries = entries.exclude(pk=exclude_id)
    if register_number:
        found = entries.filter(register_number=register_number).order_by("pk").first()
        if found is not None:
            return found, True
    key = name_key_of(name)
    if key:
        found = (
            entries.filter(name_key=key, city__iexact=(city or "").strip()).order_by("pk").first()
        )
        if found is not None:
            return found, False
    return None, False


@dataclass
class OrganisationInput:
    """What a person enters about an organisation (a form's cleaned data)."""

    name: str
    kind: str
    register_number: str = ""
    stage: str = ""
    size_band: str = ""
    founded_year: int | None = None
    street: str = ""
    postal_code: str = ""
    city: str = "Leipzig"
    area: Area | None = None
    lat: float | None = None
    lon: float | None = None
    website: str = ""
    email: str = ""
    phone: str = ""
    contact: dict[str, str] = field(default_factory=dict)  # name, email, phone
    description: str = ""
    description_en: str = ""
    hiring: bool = False
    seeking_partners: bool = False
    sectors: list[Term] = field(default_factory=list)
    competences: list[Term] = field(default_factory=list)
    visibility: dict[str, str] = field(default_factory=dict)


_PLAIN_FIELDS = (
    "name",
    "kind",
    "register_number",
    "stage",
    "size_band",
    "founded_year",
    "street",
    "postal_code",
    "city",
    "lat",
    "lon",
    "website",
    "email",
    "phone",
    "description",
    "description_en",
    "hiring",
    "seeking_partners",
)


def _check(data: OrganisationInput) -> None:
    if not data.name.strip() or not name_key_of(data.name):
        raise DirectoryError(_("Bitte den Namen der Organisation angeben."), field_name="name")
    if data.kind not in OrganisationKind.values:
        raise DirectoryError(_("Bitte eine Art aus der Liste wählen."), field_name="kind")
    if data.stage and data.stage not in Stage.values:
        raise DirectoryError(_("Bitte eine Phase aus der Liste wählen."), field_name="stage")
    if data.size_band and data.size_band not in SizeBand.values:
        raise DirectoryError(_("Bitte eine Größe aus der Liste wählen."), field_name="size_band")
    if (data.lat is None) != (data.lon is None):
        raise DirectoryError(
            _("Bitte Breite und Länge zusammen angeben oder beide leer lassen."), field_name="lat"
        )
    for term in data.sectors:
        if term.kind != TermKind.SECTOR:
            raise DirectoryError(_("Unbekannte Branche."), field_name="sectors")
    for term in data.competences:
        if term.kind != TermKind.COMPETENCE:
            raise DirectoryError(_("Unbekannte Kompetenz."), field_name="competences")
    for name, level in data.visibility.items():
        if name not in VISIBILITY_FIELDS or level not in Visibility.values:
            raise DirectoryError(_("Unbekannte Sichtbarkeit."), field_name="visibility")


def _apply(organisation: Organisation, data: OrganisationInput) -> None:
    for name in _PLAIN_FIELDS:
        setattr(organisation, name, getattr(data, name))
    organisation.name = data.name.strip()
    organisation.name_key = name_key_of(data.name)
    organisation.city = (data.city or "").strip()
    organisation.area = data.area
    contact = {k: v for k, v in (data.contact or {}).items() if v}
    organisation.contact_encrypted = encrypt_json(contact) if contact else ""
    organisation.visibility = {
        name: level
        for name, level in data.visibility.items()
        if name in VISIBILITY_FIELDS and level in Visibility.values
    }


def _snapshot(organisation: Organisation) -> dict[str, Any]:
    return {
        name: getattr(organisation, name)
        for name in (*_PLAIN_FIELDS, "status", "visibility", "area_id")
    }


def organisation_register(
    *, user: User, data: OrganisationInput, duplicate_of: Organisation | None = None
) -> Organisation:
    """A logged-in person enters their organisation: a ``pending`` entry with them as its
    admin. An entry that duplicates another is refused (``DuplicateError``), unless the
    person says theirs is a different one with the same name (``duplicate_of``: staff see
    the pair); a register number that exists is always refused."""
    if not user.is_authenticated:
        raise PermissionDenied
    _check(data)
    existing, by_register = duplicate_find(
        name=data.name, city=data.city, register_number=data.register_number
    )
    if existing is not None and (
        by_register or duplicate_of is None or duplicate_of.pk != existing.pk
    ):
        raise DuplicateError(existing, by_register=by_register)
    with transaction.atomic():
        organisation = Organisation(
            slug=unique_slug(
                Organisation,
                name_key_of(data.name),
                fallback="organisation",
                reserved=RESERVED_SLUGS,
            ),
            status=EntryStatus.PENDING,
            source=EntrySource.SELF,
            created_by=user,
            duplicate_of=existing,
        )
        _apply(organisation, data)
        try:
            with transaction.atomic():
                organisation.save()
        except IntegrityError:  # the same register number, registered a moment ago
            found, _by = duplicate_find(
                name=data.name, city=data.city, register_number=data.register_number
            )
            if found is None:
                raise
            raise DuplicateError(found, by_register=True) from None
        organisation.sectors.set(data.sectors)
        organisation.competences.set(data.competences)
        Membership.objects.create(organisation=organisation, user=user, role=MemberRole.ADMIN)
        audit_entry_create(
            actor=user,
            action="economy.organisation.register",
            object_type="economy.organisation",
            object_id=organisation.pk,
            after={"name": organisation.name, "duplicate_of": getattr(existing, "pk", None)},
        )
    return organisation


def organisation_moderate(
    *, actor: User, organisation: Organisation, publish: bool, note: str = ""
) -> Organisation:
    """Department staff publish or reject a pending entry (with a note for the entrant)."""
    department_staff_required(user=actor)
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if locked.status != EntryStatus.PENDING:
            raise DirectoryError(_("Dieser Eintrag wurde schon geprüft."))
        before = {"status": locked.status}
        locked.status = EntryStatus.PUBLISHED if publish else EntryStatus.REJECTED
        locked.moderated_by = actor
        locked.moderated_at = timezone.now()
        locked.moderation_note = note.strip()[:2000]
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:  # a rejected entry's register number was taken meanwhile
            raise DirectoryError(
                _("Die Registernummer ist inzwischen bei einem anderen Eintrag.")
            ) from None
        audit_entry_create(
            actor=actor,
            action="economy.organisation.publish" if publish else "economy.organisation.reject",
            object_type="economy.organisation",
            object_id=locked.pk,
            before=before,
            after={"status": locked.status, "note": locked.moderation_note},
        )
        organisation_search_reindex(organisation_ids=[locked.pk])
        # the entry's admins learn the decision (and the note) by e-mail
        outbox_message_create(
            topic="economy.organisation_moderated",
            payload={"organisation": locked.pk},
            idempotency_key=f"economy.organisation_moderated:{locked.pk}:{locked.moderated_at}",
        )
    return locked


def organisation_update(
    *, actor: User, organisation: Organisation, data: OrganisationInput
) -> Organisation:
    """The organisation's admins or department staff change its profile (and who sees its
    contact fields)."""
    if not (user_is_department_staff(user=actor) or _is_admin_member(actor, organisation)):
        raise PermissionDenied
    _check(data)
    existing, by_register = duplicate_find(
        name=data.name,
        city=data.city,
        register_number=data.register_number,
        exclude_id=organisation.pk,
    )
    if existing is not None and by_register:
        raise DirectoryError(
            _("Diese Registernummer hat schon ein anderer Eintrag."), field_name="register_number"
        )
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = _snapshot(locked)
        _apply(locked, data)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise DirectoryError(
                _("Diese Registernummer hat schon ein anderer Eintrag."),
                field_name="register_number",
            ) from None
        locked.sectors.set(data.sectors)
        locked.competences.set(data.competences)
        after = _snapshot(locked)
        changed = [k for k in after if after[k] != before[k]]
        audit_entry_create(
            actor=actor,
            action="economy.organisation.update",
            object_type="economy.organisation",
            object_id=locked.pk,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
            personal_fields=("email", "phone"),
        )
        organisation_search_reindex(organisation_ids=[locked.pk])
    return locked


def logo_check(*, content: bytes) -> bytes:
    """The logo as a re-encoded PNG, fitted into LOGO_BOX; ValidationError for a file that is
    not a PNG, JPEG or WebP image or is too large."""
    from PIL import Image, UnidentifiedImageError

    if len(content) > LOGO_MAX_BYTES:
        raise ValidationError(_("Das Logo ist größer als 2 MB."), code="logo_size")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in LOGO_FORMATS:
            raise ValidationError(
                _("Das Logo muss ein PNG-, JPEG- oder WebP-Bild sein."), code="logo_format"
            )
        if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
            raise ValidationError(
                _("Das Logo ist größer als 4096 × 4096 Pixel."), code="logo_pixels"
            )
        with Image.open(io.BytesIO(content)) as opened:
            opened.load()
            image = opened.convert("RGBA")
            image.thumbnail((LOGO_BOX, LOGO_BOX))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("Diese Datei ist kein lesbares Bild (PNG, JPEG oder WebP)."), code="logo_invalid"
        ) from None
    return out.getvalue()


def organisation_logo_set(
    *, actor: User, organisation: Organisation, content: bytes | None
) -> Organisation:
    """Store a checked, re-encoded logo (or remove it with ``content=None``)."""
    if not (user_is_department_staff(user=actor) or _is_admin_member(actor, organisation)):
        raise PermissionDenied
    png = logo_check(content=content) if content is not None else None
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        old = locked.logo
        locked.logo = (
            default_storage.save(
                f"economy/logos/{locked.pk}-{secrets.token_hex(8)}.png", ContentFile(png)
            )
            if png is not None
            else ""
        )
        locked.save(update_fields=["logo", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="economy.organisation.logo",
            object_type="economy.organisation",
            object_id=locked.pk,
            before={"logo": old},
            after={"logo": locked.logo},
        )
        if old:
            transaction.on_commit(lambda: default_storage.delete(old), robust=True)
    return locked


# ---- members ---------------------------------------------------------------------------


def _admin_count(organisation: Organisation) -> int:
    return Membership.objects.filter(organisation=organisation, role=MemberRole.ADMIN).count()


INVITATION_DAYS = 14


def invitation_token_hash(token: str) -> str:
    """The stored form of an invitation link's token (random, high entropy)."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def invitation_is_open(invitation: Invitation) -> bool:
    """Not accepted, withdrawn or expired, and the organisation not rejected or archived."""
    return (
        invitation.accepted_at is None
        and invitation.withdrawn_at is None
        and invitation.expires_at > timezone.now()
        and invitation.organisation.status in (EntryStatus.PUBLISHED, EntryStatus.PENDING)
    )


def membership_invite(
    *, actor: User, organisation: Organisation, email: str, role: str = MemberRole.MEMBER
) -> str:
    """An admin (or staff) invites a person by e-mail: a link that is valid for
    INVITATION_DAYS goes out through the outbox, and they become a member when they accept it
    logged in (``invitation_accept``). Whether an account exists for the address is neither
    needed nor told. Returns the token (tests; the view does not show it)."""
    if not (user_is_department_staff(user=actor) or _is_admin_member(actor, organisation)):
        raise PermissionDenied
    if role not in MemberRole.values:
        raise DirectoryError(_("Unbekannte Rolle."), field_name="role")
    address = email.strip()
    if "@" not in address or len(address) > 254:
        raise DirectoryError(_("Bitte eine gültige E-Mail-Adresse angeben."), field_name="email")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation,
            email_encrypted=encrypt_json(address),
            role=role,
            token_hash=invitation_token_hash(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        outbox_message_create(
            topic="economy.membership_invitation",
            payload={"invitation": invitation.pk, "secret": encrypt_json({"token": token})},
            idempotency_key=f"economy.membership_invitation:{invitation.pk}",
        )
        audit_entry_create(
            actor=actor,
            action="economy.invitation.create",
            object_type="economy.invitation",
            object_id=invitation.pk,
            after={"organisation": organisation.pk, "role": role},
        )
    return token


def invitation_accept(*, user: User, token: str) -> Membership:
    """The invited person, logged in, accepts: a member with the invited role (someone who
    is already a member keeps their role). The link works once."""
    if not user.is_authenticated:
        raise PermissionDenied
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organisation")
            .filter(token_hash=invitation_token_hash(token))
            .first()
        )
        if invitation is None or not invitation_is_open(invitation):
            raise DirectoryError(
                _(
                    "Diese Einladung gilt nicht mehr: Sie wurde schon angenommen, "
                    "zurückgezogen oder ist abgelaufen. Bitten Sie um eine neue."
                )
            )
        membership, created = Membership.objects.get_or_create(
            organisation=invitation.organisation, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        audit_entry_create(
            actor=user,
            action="economy.invitation.accept",
            object_type="economy.membership",
            object_id=membership.pk,
            after={
                "organisation": invitation.organisation_id,
                "invitation": invitation.pk,
                "role": membership.role,
                "new": created,
            },
        )
    return membership


INVITATION_KEEP_DAYS = 30


def invitations_purge(now: datetime | None = None) -> int:
    """Delete invitations that are over (accepted, withdrawn or expired) for more than
    INVITATION_KEEP_DAYS: their encrypted addresses are kept no longer than needed (the audit
    log keeps who invited and who accepted). Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=INVITATION_KEEP_DAYS)
    deleted, _by_model = Invitation.objects.filter(
        Q(accepted_at__lt=cutoff) | Q(withdrawn_at__lt=cutoff) | Q(expires_at__lt=cutoff)
    ).delete()
    return deleted


def invitation_withdraw(*, actor: User, invitation: Invitation) -> None:
    organisation = invitation.organisation
    if not (user_is_department_staff(user=actor) or _is_admin_member(actor, organisation)):
        raise PermissionDenied
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now(), updated_at=timezone.now())
        if updated:
            audit_entry_create(
                actor=actor,
                action="economy.invitation.withdraw",
                object_type="economy.invitation",
                object_id=invitation.pk,
                after={"organisation": organisation.pk},
            )


def membership_role_set(*, actor: User, membership: Membership, role: str) -> Membership:
    organisation = membership.organisation
    if not (user_is_department_staff(user=actor) or _is_admin_member(actor, organisation)):
        raise PermissionDenied
    if role not in MemberRole.values:
        raise DirectoryError(_("Unbekannte Rolle."), field_name="role")
    with transaction.atomic():
        # lock the organisation's memberships: two admins demoting each other at once
        list(Membership.objects.select_for_update().filter(organisation=organisation))
        locked = Membership.objects.get(pk=membership.pk)
        if (
            locked.role == MemberRole.ADMIN
            and role != MemberRole.ADMIN
            and _admin_count(organisation) <= 1
        ):
            raise DirectoryError(
                _("Die Organisation braucht mindestens eine Person, die das Profil verwaltet.")
            )
        before = {"role": locked.role}
        locked.role = role
        locked.save(update_fields=["role", "updated_at"])
        audit_entry_create(
            actor=actor,
            action="economy.membership.role",
            object_type="economy.membership",
            object_id=locked.pk,
            before=before,
            after={"role": role},
        )
    return locked


def membership_remove(*, actor: User, membership: Membership) -> None:
    organisation = membership.organisation
    if not (user_is_department_staff(user=actor) or _is_admin_member(actor, organisation)):
        raise PermissionDenied
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(organisation=organisation))
        locked = Membership.objects.filter(pk=membership.pk).first()
        if locked is None:
            return
        if locked.role == MemberRole.ADMIN and _admin_count(organisation) <= 1:
            raise DirectoryError(
                _("Die letzte Person, die das Profil verwaltet, kann nicht entfernt werden.")
            )
        audit_entry_create(
            actor=actor,
            action="economy.membership.remove",
            object_type="economy.membership",
            object_id=locked.pk,
            before={"organisation": organisation.pk, "user": locked.user_id, "role": locked.role},
        )
        locked.delete()


# ---- claims of imported entries --------------------------------------------------------


def claim_create(*, user: User, organisation: Organisation, evidence: str) -> Claim:
    """A logged-in person asks to take over an imported entry without members. Staff decide
    (``claim_decide``); until then the claim gives no access at all."""
    if not user.is_authenticated:
        raise PermissionDenied
    if organisation.memberships.exists() or organisation.status != EntryStatus.PUBLISHED:
        raise DirectoryError(
            _(
                "Dieser Eintrag wird schon von Mitgliedern verwaltet. Bitten Sie sie, Sie "
                "hinzuzufügen."
            )
        )
    evidence = evidence.strip()
    if len(evidence) < 10:
        raise DirectoryError(
            _("Bitte beschreiben Sie kurz, wie Sie mit der Organisation verbunden sind."),
            field_name="evidence",
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = Claim.objects.create(
                    organisation=organisation,
                    user=user,
                    evidence_encrypted=encrypt_json(evidence[:2000]),
                )
        except IntegrityError:
            raise DirectoryError(
                _("Sie haben diesen Eintrag schon beantragt; das Referat prüft den Antrag.")
            ) from None
        audit_entry_create(
            actor=user,
            action="economy.claim.create",
            object_type="economy.claim",
            object_id=claim.pk,
            after={"organisation": organisation.pk},
        )
    return claim


def claim_decide(*, actor: User, claim: Claim, approve: bool, reason: str = "") -> Claim:
    """Staff approve a claim (the claimant becomes the entry's admin; other pending claims
    of the entry are rejected) or reject it."""
    department_staff_required(user=actor)
    with transaction.atomic():
        # the entry first: two approvals of claims on it wait for each other, and the second
        # finds that the entry has an admin now
        Organisation.objects.select_for_update().filter(pk=claim.organisation_id).first()
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status != ClaimStatus.PENDING:
            raise DirectoryError(_("Dieser Antrag wurde schon entschieden."))
        if approve and Membership.objects.filter(organisation_id=locked.organisation_id).exists():
            raise DirectoryError(
                _(
                    "Dieser Eintrag wird schon von Mitgliedern verwaltet; sie können Personen hinzufügen."
                )
            )
        now = timezone.now()
        locked.status = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = now
        locked.reason = reason.strip()[:2000]
        locked.save()
        if approve:
            Membership.objects.get_or_create(
                organisation_id=locked.organisation_id,
                user_id=locked.user_id,
                defaults={"role": MemberRole.ADMIN},
            )
            Claim.objects.filter(
                organisation_id=locked.organisation_id, status=ClaimStatus.PENDING
            ).exclude(pk=locked.pk).update(
                status=ClaimStatus.REJECTED,
                decided_by=actor,
                decided_at=now,
                reason="superseded",
                updated_at=now,
            )
        audit_entry_create(
            actor=actor,
            action="economy.claim.approve" if approve else "economy.claim.reject",
            object_type="economy.claim",
            object_id=locked.pk,
            before={"status": ClaimStatus.PENDING},
            after={"status": locked.status, "reason": locked.reason},
        )
        outbox_message_create(
            topic="economy.claim_decided",
            payload={"claim": locked.pk},
            idempotency_key=f"economy.claim_decided:{locked.pk}",
        )
    return locked


# ---- the CSV import of shadow entries ---------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def organisation_import_row(
    *, actor: User | None, data: OrganisationInput
) -> tuple[Organisation, bool]:
    """One imported ("shadow") entry: published, ``source=import``, no members. Idempotent:
    an entry with the same register number, or the same name key and city, is updated if it
    is itself imported and unclaimed, else left alone (``created`` False, entry unchanged
    is signalled by DirectoryError)."""
    _check(data)
    existing, _by = duplicate_find(
        name=data.name, city=data.city, register_number=data.register_number
    )
    with transaction.atomic():
        if existing is not None:
            if existing.source != EntrySource.IMPORT or existing.memberships.exists():
                raise DirectoryError(_("schon im Verzeichnis und von Mitgliedern verwaltet"))
            before = _snapshot(existing)
            _apply(existing, data)
            existing.save()
            existing.sectors.set(data.sectors)
            existing.competences.set(data.competences)
            after = _snapshot(existing)
            changed = [k for k in after if after[k] != before[k]]
            if changed:
                audit_entry_create(
                    actor=actor,
                    action="economy.organisation.import_update",
                    object_type="economy.organisation",
                    object_id=existing.pk,
                    before={k: before[k] for k in changed},
                    after={k: after[k] for k in changed},
                    personal_fields=("email", "phone"),
                )
            return existing, False
        organisation = Organisation(
            slug=unique_slug(
                Organisation,
                name_key_of(data.name),
                fallback="organisation",
                reserved=RESERVED_SLUGS,
            ),
            status=EntryStatus.PUBLISHED,
            source=EntrySource.IMPORT,
            created_by=actor,
        )
        _apply(organisation, data)
        organisation.save()
        organisation.sectors.set(data.sectors)
        organisation.competences.set(data.competences)
        audit_entry_create(
            actor=actor,
            action="economy.organisation.import",
            object_type="economy.organisation",
            object_id=organisation.pk,
            after={"name": organisation.name},
        )
    return organisation, True


# ---- search index ------------------------------------------------------------------------


def organisation_search_reindex(*, organisation_ids: list[int] | None = None) -> int:
    """Index published entries (name, competences, sectors, descriptions) and drop the others
    from the index. ``None``: every entry."""
    entries = Organisation.objects.prefetch_related("competences", "sectors")
    if organisation_ids is not None:
        entries = entries.filter(pk__in=organisation_ids)
    documents: dict[str, dict[str, str]] = {}
    gone: list[str] = []
    for organisation in entries:
        if organisation.status != EntryStatus.PUBLISHED:
            gone.append(str(organisation.pk))
            continue
        documents[str(organisation.pk)] = {
            "name": organisation.name,
            "competences": " ".join(
                f"{t.name} {t.name_en}" for t in organisation.competences.all()
            ),
            "sectors": " ".join(f"{t.name} {t.name_en}" for t in organisation.sectors.all()),
            "description": f"{organisation.description} {organisation.description_en}",
        }
    if organisation_ids is not None:
        known = {str(pk) for pk in organisation_ids}
        gone += sorted(known - set(documents) - set(gone))
    if gone:
        search.delete_documents(doc_type=SEARCH_DOC_TYPE, object_ids=gone)
    if documents:
        lexicon = search.lexicon_from_texts(
            text for fields in documents.values() for text in fields.values()
        )
        search.index_documents(
            doc_type=SEARCH_DOC_TYPE, documents=documents, lexicon=lexicon, primary=SEARCH_PRIMARY
        )
    return len(documents)


IMPORT_COLUMNS = (
    "name",
    "kind",
    "register_number",
    "sectors",
    "competences",
    "stage",
    "size_band",
    "founded_year",
    "street",
    "postal_code",
    "city",
    "district",
    "lat",
    "lon",
    "website",
    "email",
    "phone",
    "description",
    "description_en",
    "hiring",
    "seeking_partners",
)
_TRUE = {"1", "ja", "yes", "true", "x", "wahr"}


class ImportFileError(Exception):
    """The file cannot be read as the import's CSV at all."""


def _import_input(row: dict[str, str]) -> OrganisationInput:
    """One CSV row as an OrganisationInput; ValidationError (with a reason) for a bad row."""
    from django.core.validators import EmailValidator, URLValidator

    from rathaus.economy.selectors.directory import area_for_name, terms_for

    def value(name: str) -> str:
        return (row.get(name) or "").strip()

    def number(name: str, kind: type) -> Any:
        text = value(name).replace(",", ".")
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            raise ValidationError(f"{name}: not a number ({text[:20]})") from None

    name = value("name")
    if not name:
        raise ValidationError("name is empty")
    kind = value("kind") or OrganisationKind.SME
    if kind not in OrganisationKind.values:
        raise ValidationError(f"kind: unknown ({kind[:30]})")
    for choice, allowed in (("stage", Stage.values), ("size_band", SizeBand.values)):
        if value(choice) and value(choice) not in allowed:
            raise ValidationError(f"{choice}: unknown ({value(choice)[:30]})")
    try:
        register_number = register_number_normalise(value("register_number"))
    except ValidationError:
        raise ValidationError(
            f"register_number: not valid ({value('register_number')[:30]})"
        ) from None
    website = value("website")
    if website:
        if "://" not in website:
            website = "https://" + website
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            raise ValidationError(f"website: not a web address ({website[:60]})") from None
    email = value("email")
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            raise ValidationError("email: not an e-mail address") from None
    postal_code = value("postal_code")
    if postal_code and not re.fullmatch(r"\d{5}", postal_code):
        raise ValidationError("postal_code: not five digits")
    founded = number("founded_year", int)
    if founded is not None and not 1400 <= founded <= 2100:
        raise ValidationError("founded_year: not between 1400 and 2100")
    lat, lon = number("lat", float), number("lon", float)
    if (lat is None) != (lon is None):
        raise ValidationError("lat/lon: give both or neither")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError("lat/lon: out of range")
    sectors, missing_sectors = terms_for(kind=TermKind.SECTOR, values=value("sectors").split(";"))
    competences, missing = terms_for(
        kind=TermKind.COMPETENCE, values=value("competences").split(";")
    )
    if missing_sectors or missing:
        raise ValidationError(f"unknown terms: {', '.join((missing_sectors + missing)[:5])}")
    return OrganisationInput(
        name=name[:200],
        kind=kind,
        register_number=register_number,
        stage=value("stage"),
        size_band=value("size_band"),
        founded_year=founded,
        street=value("street")[:200],
        postal_code=postal_code,
        city=(value("city") or "Leipzig")[:100],
        area=area_for_name(name=value("district")),
        lat=lat,
        lon=lon,
        website=website[:300],
        email=email,
        phone=value("phone")[:50],
        description=value("description")[:5000],
        description_en=value("description_en")[:5000],
        hiring=value("hiring").lower() in _TRUE,
        seeking_partners=value("seeking_partners").lower() in _TRUE,
        sectors=sectors,
        competences=competences,
    )


def organisations_import(
    *, actor: User | None, lines: Iterable[str], progress: Any = None
) -> ImportResult:
    """Import shadow entries from CSV text (header row with IMPORT_COLUMNS; ``name`` is
    required, the others optional; ``;`` or ``,`` as delimiter). Idempotent: a second run
    updates the same entries. Each row is its own transaction: a bad row is reported, not
    fatal."""
    import csv

    result = ImportResult()
    iterator = iter(lines)
    try:
        first = next(iterator)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(itertools.chain([first], iterator), delimiter=delimiter)
    fields = [f.strip().lstrip("\ufeff") for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    if "name" not in fields:
        raise ImportFileError("the header has no column 'name'")
    seen: set[str] = set()
    touched: list[int] = []
    for count, row in enumerate(reader, start=1):
        line = reader.line_num
        if progress is not None and count % 100 == 0:
            progress(count)
        try:
            data = _import_input(row)
        except ValidationError as error:
            result.rejected.append((line, "; ".join(error.messages)))
            continue
        key = data.register_number or f"{name_key_of(data.name)}|{data.city.lower()}"
        if key in seen:
            result.skipped.append((line, "same entry as an earlier line"))
            continue
        seen.add(key)
        try:
            organisation, created = organisation_import_row(actor=actor, data=data)
        except DirectoryError as error:
            result.skipped.append((line, str(error.message)))
            continue
        touched.append(organisation.pk)
        if created:
            result.created += 1
        else:
            result.updated += 1
    for start in range(0, len(touched), 500):
        organisation_search_reindex(organisation_ids=touched[start : start + 500])
    return result
