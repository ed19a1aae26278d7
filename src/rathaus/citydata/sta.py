"""The OGC SensorThings API 1.1 under /api/sta/v1.1/ (issue 8, in progress).

Implemented: the service root; every entity set, an entity by id, navigation from an entity
to its related entities (``Things(1)/Datastreams``) and to a single property
(``Things(1)/name``); ``@iot.id``, ``@iot.selfLink`` and ``<Navigation>@iot.navigationLink``;
``$top`` (at most MAX_TOP per page), ``$skip``, ``$count``, ``$orderby``, ``$select``,
``$filter`` (sta_filter.py) and ``$expand`` with nested options; ``$resultFormat=dataArray``
for Observations; ``/$value`` of a property; server-side paging with ``@iot.nextLink``;
creating Observations, singly and as DataArray (ingest.py), and creating, updating and
deleting every other entity (entities.py). Not yet: MultiDatastreams (listed in
docs/citydata.md). Errors are ``{"code", "type": "error", "message"}`` as
FROST-Server answers, with the message also in German and English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rathaus.citydata import entities, ingest, sta_filter
from rathaus.citydata.models import (
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    Location,
    Observation,
    ObservedProperty,
    Sensor,
    Thing,
    WriteToken,
)
from rathaus.core.errors import bilingual, message_format
from rathaus.core.ratelimit import client_address, ratelimit_exceeded

BASE = "/api/sta/v1.1"
DEFAULT_TOP = 100
MAX_TOP = 1000
MAX_EXPAND_DEPTH = 3
MAX_EXPAND_TOP = 100  # per expanded collection of each entity: bounded work per request
KNOWN = {"$top", "$skip", "$count", "$orderby", "$select", "$filter", "$expand", "$resultFormat"}
# besides the sortable properties, these can be filtered on
EXTRA_FILTERS = {
    "description": "description",
    "definition": "definition",
    "observationType": "observation_type",
    "encodingType": "encoding_type",
}
_SEGMENT = re.compile(r"^([A-Za-z]+)(?:\((\d{1,18})\))?$")


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _interval(start: datetime | None, end: datetime | None) -> str | None:
    if start is None:
        return None
    return f"{_time(start)}/{_time(end or start)}"


@dataclass(frozen=True)
class Nav:
    name: str  # as the API names it
    target: str  # entity set
    accessor: str  # related manager or foreign key on the model
    many: bool


@dataclass(frozen=True)
class EntitySet:
    name: str
    model: type[Model]
    properties: dict[str, Callable[[Any], object]]
    order: dict[str, str]  # API property -> ORM field, for $orderby
    navigation: list[Nav] = field(default_factory=list)


def _common(*names: str) -> dict[str, Callable[[Any], object]]:
    getters: dict[str, Callable[[Any], object]] = {
        "name": lambda o: o.name,
        "description": lambda o: o.description,
        "encodingType": lambda o: o.encoding_type,
        "properties": lambda o: o.properties,
    }
    return {name: getters[name] for name in names}


SETS: dict[str, EntitySet] = {
    entity.name: entity
    for entity in (
        EntitySet(
            "Things",
            Thing,
            _common("name", "description", "properties"),
            {"id": "pk", "name": "name"},
            [
                Nav("Locations", "Locations", "locations", True),
                Nav("HistoricalLocations", "HistoricalLocations", "historical_locations", True),
                Nav("Datastreams", "Datastreams", "datastreams", True),
            ],
        ),
        EntitySet(
            "Locations",
            Location,
            {
                **_common("name", "description", "encodingType"),
                "location": lambda o: o.location,
                **_common("properties"),
            },
            {"id": "pk", "name": "name"},
            [
                Nav("Things", "Things", "things", True),
                Nav("HistoricalLocations", "HistoricalLocations", "historical_locations", True),
            ],
        ),
        EntitySet(
            "HistoricalLocations",
            HistoricalLocation,
            {"time": lambda o: _time(o.time)},
            {"id": "pk", "time": "time"},
            [
                Nav("Thing", "Things", "thing", False),
                Nav("Locations", "Locations", "locations", True),
            ],
        ),
        EntitySet(
            "Sensors",
            Sensor,
            {
                **_common("name", "description", "encodingType"),
                "metadata": lambda o: o.metadata,
                **_common("properties"),
            },
            {"id": "pk", "name": "name"},
            [Nav("Datastreams", "Datastreams", "datastreams", True)],
        ),
        EntitySet(
            "ObservedProperties",
            ObservedProperty,
            {
                "name": lambda o: o.name,
                "definition": lambda o: o.definition,
                "description": lambda o: o.description,
                "properties": lambda o: o.properties,
            },
            {"id": "pk", "name": "name"},
            [Nav("Datastreams", "Datastreams", "datastreams", True)],
        ),
        EntitySet(
            "Datastreams",
            Datastream,
            {
                **_common("name", "description"),
                "observationType": lambda o: o.observation_type,
                "unitOfMeasurement": lambda o: o.unit_of_measurement,
                "observedArea": lambda o: o.observed_area,
                "phenomenonTime": lambda o: _interval(o.phenomenon_start, o.phenomenon_end),
                "resultTime": lambda o: _interval(o.result_start, o.result_end),
                **_common("properties"),
            },
            {"id": "pk", "name": "name"},
            [
                Nav("Thing", "Things", "thing", False),
                Nav("Sensor", "Sensors", "sensor", False),
                Nav("ObservedProperty", "ObservedProperties", "observed_property", False),
                Nav("Observations", "Observations", "observations", True),
            ],
        ),
        EntitySet(
            "Observations",
            Observation,
            {
                "phenomenonTime": lambda o: (
                    _interval(o.phenomenon_time, o.phenomenon_time_end)
                    if o.phenomenon_time_end
                    else _time(o.phenomenon_time)
                ),
                "resultTime": lambda o: _time(o.result_time),
                "result": lambda o: o.result,
                "resultQuality": lambda o: o.result_quality,
                "parameters": lambda o: o.parameters,
            },
            {
                "id": "pk",
                "phenomenonTime": "phenomenon_time",
                "resultTime": "result_time",
                "result": "result_number",
            },
            [
                Nav("Datastream", "Datastreams", "datastream", False),
                Nav("FeatureOfInterest", "FeaturesOfInterest", "feature_of_interest", False),
            ],
        ),
        EntitySet(
            "FeaturesOfInterest",
            FeatureOfInterest,
            {
                **_common("name", "description", "encodingType"),
                "feature": lambda o: o.feature,
                **_common("properties"),
            },
            {"id": "pk", "name": "name"},
            [Nav("Observations", "Observations", "observations", True)],
        ),
    )
}


class StaError(Exception):
    def __init__(self, code: int, message: str | Promise) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


def _error(exc: StaError) -> JsonResponse:
    texts = bilingual(exc.message)
    return JsonResponse(
        {"code": exc.code, "type": "error", "message": texts["en"], "messages": texts},
        status=exc.code,
    )


def _link(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(f"{BASE}/{path}")


def _entity(
    request: HttpRequest,
    spec: EntitySet,
    obj: Model,
    select: list[str] | None,
    expand: list[Expand] | None = None,
) -> dict[str, Any]:
    own = f"{spec.name}({obj.pk})"
    body: dict[str, Any] = {}
    if select is None or "id" in select:
        body["@iot.id"] = obj.pk
        body["@iot.selfLink"] = _link(request, own)
    for name, getter in spec.properties.items():
        if select is None or name in select:
            body[name] = getter(obj)
    for nav in spec.navigation:
        if select is None or nav.name in select:
            body[f"{nav.name}@iot.navigationLink"] = _link(request, f"{own}/{nav.name}")
    if expand:
        body.update(_expanded(request, obj, expand))
    return body


def _options(request: HttpRequest, spec: EntitySet) -> dict[str, Any]:
    return _options_from(request.GET, spec, depth=0)


def _options_from(params: Mapping[str, str], spec: EntitySet, *, depth: int) -> dict[str, Any]:
    """The query options of a request, or of one ``$expand`` item (``depth`` > 0)."""
    options: dict[str, Any] = {}
    for key in params:
        if not key.startswith("$"):
            continue
        if key not in KNOWN:
            raise StaError(
                400, message_format(_("Unbekannte Abfrageoption %(key)s."), {"key": key[:40]})
            )
    if "$resultFormat" in params:
        if params["$resultFormat"] != "dataArray":
            raise StaError(400, _("$resultFormat kennt nur dataArray."))
        if spec.name != "Observations" or depth > 0 or "$expand" in params:
            raise StaError(
                400, _("$resultFormat=dataArray gibt es nur für Observations, ohne $expand.")
            )
        options["$resultFormat"] = "dataArray"
    for key, default in (("$top", DEFAULT_TOP), ("$skip", 0)):
        raw = params.get(key, str(default))
        if not raw.isdigit() or len(raw) > 12:
            raise StaError(
                400, message_format(_("%(key)s muss eine ganze Zahl ab 0 sein."), {"key": key})
            )
        options[key] = int(raw)
    options["$top"] = min(options["$top"], MAX_TOP)  # bounded work per request: pages
    count = params.get("$count", "false")
    if count not in ("true", "false"):
        raise StaError(400, _("$count muss true oder false sein."))
    options["$count"] = count == "true"
    options["$orderby"] = []
    for part in filter(None, (p.strip() for p in params.get("$orderby", "").split(","))):
        name, _sep, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        if name not in spec.order or direction not in ("asc", "desc"):
            raise StaError(
                400,
                message_format(
                    _("Nach „%(part)s“ kann %(set)s nicht sortiert werden."),
                    {"part": part[:60], "set": spec.name},
                ),
            )
        options["$orderby"].append(("-" if direction == "desc" else "") + spec.order[name])
    condition = params.get("$filter")
    if condition is not None:
        try:
            options["$filter"] = sta_filter.filter_q(
                condition, lambda path: _field(spec, path), lambda path: _points(spec, path)
            )
        except sta_filter.FilterError as exc:
            raise StaError(exc.code, exc.message) from None
    select = params.get("$select")
    if select is not None:
        names = [n.strip() for n in select.split(",") if n.strip()]
        allowed = {"id", *spec.properties, *(nav.name for nav in spec.navigation)}
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise StaError(
                400,
                message_format(
                    _("%(set)s hat keine Eigenschaft „%(name)s“."),
                    {"set": spec.name, "name": (unknown or [""])[0][:60]},
                ),
            )
        options["$select"] = names
    expand = params.get("$expand")
    if expand is not None:
        options["$expand"] = _expand_items(expand, spec, depth=depth + 1)
    return options


@dataclass
class Expand:
    nav: Nav
    options: dict[str, Any]


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                raise StaError(400, _("$expand hat eine Klammer zu viel."))
        elif not quoted and depth == 0 and ch == separator:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0 or quoted:
        raise StaError(
            400, _("$expand hat eine offene Klammer oder ein offenes Anführungszeichen.")
        )
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _expand_items(text: str, spec: EntitySet, *, depth: int) -> list[Expand]:
    """``Datastreams($top=1;$orderby=phenomenonTime desc),Locations,Datastreams/Sensor``."""
    if depth > MAX_EXPAND_DEPTH:
        raise StaError(
            400,
            message_format(_("$expand geht höchstens %(n)s Ebenen tief."), {"n": MAX_EXPAND_DEPTH}),
        )
    items: list[Expand] = []
    for part in _split(text, ","):
        name, _paren, inner = part.partition("(")
        head, _slash, rest = name.strip().partition("/")
        nav = next((n for n in spec.navigation if n.name == head), None)
        if nav is None:
            raise StaError(
                400,
                message_format(
                    _("%(set)s hat keine Navigation „%(name)s“."),
                    {"set": spec.name, "name": head[:60]},
                ),
            )
        params: dict[str, str] = {}
        if inner and not inner.endswith(")"):
            raise StaError(
                400, _("$expand hat eine offene Klammer oder ein offenes Anführungszeichen.")
            )
        if rest:
            # a path (Datastreams/Observations(...)): its options belong to its last step
            params["$expand"] = rest + (f"({inner}" if inner else "")
        elif inner:
            for option in _split(inner[:-1], ";"):
                key, equals, value = option.partition("=")
                if not equals:
                    raise StaError(400, _("Eine Option in $expand braucht die Form $name=Wert."))
                params[key.strip()] = value.strip()
        items.append(Expand(nav, _options_from(params, SETS[nav.target], depth=depth)))
    return items


def _expanded(request: HttpRequest, obj: Model, items: list[Expand]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for item in items:
        target = SETS[item.nav.target]
        options = item.options
        if not item.nav.many:
            related = getattr(obj, item.nav.accessor)
            body[item.nav.name] = (
                None
                if related is None
                else _entity(
                    request, target, related, options.get("$select"), options.get("$expand")
                )
            )
            continue
        queryset = getattr(obj, item.nav.accessor).all()
        if "$filter" in options:
            queryset = queryset.filter(options["$filter"])
        queryset = queryset.order_by(*options["$orderby"], "pk")
        top, skip = min(options["$top"], MAX_EXPAND_TOP), options["$skip"]
        rows = list(queryset[skip : skip + top + 1])
        if options["$count"]:
            body[f"{item.nav.name}@iot.count"] = queryset.count()
        if len(rows) > top:
            rows = rows[:top]
            body[f"{item.nav.name}@iot.nextLink"] = _link(
                request,
                f"{_own_path(obj)}/{item.nav.name}?"
                + urlencode({"$top": str(top), "$skip": str(skip + top)}),
            )
        body[item.nav.name] = [
            _entity(request, target, row, options.get("$select"), options.get("$expand"))
            for row in rows
        ]
    return body


def _own_path(obj: Model) -> str:
    spec = next(entity for entity in SETS.values() if isinstance(obj, entity.model))
    return f"{spec.name}({obj.pk})"


def _field(spec: EntitySet, path: str) -> str | None:
    """The ORM field of a property path in $filter: ``name``, or through a single related
    entity ``Datastream/id``, ``Thing/name``."""
    own = _own_field(spec, path)
    if own is not None:
        return own
    head, _sep, rest = path.partition("/")
    nav = next((n for n in spec.navigation if n.name == head and not n.many), None)
    if nav is None or not rest or "/" in rest:
        return None
    target = _own_field(SETS[nav.target], rest)
    return None if target is None else f"{nav.accessor}__{'id' if target == 'pk' else target}"


# the point geometries $filter's geospatial functions work on: entity set -> property ->
# its latitude and longitude columns
POINTS = {
    "Locations": {"location": sta_filter.PointColumns("lat", "lon")},
    "FeaturesOfInterest": {"feature": sta_filter.PointColumns("lat", "lon")},
    "Observations": {
        "FeatureOfInterest/feature": sta_filter.PointColumns(
            "feature_of_interest__lat", "feature_of_interest__lon"
        )
    },
}


def _points(spec: EntitySet, path: str) -> sta_filter.PointColumns | None:
    return POINTS.get(spec.name, {}).get(path)


def _own_field(spec: EntitySet, name: str) -> str | None:
    if name in spec.order:
        return spec.order[name]
    field_name = EXTRA_FILTERS.get(name)
    if field_name and any(f.name == field_name for f in spec.model._meta.get_fields()):
        return field_name
    return None


def _collection(
    request: HttpRequest, spec: EntitySet, queryset: QuerySet[Any], path: str
) -> dict[str, Any]:
    options = _options(request, spec)
    if "$filter" in options:
        queryset = queryset.filter(options["$filter"])
    ordered = queryset.order_by(*options["$orderby"], "pk")
    top, skip = options["$top"], options["$skip"]
    rows = list(ordered[skip : skip + top + 1])
    body: dict[str, Any] = {}
    if options["$count"]:
        body["@iot.count"] = ordered.count()
    if len(rows) > top:
        rows = rows[:top]
        query = {k: v for k, v in request.GET.items() if k != "$skip"}
        query["$skip"] = str(skip + top)
        query["$top"] = str(top)
        body["@iot.nextLink"] = _link(request, path) + "?" + urlencode(query)
    if options.get("$resultFormat"):
        body["value"] = _data_arrays(request, rows, options.get("$select"))
        return body
    body["value"] = [
        _entity(request, spec, row, options.get("$select"), options.get("$expand")) for row in rows
    ]
    return body


ARRAY_COMPONENTS = ("id", "phenomenonTime", "resultTime", "result", "resultQuality", "parameters")


def _data_arrays(
    request: HttpRequest, rows: list[Any], select: list[str] | None
) -> list[dict[str, Any]]:
    """Observations as the dataArray result format: one block per Datastream with the
    components (``$select``, by default id, phenomenonTime, resultTime, result) and a row of
    values per observation."""
    components = [c for c in (select or ARRAY_COMPONENTS[:4]) if c in ARRAY_COMPONENTS]
    if not components:
        raise StaError(400, _("$resultFormat=dataArray braucht in $select eine Eigenschaft."))
    getters = SETS["Observations"].properties
    blocks: dict[int, dict[str, Any]] = {}
    for row in rows:
        block = blocks.get(row.datastream_id)
        if block is None:
            block = blocks[row.datastream_id] = {
                "Datastream@iot.navigationLink": _link(
                    request, f"Datastreams({row.datastream_id})"
                ),
                "components": components,
                "dataArray": [],
            }
        block["dataArray"].append([row.pk if c == "id" else getters[c](row) for c in components])
    for block in blocks.values():
        block["dataArray@iot.count"] = len(block["dataArray"])
    return list(blocks.values())


def _raw_value(path: str) -> HttpResponse:
    """``Things(1)/name/$value``: the property's value alone, as text (objects as JSON)."""
    spec, entity, _collection_of, prop = _resolve(path)
    if prop is None or entity is None:
        raise StaError(400, _("$value folgt auf eine Eigenschaft, z. B. Things(1)/name/$value."))
    value = spec.properties[prop](entity)
    if isinstance(value, dict | list):
        return JsonResponse(value, safe=False)
    return HttpResponse(
        "" if value is None else str(value), content_type="text/plain; charset=utf-8"
    )


