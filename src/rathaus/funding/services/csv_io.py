"""CSV export and import of the funding register: ``programmes.csv`` and ``calls.csv``.

The files an export writes are the files the import reads: export, edit in a spreadsheet,
import again. The format, both ways:

- UTF-8 with a byte order mark, ``;`` between the columns, CRLF line ends: German Excel opens
  it as it is. The import also takes ``,`` or a tab (recognised from the header row), UTF-8
  without the mark and, failing UTF-8, Windows-1252 (what older Excel saves).
- The first row names the columns (any order, case ignored; unknown columns are ignored and
  reported). ``programmes.csv``: ``code`` (the key), ``name``, ``funder``, ``level``,
  ``funding_type``, ``themes``, ``applicant_types``, ``regions``, ``rate_max``,
  ``amount_min``, ``amount_max``, ``legal_basis``, ``source_url``, ``last_checked``,
  ``description``. ``calls.csv``: ``identifier`` (the key), ``programme_code``, ``title``,
  ``status``, ``opens_on``, ``deadline_model``, ``deadlines``, ``budget``,
  ``expected_grants``, ``url``, ``notes``.
- Choices are written as their codes (``eu``, ``grant``, ``open``, ``two_stage`` ...); the
  import also takes their German names ("Bund", "Zweistufig ..."). An empty ``funding_type``,
  ``status`` or ``deadline_model`` is the default (grant, forthcoming, single).
- Lists (``themes``, ``applicant_types``, ``regions``) are codes separated by ``|``:
  ``digitalisation|data|smart_city``.
- Amounts and the rate are written the German way without thousands separators (``1234,56``);
  the import reads "1.234,56 €", "1234,56" and "1234.56" (``core.money.parse_amount``:
  "1.234" is one thousand two hundred and thirty-four).
- Dates are written ``2027-03-15``; the import also reads ``15.03.2027``.
- ``deadlines`` holds the call's deadlines in order, separated by `` | ``, each as the funder
  states it: local date and time, the IANA time zone, and after ``=`` an optional label:
  ``2027-03-15 17:00 Europe/Brussels=Skizze | 2027-09-01 17:00 Europe/Brussels=Vollantrag``.
  The import takes a missing zone as Europe/Berlin and ``15.03.2027 17:00`` as well.
- Text a spreadsheet would take for a formula (starting with = + - @) is written with an
  apostrophe in front (``core.csvsafe``); the import takes that apostrophe off again.

The import is keyed by programme code and call identifier (case-insensitive): a row updates
the programme or call with that key or creates it; a row equal to what is stored changes
nothing ("unchanged"), so importing the same file twice is harmless. A column missing from the
file keeps the stored value. A calls file may name programmes created by the programmes file
of the same run. The rules are the forms' (``services.programmes``): a deadline in the past
only for a call with status closed, and so on. The whole of both files is checked first: if
any row is wrong nothing is imported and every wrong row is reported with its line, column
and reason. A file over 5 MB, or one that is not CSV text, is refused as a whole. The reading
of the files and their cells is ``core.csvimport``, shared with the strategy's import."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.core import csvimport
from rathaus.core.csvimport import CellError, CsvFileError, RowError, Table
from rathaus.core.csvsafe import csv_cell
from rathaus.core.money import amount_text
from rathaus.core.themes import Theme, mask_of, values_of
from rathaus.funding.constants import (
    ApplicantType,
    CallStatus,
    DeadlineModel,
    FundingType,
    Level,
    Region,
)
from rathaus.funding.models import Call, CallDeadline, Programme
from rathaus.funding.selectors.programmes import RegisterFilters, programme_search
from rathaus.funding.services.programmes import (
    CallData,
    DeadlineData,
    Outcome,
    Problem,
    ProgrammeData,
    RegisterError,
    call_data_normalised,
    call_data_of,
    call_problems,
    call_write,
    deadline_local,
    programme_data_normalised,
    programme_data_of,
    programme_problems,
    programme_write,
)

DELIMITER = ";"
LIST_SEPARATOR = "|"
DEADLINE_SEPARATOR = " | "

PROGRAMME_COLUMNS = (
    "code",
    "name",
    "funder",
    "level",
    "funding_type",
    "themes",
    "applicant_types",
    "regions",
    "rate_max",
    "amount_min",
    "amount_max",
    "legal_basis",
    "source_url",
    "last_checked",
    "description",
)
CALL_COLUMNS = (
    "identifier",
    "programme_code",
    "title",
    "status",
    "opens_on",
    "deadline_model",
    "deadlines",
    "budget",
    "expected_grants",
    "url",
    "notes",
)
FILE_LABELS = {"programmes": _lazy("Programmdatei"), "calls": _lazy("Aufrufdatei")}
# the data's field behind a column, where the names differ
_PROGRAMME_FIELD_COLUMN = {
    "themes_mask": "themes",
    "applicant_types_mask": "applicant_types",
    "regions_mask": "regions",
}


# ---- export ----------------------------------------------------------------------------------


def _choices_text(mask: int, choices: type[Any]) -> str:
    return LIST_SEPARATOR.join(values_of(mask, choices))


def _date_text(value: date | None) -> str:
    return value.isoformat() if value else ""


def deadlines_text(deadlines: Iterable[CallDeadline]) -> str:
    """A call's deadlines as the ``deadlines`` column holds them."""
    entries = []
    for deadline in deadlines:
        local = deadline_local(deadline.due_at, deadline.timezone)
        entry = f"{local:%Y-%m-%d %H:%M} {deadline.timezone}"
        if deadline.label:
            entry += f"={deadline.label}"
        entries.append(entry)
    return DEADLINE_SEPARATOR.join(entries)


