"""ÖV-Güteklassen: public transport quality classes after the Swiss ARE method.

A stop gets a category (I..VII) from its mean interval between departures and its group
(A = rail node, B = other rail and tram, C = bus and the rest); every place within 1000 m of a
stop then gets a quality class (A..F) from that category and its distance to the stop, and where
the areas of several stops overlap the best class wins.

Everything here is pure Python on plain values (no models, no database), so the GTFS import,
the views and the management commands can share it and the tests need no fixtures. numpy is
used for the one hot loop: distances between many points and many stops.

Boundary rules (decided here, documented in docs/transit.md):

- Interval rows are ranges (lower, upper]: exactly 5 min belongs to "<= 5", 5.01 to "5-10",
  exactly 120 min to "60-120"; more than 120 min gives no category.
- Distance bands are ranges (lower, upper] as well, the first one starting at 0 m inclusive:
  exactly 300 m is in "<= 300", exactly 1000 m in "750-1000", beyond 1000 m there is no class.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rathaus.core.csvsafe import csv_cell as _csv_text

# --------------------------------------------------------------------------------------------
# The method's two tables
# --------------------------------------------------------------------------------------------

#: Weekday 06:00-20:00, the counting window of the method.
WINDOW_MINUTES: Final[float] = 14 * 60.0

GROUPS: Final[tuple[str, ...]] = ("A", "B", "C")
CATEGORIES: Final[tuple[str, ...]] = ("I", "II", "III", "IV", "V", "VI", "VII")
CLASSES: Final[tuple[str, ...]] = ("A", "B", "C", "D", "E", "F")
#: Key used for "no class" in tables and exports.
NO_CLASS: Final[str] = "none"
#: Classes and "none" in the order in which tables list them.
CLASS_KEYS: Final[tuple[str, ...]] = (*CLASSES, NO_CLASS)

#: Stop category by mean interval (minutes) and stop group. Each row is
#: (upper bound of the interval range, category for group A, for B, for C); a row covers the
#: range (upper bound of the previous row, its own upper bound].
STOP_CATEGORY_TABLE: Final[tuple[tuple[float, str, str, str], ...]] = (
    (5.0, "I", "I", "II"),
    (10.0, "I", "II", "III"),
    (20.0, "II", "III", "IV"),
    (40.0, "III", "IV", "V"),
    (60.0, "IV", "V", "VI"),
    (120.0, "V", "VI", "VII"),
)

#: Upper bounds (metres, inclusive) of the distance bands: <= 300, 300-500, 500-750, 750-1000.
DISTANCE_BANDS_M: Final[tuple[float, ...]] = (300.0, 500.0, 750.0, 1000.0)
MAX_DISTANCE_M: Final[float] = DISTANCE_BANDS_M[-1]

#: Quality class by stop category, one entry per distance band; None is "-" (no class).
QUALITY_CLASS_TABLE: Final[Mapping[str, tuple[str | None, ...]]] = MappingProxyType(
    {
        "I": ("A", "A", "B", "C"),
        "II": ("A", "B", "C", "D"),
        "III": ("B", "C", "D", "E"),
        "IV": ("C", "D", "E", "F"),
        "V": ("D", "E", "F", None),
        "VI": ("E", "F", None, None),
        "VII": ("F", None, None, None),
    }
)


class QualityInputError(ValueError):
    """Invalid input from a person (an uploaded file); the message reads "deutsch / english"."""

    def __init__(self, message: str, *, line: int | None = None, feature: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.feature = feature


def stop_category(interval_minutes: float, group: str) -> str | None:
    """The stop category (I..VII) for a mean interval, or None beyond 120 minutes."""
    if group not in GROUPS:
        raise ValueError(f"unknown stop group {group!r}, expected one of {GROUPS}")
    if math.isnan(interval_minutes) or interval_minutes <= 0:
        raise ValueError(f"interval must be positive, got {interval_minutes!r}")
    column = GROUPS.index(group)
    for upper, *categories in STOP_CATEGORY_TABLE:
        if interval_minutes <= upper:
            return categories[column]
    return None


def quality_class(category: str, distance_m: float) -> str | None:
    """The quality class (A..F) at a distance from a stop of a category, or None."""
    try:
        row = QUALITY_CLASS_TABLE[category]
    except KeyError:
        raise ValueError(f"unknown stop category {category!r}") from None
    if math.isnan(distance_m) or distance_m < 0:
        raise ValueError(f"distance must be >= 0, got {distance_m!r}")
    for upper, klass in zip(DISTANCE_BANDS_M, row, strict=True):
        if distance_m <= upper:
            return klass
    return None


def mean_interval_minutes(departures: int, window_minutes: float) -> float | None:
    """Mean minutes between departures in the window; None when there is no departure."""
    if departures < 0:
        raise ValueError(f"departures must be >= 0, got {departures}")
    if not math.isfinite(window_minutes) or window_minutes <= 0:
        raise ValueError(f"window must be positive, got {window_minutes!r}")
    if departures == 0:
        return None
    return window_minutes / departures


# --------------------------------------------------------------------------------------------
# Stop groups from GTFS route types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteTypeGroups:
    """Which GTFS route_type belongs to which stop group, and which counts as rail.

    Lookup order: exact `codes`, then the inclusive `ranges`, then `default`. `rail_codes` and
    `rail_ranges` say which route types count towards the rail-node rule (stop_group).
    """

    codes: Mapping[int, str]
    ranges: tuple[tuple[int, int, str], ...] = ()
    default: str = "C"
    rail_codes: frozenset[int] = frozenset()
    rail_ranges: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        groups = [*self.codes.values(), *(r[2] for r in self.ranges), self.default]
        unknown = sorted({g for g in groups if g not in GROUPS})
        if unknown:
            raise ValueError(f"unknown stop group(s) {unknown}, expected one of {GROUPS}")

    def group(self, route_type: int) -> str:
        if route_type in self.codes:
            return self.codes[route_type]
        for low, high, group in self.ranges:
            if low <= route_type <= high:
                return group
        return self.default

    def is_rail(self, route_type: int) -> bool:
        return route_type in self.rail_codes or any(
            low <= route_type <= high for low, high in self.rail_ranges
        )


#: Default mapping: tram, subway, rail, funicular, monorail and the extended rail, urban rail
#: and tram types are "B"; bus, trolleybus, the extended bus types and everything else
#: (ferry, cable car, gondola, coach, ...) are "C". Only heavy rail (2 and the extended
#: railway types 100-199, which include the S-Bahn, 109) counts towards a rail node.
DEFAULT_ROUTE_TYPE_GROUPS: Final[RouteTypeGroups] = RouteTypeGroups(
    codes=MappingProxyType({0: "B", 1: "B", 2: "B", 7: "B", 12: "B", 3: "C", 11: "C"}),
    ranges=((100, 199, "B"), (400, 499, "B"), (900, 999, "B"), (700, 799, "C")),
    default="C",
    rail_codes=frozenset({2}),
    rail_ranges=((100, 199),),
)


def stop_group(
    route_types: Iterable[int],
    rail_routes: int,
    *,
    rail_node_min_routes: int = 2,
    mapping: RouteTypeGroups = DEFAULT_ROUTE_TYPE_GROUPS,
) -> str:
    """The group of a stop from the route types serving it and its number of rail routes.

    Our reading of "rail node" (Bahnknoten): a stop served by at least `rail_node_min_routes`
    distinct rail routes (route types for which `mapping.is_rail` holds) is group "A".
    Otherwise the best group (A < B < C) among the route types serving the stop wins.
    """
    types = list(route_types)
    if not types:
        raise ValueError("a stop needs at least one route type")
    if rail_node_min_routes < 1:
        raise ValueError("rail_node_min_routes must be >= 1")
    if rail_routes < 0:
        raise ValueError("rail_routes must be >= 0")
    if rail_routes > 0 and not any(mapping.is_rail(t) for t in types):
        raise ValueError(f"{rail_routes} rail route(s) counted but no rail route type in {types}")
    if rail_routes >= rail_node_min_routes:
        return "A"
    return min(mapping.group(t) for t in types)


def stop_group_for_routes(
    routes: Iterable[tuple[str, int]],
    *,
    rail_node_min_routes: int = 2,
    mapping: RouteTypeGroups = DEFAULT_ROUTE_TYPE_GROUPS,
) -> str:
    """stop_group from the (route key, route_type) pairs serving a stop.

    The route key is whatever identifies a line for the rail-node count (route_id, or
    route_short_name where a feed splits one line into several routes); duplicates count once.
    """
    pairs = list(routes)
    rail = {key for key, route_type in pairs if mapping.is_rail(route_type)}
    return stop_group(
        [route_type for _, route_type in pairs],
        len(rail),
        rail_node_min_routes=rail_node_min_routes,
        mapping=mapping,
    )


# --------------------------------------------------------------------------------------------
# Stops and their ratings
# --------------------------------------------------------------------------------------------


def _check_position(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"latitude must be within -90..90, got {lat!r}")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"longitude must be within -180..180, got {lon!r}")


@dataclass(frozen=True, slots=True)
class QualityStop:
    """A stop (or a parent station with its platforms summed) as the method sees it."""

    id: str
    name: str
    lat: float
    lon: float
    group: str
    departures: int

    def __post_init__(self) -> None:
        _check_position(self.lat, self.lon)
        if self.group not in GROUPS:
            raise ValueError(f"unknown stop group {self.group!r}")
        if self.departures < 0:
            raise ValueError("departures must be >= 0")


@dataclass(frozen=True, slots=True)
class StopRating:
    """A stop with its mean interval and category (both None when it has no category)."""

    stop: QualityStop
    interval_minutes: float | None
    category: str | None


def rate_stop(stop: QualityStop, *, window_minutes: float = WINDOW_MINUTES) -> StopRating:
    interval = mean_interval_minutes(stop.departures, window_minutes)
    category = None if interval is None else stop_category(interval, stop.group)
    return StopRating(stop=stop, interval_minutes=interval, category=category)


def rate_stops(
    stops: Iterable[QualityStop], *, window_minutes: float = WINDOW_MINUTES
) -> list[StopRating]:
    return [rate_stop(stop, window_minutes=window_minutes) for stop in stops]


# --------------------------------------------------------------------------------------------
# Distances and the class at points
# --------------------------------------------------------------------------------------------

#: Mean earth radius (IUGG), metres.
EARTH_RADIUS_M: Final[float] = 6_371_008.8

FloatArray = npt.NDArray[np.float64]
_NONE_RANK: Final[int] = len(CLASSES)
_RANK_TO_CLASS: Final[tuple[str | None, ...]] = (*CLASSES, None)


def _class_rank_table() -> npt.NDArray[np.int8]:
    # Rows: categories I..VII; columns: the distance bands and a last one for "beyond".
    table = np.full((len(CATEGORIES), len(DISTANCE_BANDS_M) + 1), _NONE_RANK, dtype=np.int8)
    for i, category in enumerate(CATEGORIES):
        for j, klass in enumerate(QUALITY_CLASS_TABLE[category]):
            if klass is not None:
                table[i, j] = CLASSES.index(klass)
    return table


_CLASS_RANKS: Final = _class_rank_table()


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def approx_distance_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Vectorised equirectangular distance in metres (numpy broadcasting).

    The east-west scale uses the mean of the two cosines of latitude, which equals the cosine
    of the mean latitude to within 1e-8 for points a few kilometres apart; against haversine
    the error is below 0.01 % up to 10 km (the method only needs 1 km). Longitudes are
    wrapped, so pairs across the antimeridian work.
    """
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    dl = np.remainder(dl + np.pi, 2 * np.pi) - np.pi
    dx = dl * (np.cos(p1) + np.cos(p2)) * 0.5
    dy = p2 - p1
    result: FloatArray = EARTH_RADIUS_M * np.sqrt(dx * dx + dy * dy)
    return result