def _resolve(path: str) -> tuple[EntitySet, Model | None, QuerySet[Any] | None, str | None]:
    """(entity set, the entity or None, the collection or None, a property name or None)."""
    segments = path.strip("/").split("/")
    if len(segments) > 3:
        raise StaError(400, _("Der Pfad ist zu tief verschachtelt."))
    match = _SEGMENT.match(segments[0])
    if not match or match.group(1) not in SETS:
        raise StaError(404, _("Diese Ressource gibt es nicht."))
    spec = SETS[match.group(1)]
    entity: Model | None = None
    collection: QuerySet[Any] | None = spec.model._default_manager.all()
    if match.group(2) is not None:
        entity = _get(spec, int(match.group(2)))
        collection = None
    for segment in segments[1:]:
        if entity is None:
            raise StaError(400, _("Eine Navigation braucht eine Entität mit ID."))
        nav = next((n for n in spec.navigation if n.name == segment), None)
        if nav is None:
            if segment in spec.properties and segment is segments[-1]:
                return spec, entity, None, segment
            raise StaError(404, _("Diese Ressource gibt es nicht."))
        spec = SETS[nav.target]
        if nav.many:
            collection = getattr(entity, nav.accessor).all()
            entity = None
        else:
            entity = getattr(entity, nav.accessor)
            if entity is None:
                raise StaError(404, _("Diese Ressource gibt es nicht."))
            collection = None
    return spec, entity, collection, None


