"""Users, their roles, and the offices (Organisationseinheiten) they work in.

Offices live here rather than in ``catalog`` because membership (who may work a case) is part
of accounts, and apps depend downwards only; the catalogue adds locations and services that
point to these offices.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from rathaus.accounts.constants import MembershipRole, OfficeKind, Role
from rathaus.core.models import Area, TimeStampedModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail addresses are matched without regard to case (a constraint keeps them unique).
        return self.get(email__iexact=username)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """An account: identified by e-mail address. Citizens need none to apply for a service."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("E-Mail-Adresse"), unique=True)
    preferred_language = models.CharField(
        _("Sprache"), max_length=5, choices=[("de", "Deutsch"), ("en", "English")], default="de"
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("Konto")
        verbose_name_plural = _("Konten")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class RoleAssignment(TimeStampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("Rolle"), max_length=30, choices=Role.choices)

    class Meta:
        verbose_name = _("Rolle")
        verbose_name_plural = _("Rollen")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_role_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role}"


class Office(TimeStampedModel):
    """An organisational unit of the city: the administration, a department, an office or a
    unit within one. The tree is kept with ``parent``."""

    uri = models.URLField(_("URI"), max_length=300, unique=True, null=True, blank=True)
    name = models.CharField(_("Name"), max_length=300)
    kind = models.CharField(_("Art"), max_length=20, choices=OfficeKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("gehört zu"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    email = models.EmailField(_("E-Mail"), blank=True)
    phone = models.CharField(_("Telefon"), max_length=50, blank=True)
    homepage = models.URLField(_("Webseite"), max_length=300, blank=True)
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True)
    postal_code = models.CharField(_("Postleitzahl"), max_length=5, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("Ortsteil"), null=True, blank=True, on_delete=models.SET_NULL
    )
    members: models.ManyToManyField[User, OfficeMembership] = models.ManyToManyField(
        User, through="OfficeMembership", related_name="offices"
    )

    class Meta:
        verbose_name = _("Organisationseinheit")
        verbose_name_plural = _("Organisationseinheiten")
        ordering = ["name"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return self.name


class OfficeMembership(TimeStampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        _("Funktion"),
        max_length=20,
        choices=MembershipRole.choices,
        default=MembershipRole.CASEWORKER,
    )

    class Meta:
        verbose_name = _("Mitgliedschaft")
        verbose_name_plural = _("Mitgliedschaften")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "office"], name="accounts_member_once_per_office"
            )
        ]
        indexes = [models.Index(fields=["office", "role"])]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.office_id} ({self.role})"
