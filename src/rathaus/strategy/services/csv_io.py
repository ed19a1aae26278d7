"""CSV import of the strategy pillar: ``measures.csv`` and ``observations.csv``, the
department's existing spreadsheets, keyed by an external id. Repeatable and idempotent: a row
equal to what is stored changes nothing ("unchanged", no audit entry), so importing the same
file twice is harmless. All or nothing: the whole file is checked first; if any row is wrong,
nothing is saved and every wrong row is reported with its line, column and reason.

The reading is shared with the funding register's import (``core.csvimport``): UTF-8 with or
without a byte order mark (failing that Windows-1252), ``;`` (German Excel), ``,`` or a tab
between the columns (recognised from the header row), at most 5 MB, an Excel workbook or
binary data refused with a clear message. The first row names the columns (any order, case ignored;
unknown columns are ignored and reported). Text a spreadsheet would take for a formula may
carry an apostrophe in front (``'=...``, as our exports write it): the import takes it off.
A column missing from the file keeps the stored value; an empty cell in a column that is there
empties the value.

``measures.csv`` (key: ``external_id``):

- ``external_id`` the key of the spreadsheet (required, at most 100 characters); an existing
  measure with that id is updated, otherwise one is created;
- ``code`` the measure's code (required for a new measure; an external id stays with its
  code: a row giving another code for a known external id is refused, and so is a new row
  whose code another measure has);
- ``title``, ``description``;
- ``strategies`` strategy slugs separated by ``|`` (``leipzig-digital|triangulum``), at least
  one for a top-level measure; a sub-measure carries its parent's (leave it empty);
- ``fields`` codes of fields of action of those strategies, ``|``-separated (``1.1|2``);
  ``slug:code`` where a code exists in more than one of them;
- ``parent`` the external id of the parent measure (stored, or a row earlier in the file):
  the row is a sub-measure; sub-measures have no sub-measures of their own;
- ``weight`` the sub-measure's share of its parent's progress in percent (0..100); the
  weights of a parent's sub-measures must add up to 100. A new measure that is a parent in
  the file takes its progress from its sub-measures by weight;
- ``status`` ``geplant``, ``läuft``, ``abgeschlossen``, ``gestoppt``, ``verzögert`` (or
  ``planned``, ``running``, ``done``, ``stopped``, ``delayed``);
- ``traffic_light`` ``grün``, ``gelb``, ``rot`` (or ``green``, ``yellow``, ``red``),
  ``reason`` the reason, required unless green;
- ``progress`` percent 0..100 (ignored for a measure rolled up from its sub-measures);
  an empty ``status``, ``traffic_light`` or ``progress`` keeps the stored value (a new
  measure: planned, green, 0);
- ``planned_start``, ``planned_end``, ``actual_start``, ``actual_end``: ``2026-03-15`` or
  ``15.03.2026``;
- ``planned_budget``, ``spent_budget`` in euros: ``1.234,56 €``, ``1234,56`` or ``1234.56``
  (``core.money.parse_amount``);
- ``office`` the responsible office's name, exactly as in the directory of offices (optional).

Other properties of a measure (responsible person, partners, districts, links) are kept as
they are; they are edited on the measure's page. Writes go through ``services.measures``
(``measure_create`` / ``measure_update``), so every rule of the form applies, all in one
transaction; the new weights of a rolled-up parent's sub-measures are set together
(``measure_weights_set``), since row by row they would not add up to 100 in between. Measures
are written in the name of a department staff member (the page's user; ``--actor`` of the
command); observations may also be imported by the command without one ("system").

``observations.csv`` (key: ``indicator`` + ``period``):

- ``indicator`` the KPI's external id;
- ``period`` a day of the period (``2025-01-01``, ``01.01.2025``), or ``2025-03`` /
  ``03.2025`` (a month), or ``2025`` (a year); it is taken to the first day of its period by
  the KPI's frequency;
- ``value`` a number, German (``1.234,5``) or English (``1234.5``);
- ``unit`` optional; if given it must be the KPI's unit;
- ``provisional`` ``ja``/``nein``, ``true``/``false``, ``1``/``0`` (empty: nein);
- ``note``.

Recorded through ``services.kpis.observation_record`` with source "import": a new period is
created, a changed value corrected (the old value kept, reason "CSV-Import"), an equal one
left unchanged."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import override

from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import office_public_list
from rathaus.core import csvimport
from rathaus.core.csvimport import MAX_BYTES, CellError, CsvFileError, RowError, Table
from rathaus.core.money import MAX_AMOUNT
from rathaus.strategy.constants import (
    MeasureStatus,
    ObservationSource,
    ProgressMode,
    TrafficLight,
)
from rathaus.strategy.models import FieldOfAction, Indicator, Measure, Strategy
from rathaus.strategy.selectors.gate import strategy_staff_required
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.kpis import observation_record, period_start
from rathaus.strategy.services.measures import (
    MeasureData,
    measure_create,
    measure_update,
    measure_weights_set,
)

__all__ = [
    "FILE_LABELS",
    "KINDS",
    "MAX_BYTES",
    "MEASURE_COLUMNS",
    "OBSERVATION_COLUMNS",
    "Counts",
    "CsvFileError",
    "ImportResult",
    "RowError",
    "strategy_import",
]

LIST_SEPARATOR = "|"
IMPORT_REASON = "CSV-Import"

MEASURE_COLUMNS = (
    "external_id",
    "code",
    "title",
    "description",
    "strategies",
    "fields",
    "parent",
    "weight",
    "status",
    "traffic_light",
    "reason",
    "progress",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "planned_budget",
    "spent_budget",
    "office",
)
OBSERVATION_COLUMNS = ("indicator", "period", "value", "unit", "provisional", "note")
KINDS = ("measures", "observations")
FILE_LABELS = {"measures": _lazy("Maßnahmendatei"), "observations": _lazy("Messwertdatei")}

# the column of the CSV file a service's error field belongs to
_FIELD_COLUMN = {
    "status_reason": "reason",
    "strategy_ids": "strategies",
    "field_ids": "fields",
    "fields_of_action": "fields",
    "parent_id": "parent",
    "office_id": "office",
    "external_id": "external_id",
    "weights": "weight",
}
_MAX_LENGTH = {"external_id": 100, "code": 40, "title": 300}


# ---- the result ------------------------------------------------------------------------------


@dataclass
class Counts:
    """Rows of one file: ``updated`` is a corrected value for observations."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, outcome: str) -> None:
        name = "updated" if outcome == "corrected" else outcome
        setattr(self, name, getattr(self, name) + 1)


