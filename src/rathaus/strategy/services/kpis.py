"""Key performance indicators (KPIs): creating and editing indicators, recording their
observations (one per period, normalised to the period's first day) with the history of
corrections, and the values an indicator takes automatically from platform data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.services import audit_entry_create
from rathaus.strategy.constants import AutoSource, Direction, Frequency, ObservationSource
from rathaus.strategy.models import (
    FieldOfAction,
    Indicator,
    IndicatorObservation,
    Measure,
    ObservationCorrection,
    Strategy,
)
from rathaus.strategy.selectors.gate import strategy_staff_required, user_can_edit_indicator
from rathaus.strategy.selectors.measures import user_is_administration_account
from rathaus.strategy.services import StrategyError, audit_value, state_of

# IndicatorObservation.value: max_digits=18, decimal_places=4
VALUE_PLACES = 4
VALUE_INTEGER_DIGITS = 18 - VALUE_PLACES
VALUE_QUANTUM = Decimal(1).scaleb(-VALUE_PLACES)

PERCENT = "%"

# the unit each automatic source measures in (an indicator fed by it takes this unit)
AUTO_SOURCE_UNITS: dict[str, str] = {
    AutoSource.CATALOG_ONLINE_SHARE: PERCENT,
    AutoSource.CASE_MEDIAN_DAYS: "Tage",
    AutoSource.DIRECTORY_ORGANISATIONS: "Anzahl",
    AutoSource.SENSOR_DATASTREAMS: "Anzahl",
}

# spellings of the same unit (compared case-insensitively)
_UNIT_ALIASES: dict[str, str] = {
    "prozent": PERCENT,
    "percent": PERCENT,
    "v. h.": PERCENT,
    "tag": "tage",
    "days": "tage",
    "day": "tage",
    "anz.": "anzahl",
    "count": "anzahl",
}

INDICATOR_FIELDS = (
    "strategy_id",
    "field_of_action_id",
    "code",
    "external_id",
    "name",
    "definition",
    "unit",
    "direction",
    "baseline_value",
    "baseline_date",
    "target_value",
    "target_date",
    "frequency",
    "data_source",
    "owner_id",
    "auto_source",
    "position",
)
OBSERVATION_FIELDS = ("indicator_id", "period", "value", "provisional", "note", "source")


# --- periods and values ---------------------------------------------------------------------


def period_start(*, frequency: str, day: date) -> date:
    """The first day of the period (by ``frequency``) that ``day`` lies in."""
    if frequency == Frequency.MONTHLY:
        return day.replace(day=1)
    if frequency == Frequency.QUARTERLY:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def period_end(*, frequency: str, start: date) -> date:
    """The first day after the period that begins on ``start``."""
    if frequency == Frequency.MONTHLY:
        months = 1
    elif frequency == Frequency.QUARTERLY:
        months = 3
    else:
        months = 12
    month_index = start.month - 1 + months
    return date(start.year + month_index // 12, month_index % 12 + 1, 1)


def _unit_key(unit: str) -> str:
    key = " ".join(unit.split()).casefold()
    return _UNIT_ALIASES.get(key, key)


def units_match(a: str, b: str) -> bool:
    return _unit_key(a) == _unit_key(b)


def _check_number(value: Any, *, field_name: str) -> Decimal:
    """``value`` as a Decimal that fits the model's columns (18 digits, 4 decimal places)."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise StrategyError(_("Bitte eine Zahl eingeben."), field=field_name) from None
    if not number.is_finite():
        raise StrategyError(_("Bitte eine Zahl eingeben."), field=field_name)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -VALUE_PLACES:
        raise StrategyError(
            _("Höchstens %(places)d Nachkommastellen.") % {"places": VALUE_PLACES},
            field=field_name,
        )
    if abs(number) >= Decimal(10) ** VALUE_INTEGER_DIGITS:
        raise StrategyError(
            _("Die Zahl ist zu groß (höchstens %(digits)d Stellen vor dem Komma).")
            % {"digits": VALUE_INTEGER_DIGITS},
            field=field_name,
        )
    return number.quantize(VALUE_QUANTUM)


