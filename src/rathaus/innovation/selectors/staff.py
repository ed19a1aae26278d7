"""Reads for the staff's pages of the calls (views/staff.py). The gate: every function takes
the ``user`` and raises ``PermissionDenied`` unless they are department staff; a call, phase,
criterion or jury member that does not exist (or belongs to another call) is ``Http404``.

Organisations of the directory are offered by id and name, read through the economy app's
selectors (never its models); the accounts for the jury are looked up by e-mail address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.economy.selectors import directory as economy_directory
from rathaus.forms.selectors import form_list_published
from rathaus.innovation.models import Call, Criterion, JuryMember, Phase

AnyUser = User | AnonymousUser


def call_list_for_staff(*, user: AnyUser) -> QuerySet[Call]:
    """Every call (drafts too), newest first, with the count of its phases and active jury."""
    department_staff_required(user=user)
    return Call.objects.annotate(
        phase_count=Count("phases", distinct=True),
        jury_count=Count("jury", filter=Q(jury__active=True), distinct=True),
    ).order_by("-created_at", "-pk")


def call_get_for_staff(*, user: AnyUser, call_id: int) -> Call:
    """A call with its phases (in order) and their criteria (in order) prefetched."""
    department_staff_required(user=user)
    call = (
        Call.objects.filter(pk=call_id)
        .prefetch_related(
            Prefetch(
                "phases",
                queryset=Phase.objects.order_by("position").prefetch_related(
                    Prefetch("criteria", queryset=Criterion.objects.order_by("position"))
                ),
            )
        )
        .first()
    )
    if call is None:
        raise Http404("no such call")
    return call


def phase_get_for_staff(*, user: AnyUser, call_id: int, phase_id: int) -> Phase:
    """A phase of the call ``call_id`` with its criteria (in order)."""
    department_staff_required(user=user)
    phase = (
        Phase.objects.filter(pk=phase_id, call_id=call_id)
        .select_related("call")
        .prefetch_related(Prefetch("criteria", queryset=Criterion.objects.order_by("position")))
        .first()
    )
    if phase is None:
        raise Http404("no such phase")
    return phase


def criterion_get_for_staff(
    *, user: AnyUser, call_id: int, phase_id: int, criterion_id: int
) -> Criterion:
    department_staff_required(user=user)
    criterion = (
        Criterion.objects.filter(pk=criterion_id, phase_id=phase_id, phase__call_id=call_id)
        .select_related("phase", "phase__call")
        .first()
    )
    if criterion is None:
        raise Http404("no such criterion")
    return criterion


def jury_for_staff(*, user: AnyUser, call_id: int) -> list[JuryMember]:
    """The call's jury: the active members first (chair first), then those who left."""
    department_staff_required(user=user)
    return list(
        JuryMember.objects.filter(call_id=call_id)
        .select_related("user")
        .order_by("-active", "-chair", "public_name", "pk")
    )


def jury_member_get_for_staff(*, user: AnyUser, call_id: int, member_id: int) -> JuryMember:
    department_staff_required(user=user)
    member = JuryMember.objects.filter(pk=member_id, call_id=call_id).select_related("user").first()
    if member is None:
        raise Http404("no such jury member")
    return member


def user_by_email_for_staff(*, user: AnyUser, email: str) -> User | None:
    """The account with this e-mail address (any case), or None. Staff only: they need to
    know whether the person they put on a jury has an account."""
    department_staff_required(user=user)
    email = email.strip()
    if not email or len(email) > 254:
        return None
    return User.objects.filter(email__iexact=email, is_active=True).first()


def organisation_choices(*, user: AnyUser, keep: list[Any] | None = None) -> list[tuple[int, str]]:
    """(id, name) of the directory's published organisations by name, for the choice lists.
    Ids in ``keep`` (what a call or jury member already has) stay choosable even when their
    organisation is no longer published, so that saving the form does not drop them."""
    department_staff_required(user=user)
    choices = economy_directory.organisation_choices()
    known = {pk for pk, _name in choices}
    for raw in keep or []:
        try:
            organisation_id = int(raw)
        except (TypeError, ValueError):
            continue
        if organisation_id not in known:
            known.add(organisation_id)
            choices.append((organisation_id, f"#{organisation_id}"))
    return choices


def entry_form_choices(*, user: AnyUser) -> list[tuple[str, str]]:
    """Published forms of the form engine a phase can ask its entries to fill in."""
    department_staff_required(user=user)
    return [(form.slug, f"{form.title} ({form.slug})") for form in form_list_published()]
