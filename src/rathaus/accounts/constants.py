from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Who someone is for Rathaus. Caseworker and office lead come from office membership;
    the others are assigned to the account."""

    CITIZEN = "citizen", _("Bürgerin/Bürger")
    CASEWORKER = "caseworker", _("Sachbearbeitung")
    OFFICE_LEAD = "office_lead", _("Amtsleitung")
    DEPARTMENT_STAFF = "department_staff", _("Referat Digitale Stadt")
    JURY_MEMBER = "jury_member", _("Jury")
    ORGANISATION_MEMBER = "organisation_member", _("Organisation")
    ADMINISTRATOR = "administrator", _("Administration")


ASSIGNABLE_ROLES = (
    Role.DEPARTMENT_STAFF,
    Role.JURY_MEMBER,
    Role.ORGANISATION_MEMBER,
    Role.ADMINISTRATOR,
)
# Staff work inside the administration: they are asked to enrol a second factor.
STAFF_ROLES = frozenset(
    {Role.CASEWORKER, Role.OFFICE_LEAD, Role.DEPARTMENT_STAFF, Role.ADMINISTRATOR}
)


class MembershipRole(models.TextChoices):
    CASEWORKER = "caseworker", _("Sachbearbeitung")
    LEAD = "lead", _("Leitung")


class OfficeKind(models.TextChoices):
    ADMINISTRATION = "administration", _("Verwaltung")
    DEPARTMENT = "department", _("Dezernat/Referat")
    OFFICE = "office", _("Amt")
    UNIT = "unit", _("Abteilung/Stelle")
