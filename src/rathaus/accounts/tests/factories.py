"""Factories and the named personas every test suite uses (CONVENTIONS.md)."""

from __future__ import annotations

from typing import Any

import factory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from rathaus.accounts.constants import MembershipRole, OfficeKind, Role
from rathaus.accounts.models import Office, OfficeMembership, RoleAssignment, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            obj.save()


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    name = factory.Sequence(lambda n: f"Amt {n}")
    kind = OfficeKind.OFFICE


def member(user: User, office: Office, role: MembershipRole = MembershipRole.CASEWORKER) -> User:
    OfficeMembership.objects.create(user=user, office=office, role=role)
    return user


def with_role(user: User, role: Role) -> User:
    RoleAssignment.objects.create(user=user, role=role)
    return user


def enrol_totp(user: User) -> TOTPDevice:
    device: TOTPDevice = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return device


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