def _points_array(points: Sequence[tuple[float, float]] | FloatArray) -> FloatArray:
    array = np.asarray(points, dtype=np.float64)
    if array.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError("points must be a sequence of (lat, lon) pairs")
    lat, lon = array[:, 0], array[:, 1]
    if not (np.isfinite(array).all() and (np.abs(lat) <= 90).all() and (np.abs(lon) <= 180).all()):
        raise ValueError("points must have latitudes within -90..90 and longitudes -180..180")
    return array


def _best_ranks(
    points: FloatArray, stops: Sequence[StopRating], *, chunk_pairs: int
) -> npt.NDArray[np.int8]:
    """For each (lat, lon) row of `points` the rank (0 = A .. 5 = F, 6 = none) of its best class.

    Points are sorted by latitude and handled in chunks; each chunk only looks at stops whose
    latitude is within 1000 m of the chunk's latitude range, and holds at most about
    `chunk_pairs` point-stop pairs in memory at once.
    """
    n = points.shape[0]
    ranks = np.full(n, _NONE_RANK, dtype=np.int8)
    rated = [r for r in stops if r.category is not None]
    if n == 0 or not rated:
        return ranks
    if chunk_pairs < 1:
        raise ValueError("chunk_pairs must be >= 1")

    s_lat = np.radians(np.array([r.stop.lat for r in rated], dtype=np.float64))
    s_lon = np.radians(np.array([r.stop.lon for r in rated], dtype=np.float64))
    s_cat = np.array([CATEGORIES.index(r.category or "") for r in rated], dtype=np.intp)
    order = np.argsort(s_lat, kind="stable")
    s_lat, s_lon, s_cat = s_lat[order], s_lon[order], s_cat[order]
    s_cos = np.cos(s_lat)
    # Squared angular band limits; a tiny slack keeps the latitude pre-filter conservative.
    limits = (np.array(DISTANCE_BANDS_M, dtype=np.float64) / EARTH_RADIUS_M) ** 2
    reach = MAX_DISTANCE_M / EARTH_RADIUS_M * (1 + 1e-9)
    rank_lookup = _CLASS_RANKS.ravel()
    columns = _CLASS_RANKS.shape[1]

    p_lat_all = np.radians(points[:, 0])
    p_lon_all = np.radians(points[:, 1])
    p_order = np.argsort(p_lat_all, kind="stable")
    step = max(1, chunk_pairs // len(rated))
    for start in range(0, n, step):
        index = p_order[start : start + step]
        p_lat, p_lon = p_lat_all[index], p_lon_all[index]
        low = np.searchsorted(s_lat, p_lat[0] - reach, side="left")
        high = np.searchsorted(s_lat, p_lat[-1] + reach, side="right")
        if low >= high:
            continue
        c_lat, c_lon, c_cos = s_lat[low:high], s_lon[low:high], s_cos[low:high]
        dx = np.remainder(p_lon[:, None] - c_lon[None, :] + np.pi, 2 * np.pi) - np.pi
        dx *= (np.cos(p_lat)[:, None] + c_cos[None, :]) * 0.5
        dy = p_lat[:, None] - c_lat[None, :]
        d2 = dx * dx + dy * dy
        # Band index 0..3, or 4 beyond 1000 m; side="left" makes each upper bound inclusive.
        band = np.searchsorted(limits, d2, side="left")
        chunk_ranks = rank_lookup[s_cat[low:high][None, :] * columns + band]
        ranks[index] = chunk_ranks.min(axis=1)
    return ranks


def classify_points(
    points: Sequence[tuple[float, float]],
    stops: Sequence[StopRating],
    *,
    chunk_pairs: int = 1_000_000,
) -> list[str | None]:
    """The best quality class at each (lat, lon) among all stops within 1000 m, else None."""
    ranks = _best_ranks(_points_array(points), stops, chunk_pairs=chunk_pairs)
    return [_RANK_TO_CLASS[r] for r in ranks.tolist()]


# --------------------------------------------------------------------------------------------
# Grid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BBox:
    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        _check_position(self.south, self.west)
        _check_position(self.north, self.east)
        if self.south > self.north or self.west > self.east:
            # Boxes across the antimeridian are not supported.
            raise ValueError("bbox needs south <= north and west <= east")


@dataclass(frozen=True, slots=True)
class GridCell:
    """A grid cell: its row and column, its centre and its bounds in degrees."""

    row: int
    col: int
    lat: float
    lon: float
    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True, slots=True)