def _csv_text(columns: tuple[str, ...], rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell("" if value is None else value) for value in row])
    return "\ufeff" + buffer.getvalue()


def programmes_csv(*, filters: RegisterFilters | None = None) -> str:
    """The register's programmes (those matching ``filters``) as ``programmes.csv``."""
    programmes = programme_search(filters=filters or RegisterFilters()).order_by("code")
    return _csv_text(
        PROGRAMME_COLUMNS,
        (
            [
                p.code,
                p.name,
                p.funder,
                p.level,
                p.funding_type,
                _choices_text(p.themes_mask, Theme),
                _choices_text(p.applicant_types_mask, ApplicantType),
                _choices_text(p.regions_mask, Region),
                amount_text(p.rate_max),
                amount_text(p.amount_min),
                amount_text(p.amount_max),
                p.legal_basis,
                p.source_url,
                _date_text(p.last_checked),
                p.description,
            ]
            for p in programmes.iterator(chunk_size=500)
        ),
    )


def calls_csv(*, filters: RegisterFilters | None = None) -> str:
    """The calls of the register's programmes (those matching ``filters``) as ``calls.csv``."""
    calls = Call.objects.select_related("programme").order_by("programme__code", "identifier")
    if filters is not None and filters != RegisterFilters():
        calls = calls.filter(programme__in=programme_search(filters=filters))
    calls = calls.prefetch_related(
        Prefetch("deadlines", queryset=CallDeadline.objects.order_by("position"))
    )
    return _csv_text(
        CALL_COLUMNS,
        (
            [
                c.identifier,
                c.programme.code,
                c.title,
                c.status,
                _date_text(c.opens_on),
                c.deadline_model,
                deadlines_text(c.deadlines.all()),
                amount_text(c.budget),
                "" if c.expected_grants is None else str(c.expected_grants),
                c.url,
                c.notes,
            ]
            for c in calls
        ),
    )


# ---- import: the result ----------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class ImportResult:
    """What an import did: per file the rows created, updated, unchanged and rejected; the
    wrong rows; files refused as a whole; notes (ignored columns). ``imported`` is False when
    nothing was saved (an error, or only a check)."""

    programmes: Counts = field(default_factory=Counts)
    calls: Counts = field(default_factory=Counts)
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[CsvFileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_errors


# ---- import: reading the cells ---------------------------------------------------------------


def _choice(text: str, choices: type[Any], *, default: str = "") -> str:
    if not text:
        return default
    lowered = text.lower()
    for value, label in choices.choices:
        if lowered in (str(value).lower(), str(label).lower()):
            return str(value)
    raise CellError(
        _("„%(text)s“ ist kein möglicher Wert (möglich: %(values)s).")
        % {"text": text, "values": ", ".join(choices.values)}
    )


def _mask(text: str, choices: type[Any]) -> int:
    values = [_choice(part.strip(), choices) for part in text.split(LIST_SEPARATOR)]
    return mask_of([value for value in values if value], choices)


def _whole_number(text: str) -> int | None:
    if not text:
        return None
    cleaned = text.replace(".", "").replace(" ", "")
    if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) < 10):
        raise CellError(_("„%(text)s“ ist keine ganze Zahl.") % {"text": text})
    return int(cleaned)


