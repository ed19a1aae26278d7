"""Writing observations (SensorThings create and the DataArray extension): checking each
row, writing them in one transaction per request, and each Datastream's time range once per
batch. What the answer calls created is committed before the answer is sent."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from psycopg.types.json import Jsonb

from rathaus.citydata.aggregates import Buckets, aggregates_store, buckets_of
from rathaus.citydata.models import (
    Datastream,
    FeatureOfInterest,
    Location,
    Observation,
    WriteToken,
)
from rathaus.core.errors import message_format
from rathaus.core.services import audit_entry_create

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
MAX_ROWS = 100_000  # per request; larger uploads are split by the client
# what a Datastream keeps about its observations (time range, newest value)
SUMMARY_FIELDS = [
    "phenomenon_start",
    "phenomenon_end",
    "latest_time",
    "latest_result",
    "updated_at",
]


T = TypeVar("T")


class RowError(ValueError):
    def __init__(self, message: str | Promise) -> None:
        super().__init__(str(message))
        self.message = message


class Row(NamedTuple):
    datastream_id: int
    phenomenon_time: datetime
    phenomenon_end: datetime | None
    result_time: datetime | None
    result: object
    feature_id: int | None = None  # None: the feature made from the Thing's Location


def write_token_create(*, name: str, actor: AbstractBaseUser | None) -> tuple[WriteToken, str]:
    token = "rs_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = WriteToken.objects.create(
            name=name[:100],
            prefix=token[:10],
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
        )
        audit_entry_create(
            actor=actor,
            action="citydata.write_token.create",
            object_type="citydata.writetoken",
            object_id=record.pk,
            after={"name": record.name, "prefix": record.prefix},
        )
    return record, token


def write_token_get(token: str) -> WriteToken | None:
    """The token's record, if it is one of ours and not revoked."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    return WriteToken.objects.filter(token_hash=digest, revoked_at__isnull=True).first()


def parse_time(value: object, what: str) -> tuple[datetime, datetime | None]:
    """An ISO 8601 instant or interval ``start/end``, with a zone (a time without one is
    ambiguous by an hour or two and refused)."""
    if not isinstance(value, str) or not value:
        raise RowError(message_format(_("%(what)s fehlt oder ist kein Text."), {"what": what}))
    if "/" not in value:  # the common case, once per observation: no list, no loop
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass  # the message below
        else:
            if moment.tzinfo is not None:
                return moment, None
    parts = value.split("/")
    if len(parts) > 2:
        raise RowError(message_format(_("%(what)s ist keine Zeit nach ISO 8601."), {"what": what}))
    moments = []
    for part in parts:
        try:
            moment = datetime.fromisoformat(part)
        except ValueError:
            raise RowError(
                message_format(_("%(what)s ist keine Zeit nach ISO 8601."), {"what": what})
            ) from None
        if timezone.is_naive(moment):
            raise RowError(
                message_format(
                    _("%(what)s braucht eine Zeitzone (z. B. 2026-11-27T08:00:00Z)."),
                    {"what": what},
                )
            )
        moments.append(moment)
    if len(moments) == 2 and moments[1] < moments[0]:
        raise RowError(message_format(_("%(what)s endet vor dem Anfang."), {"what": what}))
    return moments[0], (moments[1] if len(moments) == 2 else None)


def row_from(
    *,
    datastream: Datastream,
    phenomenon_time: object,
    result: object,
    result_time: object = None,
    feature_id: int | None = None,
) -> Row:
    start, end = parse_time(phenomenon_time, "phenomenonTime")
    when = parse_time(result_time, "resultTime")[0] if result_time is not None else None
    if datastream.observation_type == MEASUREMENT and (
        isinstance(result, bool) or not isinstance(result, int | float) or not _finite(result)
    ):
        raise RowError(_("Dieser Datastream erwartet eine Zahl als result."))
    return Row(datastream.pk, start, end, when, result, feature_id)


