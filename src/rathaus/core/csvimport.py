"""Reading uploaded CSV files, shared by the CSV imports of the funding register
(``funding.services.csv_io``: programmes and calls) and of the strategy
(``strategy.services.csv_io``: measures and KPI observations).

What is shared is the file and the cell, not the columns or the rules of a pillar:

- ``read_table`` reads a file's bytes: UTF-8 with or without a byte order mark (failing that
  Windows-1252), ``;`` (German Excel), ``,`` or a tab between the columns (recognised from the
  header row, which must name the key column), at most ``MAX_BYTES`` (5 MB). An Excel
  workbook, binary data or UTF-16 is refused with a clear message (``CsvFileError``). The
  first row names the columns (any order, case ignored); unknown columns are collected in
  ``Table.ignored`` for the import to report. A cell's apostrophe in front of formula-like
  text (``'=...``, as the exports write it with ``core.csvsafe``) is taken off.
- ``cells`` reads a row's cells with a parser per column; a parser raises ``CellError`` for a
  cell it cannot read, and the row's ``RowError`` names line, column and reason.
  ``parse_date`` and ``parse_amount`` are the parsers of dates and amounts; ``too_long`` and
  ``duplicate`` are the errors of a row with too many cells and of a repeated key.
- ``CsvUploadField`` is the upload field of the import forms (refusing a file over 5 MB
  before it is read); ``ImportCommand`` the frame of the ``rathaus import-*`` commands.

The messages are German source strings for gettext, like the rest of the project."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from rathaus.core import money
from rathaus.core.csvsafe import FORMULA_STARTS

MAX_BYTES = 5 * 1024 * 1024


# ---- errors ----------------------------------------------------------------------------------


class CsvFileError(Exception):
    """A file that cannot be imported at all (too large, not CSV, no key column).
    ``file`` is the kind of file (``"programmes"``, ``"measures"`` ...)."""

    def __init__(self, message: str, *, file: str) -> None:
        super().__init__(message)
        self.message = message
        self.file = file


@dataclass(frozen=True)
class RowError:
    """A wrong row (or one cell of it): where it is and why."""

    file: str  # the kind of file: "programmes", "calls", "measures" ...
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = _("Zeile %(line)d") % {"line": self.line}
        if self.column:
            where += ", " + _("Spalte „%(column)s“") % {"column": self.column}
        return f"{where}: {self.reason}"


# ---- reading a file --------------------------------------------------------------------------


@dataclass
class Table:
    """A CSV file as read: its rows by line, with the cells of the known columns."""

    file: str
    rows: list[tuple[int, dict[str, str]]]  # (line, cells by known column)
    ignored: list[str]  # the header's columns the import does not know
    too_long: set[int]  # lines with more cells than the header


def _decode(data: bytes, file: str) -> str:
    if len(data) > MAX_BYTES:
        raise CsvFileError(
            _("Die Datei ist größer als 5 MB. Bitte teilen Sie sie in mehrere Dateien auf."),
            file=file,
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise CsvFileError(
            _(
                "Das ist eine Excel-Datei, keine CSV-Datei. Bitte in Excel „Speichern unter“ "
                "und „CSV UTF-8 (durch Trennzeichen getrennt)“ wählen."
            ),
            file=file,
        )
    if b"\x00" in data:
        raise CsvFileError(
            _("Das ist keine CSV-Datei (Binärdaten oder UTF-16). Bitte als CSV UTF-8 speichern."),
            file=file,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise CsvFileError(
            _("Die Datei ist weder UTF-8 noch Windows-1252. Bitte als CSV UTF-8 speichern."),
            file=file,
        ) from None


def _unquoted(value: str) -> str:
    """A cell without the apostrophe the export puts before formula-like text."""
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _header(line: str, delimiter: str) -> list[str]:
    return [
        name.strip().lstrip("\ufeff").strip()
        for name in next(csv.reader([line], delimiter=delimiter))
    ]


def read_table(data: bytes, *, file: str, key: str, known: tuple[str, ...]) -> Table:
    """The rows of an uploaded CSV file (its bytes) by line: ``known`` are the columns read
    (lower case), ``key`` the one the header must name. The encoding (UTF-8 with or without
    a byte order mark, else Windows-1252) and the delimiter (``;``, ``,`` or a tab: the one
    that finds ``key`` in the header) are recognised. Raises ``CsvFileError`` for a file that
    cannot be read at all (over ``MAX_BYTES``, a workbook, binary, no ``key`` column).
    """
    text = _decode(data, file)
    first = text.split("\n", 1)[0].strip("\r")
    if not first.strip():
        raise CsvFileError(_("Die Datei ist leer oder ihre erste Zeile ist leer."), file=file)
    delimiter = None
    header: list[str] = []
    for candidate in (";", ",", "\t"):  # the delimiter is the one that finds the key column
        names = _header(first, candidate)
        if key in [name.lower() for name in names] and len(names) > len(header):
            delimiter, header = candidate, names
    if delimiter is None:
        raise CsvFileError(
            _(
                "Das ist keine CSV-Datei dieses Imports: Die erste Zeile muss die Spaltennamen "
                "enthalten, darunter „%(key)s“ (getrennt durch ; oder ,)."
            )
            % {"key": key},
            file=file,
        )
    lowered = [name.lower() for name in header]
    doubled = sorted({name for name in lowered if name and lowered.count(name) > 1})
    if doubled:
        raise CsvFileError(
            _("Die Spalte „%(column)s“ steht mehrmals in der ersten Zeile.")
            % {"column": doubled[0]},
            file=file,
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, dict[str, str]]] = []
    long_lines: set[int] = set()
    try:
        next(reader)
        previous = reader.line_num
        for row in reader:
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            rows.append(
                (
                    line,
                    {
                        name: _unquoted(row[index]) if index < len(row) else ""
                        for index, name in enumerate(lowered)
                        if name in known
                    },
                )
            )
            if any(cell.strip() for cell in row[len(header) :]):
                long_lines.add(line)
    except csv.Error as error:
        raise CsvFileError(
            _("Die Datei ist als CSV nicht lesbar (Zeile %(line)d): %(error)s")
            % {"line": reader.line_num, "error": error},
            file=file,
        ) from None
    ignored = [name for name in header if name and name.lower() not in known]
    return Table(file=file, rows=rows, ignored=ignored, too_long=long_lines)


# ---- reading the cells -----------------------------------------------------------------------


class CellError(ValueError):
    """A cell that cannot be read; the message says why (shown with the line and column)."""


def cells(
    row: dict[str, str],
    parsers: dict[str, Callable[[str], Any]],
    *,
    file: str,
    line: int,
    errors: list[RowError],
) -> dict[str, Any]:
    """The row's cells read by the parsers of their columns (only columns in the file); a
    cell that cannot be read is left out, its error added to ``errors``."""
    values: dict[str, Any] = {}
    for column, parse in parsers.items():
        if column not in row:
            continue
        try:
            values[column] = parse(row[column])
        except CellError as error:
            errors.append(RowError(file, line, column, str(error)))
    return values


def parse_amount(text: str) -> Decimal | None:
    """An amount cell ("1.234,56 €", "1234,56", "1234.56": ``core.money.parse_amount``);
    empty is None."""
    if not text:
        return None
    try:
        return money.parse_amount(text)
    except ValueError as error:
        raise CellError(str(error)) from None


def parse_date(text: str) -> date | None:
    """A date cell: ``2027-03-15`` or ``15.03.2027``; empty is None."""
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a date, no zone)
        except ValueError:
            continue
    raise CellError(
        _("„%(text)s“ ist kein Datum (Beispiel: 2027-03-15 oder 15.03.2027).") % {"text": text}
    )


def too_long(file: str, line: int) -> RowError:
    """The error of a line with more cells than the header (``Table.too_long``)."""
    return RowError(
        file,
        line,
        "",
        _(
            "Die Zeile hat mehr Spalten als die erste Zeile (steht ein Trennzeichen im Text "
            "ohne Anführungszeichen?)."
        ),
    )


def duplicate(file: str, column: str, line: int, first: int) -> RowError:
    """The error of a row whose key ``column`` repeats the row in line ``first``."""
    return RowError(
        file,
        line,
        column,
        _("Derselbe Schlüssel steht schon in Zeile %(line)d.") % {"line": first},
    )


# ---- the upload form field -------------------------------------------------------------------


class CsvUploadField(forms.FileField):
    """A form's CSV file upload: refused over ``MAX_BYTES``, like ``read_table`` would."""

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload and upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("Die Datei ist größer als 5 MB. Bitte teilen Sie sie in mehrere Dateien auf."),
                code="too_large",
            )
        return upload