def _time(text: str) -> time:
    for pattern in ("%H:%M", "%H:%M:%S", "%H.%M"):
        try:
            return datetime.strptime(text, pattern).time()  # noqa: DTZ007 (a local time)
        except ValueError:
            continue
    raise CellError(_("„%(text)s“ ist keine Uhrzeit (Beispiel: 17:00).") % {"text": text})


def parse_deadlines(text: str) -> list[DeadlineData]:
    """The ``deadlines`` column: "2027-03-15 17:00 Europe/Brussels=Skizze | ..."."""
    deadlines = []
    entries = [entry.strip() for entry in text.split(LIST_SEPARATOR)]
    for number, entry in enumerate((e for e in entries if e), start=1):
        when, _sep, label = entry.partition("=")
        parts = when.split()
        if len(parts) not in (2, 3):
            raise CellError(
                _(
                    "Frist %(number)d („%(entry)s“): Bitte als „Datum Uhrzeit Zeitzone=Bezeichnung“ "
                    "angeben, z. B. 2027-03-15 17:00 Europe/Brussels=Skizze."
                )
                % {"number": number, "entry": entry}
            )
        try:
            day = csvimport.parse_date(parts[0])
            moment = _time(parts[1])
        except CellError as error:
            raise CellError(
                _("Frist %(number)d: %(reason)s") % {"number": number, "reason": error}
            ) from None
        assert day is not None  # noqa: S101 (parts[0] is not empty)
        deadlines.append(
            DeadlineData(
                label=label.strip(),
                local=datetime.combine(day, moment),  # noqa: DTZ001 (local, zone beside it)
                timezone=parts[2] if len(parts) == 3 else "Europe/Berlin",
            )
        )
    return deadlines


def _further(errors: list[RowError], more: list[RowError]) -> list[RowError]:
    """``more`` without the errors in columns that ``errors`` already names (one reason a
    cell is enough: a cell that could not be read is also "missing" to the rules)."""
    named = {error.column for error in errors}
    return [error for error in more if error.column not in named]


def _text_cell(text: str) -> str:
    return text


PROGRAMME_PARSERS: dict[str, Callable[[str], Any]] = {
    "code": _text_cell,
    "name": _text_cell,
    "funder": _text_cell,
    "level": lambda text: _choice(text, Level),
    "funding_type": lambda text: _choice(text, FundingType, default=FundingType.GRANT),
    "themes": lambda text: _mask(text, Theme),
    "applicant_types": lambda text: _mask(text, ApplicantType),
    "regions": lambda text: _mask(text, Region),
    "rate_max": csvimport.parse_amount,
    "amount_min": csvimport.parse_amount,
    "amount_max": csvimport.parse_amount,
    "legal_basis": _text_cell,
    "source_url": _text_cell,
    "last_checked": csvimport.parse_date,
    "description": _text_cell,
}
CALL_PARSERS: dict[str, Callable[[str], Any]] = {
    "identifier": _text_cell,
    "programme_code": _text_cell,
    "title": _text_cell,
    "status": lambda text: _choice(text, CallStatus, default=CallStatus.FORTHCOMING),
    "opens_on": csvimport.parse_date,
    "deadline_model": lambda text: _choice(text, DeadlineModel, default=DeadlineModel.SINGLE),
    "deadlines": parse_deadlines,
    "budget": csvimport.parse_amount,
    "expected_grants": _whole_number,
    "url": _text_cell,
    "notes": _text_cell,
}


# ---- import: checking and writing ------------------------------------------------------------


def _programme_row_data(values: dict[str, Any], existing: Programme | None) -> ProgrammeData:
    data = (
        programme_data_of(existing)
        if existing is not None
        else ProgrammeData(name="", code="", funder="", level="")
    )
    fields_of = {v: k for k, v in _PROGRAMME_FIELD_COLUMN.items()}
    for column, value in values.items():
        setattr(data, fields_of.get(column, column), value)
    return programme_data_normalised(data)