def _get(spec: EntitySet, pk: int) -> Model:
    found = spec.model._default_manager.filter(pk=pk).first()
    if found is None:
        raise StaError(
            404, message_format(_("%(set)s(%(id)s) gibt es nicht."), {"set": spec.name, "id": pk})
        )
    return found


@csrf_exempt  # writes authenticate by Bearer token, never by cookie
@require_http_methods(["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"])
def service(request: HttpRequest, path: str = "") -> HttpResponse:
    if ratelimit_exceeded(scope="sta", key=client_address(request), rate="600/m"):
        return _error(StaError(429, _("Zu viele Anfragen; bitte später erneut versuchen.")))
    if request.method in ("POST", "PATCH", "PUT", "DELETE"):
        try:
            return _write(request, path.strip("/"))
        except StaError as exc:
            return _error(exc)
        except ingest.RowError as exc:
            return _error(StaError(400, exc.message))
        except entities.EntityError as exc:
            return _error(StaError(exc.code, exc.message))
    if not path.strip("/"):
        return JsonResponse(
            {
                "value": [{"name": name, "url": _link(request, name)} for name in SETS],
                "serverSettings": {
                    "conformance": [
                        "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
                        "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
                        "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
                    ]
                },
            }
        )
    try:
        if path.strip("/").endswith("/$value"):
            return _raw_value(path.strip("/").removesuffix("/$value"))
        spec, entity, collection, prop = _resolve(path)
        if prop is not None:
            assert entity is not None  # noqa: S101 - _resolve returns a property with its entity
            return JsonResponse({prop: spec.properties[prop](entity)})
        if entity is not None:
            options = _options(request, spec)
            return JsonResponse(
                _entity(request, spec, entity, options.get("$select"), options.get("$expand"))
            )
        assert collection is not None  # noqa: S101 - either an entity or a collection
        return JsonResponse(_collection(request, spec, collection, path.strip("/")))
    except StaError as exc:
        return _error(exc)


