"""``$filter`` of the SensorThings API (its OData subset) as a Django query.

Supported: the comparison operators ``eq ne gt ge lt le``, ``and or not``, parentheses, the
arithmetic operators ``add sub mul div mod``, literals (numbers, 'strings' with '' for a
quote, true/false/null, ISO 8601 date-times with a zone), properties of the entity and of an
entity it points to (``Datastream/id``, ``Thing/name``), and the functions ``substringof``,
``contains``, ``startswith``, ``endswith``, ``length``, ``tolower``, ``toupper``, ``trim``,
``year``, ``month``, ``day``, ``hour``, ``minute``, ``second``, ``round``, ``floor``,
``ceiling``, and the geospatial functions ``geo.distance``, ``geo.intersects``,
``st_within``, ``st_intersects``, ``st_contains``, ``st_equals`` and ``st_disjoint`` between a
point geometry of the entity (a Location's ``location``; kept as latitude and longitude
columns) and a literal ``geography'POINT(lon lat)'``, ``'POLYGON((...))'`` or
``'MULTIPOLYGON(...)'`` (WGS 84). Point in polygon is the even-odd rule, written as SQL from
the polygon's edges (holes work); ``geo.distance`` is in degrees, as FROST-Server with
PostGIS answers for WGS 84 geometries. ``geo.length``, ``st_touches``, ``st_overlaps``,
``st_crosses`` and ``st_relate`` answer 501. Work per request is bounded: at most MAX_LENGTH
characters, MAX_DEPTH nesting and MAX_VERTICES corners of a polygon.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Expression, F, Q, Value, When
from django.db.models import functions as fn
from django.db.models.lookups import (
    Contains,
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
    StartsWith,
)
from django.utils.translation import gettext_lazy as _

from rathaus.core.errors import message_format

MAX_LENGTH = 2000
MAX_DEPTH = 20
MAX_VERTICES = 200
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<string>'(?:[^']|'')*')
    |(?P<punct>[(),])
    |(?P<name>[A-Za-z_][A-Za-z0-9_./]*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": Exact,
    "gt": GreaterThan,
    "ge": GreaterThanOrEqual,
    "lt": LessThan,
    "le": LessThanOrEqual,
}
_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
_TEXT = {"tolower": fn.Lower, "toupper": fn.Upper, "trim": fn.Trim, "length": fn.Length}
_PARTS = {
    "year": fn.ExtractYear,
    "month": fn.ExtractMonth,
    "day": fn.ExtractDay,
    "hour": fn.ExtractHour,
    "minute": fn.ExtractMinute,
    "second": fn.ExtractSecond,
}
_ROUND = {"round": fn.Round, "floor": fn.Floor, "ceiling": fn.Ceil}
_GEO = {"geo.distance", "geo.intersects", "st_within", "st_intersects", "st_contains"}
_GEO |= {"st_equals", "st_disjoint"}
_GEO_NOT_YET = {"geo.length", "st_touches", "st_overlaps", "st_crosses", "st_relate"}
_WKT = re.compile(r"^\s*(POINT|POLYGON|MULTIPOLYGON)\s*(\(.*\))\s*$", re.IGNORECASE | re.DOTALL)
_PAIR = re.compile(
    r"^\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s+(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class Geometry:
    """A literal geometry: a point (one ring of one corner) or polygons' rings, as
    (longitude, latitude) pairs."""

    kind: str  # "point" or "polygon"
    rings: tuple[tuple[tuple[float, float], ...], ...]


@dataclass(frozen=True)
class PointColumns:
    """The latitude and longitude columns of an entity's point geometry."""

    lat: str
    lon: str