def _call_row_data(values: dict[str, Any], existing: Call | None, programme_id: int) -> CallData:
    data = (
        call_data_of(existing, deadlines=existing.deadlines.all())
        if existing is not None
        else CallData(programme_id=programme_id, identifier="", title="")
    )
    data.programme_id = programme_id
    for column, value in values.items():
        if column != "programme_code":
            setattr(data, column, value)
    return call_data_normalised(data)


def _programme_errors(problems: list[Problem], *, line: int) -> list[RowError]:
    return [
        RowError(
            "programmes",
            line,
            _PROGRAMME_FIELD_COLUMN.get(problem.field or "", problem.field or ""),
            problem.message,
        )
        for problem in problems
    ]


def _call_errors(problems: list[Problem], data: CallData, *, line: int) -> list[RowError]:
    errors = []
    for problem in problems:
        reason = problem.message
        column = problem.field or ""
        if problem.field in ("due", "timezone", "label"):
            column = "deadlines"
            reason = _("Frist %(number)d: %(reason)s") % {
                "number": (problem.index or 0) + 1,
                "reason": reason,
            }
        elif problem.field == "deadline_model" and data.deadline_model in DeadlineModel.values:
            column = "deadlines"  # the number of deadlines does not fit the model
        elif problem.field == "programme":
            column = "programme_code"
        errors.append(RowError("calls", line, column, reason))
    return errors


def _import_programmes(
    table: Table, *, actor: User | None, result: ImportResult, progress: Callable[[str], None]
) -> dict[str, Programme | None]:
    """Check and write the programme rows. Returns the file's codes (lower case) with their
    programme, or ``None`` for a rejected row."""
    existing = {p.code.lower(): p for p in Programme.objects.all()}
    codes: dict[str, Programme | None] = {}
    seen: dict[str, int] = {}
    for count, (line, row) in enumerate(table.rows, start=1):
        if count % 100 == 0:
            progress(_("Programme: %(count)d Zeilen geprüft") % {"count": count})
        errors: list[RowError] = []
        values = csvimport.cells(
            row, PROGRAMME_PARSERS, file="programmes", line=line, errors=errors
        )
        if line in table.too_long:
            errors.append(csvimport.too_long("programmes", line))
        key = row.get("code", "").strip().lower()
        duplicate = bool(key) and key in seen
        if duplicate:
            errors.append(csvimport.duplicate("programmes", "code", line, seen[key]))
        elif key:
            seen[key] = line
        stored = existing.get(key) if key else None
        programme: Programme | None = None
        outcome: Outcome = "unchanged"
        data = _programme_row_data(values, stored)
        if errors:  # already wrong: report its other mistakes too, write nothing
            problems = programme_problems(data, programme_id=stored.pk if stored else None)
            errors += _further(errors, _programme_errors(problems, line=line))
        else:
            try:
                with transaction.atomic():
                    programme, outcome = programme_write(actor=actor, data=data, programme=stored)
            except RegisterError as error:
                errors += _programme_errors(error.problems, line=line)
            except IntegrityError:
                errors.append(
                    RowError("programmes", line, "code", _("Das Kürzel ist schon vergeben."))
                )
        if errors or programme is None:
            result.errors += errors
            result.programmes.rejected += 1
            if key and not duplicate:
                codes[key] = None
            continue
        codes[key] = programme
        result.programmes.add(outcome)
    return codes


def _call_programme(
    code: str,
    *,
    stored: Call | None,
    from_file: dict[str, Programme | None],
    registered: dict[str, Programme],
    line: int,
    errors: list[RowError],
) -> Programme | None:
    """The programme a call row belongs to: the one named (from the programmes file of this
    run or the register), else the stored call's own."""
    key = code.lower()
    if not code:
        if stored is not None:
            return stored.programme
        errors.append(
            RowError(
                "calls",
                line,
                "programme_code",
                _("Bitte das Kürzel des Programms angeben (ein neuer Aufruf)."),
            )
        )
        return None
    programme = from_file.get(key) or registered.get(key)
    if programme is not None:
        return programme
    if key in from_file:  # a new programme whose row was rejected
        message = _(
            "Das Programm „%(code)s“ wird wegen eines Fehlers in der Programmdatei nicht "
            "importiert."
        )
    else:
        message = _(
            "Ein Programm mit dem Kürzel „%(code)s“ gibt es weder im Register noch in der "
            "Programmdatei."
        )
    errors.append(RowError("calls", line, "programme_code", message % {"code": code}))
    return None


