"""Writes of accounts: users, roles, office membership, magic links, two-factor devices."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core import signing
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from rathaus.accounts.constants import ASSIGNABLE_ROLES, MembershipRole, Role
from rathaus.accounts.models import Office, OfficeMembership, RoleAssignment, User
from rathaus.core.services import audit_entry_create, outbox_message_create, upsert

MAGIC_LINK_SALT = "rathaus.accounts.magic-link"


def user_create(
    *,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    actor: User | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            first_name=first_name,
            last_name=last_name,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        audit_entry_create(
            actor=actor,
            action="user.create",
            object_type="accounts.user",
            object_id=user.pk,
            after={"email": user.email, "is_staff": is_staff, "is_superuser": is_superuser},
            personal_fields=["email"],
        )
    return user


# Roles that work in the staff area (Django admin), and what they may edit there.
STAFF_AREA_ROLES = (Role.ADMINISTRATOR, Role.DEPARTMENT_STAFF)
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.DEPARTMENT_STAFF: (
        "catalog.add_service",
        "catalog.change_service",
        "catalog.view_service",
        "catalog.add_synonym",
        "catalog.change_synonym",
        "catalog.delete_synonym",
        "catalog.view_synonym",
        "catalog.add_location",
        "catalog.change_location",
        "catalog.view_location",
        "catalog.add_requireddocument",
        "catalog.change_requireddocument",
        "catalog.delete_requireddocument",
        "catalog.view_requireddocument",
        "catalog.view_lifesituation",
        "catalog.view_topic",
        "accounts.add_office",
        "accounts.change_office",
        "accounts.view_office",
        "forms.add_form",
        "forms.change_form",
        "forms.view_form",
        "forms.view_formversion",
        "citydata.add_dataset",
        "citydata.change_dataset",
        "citydata.view_dataset",
        "citydata.add_datasetkeyword",
        "citydata.change_datasetkeyword",
        "citydata.delete_datasetkeyword",
        "citydata.view_datasetkeyword",
        "citydata.add_distribution",
        "citydata.change_distribution",
        "citydata.delete_distribution",
        "citydata.view_distribution",
    ),
}


def _role_group(role: Role) -> Group:
    """The permission group of a role, with the role's permissions (kept up to date)."""
    group, _ = Group.objects.get_or_create(name=f"role:{role.value}")
    wanted = ROLE_PERMISSIONS[role]
    permissions = Permission.objects.filter(
        content_type__app_label__in={p.split(".")[0] for p in wanted},
        codename__in={p.split(".")[1] for p in wanted},
    ).select_related("content_type")
    group.permissions.set(
        [p for p in permissions if f"{p.content_type.app_label}.{p.codename}" in wanted]
    )
    return group


def role_effects_apply(*, user: User, role: Role) -> None:
    """What a role brings: the staff area and the role's permissions (also used when the
    admin's role inline adds a role)."""
    if role in STAFF_AREA_ROLES and not user.is_staff:
        User.objects.filter(pk=user.pk).update(is_staff=True)
    if role in ROLE_PERMISSIONS:
        user.groups.add(_role_group(role))


def role_assign(*, actor: User | None, user: User, role: Role) -> RoleAssignment:
    if role not in ASSIGNABLE_ROLES:
        raise ValueError(f"{role} comes from office membership, not from assignment")
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role)
        if created:
            role_effects_apply(user=user, role=role)
            audit_entry_create(
                actor=actor,
                action="role.assign",
                object_type="accounts.user",
                object_id=user.pk,
                after={"role": role},
            )
    return assignment


def office_membership_set(
    *, actor: User | None, user: User, office: Office, role: MembershipRole
) -> OfficeMembership:
    """Make ``user`` a member of ``office`` with ``role`` (or change the role)."""
    with transaction.atomic():
        membership = OfficeMembership.objects.filter(user=user, office=office).first()
        before = {"role": membership.role} if membership else None
        if membership is None:
            membership = OfficeMembership.objects.create(user=user, office=office, role=role)
        elif membership.role != role:
            membership.role = role
            membership.save(update_fields=["role", "updated_at"])
        else:
            return membership
        audit_entry_create(
            actor=actor,
            action="office.membership.set",
            object_type="accounts.office",
            object_id=office.pk,
            before=before,
            after={"user_id": user.pk, "role": role},
        )
    return membership


# ---- magic links ---------------------------------------------------------------


def magic_link_token_make(*, user: User) -> str:
    """A signed, expiring token; it stops working once the user has logged in with it
    (the last log-in time is part of what is signed)."""
    last_login = user.last_login.isoformat() if user.last_login else ""
    return signing.dumps({"u": user.pk, "l": last_login}, salt=MAGIC_LINK_SALT, compress=True)


def magic_link_user_get(*, token: str) -> User | None:
    """The user a magic-link token is for, or None if it is invalid, expired or used."""
    try:
        data: dict[str, Any] = signing.loads(
            token, salt=MAGIC_LINK_SALT, max_age=settings.MAGIC_LINK_MAX_AGE
        )
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=int(data.get("u") or 0), is_active=True).first()
    if user is None:
        return None
    last_login = user.last_login.isoformat() if user.last_login else ""
    return user if data.get("l") == last_login else None


def magic_link_request(*, email: str, language: str, next_url: str = "") -> None:
    """Send a log-in link to ``email``. A citizen account is made on first use; the caller
    says the same thing whether the account existed or not (no account enumeration)."""
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = user_create(email=email)
        if not user.is_active:
            return
        # The link is made at delivery time from the user id: no token, no e-mail address
        # and no other personal data sit in the outbox.
        outbox_message_create(
            topic="accounts.magic_link",
            payload={"user_id": user.pk, "language": language, "next": next_url},
            idempotency_key=f"magic-link:{uuid.uuid4().hex}",
            max_attempts=5,
        )


# ---- two-factor -------------------------------------------------------------------


def totp_device_start(*, user: User) -> TOTPDevice:
    """An unconfirmed TOTP device to enrol (replacing an earlier unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device: TOTPDevice = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


def totp_device_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    if device.user_id != user.pk or device.confirmed:
        return False
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_entry_create(
            actor=user,
            action="user.two_factor.enrol",
            object_type="accounts.user",
            object_id=user.pk,
            after={"device": "totp"},
        )
    return True


def office_upsert(
    *, uri: str, values: dict[str, Any], actor: User | None = None
) -> tuple[Office, str]:
    """Create or update the office with this URI (imports); "created"/"updated"/"unchanged"."""
    obj, outcome = upsert(
        Office, lookup={"uri": uri}, values=values, actor=actor, action_prefix="office"
    )
    return cast(Office, obj), outcome


def user_password_set(*, user: User, password: str) -> None:
    """Set the account's password (a citizen who came by magic link may add one)."""
    with transaction.atomic():
        had_password = user.has_usable_password()
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_entry_create(
            actor=user,
            action="user.password.change" if had_password else "user.password.set",
            object_type="accounts.user",
            object_id=user.pk,
        )