class ImportCommand(BaseCommand):
    """The frame of the ``rathaus import-*`` commands: one option per CSV file (``files``:
    option name -> help), ``--check`` and ``--actor``, reading the files, and the summary
    every import prints (rows created, updated, unchanged and rejected per file, every
    rejected row with its line, column and reason, the time taken); exit status 1 when
    anything was rejected."""

    files: dict[str, str] = {}
    # the word for "updated" per file, where it is another one ("corrected")
    changed_words: dict[str, str] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        for name, help_text in self.files.items():
            parser.add_argument(f"--{name}", type=Path, help=help_text)
        parser.add_argument(
            "--check", action="store_true", help="check the files only, save nothing"
        )
        parser.add_argument(
            "--actor", default="", help="e-mail address of the staff account to record"
        )

    def read_files(self, options: dict[str, Any]) -> dict[str, bytes | None]:
        """The bytes of each file given (None for those not given), announcing each."""
        if all(options[name] is None for name in self.files):
            raise CommandError(
                "give " + ", ".join(f"--{name} FILE" for name in self.files) + " or both"
            )
        contents: dict[str, bytes | None] = {}
        for name in self.files:
            path = options[name]
            if path is None:
                contents[name] = None
                continue
            self.stdout.write(f"reading {path} ({name}) ...")
            try:
                contents[name] = path.read_bytes()
            except OSError as error:
                raise CommandError(f"cannot read {path}: {error}") from None
        return contents

    def actor(self, options: dict[str, Any]) -> Any:
        """The account named by ``--actor`` (None without one)."""
        if not options["actor"]:
            return None
        actor = get_user_model().objects.filter(email__iexact=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no account with the address {options['actor']}")
        return actor

    def progress(self, message: str) -> None:
        self.stdout.write(f"  {message}")

    def finish(
        self,
        result: Any,
        *,
        started: float,
        options: dict[str, Any],
        labels: dict[str, Any],
    ) -> None:
        """Print the summary of an import's ``result`` (``file_errors``, ``errors``,
        ``notes``, ``ok`` and the counts per file as attributes named like the files) and
        end: status 1 if anything was rejected."""
        for error in result.file_errors:
            self.stderr.write(f"{labels[error.file]}: {error.message}")
        if not result.file_errors:
            for name in self.files:
                if options[name] is None:
                    continue
                counts = getattr(result, name)
                changed = self.changed_words.get(name, "updated")
                self.stdout.write(
                    f"{name}: {counts.created} created, {counts.updated} {changed}, "
                    f"{counts.unchanged} unchanged, {counts.rejected} rejected"
                )
            for row_error in result.errors:
                self.stderr.write(f"  {labels[row_error.file]}, {row_error}")
            for note in result.notes:
                self.stdout.write(f"  {note}")
            self.stdout.write(f"in {time.monotonic() - started:.1f} s")
        if not result.ok:
            raise CommandError("nothing imported: the files have errors (listed above)")
        if options["check"]:
            self.stdout.write("checked only: nothing saved")
        else:
            self.stdout.write(self.style.SUCCESS("imported"))