def _check_percent(number: Decimal, *, unit: str, field_name: str) -> None:
    if units_match(unit, PERCENT) and not (Decimal(0) <= number <= Decimal(100)):
        raise StrategyError(
            _("Ein Prozentwert liegt zwischen 0 und 100, nicht bei %(value)s %%.")
            % {"value": audit_value(number)},
            field=field_name,
        )


def _unit_label(unit: str) -> str:
    """How a unit reads in a sentence ("in % gemessen", "in Tagen gemessen")."""
    dative = {"tage": _("Tagen"), "anzahl": _("Anzahl")}
    return str(dative.get(_unit_key(unit), unit.strip()))


# --- observations ---------------------------------------------------------------------------


def observation_record(
    *,
    actor: User | None,
    indicator_id: int,
    period: date,
    value: Decimal,
    provisional: bool = False,
    note: str = "",
    unit: str | None = None,
    reason: str = "",
    source: str = ObservationSource.MANUAL,
) -> tuple[IndicatorObservation, str]:
    """Record the value of an indicator for the period ``period`` lies in (normalised to the
    period's first day by the indicator's frequency). Returns the observation and the outcome:
    ``"created"``, ``"corrected"`` (the value it replaced is kept in an
    ``ObservationCorrection``) or ``"unchanged"`` (nothing written). An ``actor`` given must be
    department staff or the indicator's owner (``PermissionDenied`` otherwise); ``None`` is the
    platform itself (automatic values, the demo, an import run without an account)."""
    if source not in ObservationSource.values:
        raise StrategyError(_("Unbekannte Herkunft des Werts."), field="source")
    note = (note or "").strip()
    reason = (reason or "").strip()
    with transaction.atomic():
        # the lock serialises concurrent recordings of the same indicator (no lost correction)
        indicator = Indicator.objects.select_for_update().filter(pk=indicator_id).first()
        if actor is not None:
            # staff or the indicator's owner; others learn nothing about the id (no probing)
            if indicator is None and not user_is_department_staff(user=actor):
                raise PermissionDenied
            if indicator is not None and not user_can_edit_indicator(
                user=actor, indicator=indicator
            ):
                raise PermissionDenied
        if indicator is None:
            raise StrategyError(_("Diese Kennzahl gibt es nicht."), code="not_found")
        if unit is not None and unit.strip() and not units_match(unit, indicator.unit):
            raise StrategyError(
                _(
                    "Falsche Einheit: die Kennzahl wird in %(expected)s gemessen, "
                    "nicht in %(given)s."
                )
                % {"expected": _unit_label(indicator.unit), "given": _unit_label(unit)},
                code="unit",
                field="unit",
            )
        number = _check_number(value, field_name="value")
        _check_percent(number, unit=indicator.unit, field_name="value")
        start = period_start(frequency=indicator.frequency, day=period)
        observation = (
            IndicatorObservation.objects.select_for_update()
            .filter(indicator=indicator, period=start)
            .first()
        )
        if observation is None:
            try:
                with transaction.atomic():
                    observation = IndicatorObservation.objects.create(
                        indicator=indicator,
                        period=start,
                        value=number,
                        provisional=bool(provisional),
                        note=note,
                        source=source,
                    )
            except IntegrityError:
                raise StrategyError(
                    _("Für diesen Zeitraum wurde gerade ein Wert eingetragen. Bitte neu laden."),
                    field="period",
                ) from None
            audit_entry_create(
                actor=actor,
                action="strategy.observation.create",
                object_type="strategy.observation",
                object_id=observation.pk,
                after=state_of(observation, OBSERVATION_FIELDS),
            )
            return observation, "created"
        if (
            observation.value == number
            and observation.provisional == bool(provisional)
            and observation.note == note
        ):
            return observation, "unchanged"
        if not observation.provisional and not reason:
            raise StrategyError(
                _("Ein endgültiger Wert wird nur mit Begründung korrigiert."), field="reason"
            )
        before = state_of(observation, OBSERVATION_FIELDS)
        ObservationCorrection.objects.create(
            observation=observation,
            value_before=observation.value,
            provisional_before=observation.provisional,
            note_before=observation.note,
            value_after=number,
            reason=reason,
            changed_by=actor,
            changed_at=timezone.now(),
        )
        observation.value = number
        observation.provisional = bool(provisional)
        observation.note = note
        observation.source = source
        observation.save(update_fields=["value", "provisional", "note", "source", "updated_at"])
        after = state_of(observation, OBSERVATION_FIELDS)
        after["reason"] = reason
        audit_entry_create(
            actor=actor,
            action="strategy.observation.correct",
            object_type="strategy.observation",
            object_id=observation.pk,
            before=before,
            after=after,
        )
        return observation, "corrected"