def _geometry(text: str, at: int) -> Geometry:
    """WKT of a point, polygon or multipolygon (longitude first, as WKT has it)."""
    match = _WKT.match(text)
    if match is None:
        raise FilterError(
            400,
            message_format(
                _("$filter: „%(wkt)s“ ist kein POINT, POLYGON oder MULTIPOLYGON in WKT."),
                {"wkt": text[:40]},
            ),
        )
    kind, body = match.group(1).upper(), match.group(2)
    if kind == "POINT":
        return Geometry("point", ((_pair(body.strip()[1:-1], text),),))
    rings = tuple(
        tuple(_pair(pair, text) for pair in ring.split(","))
        for ring in re.findall(r"\(([^()]*)\)", body)
    )
    corners = sum(len(ring) for ring in rings)
    if not rings or any(len(ring) < 4 or ring[0] != ring[-1] for ring in rings):
        raise FilterError(
            400,
            message_format(
                _(
                    "$filter: Ein Polygon braucht mindestens 4 Ecken, die letzte gleich der ersten "
                    "(„%(wkt)s“)."
                ),
                {"wkt": text[:40]},
            ),
        )
    if corners > MAX_VERTICES:
        raise FilterError(
            400,
            message_format(
                _("$filter: Ein Polygon hat höchstens %(max)s Ecken."), {"max": MAX_VERTICES}
            ),
        )
    return Geometry("polygon", rings)


def _pair(text: str, whole: str) -> tuple[float, float]:
    match = _PAIR.match(text)
    if match is None:
        raise FilterError(
            400,
            message_format(
                _("$filter: „%(pair)s“ ist kein Koordinatenpaar „Länge Breite“."),
                {"pair": text.strip()[:40] or whole[:40]},
            ),
        )
    lon, lat = float(match.group(1)), float(match.group(2))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise FilterError(
            400,
            message_format(
                _("$filter: „%(pair)s“ liegt außerhalb der Erde (Länge, dann Breite)."),
                {"pair": text.strip()[:40]},
            ),
        )
    return lon, lat


def _inside(columns: PointColumns, shape: Geometry) -> Q:
    """Whether the point lies in the polygons: the even-odd rule, with one CASE per edge
    (a horizontal ray to the east crosses an edge when the point's latitude is within the
    edge's and its longitude is west of the edge there)."""
    lat, lon = F(columns.lat), F(columns.lon)
    crossings: Any = None
    for ring in shape.rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            if y1 == y2:
                continue  # a horizontal edge is never crossed by a horizontal ray
            slope = (x2 - x1) / (y2 - y1)
            low, high = min(y1, y2), max(y1, y2)
            crossed = (
                Q(GreaterThanOrEqual(lat, Value(low)))
                & Q(LessThan(lat, Value(high)))
                & Q(LessThan(lon, lat * Value(slope) + Value(x1 - y1 * slope)))
            )
            case = Case(When(crossed, then=Value(1)), default=Value(0))
            crossings = case if crossings is None else crossings + case
    xs = [x for ring in shape.rings for x, _y in ring]
    ys = [y for ring in shape.rings for _x, y in ring]
    box = (
        Q(GreaterThanOrEqual(lat, Value(min(ys))))
        & Q(LessThanOrEqual(lat, Value(max(ys))))
        & Q(GreaterThanOrEqual(lon, Value(min(xs))))
        & Q(LessThanOrEqual(lon, Value(max(xs))))
    )
    if crossings is None:
        return Q(pk__in=[])
    return box & Q(Exact(fn.Mod(crossings, Value(2)), Value(1)))


def _at_point(columns: PointColumns, shape: Geometry) -> Q:
    lon, lat = shape.rings[0][0]
    return Q(Exact(F(columns.lat), Value(lat))) & Q(Exact(F(columns.lon), Value(lon)))


class FilterError(Exception):
    def __init__(self, code: int, message: Any) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad(position, text[position : position + 10])
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def _bad(position: int, near: str) -> FilterError:
    return FilterError(
        400,
        message_format(
            _("$filter ist fehlerhaft bei Zeichen %(at)s („%(near)s“)."),
            {"at": position + 1, "near": near[:20]},
        ),
    )