@dataclass
class ImportResult:
    """What an import did (or, when nothing was saved, would have done): per file the rows
    created, updated, unchanged and rejected, the wrong rows, files refused as a whole, notes
    (ignored columns). ``imported`` is False when nothing was saved."""

    measures: Counts = field(default_factory=Counts)
    observations: Counts = field(default_factory=Counts)
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[CsvFileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_errors


# ---- reading the cells -----------------------------------------------------------------------


def _text(text: str) -> str:
    return text.strip()


def _percent(text: str) -> int | None:
    """A whole percentage 0..100 ("40", "40 %"); empty is None."""
    cleaned = text.replace("%", "").replace(" ", "").strip()
    if not cleaned:
        return None
    if not (cleaned.isascii() and cleaned.lstrip("-").isdigit() and len(cleaned) < 8):
        raise CellError(_("„%(text)s“ ist keine ganze Zahl.") % {"text": text})
    number = int(cleaned)
    if not 0 <= number <= 100:
        raise CellError(
            _("%(number)d %% geht nicht: erlaubt sind 0 bis 100 %%.") % {"number": number}
        )
    return number


def _budget(text: str) -> Decimal | None:
    amount: Decimal | None = csvimport.parse_amount(text)
    if amount is not None and amount < 0:
        raise CellError(_("Bitte keinen negativen Betrag angeben."))
    if amount is not None and amount > MAX_AMOUNT:
        raise CellError(_("Der Betrag ist zu groß."))
    return amount


def _aliases(choices: Any, extra: dict[str, str]) -> dict[str, str]:
    """Every way a choice may be written: its value, its German label (whatever the
    language of the request), the ``extra`` spellings."""
    names: dict[str, str] = {}
    with override("de"):
        for value, label in choices.choices:
            names[str(value).casefold()] = str(value)
            names[str(label).casefold()] = str(value)
    names.update({key.casefold(): value for key, value in extra.items()})
    return names


def _choice_of(text: str, names: dict[str, str], *, shown: str) -> str:
    """A choice's value; empty is "" (a new measure takes the default, a stored one keeps
    its value)."""
    if not text:
        return ""
    value = names.get(text.casefold())
    if value is None:
        raise CellError(
            _("„%(text)s“ ist kein möglicher Wert (möglich: %(values)s).")
            % {"text": text, "values": shown}
        )
    return value


@cache
def _status_names() -> dict[str, str]:
    return _aliases(MeasureStatus, {"laeuft": MeasureStatus.RUNNING})


@cache
def _light_names() -> dict[str, str]:
    return _aliases(
        TrafficLight,
        {
            "grün": TrafficLight.GREEN,
            "gruen": TrafficLight.GREEN,
            "gelb": TrafficLight.YELLOW,
            "rot": TrafficLight.RED,
        },
    )


def _status(text: str) -> str:
    return _choice_of(
        text, _status_names(), shown="geplant, läuft, abgeschlossen, gestoppt, verzögert"
    )


def _traffic_light(text: str) -> str:
    return _choice_of(text, _light_names(), shown="grün, gelb, rot")


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


_YEAR = re.compile(r"^\d{4}$")
_MONTH_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_GERMAN = re.compile(r"^(\d{1,2})[./](\d{4})$")


def _period(text: str) -> date:
    """A day of the period, or a month ("2025-03", "03.2025") or a year ("2025")."""
    if not text:
        raise CellError(_("Bitte den Zeitraum angeben (z. B. 2025-01-01 oder 2025)."))
    try:
        if _YEAR.match(text):
            return date(int(text), 1, 1)
        month = _MONTH_ISO.match(text)
        if month:
            return date(int(month[1]), int(month[2]), 1)
        month = _MONTH_GERMAN.match(text)
        if month:
            return date(int(month[2]), int(month[1]), 1)
    except ValueError:
        pass
    else:
        day = _date_or_none(text)
        if day is not None:
            return day
    raise CellError(
        _("„%(text)s“ ist kein Zeitraum (Beispiele: 2025-01-01, 01.01.2025, 2025-03 oder 2025).")
        % {"text": text}
    )


def _date_or_none(text: str) -> date | None:
    try:
        return csvimport.parse_date(text)
    except CellError:
        return None


def _number(text: str) -> Decimal:
    """A value as people write it: "1.234,5" or "1,5" (German), "1234.5" or "1,234.5"
    (English). German wins where both fit: "1.234" is one thousand two hundred and
    thirty-four (as ``core.money.parse_amount`` reads it), "1,5" one and a half."""
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        raise CellError(_("Bitte einen Wert angeben."))
    body = cleaned.lstrip("+-")
    if not body or not all(c.isdigit() or c in ".," for c in body) or not body[0].isdigit():
        raise CellError(_("„%(text)s“ ist keine Zahl (Beispiel: 1.234,5).") % {"text": text})
    commas, dots = body.count(","), body.count(".")
    if commas and dots:  # the later one is the decimal separator
        thousands, decimal = (".", ",") if body.rfind(",") > body.rfind(".") else (",", ".")
    elif commas:
        thousands, decimal = (",", ".") if commas > 1 else ("", ",")
    elif dots > 1 or re.fullmatch(r"\d{1,3}\.\d{3}", body):
        thousands, decimal = ".", ","
    else:
        thousands, decimal = "", "."
    whole, _sep, fraction = body.partition(decimal) if decimal in body else (body, "", "")
    groups = whole.split(thousands) if thousands else [whole]
    if (
        decimal in fraction
        or (thousands and thousands in fraction)
        or (len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])))
    ):
        raise CellError(_("„%(text)s“ ist keine Zahl (Beispiel: 1.234,5).") % {"text": text})
    normal = "".join(groups) + ("." + fraction if fraction else "")
    try:
        number = Decimal(normal)
    except InvalidOperation:
        raise CellError(
            _("„%(text)s“ ist keine Zahl (Beispiel: 1.234,5).") % {"text": text}
        ) from None
    return -number if cleaned.startswith("-") else number