def observation_correct(
    *,
    actor: User,
    observation_id: int,
    value: Decimal,
    provisional: bool,
    note: str = "",
    reason: str = "",
) -> tuple[IndicatorObservation, str]:
    """Correct one observation (the correction page): same rules as ``observation_record``."""
    observation = IndicatorObservation.objects.filter(pk=observation_id).first()
    if observation is None:
        raise StrategyError(_("Diesen Wert gibt es nicht."), code="not_found")
    return observation_record(
        actor=actor,
        indicator_id=observation.indicator_id,
        period=observation.period,
        value=value,
        provisional=provisional,
        note=note,
        reason=reason,
    )


# --- indicators -----------------------------------------------------------------------------


@dataclass
class IndicatorData:
    code: str
    name: str
    definition: str
    unit: str = ""
    direction: str = Direction.HIGHER
    frequency: str = Frequency.YEARLY
    field_id: int | None = None
    measure_ids: list[int] = field(default_factory=list)
    external_id: str | None = None
    baseline_value: Decimal | None = None
    baseline_date: date | None = None
    target_value: Decimal | None = None
    target_date: date | None = None
    data_source: str = ""
    owner_id: int | None = None
    auto_source: str = ""
    position: int = 0


def _clean_indicator(
    *, strategy: Strategy, data: IndicatorData, indicator: Indicator | None
) -> dict[str, Any]:
    """The model values of ``data``, checked against the rules; raises ``StrategyError``."""
    code = (data.code or "").strip()
    name = (data.name or "").strip()
    definition = (data.definition or "").strip()
    if not code:
        raise StrategyError(_("Bitte ein Kürzel angeben."), field="code")
    if len(code) > 40:
        raise StrategyError(_("Das Kürzel hat höchstens 40 Zeichen."), field="code")
    if not name:
        raise StrategyError(_("Bitte einen Namen angeben."), field="name")
    if not definition:
        raise StrategyError(_("Bitte angeben, wie die Kennzahl definiert ist."), field="definition")
    if data.direction not in Direction.values:
        raise StrategyError(_("Bitte eine Richtung wählen."), field="direction")
    if data.frequency not in Frequency.values:
        raise StrategyError(_("Bitte eine Erhebungshäufigkeit wählen."), field="frequency")
    auto_source = data.auto_source or ""
    if auto_source and auto_source not in AutoSource.values:
        raise StrategyError(_("Unbekannte automatische Quelle."), field="auto_source")
    unit = " ".join((data.unit or "").split())
    if auto_source:
        unit = AUTO_SOURCE_UNITS[auto_source]  # the source decides the unit
    if not unit:
        raise StrategyError(_("Bitte eine Einheit angeben (z. B. %, Tage, Anzahl)."), field="unit")
    if len(unit) > 40:
        raise StrategyError(_("Die Einheit hat höchstens 40 Zeichen."), field="unit")
    if indicator is not None and not units_match(unit, indicator.unit):
        if indicator.observations.exists():
            raise StrategyError(
                _(
                    "Die Einheit kann nicht mehr geändert werden: es gibt schon Messwerte in "
                    "%(unit)s."
                )
                % {"unit": indicator.unit},
                field="auto_source" if auto_source else "unit",
            )
    others = Indicator.objects.filter(strategy=strategy, code=code)
    if indicator is not None:
        others = others.exclude(pk=indicator.pk)
    if others.exists():
        raise StrategyError(
            _("Das Kürzel %(code)s gibt es in dieser Strategie schon.") % {"code": code},
            field="code",
        )
    external_id = (data.external_id or "").strip() or None
    if external_id:
        taken = Indicator.objects.filter(external_id=external_id)
        if indicator is not None:
            taken = taken.exclude(pk=indicator.pk)
        if taken.exists():
            raise StrategyError(
                _("Die externe Kennung %(id)s ist schon vergeben.") % {"id": external_id},
                field="external_id",
            )
    baseline_value = target_value = None
    if data.baseline_value is not None:
        baseline_value = _check_number(data.baseline_value, field_name="baseline_value")
        _check_percent(baseline_value, unit=unit, field_name="baseline_value")
    if data.target_value is not None:
        target_value = _check_number(data.target_value, field_name="target_value")
        _check_percent(target_value, unit=unit, field_name="target_value")
    if (baseline_value is None) != (data.baseline_date is None):
        raise StrategyError(
            _("Ausgangswert und sein Datum gehören zusammen."),
            field="baseline_date" if data.baseline_date is None else "baseline_value",
        )
    if (target_value is None) != (data.target_date is None):
        raise StrategyError(
            _("Zielwert und Zieldatum gehören zusammen."),
            field="target_date" if data.target_date is None else "target_value",
        )
    if data.baseline_date and data.target_date and data.target_date <= data.baseline_date:
        raise StrategyError(
            _("Das Zieldatum liegt nach dem Datum des Ausgangswerts."), field="target_date"
        )
    owner_id = data.owner_id
    if owner_id is not None and not User.objects.filter(pk=owner_id, is_active=True).exists():
        raise StrategyError(_("Verantwortlich kann nur ein aktives Konto sein."), field="owner")
    unchanged = indicator is not None and indicator.owner_id == owner_id
    if owner_id is not None and not unchanged:
        # the rule of a measure's responsible person: only accounts of the administration
        if not user_is_administration_account(user_id=owner_id):
            raise StrategyError(
                _(
                    "Verantwortlich kann nur ein Konto der Verwaltung sein (Referat oder "
                    "Mitglied eines Amts)."
                ),
                field="owner",
            )
    field_id = data.field_id
    if (
        field_id is not None
        and not FieldOfAction.objects.filter(pk=field_id, strategy=strategy).exists()
    ):
        raise StrategyError(
            _("Das Handlungsfeld gehört nicht zu dieser Strategie."), field="field_of_action"
        )
    measure_ids = sorted(set(data.measure_ids))
    if measure_ids:
        found = set(
            Measure.objects.filter(pk__in=measure_ids, strategies=strategy).values_list(
                "pk", flat=True
            )
        )
        if found != set(measure_ids):
            raise StrategyError(
                _("Eine der Maßnahmen gehört nicht zu dieser Strategie."), field="measures"
            )
    if data.position < 0 or data.position > 32767:
        raise StrategyError(_("Die Reihenfolge liegt zwischen 0 und 32767."), field="position")
    return {
        "code": code,
        "external_id": external_id,
        "name": name[:300],
        "definition": definition,
        "unit": unit,
        "direction": data.direction,
        "baseline_value": baseline_value,
        "baseline_date": data.baseline_date,
        "target_value": target_value,
        "target_date": data.target_date,
        "frequency": data.frequency,
        "data_source": (data.data_source or "").strip()[:300],
        "owner_id": owner_id,
        "auto_source": auto_source,
        "field_of_action_id": field_id,
        "position": data.position,
        "_measure_ids": measure_ids,
    }