class ClassifiedCell:
    cell: GridCell
    quality_class: str | None


def stops_bbox(stops: Iterable[StopRating]) -> BBox:
    """The bounding box of the stops' positions."""
    lats: list[float] = []
    lons: list[float] = []
    for rating in stops:
        lats.append(rating.stop.lat)
        lons.append(rating.stop.lon)
    if not lats:
        raise ValueError("no stops")
    return BBox(south=min(lats), west=min(lons), north=max(lats), east=max(lons))


def grid_cells(
    bbox: BBox,
    cell_m: float = 100.0,
    *,
    margin_m: float = MAX_DISTANCE_M,
    max_cells: int = 1_000_000,
) -> list[GridCell]:
    """Square cells of `cell_m` covering `bbox` widened by `margin_m` on every side.

    The grid is regular in degrees: cells are exactly `cell_m` high, and `cell_m` wide at the
    grid's middle latitude (across a city of 30 km the width varies by about 0.5 %), so every
    cell stands for the same area to that accuracy. Row 0 is the southernmost, column 0 the
    westernmost.
    """
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise ValueError("cell_m must be positive")
    if not (math.isfinite(margin_m) and margin_m >= 0):
        raise ValueError("margin_m must be >= 0")
    metres_per_degree = EARTH_RADIUS_M * math.pi / 180.0
    margin_lat = margin_m / metres_per_degree
    south = max(-90.0, bbox.south - margin_lat)
    north = min(90.0, bbox.north + margin_lat)
    # Widen east-west with the smallest cosine in the box, so the margin holds everywhere.
    widest = max(abs(south), abs(north))
    min_cos = max(math.cos(math.radians(widest)), 1e-6)
    margin_lon = margin_m / (metres_per_degree * min_cos)
    west = bbox.west - margin_lon
    east = bbox.east + margin_lon
    mid_cos = max(math.cos(math.radians((south + north) / 2)), 1e-6)
    dlat = cell_m / metres_per_degree
    dlon = cell_m / (metres_per_degree * mid_cos)
    rows = max(1, math.ceil((north - south) / dlat))
    cols = max(1, math.ceil((east - west) / dlon))
    if rows * cols > max_cells:
        raise ValueError(
            f"the grid would have {rows * cols} cells (more than {max_cells}); "
            "use larger cells or a smaller area"
        )
    cells: list[GridCell] = []
    for row in range(rows):
        c_south = south + row * dlat
        c_north = south + (row + 1) * dlat
        c_lat = south + (row + 0.5) * dlat
        for col in range(cols):
            cells.append(
                GridCell(
                    row=row,
                    col=col,
                    lat=c_lat,
                    lon=west + (col + 0.5) * dlon,
                    south=c_south,
                    west=west + col * dlon,
                    north=c_north,
                    east=west + (col + 1) * dlon,
                )
            )
    return cells