_YES = {"ja", "j", "true", "wahr", "yes", "y", "1", "x", "vorläufig"}
_NO = {"nein", "n", "false", "falsch", "no", "0", "endgültig"}


def _flag(text: str) -> bool:
    lowered = text.casefold()
    if not lowered or lowered in _NO:
        return False
    if lowered in _YES:
        return True
    raise CellError(
        _("„%(text)s“ ist weder ja noch nein (möglich: ja, nein, true, false, 1, 0).")
        % {"text": text}
    )


MEASURE_PARSERS: dict[str, Callable[[str], Any]] = {
    "external_id": _text,
    "code": _text,
    "title": _text,
    "description": _text,
    "strategies": _list,
    "fields": _list,
    "parent": _text,
    "weight": _percent,
    "status": _status,
    "traffic_light": _traffic_light,
    "reason": _text,
    "progress": _percent,
    "planned_start": csvimport.parse_date,
    "planned_end": csvimport.parse_date,
    "actual_start": csvimport.parse_date,
    "actual_end": csvimport.parse_date,
    "planned_budget": _budget,
    "spent_budget": _budget,
    "office": _text,
}
OBSERVATION_PARSERS: dict[str, Callable[[str], Any]] = {
    "indicator": _text,
    "period": _period,
    "value": _number,
    "unit": _text,
    "provisional": _flag,
    "note": _text,
}


# ---- measures --------------------------------------------------------------------------------


def _measure_data_of(measure: Measure) -> MeasureData:
    """What is stored, in the form the services take (lists sorted, to compare)."""
    return MeasureData(
        code=measure.code,
        title=measure.title,
        strategy_ids=sorted(s.pk for s in measure.strategies.all()),
        description=measure.description,
        field_ids=sorted(f.pk for f in measure.fields_of_action.all()),
        parent_id=measure.parent_id,
        weight=measure.weight,
        external_id=measure.external_id,
        office_id=measure.office_id,
        responsible_id=measure.responsible_id,
        area_ids=sorted(a.pk for a in measure.areas.all()),
        partner_ids=sorted(p.organisation_id for p in measure.partners.all()),
        themes_mask=measure.themes_mask,
        status=measure.status,
        traffic_light=measure.traffic_light,
        status_reason=measure.status_reason,
        progress=measure.progress,
        progress_mode=measure.progress_mode,
        planned_start=measure.planned_start,
        planned_end=measure.planned_end,
        actual_start=measure.actual_start,
        actual_end=measure.actual_end,
        planned_budget=measure.planned_budget,
        spent_budget=measure.spent_budget,
    )


def _same(data: MeasureData, stored: MeasureData) -> bool:
    """Whether writing ``data`` would change nothing (a rolled-up progress is computed)."""
    if data.progress_mode == ProgressMode.ROLLED_UP == stored.progress_mode:
        data = replace(data, progress=stored.progress)
    return all(
        getattr(data, f.name) == getattr(stored, f.name)
        for f in fields(MeasureData)
        if f.name not in ("strategy_ids", "field_ids", "area_ids", "partner_ids")
    ) and all(
        sorted(getattr(data, name)) == sorted(getattr(stored, name))
        for name in ("strategy_ids", "field_ids", "area_ids", "partner_ids")
    )