def _audit_state(indicator: Indicator) -> dict[str, Any]:
    state = state_of(indicator, INDICATOR_FIELDS)
    state["measure_ids"] = sorted(indicator.measures.values_list("pk", flat=True))
    return state


def indicator_create(*, actor: User, strategy_id: int, data: IndicatorData) -> Indicator:
    """A new indicator of a strategy (department staff only)."""
    strategy_staff_required(user=actor)
    with transaction.atomic():
        strategy = Strategy.objects.select_for_update().filter(pk=strategy_id).first()
        if strategy is None:
            raise StrategyError(_("Diese Strategie gibt es nicht."), code="not_found")
        values = _clean_indicator(strategy=strategy, data=data, indicator=None)
        measure_ids = values.pop("_measure_ids")
        indicator = Indicator.objects.create(strategy=strategy, **values)
        indicator.measures.set(measure_ids)
        audit_entry_create(
            actor=actor,
            action="strategy.indicator.create",
            object_type="strategy.indicator",
            object_id=indicator.pk,
            after=_audit_state(indicator),
        )
    return indicator


def indicator_update(*, actor: User, indicator_id: int, data: IndicatorData) -> Indicator:
    """Change an indicator (department staff only; its owner enters observations only)."""
    strategy_staff_required(user=actor)
    with transaction.atomic():
        indicator = (
            Indicator.objects.select_for_update()
            .select_related("strategy")
            .filter(pk=indicator_id)
            .first()
        )
        if indicator is None:
            raise StrategyError(_("Diese Kennzahl gibt es nicht."), code="not_found")
        values = _clean_indicator(strategy=indicator.strategy, data=data, indicator=indicator)
        measure_ids = values.pop("_measure_ids")
        before = _audit_state(indicator)
        for name, value in values.items():
            setattr(indicator, name, value)
        indicator.save()
        indicator.measures.set(measure_ids)
        after = _audit_state(indicator)
        if after != before:
            audit_entry_create(
                actor=actor,
                action="strategy.indicator.update",
                object_type="strategy.indicator",
                object_id=indicator.pk,
                before=before,
                after=after,
            )
    return indicator