def _import_calls(
    table: Table,
    *,
    actor: User | None,
    result: ImportResult,
    progress: Callable[[str], None],
    from_file: dict[str, Programme | None],
    now: datetime,
) -> None:
    registered = {p.code.lower(): p for p in Programme.objects.all()}
    existing = {
        c.identifier.lower(): c
        for c in Call.objects.select_related("programme").prefetch_related(
            Prefetch("deadlines", queryset=CallDeadline.objects.order_by("position"))
        )
    }
    seen: dict[str, int] = {}
    for count, (line, row) in enumerate(table.rows, start=1):
        if count % 100 == 0:
            progress(_("Aufrufe: %(count)d Zeilen geprüft") % {"count": count})
        errors: list[RowError] = []
        values = csvimport.cells(row, CALL_PARSERS, file="calls", line=line, errors=errors)
        if line in table.too_long:
            errors.append(csvimport.too_long("calls", line))
        key = row.get("identifier", "").strip().lower()
        duplicate = bool(key) and key in seen
        if duplicate:
            errors.append(csvimport.duplicate("calls", "identifier", line, seen[key]))
        elif key:
            seen[key] = line
        stored = existing.get(key) if key else None
        programme = _call_programme(
            row.get("programme_code", "").strip(),
            stored=stored,
            from_file=from_file,
            registered=registered,
            line=line,
            errors=errors,
        )
        outcome: Outcome | None = None
        data = _call_row_data(values, stored, programme.pk if programme else 0)
        if errors:  # already wrong: report its other mistakes too, write nothing
            problems = call_problems(data, call=stored, now=now, check_programme=False)
            errors += _further(errors, _call_errors(problems, data, line=line))
        else:
            try:
                with transaction.atomic():
                    _saved, outcome = call_write(actor=actor, data=data, call=stored, now=now)
            except RegisterError as error:
                errors += _call_errors(error.problems, data, line=line)
            except IntegrityError:
                errors.append(
                    RowError("calls", line, "identifier", _("Die Kennung ist schon vergeben."))
                )
        if errors or outcome is None:
            result.errors += errors
            result.calls.rejected += 1
            continue
        result.calls.add(outcome)


class _Rollback(Exception):
    pass


def register_import(
    *,
    actor: User | None,
    programmes: bytes | None = None,
    calls: bytes | None = None,
    check_only: bool = False,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Import ``programmes.csv`` and/or ``calls.csv`` (their bytes), all or nothing.

    ``actor`` is the staff member (department staff only) or ``None`` for the command line.
    With ``check_only`` the files are checked and nothing is saved. Every row is checked by
    the same rules as the forms; if a row is wrong, nothing of either file is saved and the
    result lists every wrong row (the counts then say what would have happened)."""
    if actor is not None:
        department_staff_required(user=actor)
    say = progress or (lambda message: None)
    now = now or timezone.now()
    result = ImportResult()
    tables: dict[str, Table] = {}
    for name, data, key, known in (
        ("programmes", programmes, "code", PROGRAMME_COLUMNS),
        ("calls", calls, "identifier", CALL_COLUMNS),
    ):
        if data is None:
            continue
        try:
            tables[name] = csvimport.read_table(data, file=name, key=key, known=known)
        except CsvFileError as error:
            result.file_errors.append(error)
            continue
        say(
            _("%(file)s: %(rows)d Zeilen")
            % {"file": FILE_LABELS[name], "rows": len(tables[name].rows)}
        )
        if tables[name].ignored:
            result.notes.append(
                _("%(file)s: Spalten übergangen, die der Import nicht kennt: %(columns)s")
                % {"file": FILE_LABELS[name], "columns": ", ".join(tables[name].ignored)}
            )
    if result.file_errors:
        return result
    try:
        with transaction.atomic():
            from_file: dict[str, Programme | None] = {}
            if "programmes" in tables:
                from_file = _import_programmes(
                    tables["programmes"], actor=actor, result=result, progress=say
                )
            if "calls" in tables:
                _import_calls(
                    tables["calls"],
                    actor=actor,
                    result=result,
                    progress=say,
                    from_file=from_file,
                    now=now,
                )
            if result.errors or check_only:
                raise _Rollback
    except _Rollback:
        result.imported = False
    else:
        result.imported = True
    return result