@dataclass
class _MeasureRow:
    line: int
    key: str  # the external id as written
    values: dict[str, Any]
    errors: list[RowError]
    stored: Measure | None = None
    parent_key: str = ""  # the parent's external id, lower case
    parent_stored: Measure | None = None
    parent_row: _MeasureRow | None = None
    data: MeasureData | None = None
    written: Measure | None = None


class _MeasureLookups:
    """Everything a measures file may name, read once (a constant number of queries)."""

    def __init__(self) -> None:
        measures = Measure.objects.prefetch_related(
            "strategies", "fields_of_action", "areas", "partners"
        )
        self.by_external: dict[str, Measure] = {}
        self.by_code: dict[str, Measure] = {}
        self.by_pk: dict[int, Measure] = {}
        for measure in measures:
            self.by_pk[measure.pk] = measure
            self.by_code[measure.code] = measure
            if measure.external_id:
                self.by_external[measure.external_id.casefold()] = measure
        self.children: dict[int, list[Measure]] = {}
        for measure in self.by_pk.values():
            if measure.parent_id is not None:
                self.children.setdefault(measure.parent_id, []).append(measure)
        self.strategies = {s.slug.casefold(): s for s in Strategy.objects.all()}
        self.fields: dict[int, dict[str, FieldOfAction]] = {}
        for field_of_action in FieldOfAction.objects.all():
            self.fields.setdefault(field_of_action.strategy_id, {})[
                field_of_action.code.casefold()
            ] = field_of_action
        self.offices: dict[str, list[Office]] = {}
        for office in office_public_list():
            self.offices.setdefault(office.name.strip(), []).append(office)


def _error(line: int, column: str, reason: str) -> RowError:
    return RowError("measures", line, column, reason)


def _strategy_ids(row: _MeasureRow, lookups: _MeasureLookups) -> list[int]:
    ids: list[int] = []
    for slug in row.values.get("strategies", []):
        strategy = lookups.strategies.get(slug.casefold())
        if strategy is None:
            row.errors.append(
                _error(
                    row.line,
                    "strategies",
                    _("Eine Strategie mit dem Kürzel „%(slug)s“ gibt es nicht.") % {"slug": slug},
                )
            )
        elif strategy.pk not in ids:
            ids.append(strategy.pk)
    return sorted(ids)


def _field_ids(row: _MeasureRow, lookups: _MeasureLookups, strategy_ids: list[int]) -> list[int]:
    ids: list[int] = []
    by_slug = {s.slug.casefold(): s.pk for s in lookups.strategies.values()}
    for code in row.values.get("fields", []):
        slug, _sep, plain = code.rpartition(":")
        candidates = [by_slug[slug.casefold()]] if slug and slug.casefold() in by_slug else []
        if slug and not candidates:
            plain = code  # a colon in the code itself
        searched = [pk for pk in (candidates or strategy_ids) if pk in strategy_ids]
        found = [
            lookups.fields[pk][plain.casefold()]
            for pk in searched
            if plain.casefold() in lookups.fields.get(pk, {})
        ]
        if not found:
            row.errors.append(
                _error(
                    row.line,
                    "fields",
                    _(
                        "Das Handlungsfeld „%(code)s“ gibt es in den Strategien dieser "
                        "Maßnahme nicht."
                    )
                    % {"code": code},
                )
            )
        elif len(found) > 1:
            row.errors.append(
                _error(
                    row.line,
                    "fields",
                    _(
                        "Das Handlungsfeld „%(code)s“ gibt es in mehreren Strategien dieser "
                        "Maßnahme; bitte als „Strategie:Nummer“ angeben, z. B. "
                        "„%(slug)s:%(code)s“."
                    )
                    % {"code": code, "slug": found[0].strategy.slug},
                )
            )
        elif found[0].pk not in ids:
            ids.append(found[0].pk)
    return sorted(ids)


def _check_key(row: _MeasureRow, lookups: _MeasureLookups, seen_codes: dict[str, int]) -> None:
    """The external id and the code: present, not too long, not another measure's."""
    values, line = row.values, row.line
    for column, limit in _MAX_LENGTH.items():
        if len(values.get(column, "")) > limit:
            row.errors.append(
                _error(
                    line,
                    column,
                    _("Höchstens %(limit)d Zeichen, nicht %(length)d.")
                    % {"limit": limit, "length": len(values[column])},
                )
            )
    if not row.key:
        row.errors.append(
            _error(line, "external_id", _("Bitte die externe Kennung der Maßnahme angeben."))
        )
    code = values.get("code", "")
    if row.stored is not None:
        if code and code != row.stored.code:
            row.errors.append(
                _error(
                    line,
                    "code",
                    _(
                        "Die externe Kennung „%(key)s“ gehört zur Maßnahme „%(stored)s“, nicht "
                        "zu „%(code)s“. Ein Kürzel ändern Sie auf der Seite der Maßnahme."
                    )
                    % {"key": row.key, "stored": row.stored.code, "code": code or "–"},
                )
            )
        return
    if not code:
        row.errors.append(_error(line, "code", _("Bitte ein Kürzel angeben (eine neue Maßnahme).")))
        return
    other = lookups.by_code.get(code)
    if other is not None:
        row.errors.append(
            _error(
                line,
                "code",
                _(
                    "Das Kürzel „%(code)s“ hat schon eine andere Maßnahme (externe Kennung: "
                    "%(other)s)."
                )
                % {"code": code, "other": other.external_id or _("keine")},
            )
        )
    elif code in seen_codes:
        row.errors.append(csvimport.duplicate("measures", "code", line, seen_codes[code]))
    else:
        seen_codes[code] = line
    if not values.get("title"):
        row.errors.append(_error(line, "title", _("Bitte einen Titel angeben.")))