class _Parser:
    def __init__(
        self,
        text: str,
        fields: Callable[[str], str | None],
        points: Callable[[str], PointColumns | None],
    ) -> None:
        if len(text) > MAX_LENGTH:
            raise FilterError(
                400,
                message_format(_("$filter ist länger als %(max)s Zeichen."), {"max": MAX_LENGTH}),
            )
        self.tokens = _tokens(text)
        self.position = 0
        self.depth = 0
        self.fields = fields
        self.points = points

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            at = (
                token.at
                if token
                else (self.tokens[-1].at + len(self.tokens[-1].text) if self.tokens else 0)
            )
            raise _bad(at, token.text if token else "")
        self.position += 1
        return token

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(400, _("$filter ist zu tief verschachtelt."))

    def parse(self) -> Q:
        result = self.boolean()
        if self.peek() is not None:
            token = self.peek()
            assert token is not None  # noqa: S101 - peeked just now
            raise _bad(token.at, token.text)
        return result

    def boolean(self) -> Q:
        left = self.conjunction()
        while self.peek() is not None and self.peek().text == "or":  # type: ignore[union-attr]
            self.take()
            left = left | self.conjunction()
        return left

    def conjunction(self) -> Q:
        left = self.negation()
        while self.peek() is not None and self.peek().text == "and":  # type: ignore[union-attr]
            self.take()
            left = left & self.negation()
        return left

    def negation(self) -> Q:
        token = self.peek()
        if token is not None and token.text == "not":
            self.take()
            self.nested()
            return ~self.negation()
        return self.comparison()

    def comparison(self) -> Q:
        token = self.peek()
        if token is not None and token.text == "(" and self._boolean_group():
            self.take("(")
            self.nested()
            inner = self.boolean()
            self.take(")")
            self.depth -= 1
            return inner
        left = self.sum()
        operator = self.peek()
        if operator is None or operator.text not in (*_COMPARE, "ne"):
            if isinstance(left, Q):
                return left
            at = operator.at if operator else 0
            raise _bad(at, operator.text if operator else "")
        self.take()
        right = self.sum()
        if isinstance(left, Q) and isinstance(right, Value) and isinstance(right.value, bool):
            if operator.text in ("eq", "ne"):  # st_within(...) eq true
                return left if (operator.text == "eq") == right.value else ~left
        if isinstance(left, Q) or isinstance(right, Q):
            raise _bad(operator.at, operator.text)
        if isinstance(right, Value) and right.value is None:
            return Q(IsNull(left, True)) if operator.text == "eq" else Q(IsNull(left, False))
        if operator.text == "ne":
            return ~Q(Exact(left, right))
        return Q(_COMPARE[operator.text](left, right))

    def _boolean_group(self) -> bool:
        """Whether "(" opens a group of conditions (rather than arithmetic)."""
        depth = 0
        for token in self.tokens[self.position :]:
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if depth == 0:
                    return False
            elif depth == 1 and token.text in (*_COMPARE, "ne", "and", "or", "not"):
                return True
        return False

    def sum(self) -> Any:
        left = self.product()
        while self.peek() is not None and self.peek().text in ("add", "sub"):  # type: ignore[union-attr]
            operator = self.take().text
            right = self.product()
            left = left + right if operator == "add" else left - right
        return left

    def product(self) -> Any:
        left = self.operand()
        while self.peek() is not None and self.peek().text in ("mul", "div", "mod"):  # type: ignore[union-attr]
            operator = self.take().text
            right = self.operand()
            left = (
                left * right
                if operator == "mul"
                else left / right
                if operator == "div"
                else fn.Mod(left, right)
            )
        return left

    def operand(self) -> Any:
        token = self.take()
        if token.kind == "number":
            return Value(
                float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
            )
        if token.kind == "string":
            return Value(token.text[1:-1].replace("''", "'"))
        if token.kind == "datetime":
            try:
                return Value(datetime.fromisoformat(token.text.replace("Z", "+00:00")))
            except ValueError:
                raise _bad(token.at, token.text) from None
        if token.text == "(":
            self.nested()
            inner = self.sum()
            self.take(")")
            self.depth -= 1
            return inner
        if token.kind != "name":
            raise _bad(token.at, token.text)
        if token.text in ("true", "false"):
            return Value(token.text == "true")
        if token.text == "null":
            return Value(None)
        following = self.peek()
        if following is not None and following.text == "(":
            return self.function(token)
        field = self.fields(token.text)
        if field is None:
            raise FilterError(
                400,
                message_format(
                    _("$filter kennt die Eigenschaft „%(name)s“ nicht."), {"name": token.text[:60]}
                ),
            )
        return F(field)

    def function(self, name: Token) -> Any:
        if name.text in _GEO:
            return self.geo(name)
        if name.text in _GEO_NOT_YET:
            raise FilterError(
                501,
                message_format(
                    _("%(name)s ist in Rathaus noch nicht umgesetzt (siehe docs/citydata.md)."),
                    {"name": name.text},
                ),
            )
        self.take("(")
        self.nested()
        arguments = [self.sum()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take(",")
            arguments.append(self.sum())
        self.take(")")
        self.depth -= 1
        text = name.text
        two = len(arguments) == 2
        if text == "substringof" and two:
            return Q(Contains(arguments[1], arguments[0]))
        if text == "contains" and two:
            return Q(Contains(arguments[0], arguments[1]))
        if text == "startswith" and two:
            return Q(StartsWith(arguments[0], arguments[1]))
        if text == "endswith" and two:
            return Q(EndsWith(arguments[0], arguments[1]))
        if len(arguments) == 1:
            for table in (_TEXT, _PARTS, _ROUND):
                if text in table:
                    function: Expression = table[text](arguments[0])
                    return function
        raise FilterError(
            400,
            message_format(
                _("$filter kennt die Funktion %(name)s mit %(n)s Argumenten nicht."),
                {"name": text[:40], "n": len(arguments)},
            ),
        )

    def geo(self, name: Token) -> Any:
        """A geospatial function of a point property and a literal geometry (either order)."""
        self.take("(")
        first = self.geo_argument()
        self.take(",")
        second = self.geo_argument()
        self.take(")")
        if isinstance(first, Geometry) and isinstance(second, PointColumns):
            first, second = second, first
            if name.text == "st_within":  # the literal within the point: only a point can be
                name = Token(name.kind, "st_equals", name.at)
            elif name.text == "st_contains":
                name = Token(name.kind, "st_within", name.at)
        if not (isinstance(first, PointColumns) and isinstance(second, Geometry)):
            raise FilterError(
                400,
                message_format(
                    _(
                        "%(name)s braucht eine Orts-Eigenschaft und eine Geometrie "
                        "(geography'POINT(12.37 51.34)')."
                    ),
                    {"name": name.text},
                ),
            )
        columns, shape = first, second
        if name.text == "geo.distance":
            if shape.kind != "point":
                raise FilterError(
                    400, _("geo.distance misst in Rathaus nur zu einem Punkt (POINT).")
                )
            lon, lat = shape.rings[0][0]
            return fn.Sqrt(
                fn.Power(F(columns.lon) - Value(lon), Value(2))
                + fn.Power(F(columns.lat) - Value(lat), Value(2))
            )
        if shape.kind == "point":
            touches = _at_point(columns, shape)
        else:
            touches = _inside(columns, shape)
        if name.text == "st_disjoint":
            return ~touches
        if name.text == "st_contains" and shape.kind != "point":
            return Q(pk__in=[])  # a point contains no polygon
        return touches

    def geo_argument(self) -> Geometry | PointColumns:
        token = self.take()
        following = self.peek()
        if token.text == "geography" and following is not None and following.kind == "string":
            self.take()
            return _geometry(following.text[1:-1].replace("''", "'"), following.at)
        if token.kind == "name":
            columns = self.points(token.text)
            if columns is not None:
                return columns
            raise FilterError(
                400,
                message_format(
                    _("$filter: „%(name)s“ ist keine Orts-Eigenschaft dieser Entität."),
                    {"name": token.text[:60]},
                ),
            )
        raise _bad(token.at, token.text)


def filter_q(
    text: str,
    fields: Callable[[str], str | None],
    points: Callable[[str], PointColumns | None] = lambda path: None,
) -> Q:
    """The condition of ``$filter=text``; ``fields`` maps an API property path to an ORM field
    (None: unknown), ``points`` a geometry property to its point columns."""
    if not text.strip():
        raise FilterError(400, _("$filter ist leer."))
    return _Parser(text, fields, points).parse()
