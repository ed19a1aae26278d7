"""Reads of the KPI pages for editors: the indicators of a strategy, the observations of an
indicator (newest first) with their corrections, the indicators a person owns. Permission is
checked by the gates (``selectors.gate``) before these are called."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils import formats
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import user_is_department_staff
from rathaus.strategy.constants import Frequency
from rathaus.strategy.models import (
    FieldOfAction,
    Indicator,
    IndicatorObservation,
    Measure,
    ObservationCorrection,
    Strategy,
)
from rathaus.strategy.selectors.gate import AnyUser, indicator_get_for_editor


def value_text(value: Decimal | None) -> str:
    """A value the way people read it here: no trailing zeros, the locale's separators."""
    if value is None:
        return ""
    plain = Decimal(f"{value.normalize():f}")
    places = max(0, -int(plain.as_tuple().exponent))
    return formats.number_format(plain, decimal_pos=places, use_l10n=True, force_grouping=True)


def period_label(*, frequency: str, period: date) -> str:
    """ "03/2025", "2. Quartal 2025" or "2025"."""
    if frequency == Frequency.MONTHLY:
        return f"{period.month:02d}/{period.year}"
    if frequency == Frequency.QUARTERLY:
        return _("%(quarter)d. Quartal %(year)d") % {
            "quarter": (period.month - 1) // 3 + 1,
            "year": period.year,
        }
    return str(period.year)


def _latest(field: str) -> Subquery:
    return Subquery(
        IndicatorObservation.objects.filter(indicator=OuterRef("pk"))
        .order_by("-period")
        .values(field)[:1]
    )


def indicators_for_staff(*, strategy: Strategy) -> QuerySet[Indicator]:
    """The strategy's indicators in their order, each with its owner and field of action, its
    number of observations and its newest one (``latest_period``, ``latest_value``,
    ``latest_provisional``): one query per page."""
    return (
        Indicator.objects.filter(strategy=strategy)
        .select_related("owner", "field_of_action")
        .annotate(
            observation_count=Count("observations"),
            latest_period=_latest("period"),
            latest_value=_latest("value"),
            latest_provisional=_latest("provisional"),
        )
        .order_by("position", "code", "pk")
    )


def indicators_of_owner(*, user: AnyUser) -> QuerySet[Indicator]:
    """The indicators ``user`` owns ("my KPIs"), with their strategy and newest value."""
    if not user.is_authenticated:
        return Indicator.objects.none()
    return (
        Indicator.objects.filter(owner_id=user.pk)
        .select_related("strategy", "field_of_action")
        .annotate(
            latest_period=_latest("period"),
            latest_value=_latest("value"),
            latest_provisional=_latest("provisional"),
        )
        .order_by("strategy__name", "position", "code", "pk")
    )


def observations_of_indicator(*, indicator: Indicator) -> QuerySet[IndicatorObservation]:
    """The indicator's observations, newest period first, each with its corrections (oldest
    first) and who made them: two queries per page."""
    corrections = ObservationCorrection.objects.select_related("changed_by").order_by(
        "changed_at", "pk"
    )
    return (
        IndicatorObservation.objects.filter(indicator=indicator)
        .prefetch_related(Prefetch("corrections", queryset=corrections))
        .order_by("-period", "-pk")
    )


def observation_get_for_editor(*, user: AnyUser, observation_id: int) -> IndicatorObservation:
    """One observation whose indicator the user may edit (the indicator's gate decides); staff
    get 404 for an id that does not exist, everyone else 403."""
    if not user.is_authenticated:
        raise PermissionDenied
    observation = IndicatorObservation.objects.filter(pk=observation_id).first()
    if observation is None:
        if user_is_department_staff(user=user):
            raise Http404
        raise PermissionDenied
    indicator = indicator_get_for_editor(user=user, indicator_id=observation.indicator_id)
    observation.indicator = indicator
    return observation


def observation_corrections(*, observation: IndicatorObservation) -> list[ObservationCorrection]:
    return list(observation.corrections.select_related("changed_by").order_by("changed_at", "pk"))


def indicator_field_choices(*, strategy: Strategy) -> QuerySet[FieldOfAction]:
    return FieldOfAction.objects.filter(strategy=strategy).order_by("position", "code")


def indicator_measure_choices(*, strategy: Strategy) -> QuerySet[Measure]:
    return Measure.objects.filter(strategies=strategy).order_by("code")


def user_id_by_email(*, email: str) -> int | None:
    """The account with this e-mail address (case-insensitive), for choosing a KPI's owner."""
    return (
        User.objects.filter(email__iexact=(email or "").strip())
        .values_list("pk", flat=True)
        .first()
    )


def correction_lines(*, corrections: list[ObservationCorrection]) -> list[dict[str, Any]]:
    """The history under a corrected value: when, by whom, from what to what, and why."""
    lines = []
    for correction in corrections:
        lines.append(
            {
                "at": correction.changed_at,
                "by": (
                    correction.changed_by.get_full_name() or correction.changed_by.email
                    if correction.changed_by is not None
                    else _("automatisch")
                ),
                "before": value_text(correction.value_before),
                "after": value_text(correction.value_after),
                "value_changed": correction.value_before != correction.value_after,
                "provisional_before": correction.provisional_before,
                "note_before": correction.note_before,
                "reason": correction.reason,
            }
        )
    return lines
