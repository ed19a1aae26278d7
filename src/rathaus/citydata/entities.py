"""Creating, updating and deleting SensorThings entities other than single observations
(those go through ingest.py): POST to an entity set, to a navigation path
(``Things(1)/Locations``) or with related entities inside (deep insert), PATCH, PUT and
DELETE, as the SensorThings API 1.1 (part "create-update-delete") describes them.

Each entity is described once (FIELDS, LINKS): its properties with their model field, kind
and whether they are mandatory, and the related entities a body may name by ``@iot.id`` or
contain. A request is one transaction: everything it creates, or nothing. Changing a Thing's
Locations records a HistoricalLocation; deleting observations (or changing their time or
result) rebuilds the aggregates of the days concerned and the datastream's time range.
Writes of entities are in the audit log with the token that made them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Field, Max, Min, Model
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rathaus.citydata import ingest
from rathaus.citydata.aggregates import aggregates_rebuild
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
from rathaus.core.errors import message_format
from rathaus.core.services import audit_entry_create

MAX_ENTITIES = 1000  # created by one request (deep insert)
MAX_DEPTH = 5
GEO_TYPES = {"application/geo+json", "application/vnd.geo+json"}
MODELS: dict[str, type[Model]] = {
    "Things": Thing,
    "Locations": Location,
    "HistoricalLocations": HistoricalLocation,
    "Sensors": Sensor,
    "ObservedProperties": ObservedProperty,
    "FeaturesOfInterest": FeatureOfInterest,
    "Datastreams": Datastream,
    "Observations": Observation,
}


class EntityError(ValueError):
    def __init__(self, code: int, message: str | Promise) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


@dataclass(frozen=True)
class Prop:
    field: str
    kind: str  # text, longtext, object, geometry, encoding, time, number
    required: bool = False


@dataclass(frozen=True)
class Link:
    target: str  # entity set
    accessor: str  # foreign key or many-to-many on the model
    many: bool
    required: bool = False
    owned: bool = False  # created after this entity, pointing to it (Thing -> Datastreams)


FIELDS: dict[str, dict[str, Prop]] = {
    "Things": {
        "name": Prop("name", "text", True),
        "description": Prop("description", "longtext"),
        "properties": Prop("properties", "object"),
    },
    "Locations": {
        "name": Prop("name", "text", True),
        "description": Prop("description", "longtext"),
        "encodingType": Prop("encoding_type", "encoding", True),
        "location": Prop("location", "geometry", True),
        "properties": Prop("properties", "object"),
    },
    "HistoricalLocations": {"time": Prop("time", "time", True)},
    "Sensors": {
        "name": Prop("name", "text", True),
        "description": Prop("description", "longtext"),
        "encodingType": Prop("encoding_type", "text", True),
        "metadata": Prop("metadata", "longtext", True),
        "properties": Prop("properties", "object"),
    },
    "ObservedProperties": {
        "name": Prop("name", "text", True),
        "definition": Prop("definition", "text", True),
        "description": Prop("description", "longtext"),
        "properties": Prop("properties", "object"),
    },
    "FeaturesOfInterest": {
        "name": Prop("name", "text", True),
        "description": Prop("description", "longtext"),
        "encodingType": Prop("encoding_type", "encoding", True),
        "feature": Prop("feature", "geometry", True),
        "properties": Prop("properties", "object"),
    },
    "Datastreams": {
        "name": Prop("name", "text", True),
        "description": Prop("description", "longtext"),
        "observationType": Prop("observation_type", "text", True),
        "unitOfMeasurement": Prop("unit_of_measurement", "unit", True),
        "observedArea": Prop("observed_area", "geometry"),
        "properties": Prop("properties", "object"),
    },
    "Observations": {
        "phenomenonTime": Prop("phenomenon_time", "time", True),
        "resultTime": Prop("result_time", "time"),
        "result": Prop("result", "result", True),
        "resultQuality": Prop("result_quality", "any"),
        "parameters": Prop("parameters", "object"),
    },
}
LINKS: dict[str, dict[str, Link]] = {
    "Things": {
        "Locations": Link("Locations", "locations", True),
        "Datastreams": Link("Datastreams", "thing", True, owned=True),
    },
    "Locations": {"Things": Link("Things", "locations", True)},
    "HistoricalLocations": {
        "Thing": Link("Things", "thing", False, required=True),
        "Locations": Link("Locations", "locations", True),
    },
    "Sensors": {"Datastreams": Link("Datastreams", "sensor", True, owned=True)},
    "ObservedProperties": {
        "Datastreams": Link("Datastreams", "observed_property", True, owned=True)
    },
    "FeaturesOfInterest": {
        "Observations": Link("Observations", "feature_of_interest", True, owned=True)
    },
    "Datastreams": {
        "Thing": Link("Things", "thing", False, required=True),
        "Sensor": Link("Sensors", "sensor", False, required=True),
        "ObservedProperty": Link("ObservedProperties", "observed_property", False, required=True),
        "Observations": Link("Observations", "datastream", True, owned=True),
    },
    "Observations": {
        "Datastream": Link("Datastreams", "datastream", False, required=True),
        "FeatureOfInterest": Link("FeaturesOfInterest", "feature_of_interest", False),
    },
}
# POST to a navigation path: (parent set, navigation) -> the link in the new entity's body
INVERSE: dict[tuple[str, str], str] = {
    ("Things", "Locations"): "Things",
    ("Things", "Datastreams"): "Thing",
    ("Things", "HistoricalLocations"): "Thing",
    ("Locations", "Things"): "Locations",
    ("Locations", "HistoricalLocations"): "Locations",
    ("Sensors", "Datastreams"): "Sensor",
    ("ObservedProperties", "Datastreams"): "ObservedProperty",
    ("Datastreams", "Observations"): "Datastream",
    ("FeaturesOfInterest", "Observations"): "FeatureOfInterest",
}


def _bad(message: str | Promise, **values: object) -> EntityError:
    return EntityError(400, message_format(message, values) if values else message)


def _value(set_name: str, name: str, prop: Prop, value: Any) -> Any:
    """The model value of one property, checked."""
    if prop.kind in ("text", "longtext", "encoding"):
        if not isinstance(value, str) or (prop.required and not value.strip()):
            raise _bad(_("%(name)s muss ein Text sein."), name=name)
        if prop.kind != "longtext" and len(value) > 200:
            raise _bad(_("%(name)s ist länger als 200 Zeichen."), name=name)
        if prop.kind == "encoding" and value not in GEO_TYPES:
            raise _bad(_("encodingType muss application/geo+json sein."))
        return value
    if prop.kind == "object":
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _bad(_("%(name)s muss ein JSON-Objekt sein."), name=name)
        return value
    if prop.kind == "unit":
        if not isinstance(value, dict) or not all(
            isinstance(value.get(key, ""), str) for key in ("name", "symbol", "definition")
        ):
            raise _bad(_("unitOfMeasurement braucht name, symbol und definition als Text."))
        return {key: value.get(key, "") for key in ("name", "symbol", "definition")}
    if prop.kind == "geometry":
        if value is None and not prop.required:
            return None
        return geometry_checked(value, name)
    if prop.kind == "time":
        return ingest.parse_time(value, name)
    return value


def geometry_checked(value: Any, name: str) -> dict[str, Any]:
    """A GeoJSON geometry (or a Feature's geometry) with finite WGS 84 coordinates."""
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    kinds = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise _bad(_("%(name)s ist keine GeoJSON-Geometrie."), name=name)
    pairs: list[Any] = []

    def walk(item: Any, depth: int) -> None:
        if depth > 4 or not isinstance(item, list):
            raise _bad(_("%(name)s hat keine gültigen Koordinaten."), name=name)
        if item and all(isinstance(x, int | float) and not isinstance(x, bool) for x in item):
            pairs.append(item)
            return
        for inner in item:
            walk(inner, depth + 1)

    walk(value.get("coordinates"), 0)
    for pair in pairs:
        if len(pair) not in (2, 3) or not all(math.isfinite(float(x)) for x in pair):
            raise _bad(_("%(name)s hat keine gültigen Koordinaten."), name=name)
        if not (-180 <= pair[0] <= 180 and -90 <= pair[1] <= 90):
            raise _bad(_("%(name)s liegt außerhalb der Erde (Länge, dann Breite)."), name=name)
    if not pairs:
        raise _bad(_("%(name)s hat keine gültigen Koordinaten."), name=name)
    return {"type": value["type"], "coordinates": value["coordinates"]}


def _point(geometry: dict[str, Any] | None) -> tuple[float | None, float | None]:
    if geometry and geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return float(lat), float(lon)
    return None, None


@dataclass
class _Context:
    token: WriteToken | None
    created: int = 0
    touched_things: set[int] | None = None


def _get(set_name: str, pk: Any) -> Model:
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
        raise _bad(_("@iot.id muss eine positive ganze Zahl sein."))
    obj = MODELS[set_name]._default_manager.filter(pk=pk).first()
    if obj is None:
        raise EntityError(
            404,
            message_format(_("%(set)s(%(id)s) gibt es nicht."), {"set": set_name, "id": pk}),
        )
    return obj


def _body(value: Any, set_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(_("%(entity)s erwartet ein JSON-Objekt."), entity=set_name)
    return value


def _create(set_name: str, body: dict[str, Any], context: _Context, depth: int) -> Model:
    """One entity from its JSON, with the related entities it names or contains."""
    if depth > MAX_DEPTH:
        raise _bad(_("Zu tief verschachtelt: höchstens %(max)s Ebenen."), max=MAX_DEPTH)
    context.created += 1
    if context.created > MAX_ENTITIES:
        raise _bad(_("Höchstens %(max)s Entitäten je Anfrage."), max=MAX_ENTITIES)
    if "@iot.id" in body and len(body) == 1:
        return _get(set_name, body["@iot.id"])
    if set_name == "Observations":
        return _observation(body, context, depth)
    fields = FIELDS[set_name]
    links = LINKS[set_name]
    unknown = set(body) - set(fields) - set(links) - {"@iot.id"}
    unknown = {key for key in unknown if not key.endswith("@iot.navigationLink")}
    unknown -= {"phenomenonTime", "resultTime", "@iot.selfLink"}  # Datastreams: kept by us
    if unknown:
        raise _bad(
            _("%(entity)s kennt %(names)s nicht."),
            entity=set_name,
            names=", ".join(sorted(unknown))[:80],
        )
    values: dict[str, Any] = {}
    for name, prop in fields.items():
        if name in body:
            values[prop.field] = _value(set_name, name, prop, body[name])
        elif prop.required:
            raise _bad(_("%(entity)s braucht %(name)s."), entity=set_name, name=name)
    if set_name == "HistoricalLocations":
        values["time"] = values["time"][0]
    for name, link in links.items():  # what this entity points to: before it exists
        if link.many or link.owned:
            continue
        if name in body:
            values[link.accessor] = _create(
                link.target, _body(body[name], link.target), context, depth + 1
            )
        elif link.required:
            raise _bad(_("%(entity)s braucht %(name)s."), entity=set_name, name=name)
    if set_name in ("Locations", "FeaturesOfInterest"):
        values["lat"], values["lon"] = _point(values.get("location", values.get("feature")))
    obj = MODELS[set_name]._default_manager.create(**values)
    for name, link in links.items():  # what points to it, or many-to-many
        items = body.get(name)
        if not (link.many or link.owned) or items is None:
            continue
        if not isinstance(items, list):
            raise _bad(_("%(name)s muss eine Liste sein."), name=name)
        for item in items:
            item = _body(item, link.target)
            if link.owned:
                inverse = INVERSE[(set_name, name)]
                if "@iot.id" in item and len(item) == 1:
                    other = _get(link.target, item["@iot.id"])
                    setattr(other, link.accessor, obj)
                    other.save()
                else:
                    _create(link.target, {**item, inverse: {"@iot.id": obj.pk}}, context, depth + 1)
            else:
                other = _create(link.target, item, context, depth + 1)
                getattr(obj, link.accessor if set_name != "Locations" else "things").add(other)
                if set_name == "Things":
                    context.touched_things = (context.touched_things or set()) | {obj.pk}
                elif set_name == "Locations":
                    context.touched_things = (context.touched_things or set()) | {other.pk}
    if set_name != "Observations":
        _audit(context, set_name, "create", obj)
    return obj


def _observation(body: dict[str, Any], context: _Context, depth: int) -> Model:
    link = body.get("Datastream")
    if not isinstance(link, dict):
        raise _bad(_("Observations braucht Datastream."))
    stream = _create("Datastreams", link, context, depth + 1)
    assert isinstance(stream, Datastream)  # noqa: S101 - created or found as a Datastream
    feature = None
    if "FeatureOfInterest" in body:
        feature = _create(
            "FeaturesOfInterest",
            _body(body["FeatureOfInterest"], "FeaturesOfInterest"),
            context,
            depth + 1,
        )
    try:
        row = ingest.row_from(
            datastream=stream,
            phenomenon_time=body.get("phenomenonTime"),
            result=body.get("result"),
            result_time=body.get("resultTime"),
            feature_id=None if feature is None else feature.pk,
        )
    except ingest.RowError as exc:
        raise EntityError(400, exc.message) from None
    [pk] = ingest.observations_write([row])
    if "parameters" in body or "resultQuality" in body:
        Observation.objects.filter(pk=pk).update(
            parameters=_value(
                "Observations",
                "parameters",
                FIELDS["Observations"]["parameters"],
                body.get("parameters"),
            )
            or None,
            result_quality=body.get("resultQuality"),
        )
    return Observation.objects.get(pk=pk)


def _historical(context: _Context) -> None:
    """A HistoricalLocation for each Thing whose Locations changed in this request."""
    for thing_id in sorted(context.touched_things or ()):
        record = HistoricalLocation.objects.create(thing_id=thing_id, time=timezone.now())
        record.locations.set(Location.objects.filter(things__pk=thing_id))


def _audit(context: _Context, set_name: str, verb: str, obj: Model) -> None:
    audit_entry_create(
        actor=None,
        action=f"citydata.{set_name.lower()}.{verb}",
        object_type=f"citydata.{obj._meta.model_name}",
        object_id=obj.pk,
        after={"token": context.token.prefix if context.token else ""},
    )


def entity_create(
    *,
    set_name: str,
    body: Any,
    token: WriteToken | None,
    parent: tuple[str, Model, str] | None = None,
) -> Model:
    """POST to an entity set (``parent`` None) or to a navigation path of an entity
    (``parent`` = (its set, it, the navigation)). Everything or nothing."""
    body = _body(body, set_name)
    if parent is not None:
        parent_set, parent_obj, navigation = parent
        inverse = INVERSE.get((parent_set, navigation))
        if inverse is None:
            raise EntityError(
                501,
                message_format(
                    _("Anlegen über %(path)s ist nicht vorgesehen."),
                    {"path": f"{parent_set}/{navigation}"},
                ),
            )
        link = LINKS[set_name][inverse]
        reference = {"@iot.id": parent_obj.pk}
        body = {**body, inverse: [reference] if link.many else reference}
    context = _Context(token)
    with transaction.atomic():
        obj = _create(set_name, body, context, 0)
        _historical(context)
    return obj


def entity_update(
    *, set_name: str, obj: Model, body: Any, token: WriteToken | None, replace: bool
) -> Model:
    """PATCH (the properties given) or PUT (``replace``: every mandatory property given;
    the optional ones not given go back to their defaults)."""
    body = _body(body, set_name)
    if "@iot.id" in body and body["@iot.id"] != obj.pk:
        raise _bad(_("@iot.id lässt sich nicht ändern."))
    context = _Context(token)
    with transaction.atomic():
        if set_name == "Observations":
            return _observation_update(obj, body, replace)
        fields, links = FIELDS[set_name], LINKS[set_name]
        unknown = set(body) - set(fields) - set(links) - {"@iot.id"}
        if unknown:
            raise _bad(
                _("%(entity)s kennt %(names)s nicht."),
                entity=set_name,
                names=", ".join(sorted(unknown))[:80],
            )
        for name, prop in fields.items():
            if name in body:
                value = _value(set_name, name, prop, body[name])
                setattr(obj, prop.field, value[0] if prop.kind == "time" else value)
            elif replace and prop.required:
                raise _bad(_("%(entity)s braucht %(name)s."), entity=set_name, name=name)
            elif replace:
                model_field = obj._meta.get_field(prop.field)
                assert isinstance(model_field, Field)  # noqa: S101 - FIELDS names model fields
                setattr(obj, prop.field, model_field.get_default())
        if isinstance(obj, Location):
            obj.lat, obj.lon = _point(obj.location)
        if isinstance(obj, FeatureOfInterest):
            obj.lat, obj.lon = _point(obj.feature)
        for name, link in links.items():
            if name not in body or link.owned:
                continue
            if link.many:
                items = body[name]
                if not isinstance(items, list):
                    raise _bad(_("%(name)s muss eine Liste sein."), name=name)
                others = [
                    _create(link.target, _body(item, link.target), context, 1) for item in items
                ]
                getattr(obj, link.accessor if set_name != "Locations" else "things").set(others)
                things = [obj.pk] if set_name == "Things" else [o.pk for o in others]
                if set_name in ("Things", "Locations"):
                    context.touched_things = (context.touched_things or set()) | set(things)
            else:
                setattr(
                    obj,
                    link.accessor,
                    _create(link.target, _body(body[name], link.target), context, 1),
                )
        obj.save()
        _historical(context)
        _audit(context, set_name, "update", obj)
    return obj


def _observation_update(obj: Model, body: dict[str, Any], replace: bool) -> Model:
    assert isinstance(obj, Observation)  # noqa: S101 - the caller's entity set
    before = (obj.phenomenon_time, obj.phenomenon_time_end)
    stream = obj.datastream
    if "Datastream" in body:
        raise _bad(_("Eine Observation lässt sich nicht in einen anderen Datastream verschieben."))
    if replace and ("phenomenonTime" not in body or "result" not in body):
        raise _bad(_("Observations braucht phenomenonTime und result."))
    current = {
        "phenomenon_time": obj.phenomenon_time.isoformat()
        if obj.phenomenon_time_end is None
        else f"{obj.phenomenon_time.isoformat()}/{obj.phenomenon_time_end.isoformat()}",
        "result": obj.result,
        "result_time": obj.result_time.isoformat() if obj.result_time else None,
    }
    try:
        row = ingest.row_from(
            datastream=stream,
            phenomenon_time=body.get("phenomenonTime", current["phenomenon_time"]),
            result=body.get("result", current["result"]),
            result_time=body.get("resultTime", None if replace else current["result_time"]),
        )
    except ingest.RowError as exc:
        raise EntityError(400, exc.message) from None
    number = ingest.number_of(row.result)
    obj.phenomenon_time, obj.phenomenon_time_end = row.phenomenon_time, row.phenomenon_end
    obj.result_time = row.result_time
    obj.result_number = number
    obj.result_json = None if number is not None else row.result
    if "parameters" in body or replace:
        obj.parameters = body.get("parameters")
    if "resultQuality" in body or replace:
        obj.result_quality = body.get("resultQuality")
    if "FeatureOfInterest" in body:
        link = body["FeatureOfInterest"]
        feature = (
            None
            if link is None
            else _create("FeaturesOfInterest", _body(link, "FeaturesOfInterest"), _Context(None), 1)
        )
        obj.feature_of_interest_id = None if feature is None else feature.pk
    obj.save()
    for moment in {before[0], obj.phenomenon_time}:
        aggregates_rebuild(datastream_id=stream.pk, start=moment, end=moment)
    time_range_refresh(stream)
    return obj


def time_range_refresh(stream: Datastream) -> None:
    """A datastream's phenomenon time range and latest value from its observations (after
    some were changed or deleted; ingestion only ever moves them forward)."""
    bounds = stream.observations.aggregate(
        start=Min("phenomenon_time"), end=Max("phenomenon_time"), last=Max("phenomenon_time_end")
    )
    ends = [value for value in (bounds["end"], bounds["last"]) if value is not None]
    stream.phenomenon_start = bounds["start"]
    stream.phenomenon_end = max(ends) if ends else None
    newest = stream.observations.order_by("-phenomenon_time").first()
    stream.latest_time = newest.phenomenon_time if newest else None
    stream.latest_result = newest.result_number if newest else None
    stream.save(update_fields=ingest.SUMMARY_FIELDS)


def entity_delete(*, set_name: str, obj: Model, token: WriteToken | None) -> None:
    """DELETE, with what the standard deletes along: a Thing's Datastreams and
    HistoricalLocations, a Sensor's or ObservedProperty's Datastreams, a
    FeatureOfInterest's Observations, a Datastream's Observations."""
    context = _Context(token)
    with transaction.atomic():
        _audit(context, set_name, "delete", obj)
        if isinstance(obj, Observation):
            stream, moment = obj.datastream, obj.phenomenon_time
            obj.delete()
            aggregates_rebuild(datastream_id=stream.pk, start=moment, end=moment)
            time_range_refresh(stream)
            return
        if isinstance(obj, Sensor | ObservedProperty):
            obj.datastreams.all().delete()
        if isinstance(obj, FeatureOfInterest):
            spans = list(
                obj.observations.values("datastream_id").annotate(
                    start=Min("phenomenon_time"), end=Max("phenomenon_time")
                )
            )
            obj.observations.all().delete()
            for span in spans:
                aggregates_rebuild(
                    datastream_id=span["datastream_id"], start=span["start"], end=span["end"]
                )
                time_range_refresh(Datastream.objects.get(pk=span["datastream_id"]))
        obj.delete()