def _check_parent(
    row: _MeasureRow, lookups: _MeasureLookups, earlier: dict[str, _MeasureRow], later: set[str]
) -> None:
    """The parent named by the row: a stored measure or one of an earlier row, itself a
    top-level measure; and the row's own measure has no sub-measures then."""
    if "parent" not in row.values:
        if row.stored is not None and row.stored.parent_id is not None:
            row.parent_stored = lookups.by_pk.get(row.stored.parent_id)
        return
    name = row.values["parent"]
    if not name:
        return
    key = name.casefold()
    row.parent_key = key
    if key == row.key.casefold():
        row.errors.append(
            _error(row.line, "parent", _("Eine Maßnahme kann nicht Teil von sich selbst sein."))
        )
        return
    parent_row = earlier.get(key)
    parent_stored = parent_row.stored if parent_row else lookups.by_external.get(key)
    if parent_row is None and parent_stored is None:
        if key in later:
            message = _(
                "Die übergeordnete Maßnahme „%(parent)s“ steht erst weiter unten in der Datei; "
                "bitte sie vor ihren Teilmaßnahmen aufführen."
            )
        else:
            message = _(
                "Eine Maßnahme mit der externen Kennung „%(parent)s“ gibt es weder in der "
                "Strategieverwaltung noch weiter oben in der Datei."
            )
        row.errors.append(_error(row.line, "parent", message % {"parent": name}))
        return
    row.parent_row, row.parent_stored = parent_row, parent_stored
    if parent_row is not None:
        grand = bool(parent_row.parent_key) or (
            "parent" not in parent_row.values
            and parent_stored is not None
            and parent_stored.parent_id is not None
        )
    else:
        grand = parent_stored is not None and parent_stored.parent_id is not None
    if grand:
        row.errors.append(
            _error(
                row.line,
                "parent",
                _(
                    "„%(parent)s“ ist selbst eine Teilmaßnahme; Teilmaßnahmen haben keine "
                    "eigenen Teilmaßnahmen."
                )
                % {"parent": name},
            )
        )
    if row.stored is not None and lookups.children.get(row.stored.pk):
        row.errors.append(
            _error(
                row.line,
                "parent",
                _("Diese Maßnahme hat eigene Teilmaßnahmen und kann keine Teilmaßnahme sein."),
            )
        )


def _named(row: _MeasureRow) -> set[str]:
    """The columns the row's errors name."""
    return {error.column for error in row.errors}


def _check_rules(row: _MeasureRow) -> None:
    """The rules a row can break on its own (the services check them again on writing)."""
    data = row.data
    if data is None:
        return
    line = row.line
    if data.traffic_light != TrafficLight.GREEN and not data.status_reason:
        row.errors.append(
            _error(line, "reason", _("Bitte begründen, warum die Ampel nicht grün ist."))
        )
    for start, end, message in (
        ("planned_start", "planned_end", _("Das geplante Ende liegt vor dem geplanten Beginn.")),
        (
            "actual_start",
            "actual_end",
            _("Das tatsächliche Ende liegt vor dem tatsächlichen Beginn."),
        ),
    ):
        first, last = getattr(data, start), getattr(data, end)
        if first is not None and last is not None and last < first:
            row.errors.append(_error(line, end, message))
    has_parent = row.parent_row is not None or row.parent_stored is not None
    if data.weight is not None and not has_parent and "parent" not in _named(row):
        row.errors.append(
            _error(
                line,
                "weight",
                _("Nur eine Teilmaßnahme hat ein Gewicht (Spalte „parent“)."),
            )
        )
    if not data.strategy_ids and not row.errors:
        row.errors.append(_error(line, "strategies", _("Bitte mindestens eine Strategie angeben.")))


def _row_data(row: _MeasureRow, lookups: _MeasureLookups, parents: set[str]) -> MeasureData:
    values = row.values
    stored = row.stored
    data = (
        _measure_data_of(stored)
        if stored is not None
        else MeasureData(code=values.get("code", ""), title="", strategy_ids=[])
    )
    if stored is None and row.key.casefold() in parents:
        data.progress_mode = ProgressMode.ROLLED_UP
    data.external_id = row.key
    for column, name in (
        ("title", "title"),
        ("description", "description"),
        ("weight", "weight"),
        ("reason", "status_reason"),
        ("planned_start", "planned_start"),
        ("planned_end", "planned_end"),
        ("actual_start", "actual_start"),
        ("actual_end", "actual_end"),
        ("planned_budget", "planned_budget"),
        ("spent_budget", "spent_budget"),
    ):
        if column in values:
            setattr(data, name, values[column])
    # empty: a new measure takes the default, a stored one keeps its value
    for column in ("status", "traffic_light", "progress"):
        if values.get(column) not in (None, ""):
            setattr(data, column, values[column])
    if "parent" in values:
        # a parent of the file is known once it is written (``_write_measures``)
        stored_parent = row.parent_stored if row.parent_row is None else None
        data.parent_id = stored_parent.pk if stored_parent is not None else None
        if not values["parent"] and "weight" not in values:
            data.weight = None  # a top-level measure has no weight
    if "office" in values:
        data.office_id = None
        if values["office"]:
            offices = lookups.offices.get(values["office"], [])
            if len(offices) == 1:
                data.office_id = offices[0].pk
            else:
                row.errors.append(
                    _error(
                        row.line,
                        "office",
                        (
                            _("Eine Stelle mit dem Namen „%(name)s“ gibt es nicht.")
                            if not offices
                            else _(
                                "Den Namen „%(name)s“ tragen mehrere Stellen; bitte die Stelle "
                                "auf der Seite der Maßnahme wählen."
                            )
                        )
                        % {"name": values["office"]},
                    )
                )
    return data