def _finite(number: float) -> bool:
    """Whether a JSON number fits a double (an integer of 400 digits does not)."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def observations_write(rows: Sequence[Row]) -> list[int]:
    """All rows in one transaction; each touched Datastream's phenomenon time range and
    latest value updated once (not once per row) and its hourly and daily aggregates added
    to. The new observations' ids, in the order of the rows."""
    if len(rows) > MAX_ROWS:
        raise RowError(
            message_format(_("Höchstens %(max)s Beobachtungen je Anfrage."), {"max": MAX_ROWS})
        )
    with transaction.atomic():
        features = features_of_things({r.datastream_id for r in rows if r.feature_id is None})
        feature_ids = [
            features.get(row.datastream_id) if row.feature_id is None else row.feature_id
            for row in rows
        ]
        numbers = [number_of(row.result) for row in rows]  # once per row, for all below

        def summarise() -> tuple[Buckets, dict[int, list[Any]]]:
            return (
                buckets_of(
                    (row.datastream_id, row.phenomenon_time, number)
                    for row, number in zip(rows, numbers, strict=True)
                ),
                _summary(rows),
            )

        if connection.vendor == "postgresql":
            created, (buckets, summary) = _copy(rows, numbers, feature_ids, summarise)
        else:
            created = [
                o.pk
                for o in Observation.objects.bulk_create(
                    (
                        Observation(
                            datastream_id=row.datastream_id,
                            phenomenon_time=row.phenomenon_time,
                            phenomenon_time_end=row.phenomenon_end,
                            result_time=row.result_time,
                            result_number=number,
                            result_json=None if number is not None else row.result,
                            feature_of_interest_id=feature,
                        )
                        for row, number, feature in zip(rows, numbers, feature_ids, strict=True)
                    ),
                    batch_size=5000,
                )
            ]
            buckets, summary = summarise()
        aggregates_store(buckets)
        # FOR NO KEY UPDATE: concurrent batches wait here only, not while writing (writing
        # locks the Datastream FOR KEY SHARE, migration 0006, which this lock lets through)
        streams = Datastream.objects.select_for_update(no_key=True).filter(pk__in=list(summary))
        for stream in streams:
            low, high, latest = summary[stream.pk]
            stream.phenomenon_start = min(filter(None, (stream.phenomenon_start, low)))
            stream.phenomenon_end = max(filter(None, (stream.phenomenon_end, high)))
            if stream.latest_time is None or latest.phenomenon_time >= stream.latest_time:
                stream.latest_time = latest.phenomenon_time
                stream.latest_result = number_of(latest.result)
            stream.save(update_fields=SUMMARY_FIELDS)
    return created


def _summary(rows: Sequence[Row]) -> dict[int, list[Any]]:
    """Per datastream: [earliest start, latest end, newest row]."""
    summary: dict[int, list[Any]] = {}
    for row in rows:
        end = row.phenomenon_end or row.phenomenon_time
        known = summary.get(row.datastream_id)
        if known is None:
            summary[row.datastream_id] = [row.phenomenon_time, end, row]
            continue
        if row.phenomenon_time < known[0]:
            known[0] = row.phenomenon_time
        if end > known[1]:
            known[1] = end
        if row.phenomenon_time >= known[2].phenomenon_time:
            known[2] = row
    return summary