def _write(request: HttpRequest, path: str) -> JsonResponse:
    """POST, PATCH, PUT and DELETE: with a valid write token only."""
    auth = request.headers.get("Authorization", "")
    token = ingest.write_token_get(auth[7:].strip()) if auth.startswith("Bearer ") else None
    if token is None:
        return _error(
            StaError(401, _("Schreiben braucht ein gültiges Token (Authorization: Bearer)."))
        )
    if request.method == "DELETE":
        spec, obj = _addressed(path)
        entities.entity_delete(set_name=spec.name, obj=obj, token=token)
        return JsonResponse({}, status=200)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise StaError(400, _("Der Inhalt ist kein JSON.")) from None
    if request.method in ("PATCH", "PUT"):
        spec, obj = _addressed(path)
        obj = entities.entity_update(
            set_name=spec.name, obj=obj, body=body, token=token, replace=request.method == "PUT"
        )
        return JsonResponse(_entity(request, spec, obj, None), status=200)
    observations = re.fullmatch(r"(?:Datastreams\((\d{1,18})\)/)?Observations", path)
    simple = {"Datastream", "phenomenonTime", "result", "resultTime"}
    if path != "CreateObservations" and (
        not observations
        or not isinstance(body, dict)
        or set(body) - simple
        or set(body.get("Datastream") or {}) - {"@iot.id"}
    ):  # anything but a plain observation: with its FeatureOfInterest, parameters, ...
        return _created(request, path, body, token)
    return _observations_create(request, path, body)