def _resolve_strategies(row: _MeasureRow, lookups: _MeasureLookups, data: MeasureData) -> None:
    """Strategies and fields of action: a sub-measure carries its parent's strategies."""
    if "strategies" in row.values:
        data.strategy_ids = _strategy_ids(row, lookups)
    parent_ids: list[int] | None = None
    if row.parent_row is not None and row.parent_row.data is not None:
        parent_ids = sorted(row.parent_row.data.strategy_ids)
    elif row.parent_stored is not None:
        parent_ids = sorted(s.pk for s in row.parent_stored.strategies.all())
    if parent_ids is not None:
        if row.values.get("strategies") and data.strategy_ids != parent_ids:
            row.errors.append(
                _error(
                    row.line,
                    "strategies",
                    _(
                        "Eine Teilmaßnahme gehört zu den Strategien ihrer übergeordneten "
                        "Maßnahme; bitte die Spalte leer lassen."
                    ),
                )
            )
        data.strategy_ids = parent_ids
    if "fields" in row.values:
        data.field_ids = _field_ids(row, lookups, data.strategy_ids)
    else:
        known = {f.pk for pk in data.strategy_ids for f in lookups.fields.get(pk, {}).values()}
        data.field_ids = [pk for pk in data.field_ids if pk in known]


def _check_weights(rows: list[_MeasureRow], lookups: _MeasureLookups) -> None:
    """The weights of each parent's sub-measures (those of the file and the stored ones the
    file does not move) add up to 100."""
    in_file = {row.stored.pk for row in rows if row.stored is not None}
    by_parent: dict[str, list[_MeasureRow]] = {}
    names: dict[str, str] = {}
    for row in rows:
        if row.data is None or (row.parent_row is None and row.parent_stored is None):
            continue
        parent_key = (
            row.parent_key
            or (
                row.parent_stored.external_id or f"#{row.parent_stored.pk}"
                if row.parent_stored is not None
                else ""
            ).casefold()
        )
        by_parent.setdefault(parent_key, []).append(row)
        names[parent_key] = row.values.get("parent") or (
            row.parent_stored.code if row.parent_stored is not None else parent_key
        )
    for parent_key, children in by_parent.items():
        total = sum(child.data.weight or 0 for child in children if child.data is not None)
        parent = children[0].parent_stored
        if parent is not None:
            total += sum(
                other.weight or 0
                for other in lookups.children.get(parent.pk, [])
                if other.pk not in in_file
            )
        if total == 100:
            continue
        for child in children:
            if not any(error.column == "weight" for error in child.errors):
                child.errors.append(
                    _error(
                        child.line,
                        "weight",
                        _(
                            "Die Gewichte der Teilmaßnahmen von „%(parent)s“ ergeben "
                            "%(total)d %%, nicht 100 %%."
                        )
                        % {"parent": names[parent_key], "total": total},
                    )
                )


def _check_measures(table: Table, lookups: _MeasureLookups) -> tuple[list[_MeasureRow], set[str]]:
    """Every row read and checked on its own and against the others; nothing written.
    Returns the rows and the external ids (lower case) the file names as parents."""
    rows: list[_MeasureRow] = []
    keys_in_file = {row.get("external_id", "").strip().casefold() for _line, row in table.rows}
    parents = {row.get("parent", "").strip().casefold() for _line, row in table.rows} - {""}
    earlier: dict[str, _MeasureRow] = {}
    seen_codes: dict[str, int] = {}
    for line, cells in table.rows:
        errors: list[RowError] = []
        values = csvimport.cells(cells, MEASURE_PARSERS, file="measures", line=line, errors=errors)
        if line in table.too_long:
            errors.append(csvimport.too_long("measures", line))
        row = _MeasureRow(
            line=line, key=values.get("external_id", ""), values=values, errors=errors
        )
        key = row.key.casefold()
        if key in earlier:
            errors.append(csvimport.duplicate("measures", "external_id", line, earlier[key].line))
        row.stored = lookups.by_external.get(key) if key else None
        _check_key(row, lookups, seen_codes)
        _check_parent(row, lookups, earlier, keys_in_file)
        data = _row_data(row, lookups, parents)
        row.data = data
        _resolve_strategies(row, lookups, data)
        _check_rules(row)
        if key and key not in earlier:
            earlier[key] = row
        rows.append(row)
    _check_weights(rows, lookups)
    return rows, parents