def number_of(value: object) -> float | None:
    """A result as a number where it is one (kept in result_number), else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


_COPY_COLUMNS = (
    "id",
    "datastream_id",
    "phenomenon_time",
    "phenomenon_time_end",
    "result_time",
    "result_number",
    "result_json",
    "feature_of_interest_id",
)


_COPY_TYPES = (
    "int8",
    "int8",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "float8",
    "jsonb",
    "int8",
)


def _copy(
    rows: Sequence[Row],
    numbers: Sequence[float | None],
    feature_ids: Sequence[int | None],
    meanwhile: Callable[[], T],
) -> tuple[list[int], T]:
    """PostgreSQL's COPY (binary, the column types named once), with ids taken from the
    table's sequence first (the answer names each new observation): no model object per row,
    no INSERT statement to build. ``meanwhile`` runs after the last row is sent, while the
    database is still taking the rows in; its result is returned with the ids."""
    table = Observation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            # the sequence's name looked up once (a subquery), not once per id
            "SELECT array_agg(nextval((SELECT pg_get_serial_sequence(%s, 'id')::regclass))) "
            "FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids: list[int] = cursor.fetchone()[0]
        columns = ", ".join(_COPY_COLUMNS)
        raw = cursor.cursor  # psycopg's own cursor: Django has no COPY
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:  # noqa: S608 - ours
            copy.set_types(_COPY_TYPES)
            write = copy.write_row
            for pk, row, number, feature in zip(ids, rows, numbers, feature_ids, strict=True):
                write(
                    (
                        pk,
                        row.datastream_id,
                        row.phenomenon_time,
                        row.phenomenon_end,
                        row.result_time,
                        number,
                        None if number is not None else Jsonb(row.result),
                        feature,
                    )
                )
            done = meanwhile()
    return ids, done


def features_of_things(datastream_ids: set[int]) -> dict[int, int]:
    """The FeatureOfInterest of observations that come without one, per datastream: made
    from the Thing's Location (its newest), once per Location, as the standard asks. Two
    queries per batch, a third where a Location has no feature yet."""
    if not datastream_ids:
        return {}
    newest: dict[int, int] = {}
    for stream_id, location_id in Datastream.objects.filter(
        pk__in=datastream_ids, thing__locations__isnull=False
    ).values_list("pk", "thing__locations__pk"):
        newest[stream_id] = max(location_id, newest.get(stream_id, 0))
    if not newest:
        return {}
    wanted = set(newest.values())
    known = dict(
        FeatureOfInterest.objects.filter(location_id__in=wanted).values_list("location_id", "pk")
    )
    missing = Location.objects.filter(pk__in=wanted - set(known))
    if missing:
        FeatureOfInterest.objects.bulk_create(
            [
                FeatureOfInterest(
                    name=place.name,
                    description=place.description,
                    encoding_type=place.encoding_type,
                    feature=place.location,
                    lat=place.lat,
                    lon=place.lon,
                    location=place,
                )
                for place in missing
            ],
            ignore_conflicts=True,  # another batch made it at the same moment
        )
        known = dict(
            FeatureOfInterest.objects.filter(location_id__in=wanted).values_list(
                "location_id", "pk"
            )
        )
    return {stream: known[place] for stream, place in newest.items() if place in known}


def datastreams_by_id(ids: set[int]) -> dict[int, Datastream]:
    return Datastream.objects.in_bulk(list(ids))


def data_array_rows(body: Any) -> tuple[list[Row | None], list[str]]:
    """The rows of a DataArray request (``/CreateObservations``): per row a Row or None
    with the reason."""
    if not isinstance(body, list):
        raise RowError(_("CreateObservations erwartet eine Liste von DataArrays."))
    wanted: set[int] = set()
    for block in body:
        stream = block.get("Datastream", {}) if isinstance(block, dict) else {}
        if isinstance(stream, dict) and isinstance(stream.get("@iot.id"), int):
            wanted.add(stream["@iot.id"])
    streams = datastreams_by_id(wanted)
    rows: list[Row | None] = []
    reasons: list[str] = []
    for block in body:
        if not isinstance(block, dict):
            raise RowError(_("Jedes DataArray ist ein Objekt."))
        reference = block.get("Datastream")
        stream_id = reference.get("@iot.id") if isinstance(reference, dict) else None
        stream = streams.get(stream_id) if isinstance(stream_id, int) else None
        components = block.get("components")
        data = block.get("dataArray")
        if stream is None:
            raise RowError(
                message_format(_("Datastream %(id)s gibt es nicht."), {"id": str(stream_id)[:20]})
            )
        if (
            not isinstance(components, list)
            or "phenomenonTime" not in components
            or "result" not in components
            or not isinstance(data, list)
        ):
            raise RowError(
                _("Ein DataArray braucht components mit phenomenonTime und result und dataArray.")
            )
        at = {name: i for i, name in enumerate(components)}
        width, at_time, at_result = len(components), at["phenomenonTime"], at["result"]
        plain = "resultTime" not in at
        numeric = stream.observation_type == MEASUREMENT
        stream_id = stream.pk
        for values in data:
            # the common row (an instant with a zone, a finite number) without a call per
            # row; anything else goes through row_from, which also says what is wrong
            if plain and type(values) is list and len(values) == width:
                text, result = values[at_time], values[at_result]
                if type(text) is str and "/" not in text:
                    try:
                        moment = datetime.fromisoformat(text)
                    except ValueError:
                        moment = None
                    if (
                        moment is not None
                        and moment.tzinfo is not None
                        and (not numeric or (type(result) is float and math.isfinite(result)))
                    ):
                        rows.append(Row(stream_id, moment, None, None, result))
                        reasons.append("")
                        continue
            try:
                if not isinstance(values, list) or len(values) != len(components):
                    raise RowError(_("Eine Zeile passt nicht zu components."))
                rows.append(
                    row_from(
                        datastream=stream,
                        phenomenon_time=values[at["phenomenonTime"]],
                        result=values[at["result"]],
                        result_time=values[at["resultTime"]] if "resultTime" in at else None,
                    )
                )
                reasons.append("")
            except RowError as exc:
                rows.append(None)
                reasons.append(str(exc.message))
    return rows, reasons