# --- automatic values -----------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh of an automatic indicator did: ``status`` is ``"done"``, ``"skipped"``
    or ``"rejected"``; ``outcome`` the observation outcome (created/corrected/unchanged) when
    done; ``reason`` says why it was skipped or rejected (German, for the editor)."""

    indicator_id: int
    status: str
    outcome: str = ""
    value: Decimal | None = None
    period: date | None = None
    finalised: int = 0
    reason: str = ""


def _auto_value(*, source: str, start: date, end: date) -> Decimal | None:
    """The current value of ``source``; for the case processing time, over the cases closed
    in the period [start, end). None when there is nothing to measure yet."""
    if source == AutoSource.CATALOG_ONLINE_SHARE:
        from rathaus.catalog.selectors import service_online_share_percent

        return service_online_share_percent(min_maturity=3)
    if source == AutoSource.CASE_MEDIAN_DAYS:
        from rathaus.cases.selectors import case_median_processing_days

        return case_median_processing_days(closed_from=start, closed_before=end)
    if source == AutoSource.DIRECTORY_ORGANISATIONS:
        from rathaus.economy.selectors.directory import organisation_public_count

        return Decimal(organisation_public_count())
    if source == AutoSource.SENSOR_DATASTREAMS:
        from rathaus.citydata.selectors import datastream_published_count

        return Decimal(datastream_published_count())
    raise StrategyError(_("Unbekannte automatische Quelle."), field="auto_source")


def indicator_refresh_auto(*, indicator_id: int, today: date | None = None) -> RefreshOutcome:
    """Compute the indicator's source value now and record it, provisional, for the current
    period (source automatic, no actor); automatic values of periods that are over become
    final. A value entered by hand, imported or already final is never overwritten."""
    today = today or timezone.localdate()
    indicator = Indicator.objects.filter(pk=indicator_id).first()
    if indicator is None:
        return RefreshOutcome(indicator_id, "rejected", reason=_("Diese Kennzahl gibt es nicht."))
    if not indicator.auto_source:
        return RefreshOutcome(
            indicator_id, "skipped", reason=_("Die Kennzahl hat keine automatische Quelle.")
        )
    if indicator.auto_source not in AUTO_SOURCE_UNITS:
        return RefreshOutcome(indicator_id, "rejected", reason=_("Unbekannte automatische Quelle."))
    start = period_start(frequency=indicator.frequency, day=today)
    end = period_end(frequency=indicator.frequency, start=start)
    finalised = 0
    with transaction.atomic():
        for past in IndicatorObservation.objects.filter(
            indicator=indicator,
            source=ObservationSource.AUTOMATIC,
            provisional=True,
            period__lt=start,
        ).order_by("period"):
            _past, outcome = observation_record(
                actor=None,
                indicator_id=indicator.pk,
                period=past.period,
                value=past.value,
                provisional=False,
                note=past.note,
                reason=_("Zeitraum abgeschlossen: automatischer Wert endgültig."),
                source=ObservationSource.AUTOMATIC,
            )
            finalised += outcome == "corrected"
    existing = IndicatorObservation.objects.filter(indicator=indicator, period=start).first()
    if existing is not None and existing.source != ObservationSource.AUTOMATIC:
        return RefreshOutcome(
            indicator_id,
            "skipped",
            period=start,
            finalised=finalised,
            reason=_("Für den laufenden Zeitraum gibt es einen eingetragenen Wert."),
        )
    if existing is not None and not existing.provisional:
        return RefreshOutcome(
            indicator_id,
            "skipped",
            period=start,
            finalised=finalised,
            reason=_("Der Wert des laufenden Zeitraums ist schon endgültig."),
        )
    value = _auto_value(source=indicator.auto_source, start=start, end=end)
    if value is None:
        return RefreshOutcome(
            indicator_id,
            "skipped",
            period=start,
            finalised=finalised,
            reason=_("Die Plattformdaten ergeben noch keinen Wert."),
        )
    try:
        observation, outcome = observation_record(
            actor=None,
            indicator_id=indicator.pk,
            period=start,
            value=value.quantize(VALUE_QUANTUM),
            provisional=True,
            note=existing.note if existing is not None else "",
            unit=AUTO_SOURCE_UNITS[indicator.auto_source],
            reason=_("Automatisch aktualisiert."),
            source=ObservationSource.AUTOMATIC,
        )
    except StrategyError as error:
        return RefreshOutcome(
            indicator_id, "rejected", period=start, finalised=finalised, reason=str(error.message)
        )
    return RefreshOutcome(
        indicator_id,
        "done",
        outcome=outcome,
        value=observation.value,
        period=start,
        finalised=finalised,
    )


@dataclass
class RefreshSummary:
    done: int = 0
    skipped: int = 0
    rejected: int = 0
    outcomes: list[RefreshOutcome] = field(default_factory=list)

    @property
    def reasons(self) -> dict[int, str]:
        return {o.indicator_id: o.reason for o in self.outcomes if o.reason}


def indicators_refresh_auto(*, today: date | None = None) -> RefreshSummary:
    """Refresh every indicator that takes its values automatically; one failing indicator
    does not stop the others."""
    summary = RefreshSummary()
    ids = Indicator.objects.exclude(auto_source="").order_by("pk").values_list("pk", flat=True)
    for indicator_id in ids:
        try:
            outcome = indicator_refresh_auto(indicator_id=indicator_id, today=today)
        except StrategyError as error:
            outcome = RefreshOutcome(indicator_id, "rejected", reason=str(error.message))
        summary.outcomes.append(outcome)
        if outcome.status == "done":
            summary.done += 1
        elif outcome.status == "skipped":
            summary.skipped += 1
        else:
            summary.rejected += 1
    return summary