def _column_of(error: StrategyError) -> str:
    name = error.field or ""
    if name in _FIELD_COLUMN:
        return _FIELD_COLUMN[name]
    return name if name in MEASURE_COLUMNS else ""


def _service_error(row: _MeasureRow, error: StrategyError) -> None:
    row.errors.append(_error(row.line, _column_of(error), str(error.message)))


def _write_row(row: _MeasureRow, *, actor: User, parents: set[str]) -> str:
    """Write one checked row through the services; returns the outcome. A sub-measure of a
    rolled-up parent keeps its stored weight (a new one 0) for now: the parent's weights
    are set together afterwards (``_finish_parents``), as they add up to 100 only then. A
    new parent is created with an entered progress and rolled up once its sub-measures are
    there."""
    data = row.data
    assert data is not None  # noqa: S101 (rows with data only)
    stored = row.stored
    stored_data = _measure_data_of(stored) if stored is not None else None
    if stored_data is not None and _same(data, stored_data):
        row.written = stored
        return "unchanged"
    write = replace(data)
    parent = row.parent_row.written if row.parent_row is not None else row.parent_stored
    if parent is not None and parent.progress_mode == ProgressMode.ROLLED_UP:
        same_parent = stored is not None and stored.parent_id == parent.pk
        write.weight = stored.weight if same_parent and stored is not None else 0
    if stored is None and row.key.casefold() in parents:
        write.progress_mode = ProgressMode.ENTERED
    if stored is not None and stored_data is not None and _same(write, stored_data):
        row.written = stored
        return "updated"  # only the weight changes (``_finish_parents``)
    with transaction.atomic():
        if stored is None:
            row.written = measure_create(actor=actor, data=write)
            return "created"
        row.written = measure_update(actor=actor, measure_id=stored.pk, data=write)
        return "updated"


def _finish_parents(rows: list[_MeasureRow], *, actor: User, parents: set[str]) -> None:
    """The parents of the file's sub-measures: their weights set all at once, where they
    change; a new parent switched to rolling its progress up from them."""
    children: dict[int, list[_MeasureRow]] = {}
    for row in rows:
        parent = row.parent_row.written if row.parent_row is not None else row.parent_stored
        if row.written is not None and parent is not None and row.data is not None:
            children.setdefault(parent.pk, []).append(row)
    for parent_id, file_rows in children.items():
        final = {row.written.pk: row.data.weight for row in file_rows if row.written and row.data}
        current = dict(Measure.objects.filter(parent_id=parent_id).values_list("pk", "weight"))
        wanted = {pk: final.get(pk, weight) for pk, weight in current.items()}
        if wanted == current:
            continue
        try:
            with transaction.atomic():
                measure_weights_set(
                    actor=actor,
                    measure_id=parent_id,
                    weights={pk: weight or 0 for pk, weight in wanted.items()},
                )
        except StrategyError as error:
            file_rows[0].errors.append(_error(file_rows[0].line, "weight", str(error.message)))
    for row in rows:
        if row.errors or row.stored is not None or row.key.casefold() not in parents:
            continue
        if row.written is None or row.data is None:
            continue
        try:
            with transaction.atomic():
                measure_update(actor=actor, measure_id=row.written.pk, data=replace(row.data))
        except StrategyError as error:
            _service_error(row, error)


def _write_measures(
    rows: list[_MeasureRow],
    *,
    actor: User,
    result: ImportResult,
    progress: Callable[[str], None],
    parents: set[str],
) -> None:
    """Write the rows in order (a parent before its sub-measures), each through the
    services; a row equal to the stored measure is not written at all."""
    outcomes: dict[int, str] = {}
    for count, row in enumerate(rows, start=1):
        if count % 100 == 0:
            progress(_("Maßnahmen: %(count)d Zeilen verarbeitet") % {"count": count})
        data = row.data
        if not row.errors and data is not None and row.parent_row is not None:
            if row.parent_row.written is None:
                row.errors.append(
                    _error(
                        row.line,
                        "parent",
                        _(
                            "Die übergeordnete Maßnahme „%(parent)s“ wird wegen eines Fehlers "
                            "in Zeile %(line)d nicht importiert."
                        )
                        % {"parent": row.values.get("parent", ""), "line": row.parent_row.line},
                    )
                )
            else:
                data.parent_id = row.parent_row.written.pk
        if row.errors or data is None:
            continue
        try:
            outcomes[row.line] = _write_row(row, actor=actor, parents=parents)
        except StrategyError as error:
            _service_error(row, error)
        except IntegrityError:
            row.errors.append(
                _error(row.line, "code", _("Kürzel oder externe Kennung sind schon vergeben."))
            )
    _finish_parents(rows, actor=actor, parents=parents)
    for row in rows:
        if row.errors or row.line not in outcomes:
            result.errors += row.errors
            result.measures.rejected += 1
        else:
            result.measures.add(outcomes[row.line])


# ---- observations ----------------------------------------------------------------------------