def classify_cells(cells: Sequence[GridCell], stops: Sequence[StopRating]) -> list[ClassifiedCell]:
    """Every cell with the class at its centre (None where no stop reaches)."""
    classes = classify_points([(c.lat, c.lon) for c in cells], stops)
    return [ClassifiedCell(cell=c, quality_class=k) for c, k in zip(cells, classes, strict=True)]


def quality_grid(stops: Sequence[StopRating], cell_m: float = 100.0) -> list[ClassifiedCell]:
    """The cells with a class around the stops that have a category (cells without are left out)."""
    rated = [r for r in stops if r.category is not None]
    if not rated:
        return []
    cells = grid_cells(stops_bbox(rated), cell_m)
    return [c for c in classify_cells(cells, rated) if c.quality_class is not None]


# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------

PopulationRow = tuple[float, float, float]  # lat, lon, people


def population_shares(
    population: Iterable[PopulationRow], stops: Sequence[StopRating]
) -> dict[str, tuple[float, float]]:
    """People and their share per class (keys A..F and "none", all present, in that order).

    The shares sum to 1; with no people at all every share is 0.
    """
    rows = list(population)
    people = np.array([r[2] for r in rows], dtype=np.float64)
    if not np.isfinite(people).all() or (people < 0).any():
        raise ValueError("population must be finite and >= 0")
    points = _points_array([(r[0], r[1]) for r in rows])
    ranks = _best_ranks(points, stops, chunk_pairs=1_000_000)
    sums = np.bincount(ranks, weights=people, minlength=len(CLASS_KEYS))
    total = float(sums.sum())
    return {
        key: (float(sums[i]), float(sums[i]) / total if total > 0 else 0.0)
        for i, key in enumerate(CLASS_KEYS)
    }


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_LAT_NAMES = ("lat",)
_LON_NAMES = ("lon",)
_POPULATION_NAMES = ("population", "einwohner")