def _addressed(path: str) -> tuple[EntitySet, Model]:
    """The one entity a PATCH, PUT or DELETE names: ``Things(1)``."""
    match = _SEGMENT.match(path)
    if not match or match.group(1) not in SETS:
        raise StaError(404, _("Diese Ressource gibt es nicht."))
    if match.group(2) is None:
        raise StaError(400, _("Ändern und Löschen brauchen eine Entität mit ID, z. B. Things(1)."))
    spec = SETS[match.group(1)]
    return spec, _get(spec, int(match.group(2)))


def _created(request: HttpRequest, path: str, body: Any, token: WriteToken) -> JsonResponse:
    """POST to an entity set (``/Things``) or a navigation path (``/Things(1)/Locations``),
    with related entities inside (deep insert)."""
    segments = path.split("/")
    parent = None
    if len(segments) == 2:
        match = _SEGMENT.match(segments[0])
        if not match or match.group(1) not in SETS or match.group(2) is None:
            raise StaError(404, _("Diese Ressource gibt es nicht."))
        owner = SETS[match.group(1)]
        nav = next((n for n in owner.navigation if n.name == segments[1]), None)
        if nav is None or not nav.many:
            raise StaError(404, _("Diese Ressource gibt es nicht."))
        spec = SETS[nav.target]
        parent = (owner.name, _get(owner, int(match.group(2))), nav.name)
    elif len(segments) == 1 and segments[0] in SETS:
        spec = SETS[segments[0]]
    else:
        raise StaError(404, _("Diese Ressource gibt es nicht."))
    obj = entities.entity_create(set_name=spec.name, body=body, token=token, parent=parent)
    response = JsonResponse(_entity(request, spec, obj, None), status=201)
    response["Location"] = _link(request, f"{spec.name}({obj.pk})")
    return response