def _import_observations(
    table: Table,
    *,
    actor: User | None,
    result: ImportResult,
    progress: Callable[[str], None],
) -> None:
    indicators = {
        (i.external_id or "").casefold(): i
        for i in Indicator.objects.exclude(external_id=None).exclude(external_id="")
    }
    seen: dict[tuple[int, date], int] = {}
    for count, (line, cells) in enumerate(table.rows, start=1):
        if count % 100 == 0:
            progress(_("Messwerte: %(count)d Zeilen verarbeitet") % {"count": count})
        errors: list[RowError] = []
        values = csvimport.cells(
            cells, OBSERVATION_PARSERS, file="observations", line=line, errors=errors
        )
        if line in table.too_long:
            errors.append(csvimport.too_long("observations", line))
        key = values.get("indicator", "")
        indicator = indicators.get(key.casefold()) if key else None
        if not key:
            errors.append(
                RowError(
                    "observations",
                    line,
                    "indicator",
                    _("Bitte die externe Kennung der Kennzahl angeben."),
                )
            )
        elif indicator is None:
            errors.append(
                RowError(
                    "observations",
                    line,
                    "indicator",
                    _("Eine Kennzahl mit der externen Kennung „%(key)s“ gibt es nicht.")
                    % {"key": key},
                )
            )
        unit = values.get("unit", "")  # checked by observation_record
        if indicator is not None and "period" in values:
            start = period_start(frequency=indicator.frequency, day=values["period"])
            if (indicator.pk, start) in seen:
                errors.append(
                    RowError(
                        "observations",
                        line,
                        "period",
                        _(
                            "Den Wert dieser Kennzahl für diesen Zeitraum nennt schon Zeile "
                            "%(line)d."
                        )
                        % {"line": seen[(indicator.pk, start)]},
                    )
                )
            else:
                seen[(indicator.pk, start)] = line
        outcome = ""
        if not errors and indicator is not None:
            stored = None
            if "provisional" not in values or "note" not in values:
                stored = indicator.observations.filter(
                    period=period_start(frequency=indicator.frequency, day=values["period"])
                ).first()
            try:
                with transaction.atomic():
                    _saved, outcome = observation_record(
                        actor=actor,
                        indicator_id=indicator.pk,
                        period=values["period"],
                        value=values["value"],
                        provisional=values.get(
                            "provisional", stored.provisional if stored else False
                        ),
                        note=values.get("note", stored.note if stored else ""),
                        unit=unit or None,
                        reason=IMPORT_REASON,
                        source=ObservationSource.IMPORT,
                    )
            except StrategyError as error:
                column = error.field if error.field in OBSERVATION_COLUMNS else ""
                errors.append(RowError("observations", line, column or "", str(error.message)))
        if errors or not outcome:
            result.errors += errors
            result.observations.rejected += 1
            continue
        result.observations.add(outcome)


# ---- the import ------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


_REQUIRED = {"measures": ("external_id",), "observations": ("indicator", "period", "value")}


def _missing_columns(table: Table, kind: str) -> CsvFileError | None:
    present = {name for _line, row in table.rows[:1] for name in row}
    missing = [name for name in _REQUIRED[kind] if table.rows and name not in present]
    if not missing:
        return None
    return CsvFileError(
        _("Der Datei fehlen Spalten: %(columns)s.") % {"columns": ", ".join(missing)}, file=kind
    )


def strategy_import(
    *,
    actor: User | None,
    measures: bytes | None = None,
    observations: bytes | None = None,
    check_only: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import ``measures.csv`` and/or ``observations.csv`` (their bytes), all or nothing.

    ``actor`` is the staff member (department staff only); ``None`` (the command line
    without ``--actor``) may import observations only.
    With ``check_only`` the files are checked and nothing is saved. If a row is wrong,
    nothing of either file is saved and the result lists every wrong row (the counts then
    say what would have happened)."""
    if actor is not None:
        strategy_staff_required(user=actor)
    elif measures is not None:
        # measures are written in the name of a staff member (the services' audit and rules)
        raise PermissionDenied
    say = progress or (lambda message: None)
    result = ImportResult()
    tables: dict[str, Table] = {}
    for kind, data, key, known in (
        ("measures", measures, "external_id", MEASURE_COLUMNS),
        ("observations", observations, "indicator", OBSERVATION_COLUMNS),
    ):
        if data is None:
            continue
        try:
            table = csvimport.read_table(data, file=kind, key=key, known=known)
        except CsvFileError as error:
            result.file_errors.append(error)
            continue
        missing = _missing_columns(table, kind)
        if missing is not None:
            result.file_errors.append(missing)
            continue
        tables[kind] = table
        say(_("%(file)s: %(rows)d Zeilen") % {"file": FILE_LABELS[kind], "rows": len(table.rows)})
        if table.ignored:
            result.notes.append(
                _("%(file)s: Spalten übergangen, die der Import nicht kennt: %(columns)s")
                % {"file": FILE_LABELS[kind], "columns": ", ".join(table.ignored)}
            )
    if result.file_errors:
        return result
    try:
        with transaction.atomic():
            if "measures" in tables:
                rows, parents = _check_measures(tables["measures"], _MeasureLookups())
                say(_("Maßnahmen geprüft"))
                assert actor is not None  # noqa: S101 (checked above)
                _write_measures(rows, actor=actor, result=result, progress=say, parents=parents)
            if "observations" in tables:
                _import_observations(
                    tables["observations"], actor=actor, result=result, progress=say
                )
            if result.errors or check_only:
                raise _Rollback
    except _Rollback:
        result.imported = False
    else:
        result.imported = True
    return result
