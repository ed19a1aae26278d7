"""Reads of accounts, and the permission gate for offices (one gate per entity)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from rathaus.accounts.constants import STAFF_ROLES, MembershipRole, Role
from rathaus.accounts.models import Office, OfficeMembership, User

AnyUser = User | AnonymousUser


def login_username(request: object, credentials: dict[str, str] | None) -> str:
    """The account a log-in attempt is for, as django-axes counts it (case-insensitive)."""
    return str((credentials or {}).get("username", "")).strip().lower()


def user_roles(*, user: AnyUser) -> frozenset[Role]:
    """Every role of ``user``; cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, "_rathaus_roles", None)
    if cached is not None:
        return cached
    roles = {Role(role) for role in user.role_assignments.values_list("role", flat=True)}
    for membership_role in user.memberships.values_list("role", flat=True).distinct():
        roles.add(Role.OFFICE_LEAD if membership_role == MembershipRole.LEAD else Role.CASEWORKER)
    if user.is_superuser:
        roles.add(Role.ADMINISTRATOR)
    if not roles & STAFF_ROLES:
        roles.add(Role.CITIZEN)
    result = frozenset(roles)
    user.__dict__["_rathaus_roles"] = result
    return result


def user_has_role(*, user: AnyUser, role: Role) -> bool:
    return role in user_roles(user=user)


def user_is_staff_member(*, user: AnyUser) -> bool:
    return bool(user_roles(user=user) & STAFF_ROLES)


def user_is_department_staff(*, user: AnyUser) -> bool:
    """Department staff (Referat Digitale Stadt) or an administrator: who runs the city-wide
    things (every office, the directory's moderation, events, rooms, the board)."""
    roles = user_roles(user=user)
    return Role.ADMINISTRATOR in roles or Role.DEPARTMENT_STAFF in roles


def department_staff_required(*, user: AnyUser) -> None:
    """PermissionDenied unless ``user`` is department staff (``user_is_department_staff``):
    the first line of every staff-only read and write of the city-wide apps."""
    if not user_is_department_staff(user=user):
        raise PermissionDenied


def _sees_all_offices(user: AnyUser) -> bool:
    return user_is_department_staff(user=user)


def _with_units_below(office_ids: set[int], known: set[int]) -> set[int]:
    """``known`` and ``office_ids`` with every unit below ``office_ids``."""
    found, frontier = known | office_ids, set(office_ids)
    while frontier:
        children = set(Office.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        frontier = children - found
        found |= children
    return found


def _visible_office_ids(user: User) -> set[int]:
    """The offices a member works in, plus every unit below an office they lead."""
    memberships = list(user.memberships.values_list("office_id", "role"))
    led = {office_id for office_id, role in memberships if role == MembershipRole.LEAD}
    return _with_units_below(led, {office_id for office_id, _ in memberships})


def office_ids_working_in(*, user: AnyUser) -> set[int]:
    """The offices whose work ``user`` does: those they are a member of, and for leads every
    unit below. Unlike ``office_list_for_user``, department staff and administrators get no
    more than their memberships: applications are read by the office that handles them."""
    if not user.is_authenticated:
        return set()
    return _visible_office_ids(user)


def office_ids_led(*, user: AnyUser) -> set[int]:
    """The offices ``user`` leads: those where they are a lead, and every unit below."""
    if not user.is_authenticated:
        return set()
    led = user.memberships.filter(role=MembershipRole.LEAD).values_list("office_id", flat=True)
    return _with_units_below(set(led), set())


def office_list_for_user(*, user: AnyUser) -> QuerySet[Office]:
    """Offices ``user`` may open as staff: their own, and for leads every unit below."""
    if not user.is_authenticated:
        return Office.objects.none()
    offices = Office.objects.select_related("parent").order_by("name", "id")
    if _sees_all_offices(user):
        return offices
    return offices.filter(pk__in=_visible_office_ids(user))


def office_get_for_user(*, user: AnyUser, office_id: int) -> Office:
    """The gate for offices: 404 when there is no such office, 403 when ``user`` may not
    open it. Views never filter offices themselves."""
    if not user.is_authenticated:
        raise PermissionDenied
    office = Office.objects.select_related("parent", "area").filter(pk=office_id).first()
    if office is None:
        raise Http404
    if _sees_all_offices(user) or office.pk in _visible_office_ids(user):
        return office
    raise PermissionDenied


def office_members(*, office: Office) -> QuerySet[OfficeMembership]:
    """Members of an office already opened through office_get_for_user."""
    return office.memberships.select_related("user").order_by("role", "user__last_name", "id")


def office_children(*, office: Office) -> QuerySet[Office]:
    return office.children.order_by("name", "id")


def office_public_list() -> QuerySet[Office]:
    """The public directory of offices (names, addresses, contact): no personal data."""
    return Office.objects.select_related("parent", "area").order_by("name", "id")


def user_confirmed_totp_device(*, user: User) -> TOTPDevice | None:
    """The user's enrolled second factor, if any: with one, log-in asks for its code."""
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device