def _observations_create(request: HttpRequest, path: str, body: Any) -> JsonResponse:
    """POST /Observations, /Datastreams(id)/Observations and /CreateObservations (DataArray)."""
    if path == "CreateObservations":
        rows, reasons = ingest.data_array_rows(body)
        valid = [row for row in rows if row is not None]
        if not valid:
            raise StaError(400, reasons[0] if reasons else _("Keine Beobachtung im DataArray."))
        created = iter(ingest.observations_write(valid))
        prefix = _link(request, "Observations(")
        links = [f"{prefix}{next(created)})" if row is not None else "error" for row in rows]
        return JsonResponse(links, status=201, safe=False)
    match = re.fullmatch(r"(?:Datastreams\((\d{1,18})\)/)?Observations", path)
    assert match is not None  # noqa: S101 - _write sends only these paths here
    if not isinstance(body, dict):
        raise StaError(400, _("Eine Observation ist ein JSON-Objekt."))
    stream_id = (
        int(match.group(1)) if match.group(1) else (body.get("Datastream") or {}).get("@iot.id")
    )
    stream = (
        ingest.datastreams_by_id({stream_id}).get(stream_id) if isinstance(stream_id, int) else None
    )
    if stream is None:
        raise StaError(
            400, message_format(_("Datastream %(id)s gibt es nicht."), {"id": str(stream_id)[:20]})
        )
    row = ingest.row_from(
        datastream=stream,
        phenomenon_time=body.get("phenomenonTime"),
        result=body.get("result"),
        result_time=body.get("resultTime"),
    )
    [pk] = ingest.observations_write([row])
    observation = Observation.objects.get(pk=pk)
    response = JsonResponse(_entity(request, SETS["Observations"], observation, None), status=201)
    response["Location"] = _link(request, f"Observations({observation.pk})")
    return response