def _parse_number(text: str, *, decimal_comma: bool) -> float | None:
    value = text.strip()
    if decimal_comma and "," in value and "." not in value:
        value = value.replace(",", ".", 1)
    if not _NUMBER.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _shorten(text: str, limit: int = 40) -> str:
    # Shown back to people in messages: short, and without control characters.
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_population_csv(
    text: str, *, strict: bool = False
) -> tuple[list[PopulationRow], list[tuple[int, str]]]:
    """Read population points from CSV: columns lat, lon and population (or einwohner).

    Comma or semicolon delimited (taken from the header line; with semicolons a decimal comma is
    accepted), a UTF-8 byte order mark is tolerated, other columns are ignored, blank lines are
    skipped. Bad rows are not dropped silently: they come back as (line number, reason) with
    a German / English reason; with `strict` the first one raises QualityInputError instead.
    A missing column or a file without data rows always raises QualityInputError.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise QualityInputError("Die Datei ist leer / the file is empty", line=1)
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records = _csv_records(reader)
    header: list[str] | None = None
    header_line = 1
    for row in records:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            header_line = reader.line_num
            break
    if header is None:
        raise QualityInputError("Die Datei ist leer / the file is empty", line=1)

    if all(name in header for name in _POPULATION_NAMES):
        raise QualityInputError(
            f"Zeile {header_line}: Spalten population und einwohner dürfen nicht beide "
            f"vorkommen / line {header_line}: columns population and einwohner must not both "
            "be present",
            line=header_line,
        )
    columns: dict[str, int] = {}
    for key, names in (("lat", _LAT_NAMES), ("lon", _LON_NAMES), ("population", _POPULATION_NAMES)):
        for name in names:
            if name in header:
                columns[key] = header.index(name)
    missing = [key for key in ("lat", "lon", "population") if key not in columns]
    if missing:
        listed = ", ".join(missing)
        raise QualityInputError(
            f"Zeile {header_line}: Spalte(n) {listed} fehlen (erwartet: lat, lon, population oder "
            f"einwohner) / line {header_line}: missing column(s) {listed} (expected: lat, lon, "
            "population or einwohner)",
            line=header_line,
        )
    decimal_comma = delimiter == ";"

    rows: list[PopulationRow] = []
    rejected: list[tuple[int, str]] = []
    seen_data = False
    for row in records:
        if not any(cell.strip() for cell in row):
            continue
        seen_data = True
        line = reader.line_num
        reason = _population_row(row, line, columns, header, decimal_comma=decimal_comma)
        if isinstance(reason, str):
            if strict:
                raise QualityInputError(reason, line=line)
            rejected.append((line, reason))
        else:
            rows.append(reason)
    if not seen_data:
        raise QualityInputError(
            "Die Datei enthält keine Datenzeilen / the file contains no data rows",
            line=header_line,
        )
    return rows, rejected


def _csv_records(reader: Any) -> Iterator[list[str]]:
    # csv.reader is typed loosely in typeshed (_reader); Any keeps line_num reachable.
    try:
        yield from reader
    except csv.Error as exc:
        line = reader.line_num
        raise QualityInputError(
            f"Zeile {line}: CSV nicht lesbar ({exc}) / line {line}: unreadable CSV ({exc})",
            line=line,
        ) from None


def _population_row(
    row: list[str],
    line: int,
    columns: Mapping[str, int],
    header: Sequence[str],
    *,
    decimal_comma: bool,
) -> str | PopulationRow:
    """The parsed row, or the reason it is rejected."""
    if len(row) <= max(columns.values()):
        return f"Zeile {line}: zu wenige Spalten / line {line}: too few columns"
    values: dict[str, float] = {}
    for key, col in columns.items():
        number = _parse_number(row[col], decimal_comma=decimal_comma)
        if number is None:
            shown, name = _shorten(row[col]), header[col]
            return (
                f"Zeile {line}: „{shown}“ in Spalte {name} ist keine Zahl / "
                f"line {line}: '{shown}' in column {name} is not a number"
            )
        values[key] = number
    lat, lon, people = values["lat"], values["lon"], values["population"]
    if not -90.0 <= lat <= 90.0:
        return (
            f"Zeile {line}: Breitengrad {lat:g} liegt nicht zwischen -90 und 90 / "
            f"line {line}: latitude {lat:g} is not between -90 and 90"
        )
    if not -180.0 <= lon <= 180.0:
        return (
            f"Zeile {line}: Längengrad {lon:g} liegt nicht zwischen -180 und 180 / "
            f"line {line}: longitude {lon:g} is not between -180 and 180"
        )
    if people < 0:
        return (
            f"Zeile {line}: Einwohnerzahl {people:g} ist negativ / "
            f"line {line}: population {people:g} is negative"
        )
    return (lat, lon, people)


# --------------------------------------------------------------------------------------------
# Areas (e.g. a city's Ortsteile)
# --------------------------------------------------------------------------------------------

Ring = tuple[tuple[float, float], ...]  # closed ring of (lon, lat), as in GeoJSON
Polygon = tuple[Ring, ...]  # exterior ring first, then holes


@dataclass(frozen=True, slots=True)
class Area:
    name: str
    polygons: tuple[Polygon, ...]


def _area_error(index: int, german: str, english: str) -> QualityInputError:
    return QualityInputError(
        f"Feature {index}: {german} / feature {index}: {english}", feature=index
    )


def _read_ring(value: Any, index: int) -> Ring:
    if not isinstance(value, list) or len(value) < 4:
        raise _area_error(
            index,
            "ein Ring braucht mindestens 4 Positionen",
            "a ring needs at least 4 positions",
        )
    ring: list[tuple[float, float]] = []
    for position in value:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
        ):
            raise _area_error(
                index,
                f"ungültige Position {_shorten(json.dumps(position))}",
                f"invalid position {_shorten(json.dumps(position))}",
            )
        try:
            lon, lat = float(position[0]), float(position[1])
        except OverflowError:
            lon = lat = math.inf
        if not (
            math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        ):
            raise _area_error(
                index,
                f"Koordinate ({lon:g}, {lat:g}) liegt außerhalb; erwartet WGS 84 "
                "(Längengrad, Breitengrad), keine projizierten Koordinaten",
                f"coordinate ({lon:g}, {lat:g}) is out of range; expected WGS 84 "
                "(longitude, latitude), not projected coordinates",
            )
        ring.append((lon, lat))
    if ring[0] != ring[-1]:
        raise _area_error(
            index,
            "Ring ist nicht geschlossen (erste und letzte Position müssen gleich sein)",
            "ring is not closed (first and last position must be equal)",
        )
    return tuple(ring)


def _read_polygon(value: Any, index: int) -> Polygon:
    if not isinstance(value, list) or not value:
        raise _area_error(index, "leeres Polygon", "empty polygon")
    return tuple(_read_ring(ring, index) for ring in value)


def read_areas_geojson(text: str) -> list[Area]:
    """Read areas from a GeoJSON FeatureCollection of Polygon/MultiPolygon features.

    Each feature needs a non-empty, unique `name` property. Coordinates are WGS 84
    (longitude, latitude) as RFC 7946 requires; rings must be closed. Errors raise
    QualityInputError naming the feature (counted from 1).
    """
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise QualityInputError(
            f"Kein gültiges JSON (Zeile {exc.lineno}, Spalte {exc.colno}) / "
            f"not valid JSON (line {exc.lineno}, column {exc.colno})",
            line=exc.lineno,
        ) from None
    except (ValueError, RecursionError):
        # Integers beyond Python's digit limit, absurdly deep nesting.
        raise QualityInputError("Kein gültiges JSON / not valid JSON") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise QualityInputError(
            "Erwartet wird eine GeoJSON-FeatureCollection / expected a GeoJSON FeatureCollection"
        )
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise QualityInputError(
            "Die FeatureCollection enthält keine Flächen / the FeatureCollection contains no areas"
        )
    areas: list[Area] = []
    names: set[str] = set()
    for index, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _area_error(index, "kein GeoJSON-Feature", "not a GeoJSON Feature")
        properties = feature.get("properties")
        name = properties.get("name") if isinstance(properties, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _area_error(
                index,
                "Eigenschaft name fehlt oder ist leer",
                "property name is missing or empty",
            )
        name = name.strip()
        if name in names:
            raise _area_error(index, f"Name „{name}“ doppelt", f"duplicate name '{name}'")
        names.add(name)
        geometry = feature.get("geometry")
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if kind == "Polygon":
            polygons: tuple[Polygon, ...] = (_read_polygon(coordinates, index),)
        elif kind == "MultiPolygon":
            if not isinstance(coordinates, list) or not coordinates:
                raise _area_error(index, "leeres MultiPolygon", "empty MultiPolygon")
            polygons = tuple(_read_polygon(part, index) for part in coordinates)
        else:
            shown = "null" if kind is None else _shorten(str(kind))
            raise _area_error(
                index,
                f"Geometrie muss Polygon oder MultiPolygon sein, nicht {shown}",
                f"geometry must be Polygon or MultiPolygon, not {shown}",
            )
        areas.append(Area(name=name, polygons=polygons))
    return areas


def _points_in_polygon(
    lats: FloatArray, lons: FloatArray, polygon: Polygon, *, chunk_pairs: int = 1_000_000
) -> npt.NDArray[np.bool_]:
    """Even-odd ray casting over all rings of the polygon, so holes are outside."""
    edges = np.array(
        [(*ring[i], *ring[i + 1]) for ring in polygon for i in range(len(ring) - 1)],
        dtype=np.float64,
    )
    x1, y1, x2, y2 = edges[:, 0], edges[:, 1], edges[:, 2], edges[:, 3]
    inside = np.zeros(lats.shape[0], dtype=np.bool_)
    step = max(1, chunk_pairs // max(1, len(edges)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, lats.shape[0], step):
            py = lats[start : start + step, None]
            px = lons[start : start + step, None]
            # The half-open test (y1 > py) != (y2 > py) skips horizontal edges and counts a
            # vertex on the ray once; where it is False the division's inf/nan is not used.
            spans = (y1 > py) != (y2 > py)
            crossing_x = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            crossings = np.count_nonzero(spans & (px < crossing_x), axis=1)
            inside[start : start + step] = crossings % 2 == 1
    return inside


def points_in_area(lats: FloatArray, lons: FloatArray, area: Area) -> npt.NDArray[np.bool_]:
    """Which of the points (arrays of latitudes and longitudes) lie in the area."""
    inside = np.zeros(lats.shape[0], dtype=np.bool_)
    for polygon in area.polygons:
        exterior = np.array(polygon[0], dtype=np.float64)
        box = (
            (lons >= exterior[:, 0].min())
            & (lons <= exterior[:, 0].max())
            & (lats >= exterior[:, 1].min())
            & (lats <= exterior[:, 1].max())
            & ~inside
        )
        candidates = np.flatnonzero(box)
        if candidates.size:
            inside[candidates] = _points_in_polygon(lats[candidates], lons[candidates], polygon)
    return inside


def point_in_polygon(lat: float, lon: float, polygon: Polygon) -> bool:
    """Whether (lat, lon) lies inside the polygon (exterior ring, then holes)."""
    result = _points_in_polygon(np.array([lat]), np.array([lon]), polygon)
    return bool(result[0])


def areas_bbox(areas: Iterable[Area]) -> BBox:
    lons: list[float] = []
    lats: list[float] = []
    for area in areas:
        for polygon in area.polygons:
            lons.extend(p[0] for p in polygon[0])
            lats.extend(p[1] for p in polygon[0])
    if not lats:
        raise ValueError("no areas")
    return BBox(south=min(lats), west=min(lons), north=max(lats), east=max(lons))


@dataclass(frozen=True, slots=True)
class AreaRow:
    """Grid cells of one area per class (keys A..F and "none"); `cells` is their total."""

    name: str
    cells: int
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def shares(self) -> dict[str, float]:
        return {
            key: (self.counts.get(key, 0) / self.cells if self.cells else 0.0) for key in CLASS_KEYS
        }


def area_table(areas: Sequence[Area], cells: Sequence[ClassifiedCell]) -> list[AreaRow]:
    """Per area, its cells (by centre) per class: the area's share of each class.

    Pass all cells covering the areas, including those without a class (classify_cells), or
    the "none" share is missing; area_quality_table does that. Cells are equal in area, so cell
    counts are area shares. A centre on the edge shared by two areas counts for one of them.
    """
    lats = np.array([c.cell.lat for c in cells], dtype=np.float64)
    lons = np.array([c.cell.lon for c in cells], dtype=np.float64)
    keys = [c.quality_class or NO_CLASS for c in cells]
    rows: list[AreaRow] = []
    for area in areas:
        counts = dict.fromkeys(CLASS_KEYS, 0)
        for i in np.flatnonzero(points_in_area(lats, lons, area)).tolist():
            counts[keys[i]] += 1
        rows.append(AreaRow(name=area.name, cells=sum(counts.values()), counts=counts))
    return rows


def area_quality_table(
    areas: Sequence[Area], stops: Sequence[StopRating], cell_m: float = 100.0
) -> list[AreaRow]:
    """area_table on a grid of `cell_m` covering the areas, classified from the stops."""
    cells = grid_cells(areas_bbox(areas), cell_m, margin_m=0.0)
    return area_table(areas, classify_cells(cells, stops))


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------

_COORD_DIGITS: Final[int] = 6  # about 0.1 m, as RFC 7946 suggests


def _interval_1dp(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def quality_geojson(
    stop_ratings: Sequence[StopRating], cells: Sequence[ClassifiedCell], cell_m: float
) -> dict[str, Any]:
    """A FeatureCollection: one Point per stop rating, one square Polygon per cell.

    Every feature has a `kind` property ("stop" or "cell"); cells carry their `quality_class`
    and `cell_m`. Stops without a category are included with category null.
    """
    features: list[dict[str, Any]] = []
    for rating in stop_ratings:
        stop = rating.stop
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(stop.lon, _COORD_DIGITS),
                        round(stop.lat, _COORD_DIGITS),
                    ],
                },
                "properties": {
                    "kind": "stop",
                    "stop_id": stop.id,
                    "name": stop.name,
                    "group": stop.group,
                    "departures": stop.departures,
                    "interval_minutes": _interval_1dp(rating.interval_minutes),
                    "category": rating.category,
                },
            }
        )
    for classified in cells:
        c = classified.cell
        w, s = round(c.west, _COORD_DIGITS), round(c.south, _COORD_DIGITS)
        e, n = round(c.east, _COORD_DIGITS), round(c.north, _COORD_DIGITS)
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    # Counter-clockwise exterior ring, as RFC 7946 asks.
                    "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
                },
                "properties": {
                    "kind": "cell",
                    "quality_class": classified.quality_class,
                    "cell_m": cell_m,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


STOP_CSV_HEADER: Final[tuple[str, ...]] = (
    "stop_id",
    "name",
    "group",
    "departures",
    "interval_minutes",
    "category",
)
AREA_CSV_HEADER: Final[tuple[str, ...]] = (
    "area",
    "cells",
    *(f"cells_{key}" for key in CLASS_KEYS),
    *(f"share_{key}" for key in CLASS_KEYS),
)
POPULATION_CSV_HEADER: Final[tuple[str, ...]] = ("class", "population", "share")


def quality_csv_rows(stop_ratings: Iterable[StopRating]) -> list[list[str]]:
    """The per-stop table with its header row; interval in minutes to 1 decimal."""
    rows = [list(STOP_CSV_HEADER)]
    for rating in stop_ratings:
        stop = rating.stop
        interval = "" if rating.interval_minutes is None else f"{rating.interval_minutes:.1f}"
        rows.append(
            [
                _csv_text(stop.id),
                _csv_text(stop.name),
                stop.group,
                str(stop.departures),
                interval,
                rating.category or "",
            ]
        )
    return rows


def area_csv_rows(area_rows: Iterable[AreaRow]) -> list[list[str]]:
    """The per-area table with its header row; shares as fractions to 4 decimals."""
    rows = [list(AREA_CSV_HEADER)]
    for row in area_rows:
        shares = row.shares
        rows.append(
            [
                _csv_text(row.name),
                str(row.cells),
                *(str(row.counts.get(key, 0)) for key in CLASS_KEYS),
                *(f"{shares[key]:.4f}" for key in CLASS_KEYS),
            ]
        )
    return rows


def population_csv_rows(shares: Mapping[str, tuple[float, float]]) -> list[list[str]]:
    """population_shares as a table with its header row."""
    rows = [list(POPULATION_CSV_HEADER)]
    for key in CLASS_KEYS:
        people, share = shares.get(key, (0.0, 0.0))
        rows.append([key, f"{people:g}", f"{share:.4f}"])
    return rows


def write_csv(rows: Iterable[Sequence[str]]) -> str:
    """Comma-separated text with CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
