"""The permission gates of the strategy pillar. The public reads only published states
(``Publication``); everything else is for editors:

- department staff edit everything (strategies, fields of action, measures, milestones, KPIs,
  imports, publishing);
- the person responsible for a measure edits that measure, its sub-measures and their
  milestones (status, progress, dates, evidence) - the stale reminders go to them;
- the owner of a KPI enters and corrects its observations.

Someone who may not edit an object gets ``PermissionDenied`` whether or not it exists (no
probing of ids); staff get ``Http404`` for an id that does not exist."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.strategy.models import Indicator, Measure, Strategy

AnyUser = User | AnonymousUser


def strategy_staff_required(*, user: AnyUser) -> None:
    """``PermissionDenied`` unless the user is department staff."""
    department_staff_required(user=user)


def strategy_get_for_staff(*, user: AnyUser, strategy_id: int) -> Strategy:
    department_staff_required(user=user)
    strategy = Strategy.objects.filter(pk=strategy_id).first()
    if strategy is None:
        raise Http404
    return strategy


def user_can_edit_measure(*, user: AnyUser, measure: Measure) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user_is_department_staff(user=user):
        return True
    if measure.responsible_id == user.pk:
        return True
    parent = measure.parent
    return parent is not None and parent.responsible_id == user.pk


def measure_get_for_editor(*, user: AnyUser, measure_id: int) -> Measure:
    """One measure (with its parent, office and responsible person) that the user may edit."""
    if not user.is_authenticated:
        raise PermissionDenied
    measure = (
        Measure.objects.select_related("parent", "office", "responsible")
        .filter(pk=measure_id)
        .first()
    )
    if measure is None:
        if user_is_department_staff(user=user):
            raise Http404
        raise PermissionDenied
    if not user_can_edit_measure(user=user, measure=measure):
        raise PermissionDenied
    return measure


def user_can_edit_indicator(*, user: AnyUser, indicator: Indicator) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user_is_department_staff(user=user) or indicator.owner_id == user.pk


def indicator_get_for_editor(*, user: AnyUser, indicator_id: int) -> Indicator:
    """One indicator (with its strategy and owner) whose observations the user may enter."""
    if not user.is_authenticated:
        raise PermissionDenied
    indicator = (
        Indicator.objects.select_related("strategy", "owner", "field_of_action")
        .filter(pk=indicator_id)
        .first()
    )
    if indicator is None:
        if user_is_department_staff(user=user):
            raise Http404
        raise PermissionDenied
    if not user_can_edit_indicator(user=user, indicator=indicator):
        raise PermissionDenied
    return indicator
