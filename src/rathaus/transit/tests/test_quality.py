"""ÖV-Güteklassen (transit.quality): the tables, the rules around them, and the file formats.

Pure functions: no database, no network. The expected tables below are written out again on
purpose (from docs/transit.md and the ARE method), not read from the module.
"""

import csv
import io
import json
import math

import numpy as np
import pytest

from rathaus.transit import quality as q

R = q.EARTH_RADIUS_M

# The method's tables, copied by hand.
EXPECTED_CATEGORIES = {
    # interval row: (A, B, C)
    "<=5": ("I", "I", "II"),
    "5-10": ("I", "II", "III"),
    "10-20": ("II", "III", "IV"),
    "20-40": ("III", "IV", "V"),
    "40-60": ("IV", "V", "VI"),
    "60-120": ("V", "VI", "VII"),
}
ROW_INTERVAL = {
    "<=5": 3.0,
    "5-10": 7.5,
    "10-20": 15.0,
    "20-40": 30.0,
    "40-60": 50.0,
    "60-120": 90.0,
}
ROW_UPPER = {"<=5": 5, "5-10": 10, "10-20": 20, "20-40": 40, "40-60": 60, "60-120": 120}

EXPECTED_CLASSES = {
    # category: classes for <=300, 300-500, 500-750, 750-1000 m; None is "-"
    "I": ("A", "A", "B", "C"),
    "II": ("A", "B", "C", "D"),
    "III": ("B", "C", "D", "E"),
    "IV": ("C", "D", "E", "F"),
    "V": ("D", "E", "F", None),
    "VI": ("E", "F", None, None),
    "VII": ("F", None, None, None),
}
BAND_DISTANCE = (150.0, 400.0, 625.0, 875.0)
BAND_UPPER = (300.0, 500.0, 750.0, 1000.0)

LEIPZIG = (51.3397, 12.3731)  # Neues Rathaus, roughly


def north_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point `metres` due north (negative: south); its haversine distance is exact."""
    return (lat + math.degrees(metres / R), lon)


def east_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    return (lat, lon + math.degrees(metres / (R * math.cos(math.radians(lat)))))


def sphere_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance with the atan2 (Vincenty, sphere) formula: independent of the
    module's haversine."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.hypot(
        math.cos(p2) * math.sin(dl),
        math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl),
    )
    x = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return R * math.atan2(y, x)


def rating(
    category: str | None,
    lat: float,
    lon: float,
    *,
    stop_id: str = "s",
    name: str = "Haltestelle",
) -> q.StopRating:
    stop = q.QualityStop(id=stop_id, name=name, lat=lat, lon=lon, group="B", departures=84)
    return q.StopRating(stop=stop, interval_minutes=10.0, category=category)


# ------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "group", "expected"),
    [
        (row, group, EXPECTED_CATEGORIES[row][i])
        for row in EXPECTED_CATEGORIES
        for i, group in enumerate(("A", "B", "C"))
    ],
)
def test_stop_category_table_cell(row: str, group: str, expected: str) -> None:
    assert q.stop_category(ROW_INTERVAL[row], group) == expected


@pytest.mark.parametrize(
    ("category", "band", "expected"),
    [
        (category, band, EXPECTED_CLASSES[category][band])
        for category in EXPECTED_CLASSES
        for band in range(4)
    ],
)
def test_quality_class_table_cell(category: str, band: int, expected: str | None) -> None:
    assert q.quality_class(category, BAND_DISTANCE[band]) == expected


def test_module_constants_are_the_published_tables() -> None:
    assert [(row[0], row[1:]) for row in q.STOP_CATEGORY_TABLE] == [
        (float(ROW_UPPER[row]), cats) for row, cats in EXPECTED_CATEGORIES.items()
    ]
    assert dict(q.QUALITY_CLASS_TABLE) == EXPECTED_CLASSES
    assert q.DISTANCE_BANDS_M == BAND_UPPER


# ------------------------------------------------------------------------------------------
# Boundary rules
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["A", "B", "C"])
@pytest.mark.parametrize("row", list(EXPECTED_CATEGORIES))
def test_interval_on_upper_bound_belongs_to_that_row(row: str, group: str) -> None:
    column = "ABC".index(group)
    assert q.stop_category(ROW_UPPER[row], group) == EXPECTED_CATEGORIES[row][column]


@pytest.mark.parametrize("group", ["A", "B", "C"])
def test_interval_just_above_a_bound_belongs_to_the_next_row(group: str) -> None:
    column = "ABC".index(group)
    rows = list(EXPECTED_CATEGORIES)
    for upper_row, next_row in zip(rows, rows[1:], strict=False):
        interval = ROW_UPPER[upper_row] + 1e-9
        assert q.stop_category(interval, group) == EXPECTED_CATEGORIES[next_row][column]


@pytest.mark.parametrize("group", ["A", "B", "C"])
def test_interval_beyond_120_minutes_has_no_category(group: str) -> None:
    assert q.stop_category(120.0001, group) is None
    assert q.stop_category(840.0, group) is None
    assert q.stop_category(math.inf, group) is None


def test_very_short_interval_is_the_first_row() -> None:
    assert q.stop_category(0.01, "C") == "II"


@pytest.mark.parametrize("category", list(EXPECTED_CLASSES))
def test_distance_on_band_bound_belongs_to_that_band(category: str) -> None:
    for band, upper in enumerate(BAND_UPPER):
        assert q.quality_class(category, upper) == EXPECTED_CLASSES[category][band]
    for band, upper in enumerate(BAND_UPPER[:-1]):
        assert q.quality_class(category, upper + 1e-6) == EXPECTED_CLASSES[category][band + 1]
    assert q.quality_class(category, 0.0) == EXPECTED_CLASSES[category][0]
    assert q.quality_class(category, 1000.000001) is None


@pytest.mark.parametrize(
    ("interval", "group"), [(0.0, "A"), (-1.0, "B"), (math.nan, "C"), (5.0, "D"), (5.0, "a")]
)
def test_stop_category_rejects_invalid_input(interval: float, group: str) -> None:
    with pytest.raises(ValueError):
        q.stop_category(interval, group)


@pytest.mark.parametrize(("category", "distance"), [("VIII", 10.0), ("i", 10.0), ("I", -1.0)])
def test_quality_class_rejects_invalid_input(category: str, distance: float) -> None:
    with pytest.raises(ValueError):
        q.quality_class(category, distance)


def test_mean_interval_is_window_over_departures() -> None:
    assert q.mean_interval_minutes(168, q.WINDOW_MINUTES) == 5.0
    assert q.mean_interval_minutes(84, 840) == 10.0
    assert q.mean_interval_minutes(3, 60) == 20.0
    assert q.mean_interval_minutes(0, 840) is None
    # 7 departures in 14 hours: exactly 120 minutes, still a category.
    interval = q.mean_interval_minutes(7, q.WINDOW_MINUTES)
    assert interval == 120.0
    assert q.stop_category(interval, "C") == "VII"
    assert q.stop_category(q.mean_interval_minutes(6, q.WINDOW_MINUTES) or 0, "C") is None


@pytest.mark.parametrize(("departures", "window"), [(-1, 840.0), (10, 0.0), (10, math.nan)])
def test_mean_interval_rejects_invalid_input(departures: int, window: float) -> None:
    with pytest.raises(ValueError):
        q.mean_interval_minutes(departures, window)


def test_rate_stop_computes_interval_and_category() -> None:
    stop = q.QualityStop(id="1", name="Markt", lat=51.34, lon=12.37, group="C", departures=84)
    rated = q.rate_stop(stop)
    assert rated.interval_minutes == 10.0
    assert rated.category == "III"
    unserved = q.rate_stop(
        q.QualityStop(id="2", name="X", lat=51.34, lon=12.37, group="B", departures=0)
    )
    assert (unserved.interval_minutes, unserved.category) == (None, None)
    # A different window (e.g. 07:00-09:00) changes the interval.
    assert q.rate_stop(stop, window_minutes=120).category == "II"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lat": 91.0},
        {"lon": -181.0},
        {"lat": math.nan},
        {"group": "D"},
        {"departures": -1},
    ],
)
def test_quality_stop_rejects_invalid_values(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {
        "id": "1",
        "name": "X",
        "lat": 51.0,
        "lon": 12.0,
        "group": "B",
        "departures": 1,
    }
    values.update(kwargs)
    with pytest.raises(ValueError):
        q.QualityStop(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Groups
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route_type", [0, 1, 2, 7, 12, 100, 101, 109, 199, 400, 401, 450, 499, 900, 901, 999]
)
def test_rail_and_tram_route_types_are_group_b(route_type: int) -> None:
    assert q.DEFAULT_ROUTE_TYPE_GROUPS.group(route_type) == "B"
    assert q.stop_group([route_type], 0) == "B"


@pytest.mark.parametrize(
    "route_type", [3, 11, 700, 704, 799, 4, 5, 6, 200, 800, 1000, 1300, 1400, 1700, 99]
)
def test_bus_and_other_route_types_are_group_c(route_type: int) -> None:
    assert q.DEFAULT_ROUTE_TYPE_GROUPS.group(route_type) == "C"
    assert q.stop_group([route_type], 0) == "C"


@pytest.mark.parametrize(
    ("route_type", "is_rail"),
    [(2, True), (100, True), (109, True), (199, True), (0, False), (1, False), (400, False)],
)
def test_only_heavy_rail_counts_towards_a_rail_node(route_type: int, is_rail: bool) -> None:
    assert q.DEFAULT_ROUTE_TYPE_GROUPS.is_rail(route_type) is is_rail


def test_best_group_of_the_routes_wins() -> None:
    assert q.stop_group([3, 0, 3], 0) == "B"
    assert q.stop_group([3, 11, 4], 0) == "C"
    assert q.stop_group([3, 2], 1) == "B"


def test_rail_node_needs_two_distinct_rail_routes_by_default() -> None:
    assert q.stop_group([2], 1) == "B"
    assert q.stop_group([2, 109, 3], 2) == "A"
    assert q.stop_group([2, 2, 2], 3, rail_node_min_routes=3) == "A"
    assert q.stop_group([2, 2], 2, rail_node_min_routes=3) == "B"
    assert q.stop_group([2], 1, rail_node_min_routes=1) == "A"


def test_rail_node_counts_distinct_route_keys_and_ignores_trams() -> None:
    assert q.stop_group_for_routes([("S1", 2), ("S2", 109), ("10", 0)]) == "A"
    assert q.stop_group_for_routes([("S1", 2), ("S1", 2), ("89", 3)]) == "B"
    assert q.stop_group_for_routes([("10", 0), ("11", 0), ("16", 900)]) == "B"
    assert q.stop_group_for_routes([("60", 3), ("74", 3)]) == "C"


def test_stop_group_rejects_inconsistent_input() -> None:
    with pytest.raises(ValueError):
        q.stop_group([], 0)
    with pytest.raises(ValueError):
        q.stop_group([0, 3], 2)  # rail routes counted but no rail route type
    with pytest.raises(ValueError):
        q.stop_group([2], -1)
    with pytest.raises(ValueError):
        q.stop_group([2], 2, rail_node_min_routes=0)


def test_route_type_mapping_is_configurable() -> None:
    # GOAT's default maps rail and metro straight to "A".
    goat_like = q.RouteTypeGroups(
        codes={1: "A", 2: "A", 0: "B", 3: "C"},
        ranges=((100, 117, "A"), (400, 405, "A")),
        rail_codes=frozenset({2}),
    )
    assert q.stop_group([2], 0, mapping=goat_like) == "A"
    assert q.stop_group([401, 3], 0, mapping=goat_like) == "A"
    assert q.stop_group([0], 0, mapping=goat_like) == "B"
    assert q.stop_group([1300], 0, mapping=goat_like) == "C"
    with pytest.raises(ValueError):
        q.RouteTypeGroups(codes={0: "X"})


# ------------------------------------------------------------------------------------------
# Distances and classes at points
# ------------------------------------------------------------------------------------------


def test_distance_along_a_meridian_matches_the_arc_length() -> None:
    # 0.009 degrees of latitude on the mean-radius sphere: R * 0.009 * pi / 180 = 1000.756 m.
    expected = R * math.radians(0.009)
    assert expected == pytest.approx(1000.756, abs=0.001)
    assert float(q.approx_distance_m(51.3, 12.4, 51.309, 12.4)) == pytest.approx(expected)
    assert q.haversine_m(51.3, 12.4, 51.309, 12.4) == pytest.approx(expected)


def test_distance_of_a_known_leipzig_pair() -> None:
    # Leipzig Hauptbahnhof (51.3453, 12.3822) to the Neues Rathaus (51.3358, 12.3730):
    # 1234.61 m on the mean-radius sphere (haversine, R = 6371.0088 km).
    hbf, rathaus = (51.3453, 12.3822), (51.3358, 12.3730)
    assert sphere_distance(*hbf, *rathaus) == pytest.approx(1234.61, abs=0.01)
    assert q.haversine_m(*hbf, *rathaus) == pytest.approx(1234.61, abs=0.01)
    approx = float(q.approx_distance_m(*hbf, *rathaus))
    assert approx == pytest.approx(1234.61, rel=0.005)
    assert approx == pytest.approx(1234.61, abs=0.05)  # in fact far better than 0.5 %


def test_approximate_distance_agrees_with_great_circle_at_city_scale() -> None:
    rng = np.random.default_rng(7)
    lat1 = 51.25 + rng.random(2000) * 0.2
    lon1 = 12.2 + rng.random(2000) * 0.35
    lat2 = lat1 + (rng.random(2000) - 0.5) * 0.03
    lon2 = lon1 + (rng.random(2000) - 0.5) * 0.045
    approx = q.approx_distance_m(lat1, lon1, lat2, lon2)
    exact = np.array([sphere_distance(*pair) for pair in zip(lat1, lon1, lat2, lon2, strict=True)])
    assert exact.max() > 1000  # the sample covers the method's radius
    assert np.max(np.abs(approx - exact) / exact) < 1e-4


def test_distance_across_the_antimeridian() -> None:
    assert float(q.approx_distance_m(0.0, 179.999, 0.0, -179.999)) == pytest.approx(
        q.haversine_m(0.0, 179.999, 0.0, -179.999), rel=1e-6
    )


def test_best_class_wins_where_two_stops_overlap() -> None:
    point = LEIPZIG
    cat_iii = rating("III", *north_of(*point, 200))  # <= 300 m of III: B
    cat_i = rating("I", *north_of(*point, -600))  # 500-750 m of I: B
    assert q.classify_points([point], [cat_iii, cat_i]) == ["B"]
    # 450 m from the category-I stop instead: 300-500 m of I is A, better than III's B.
    closer_i = rating("I", *north_of(*point, -450))
    assert q.classify_points([point], [cat_iii, closer_i]) == ["A"]
    assert q.classify_points([point], [closer_i, cat_iii]) == ["A"]
    # A weak stop next door does not spoil a good one further away.
    cat_vii = rating("VII", *east_of(*point, 50))  # F
    assert q.classify_points([point], [cat_vii, rating("II", *east_of(*point, 700))]) == ["C"]


def test_points_beyond_1000_m_get_no_class() -> None:
    stop = rating("I", *LEIPZIG)
    points = [
        north_of(*LEIPZIG, 999),
        north_of(*LEIPZIG, 1001),
        east_of(*LEIPZIG, -1005),
        (LEIPZIG[0] + 0.1, LEIPZIG[1]),
    ]
    assert q.classify_points(points, [stop]) == ["C", None, None, None]


def test_classify_points_follows_the_bands_in_every_direction() -> None:
    stop = rating("II", *LEIPZIG)
    for offset in (north_of, east_of):
        for sign in (1, -1):
            points = [offset(*LEIPZIG, sign * d) for d in (0, 299, 301, 499, 501, 749, 751, 999)]
            assert q.classify_points(points, [stop]) == ["A", "A", "B", "B", "C", "C", "D", "D"]


def test_stops_without_category_are_ignored() -> None:
    assert q.classify_points([LEIPZIG], [rating(None, *LEIPZIG)]) == [None]
    assert q.classify_points([LEIPZIG], []) == [None]
    assert q.classify_points([], [rating("I", *LEIPZIG)]) == []


def test_classify_points_rejects_invalid_points() -> None:
    with pytest.raises(ValueError):
        q.classify_points([(91.0, 12.0)], [rating("I", *LEIPZIG)])
    with pytest.raises(ValueError):
        q.classify_points([(math.nan, 12.0)], [rating("I", *LEIPZIG)])


def _random_city(seed: int, stops: int, points: int) -> tuple[list[q.StopRating], np.ndarray]:
    rng = np.random.default_rng(seed)
    categories = [*q.CATEGORIES, None]
    ratings = [
        rating(
            categories[int(rng.integers(0, len(categories)))],
            51.28 + rng.random() * 0.12,
            12.25 + rng.random() * 0.2,
            stop_id=str(i),
        )
        for i in range(stops)
    ]
    pts = np.column_stack((51.26 + rng.random(points) * 0.16, 12.22 + rng.random(points) * 0.26))
    return ratings, pts


def _brute_force_class(lat: float, lon: float, ratings: list[q.StopRating]) -> str | None:
    classes = [
        q.quality_class(r.category, sphere_distance(lat, lon, r.stop.lat, r.stop.lon))
        for r in ratings
        if r.category is not None
    ]
    found = [c for c in classes if c is not None]
    return min(found) if found else None


def _near_a_band_edge(lat: float, lon: float, ratings: list[q.StopRating]) -> bool:
    return any(
        abs(sphere_distance(lat, lon, r.stop.lat, r.stop.lon) - edge) < 0.5
        for r in ratings
        for edge in BAND_UPPER
    )


def test_10000_points_by_500_stops_agree_with_a_brute_force_check() -> None:
    ratings, points = _random_city(seed=42, stops=500, points=10_000)
    result = q.classify_points([tuple(p) for p in points], ratings)

    assert len(result) == 10_000
    assert set(result) <= {*q.CLASSES, None}
    assert None in result and "A" in result  # the sample spans good and no service
    checked = 0
    for i in range(0, 10_000, 40):
        lat, lon = float(points[i, 0]), float(points[i, 1])
        if _near_a_band_edge(lat, lon, ratings):
            continue
        assert result[i] == _brute_force_class(lat, lon, ratings), i
        checked += 1
    assert checked > 200
    # Small chunks (many chunk boundaries) give the same answer.
    assert q.classify_points([tuple(p) for p in points], ratings, chunk_pairs=5_000) == result


# ------------------------------------------------------------------------------------------
# Grid
# ------------------------------------------------------------------------------------------


def test_grid_covers_the_bbox_plus_1000_m_with_cells_of_the_given_size() -> None:
    bbox = q.BBox(south=51.30, west=12.30, north=51.32, east=12.34)
    cells = q.grid_cells(bbox, 100)
    rows = max(c.row for c in cells) + 1
    cols = max(c.col for c in cells) + 1
    assert len(cells) == rows * cols
    south = min(c.south for c in cells)
    north = max(c.north for c in cells)
    west = min(c.west for c in cells)
    east = max(c.east for c in cells)
    # At least 1000 m beyond the box on every side, and less than one more cell.
    for outer, inner in ((south, bbox.south), (north, bbox.north)):
        gap = q.haversine_m(outer, 12.32, inner, 12.32)
        assert 1000 - 1e-6 <= gap < 1100
    for outer, inner in ((west, bbox.west), (east, bbox.east)):
        gap = q.haversine_m(51.31, outer, 51.31, inner)
        assert 1000 <= gap < 1110
    # Neighbouring centres are 100 m apart (east-west to within 0.5 %).
    by_position = {(c.row, c.col): c for c in cells}
    a, b, c = by_position[(5, 5)], by_position[(5, 6)], by_position[(6, 5)]
    assert q.haversine_m(a.lat, a.lon, b.lat, b.lon) == pytest.approx(100, rel=0.005)
    assert q.haversine_m(a.lat, a.lon, c.lat, c.lon) == pytest.approx(100, rel=1e-6)
    # Cells tile: the east edge of one is the west edge of the next.
    assert a.east == b.west and a.north == c.south
    assert a.south < a.lat < a.north and a.west < a.lon < a.east


def test_grid_refuses_too_many_cells() -> None:
    bbox = q.BBox(south=47.0, west=6.0, north=55.0, east=15.0)
    with pytest.raises(ValueError, match="cells"):
        q.grid_cells(bbox, 100)


def test_bbox_rejects_inverted_boxes() -> None:
    with pytest.raises(ValueError):
        q.BBox(south=52.0, west=12.0, north=51.0, east=13.0)


def test_quality_grid_of_one_stop_is_rings_of_classes() -> None:
    stop = rating("I", *LEIPZIG)
    cells = q.quality_grid([stop, rating(None, 52.0, 13.0)], cell_m=50)
    assert cells and all(c.quality_class is not None for c in cells)
    counts = {k: sum(1 for c in cells if c.quality_class == k) for k in ("A", "B", "C")}
    # Disc and ring areas in 50 m cells: A within 500 m, B 500-750 m, C 750-1000 m.
    assert counts["A"] == pytest.approx(math.pi * 500**2 / 2500, rel=0.05)
    assert counts["B"] == pytest.approx(math.pi * (750**2 - 500**2) / 2500, rel=0.05)
    assert counts["C"] == pytest.approx(math.pi * (1000**2 - 750**2) / 2500, rel=0.05)
    for c in cells:
        d = sphere_distance(c.cell.lat, c.cell.lon, *LEIPZIG)
        assert d <= 1000 + 1e-6
        if all(abs(d - edge) > 0.5 for edge in BAND_UPPER):
            assert c.quality_class == q.quality_class("I", d)


def test_quality_grid_without_rated_stops_is_empty() -> None:
    assert q.quality_grid([rating(None, *LEIPZIG)]) == []


# ------------------------------------------------------------------------------------------
# Population
# ------------------------------------------------------------------------------------------


def test_population_shares_per_class_sum_to_one() -> None:
    stops = [rating("I", *LEIPZIG)]
    population = [
        (*north_of(*LEIPZIG, 100), 10.0),  # A
        (*north_of(*LEIPZIG, 800), 30.0),  # C
        (*north_of(*LEIPZIG, 5000), 60.0),  # none
        (*north_of(*LEIPZIG, 200), 0.0),  # A, nobody
    ]
    shares = q.population_shares(population, stops)
    assert list(shares) == ["A", "B", "C", "D", "E", "F", "none"]
    assert shares["A"] == (10.0, pytest.approx(0.1))
    assert shares["B"] == (0.0, 0.0)
    assert shares["C"] == (30.0, pytest.approx(0.3))
    assert shares["none"] == (60.0, pytest.approx(0.6))
    assert sum(share for _, share in shares.values()) == pytest.approx(1.0)
    assert sum(people for people, _ in shares.values()) == 100.0


def test_population_shares_of_a_random_city_sum_to_one() -> None:
    ratings, points = _random_city(seed=3, stops=200, points=3000)
    people = np.random.default_rng(3).integers(0, 500, 3000)
    shares = q.population_shares(
        [(float(a), float(b), float(p)) for (a, b), p in zip(points, people, strict=True)],
        ratings,
    )
    assert sum(share for _, share in shares.values()) == pytest.approx(1.0)
    assert sum(p for p, _ in shares.values()) == pytest.approx(float(people.sum()))


def test_population_shares_without_people_are_zero() -> None:
    shares = q.population_shares([], [rating("I", *LEIPZIG)])
    assert all(value == (0.0, 0.0) for value in shares.values())


def test_population_shares_reject_negative_people() -> None:
    with pytest.raises(ValueError):
        q.population_shares([(*LEIPZIG, -1.0)], [rating("I", *LEIPZIG)])


def test_read_population_csv_with_commas() -> None:
    rows, rejected = q.read_population_csv(
        "id,lat,lon,population\n1,51.34,12.37,120\n2,51.35,12.38,0\n"
    )
    assert rows == [(51.34, 12.37, 120.0), (51.35, 12.38, 0.0)]
    assert rejected == []


def test_read_population_csv_with_semicolons_bom_and_einwohner() -> None:
    text = "\ufeffLat ; Lon ; Einwohner\r\n51,34;12,37;120\r\n\r\n51.35;12.38;7.5\r\n"
    rows, rejected = q.read_population_csv(text)
    assert rows == [(51.34, 12.37, 120.0), (51.35, 12.38, 7.5)]
    assert rejected == []


def test_read_population_csv_collects_bad_rows_with_their_line() -> None:
    text = (
        "lat,lon,population\n"
        "51.34,12.37,120\n"  # line 2, fine
        "51.34,zwölf,10\n"  # line 3, not a number
        "\n"  # line 4, blank: skipped
        "95,12.37,10\n"  # line 5, latitude out of range
        "51.34,190,10\n"  # line 6, longitude out of range
        "51.34,12.37,-3\n"  # line 7, negative
        "51.34,12.37,nan\n"  # line 8, not a number
        "51.34,12.37\n"  # line 9, too few columns
        "51.35,12.38,5\n"  # line 10, fine
    )
    rows, rejected = q.read_population_csv(text)
    assert rows == [(51.34, 12.37, 120.0), (51.35, 12.38, 5.0)]
    assert [line for line, _ in rejected] == [3, 5, 6, 7, 8, 9]
    reasons = dict(rejected)
    assert reasons[3] == (
        "Zeile 3: „zwölf“ in Spalte lon ist keine Zahl / "
        "line 3: 'zwölf' in column lon is not a number"
    )
    assert "Breitengrad 95" in reasons[5] and "latitude 95 is not between -90 and 90" in reasons[5]
    assert "longitude 190" in reasons[6]
    assert "Einwohnerzahl -3 ist negativ / line 7: population -3 is negative" in reasons[7]
    assert "line 8" in reasons[8] and "not a number" in reasons[8]
    assert "too few columns" in reasons[9]
    for reason in reasons.values():
        german, english = reason.split(" / ")
        assert german.startswith("Zeile ") and english.startswith("line ")


def test_read_population_csv_strict_raises_on_the_first_bad_row() -> None:
    with pytest.raises(q.QualityInputError) as raised:
        q.read_population_csv("lat;lon;einwohner\n51,3;12,3;1\n51,3;12,3;viele\n", strict=True)
    assert raised.value.line == 3
    assert "Zeile 3" in str(raised.value) and "line 3" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("\ufeff \n", "empty"),
        ("lat,lng,population\n51,12,1\n", "missing column(s) lon"),
        ("x,y\n51,12\n", "missing column(s) lat, lon, population"),
        ("lat,lon,population,einwohner\n51,12,1,1\n", "must not both be present"),
        ("lat,lon,population\n", "no data rows"),
    ],
)
def test_read_population_csv_rejects_unusable_files(text: str, fragment: str) -> None:
    with pytest.raises(q.QualityInputError) as raised:
        q.read_population_csv(text)
    assert fragment in str(raised.value)
    assert " / " in str(raised.value)


# ------------------------------------------------------------------------------------------
# Areas
# ------------------------------------------------------------------------------------------


def square(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def square_ring(west: float, south: float, east: float, north: float) -> q.Ring:
    return tuple((x, y) for x, y in square(west, south, east, north))


def square_area(name: str, west: float, south: float, east: float, north: float) -> q.Area:
    return q.Area(name, ((square_ring(west, south, east, north),),))


def feature(name: object, geometry: object) -> dict[str, object]:
    return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}


def collection(*features: object) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


DONUT = (square_ring(0.0, 0.0, 10.0, 10.0), square_ring(4.0, 4.0, 6.0, 6.0))


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [
        (1.0, 1.0, True),
        (5.0, 2.0, True),
        (5.0, 5.0, False),  # in the hole
        (4.5, 5.5, False),  # in the hole
        (5.0, 7.0, True),  # east of the hole, the ray crosses the hole twice
        (11.0, 5.0, False),
        (5.0, -1.0, False),
        (-0.5, 5.0, False),
    ],
)
def test_point_in_polygon_with_a_hole(lat: float, lon: float, inside: bool) -> None:
    assert q.point_in_polygon(lat, lon, DONUT) is inside


def test_point_in_concave_polygon() -> None:
    # A "U": the notch between x 3..7 above y 3 is outside.
    u_shape = (
        ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (7.0, 10.0), (7.0, 3.0), (3.0, 3.0), (3.0, 10.0),
         (0.0, 10.0), (0.0, 0.0)),
    )  # fmt: skip
    assert q.point_in_polygon(5.0, 5.0, u_shape) is False
    assert q.point_in_polygon(5.0, 1.0, u_shape) is True
    assert q.point_in_polygon(8.0, 8.0, u_shape) is True


def test_read_areas_geojson_polygon_with_hole_and_multipolygon() -> None:
    text = collection(
        feature("Zentrum", {"type": "Polygon", "coordinates": [square(0, 0, 10, 10),
                                                                  square(4, 4, 6, 6)]}),
        feature(" Plagwitz ", {"type": "MultiPolygon", "coordinates": [[square(20, 0, 21, 1)],
                                                                       [square(22, 0, 23, 1)]]}),
    )  # fmt: skip
    areas = q.read_areas_geojson("\ufeff" + text)
    assert [a.name for a in areas] == ["Zentrum", "Plagwitz"]
    assert len(areas[0].polygons) == 1 and len(areas[0].polygons[0]) == 2
    assert len(areas[1].polygons) == 2
    lats = np.array([5.0, 1.0, 0.5, 0.5, 0.5])
    lons = np.array([5.0, 1.0, 20.5, 21.5, 22.5])
    assert q.points_in_area(lats, lons, areas[0]).tolist() == [False, True, False, False, False]
    assert q.points_in_area(lats, lons, areas[1]).tolist() == [False, False, True, False, True]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON (line 1"),
        (json.dumps({"type": "Feature"}), "expected a GeoJSON FeatureCollection"),
        (json.dumps([1, 2]), "expected a GeoJSON FeatureCollection"),
        (collection(), "contains no areas"),
        (collection({"type": "Point"}), "feature 1: not a GeoJSON Feature"),
        (
            collection(feature("A", {"type": "Point", "coordinates": [12.3, 51.3]})),
            "feature 1: geometry must be Polygon or MultiPolygon, not Point",
        ),
        (collection(feature("A", None)), "not null"),
        (
            collection(feature(None, {"type": "Polygon", "coordinates": [square(0, 0, 1, 1)]})),
            "feature 1: property name is missing or empty",
        ),
        (
            collection(feature(" ", {"type": "Polygon", "coordinates": [square(0, 0, 1, 1)]})),
            "property name is missing or empty",
        ),
        (
            collection(
                feature("A", {"type": "Polygon", "coordinates": [square(0, 0, 1, 1)]}),
                feature("A", {"type": "Polygon", "coordinates": [square(1, 1, 2, 2)]}),
            ),
            "feature 2: duplicate name 'A'",
        ),
        (
            collection(feature("A", {"type": "Polygon", "coordinates": [square(0, 0, 1, 1)[:-1]]})),
            "ring is not closed",
        ),
        (
            collection(
                feature("A", {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]})
            ),
            "at least 4 positions",
        ),
        (
            collection(feature("A", {"type": "Polygon", "coordinates": []})),
            "empty polygon",
        ),
        (
            collection(feature("A", {"type": "MultiPolygon", "coordinates": []})),
            "empty MultiPolygon",
        ),
        (
            collection(
                feature(
                    "A",
                    {"type": "Polygon", "coordinates": [square(316000, 5690000, 317000, 5691000)]},
                )
            ),
            "expected WGS 84 (longitude, latitude), not projected coordinates",
        ),
        (
            collection(
                feature(
                    "A", {"type": "Polygon", "coordinates": [[["0", 0], [1, 0], [1, 1], ["0", 0]]]}
                )
            ),
            "invalid position",
        ),
        (
            collection(
                feature(
                    "A",
                    {"type": "Polygon", "coordinates": [[[True, 0], [1, 0], [1, 1], [True, 0]]]},
                )
            ),
            "invalid position",
        ),
    ],
)
def test_read_areas_geojson_rejects_invalid_input(text: str, fragment: str) -> None:
    with pytest.raises(q.QualityInputError) as raised:
        q.read_areas_geojson(text)
    assert fragment in str(raised.value)
    german, english = str(raised.value).split(" / ", 1)
    assert german and english


def test_read_areas_geojson_names_the_feature() -> None:
    text = collection(
        feature("A", {"type": "Polygon", "coordinates": [square(0, 0, 1, 1)]}),
        feature("B", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
    )
    with pytest.raises(q.QualityInputError) as raised:
        q.read_areas_geojson(text)
    assert raised.value.feature == 2
    assert str(raised.value).startswith("Feature 2: ")


def _cell(row: int, col: int, lat: float, lon: float, klass: str | None) -> q.ClassifiedCell:
    half = 0.0005
    cell = q.GridCell(
        row=row,
        col=col,
        lat=lat,
        lon=lon,
        south=lat - half,
        west=lon - half,
        north=lat + half,
        east=lon + half,
    )
    return q.ClassifiedCell(cell=cell, quality_class=klass)


def test_area_table_counts_cells_per_class_and_area() -> None:
    west = square_area("West", 12.0, 51.0, 12.01, 51.01)
    east = square_area("Ost", 12.01, 51.0, 12.02, 51.01)
    cells = [
        _cell(0, 0, 51.005, 12.002, "A"),
        _cell(0, 1, 51.005, 12.004, "A"),
        _cell(0, 2, 51.005, 12.006, "C"),
        _cell(0, 3, 51.005, 12.008, None),
        _cell(0, 4, 51.005, 12.01, "B"),  # on the shared edge
        _cell(0, 5, 51.005, 12.015, "F"),
        _cell(1, 0, 51.02, 12.005, "A"),  # in neither area
    ]
    rows = q.area_table([west, east], cells)
    assert [r.name for r in rows] == ["West", "Ost"]
    assert rows[0].cells + rows[1].cells == 6  # the edge cell counted exactly once
    west_row = rows[0]
    assert west_row.counts["A"] == 2 and west_row.counts["C"] == 1 and west_row.counts["none"] == 1
    assert set(west_row.counts) == set(q.CLASS_KEYS)
    assert sum(rows[0].shares.values()) == pytest.approx(1.0)
    assert sum(rows[1].shares.values()) == pytest.approx(1.0)
    assert rows[1].counts["F"] == 1


def test_area_quality_table_shares_follow_the_distance_bands() -> None:
    # An area of 2 x 2 km with a category-I stop in its south-west corner: the share of A is
    # the quarter disc of 500 m over the square.
    south, west = LEIPZIG
    north, _ = north_of(south, west, 2000)
    _, east = east_of(south, west, 2000)
    area = square_area("Karree", west, south, east, north)
    [row] = q.area_quality_table([area], [rating("I", south, west)], cell_m=25)
    assert row.cells == pytest.approx(6400, rel=0.01)
    quarter = math.pi / 4 / 4_000_000
    assert row.shares["A"] == pytest.approx(quarter * 500**2, rel=0.05)
    assert row.shares["B"] == pytest.approx(quarter * (750**2 - 500**2), rel=0.05)
    assert row.shares["C"] == pytest.approx(quarter * (1000**2 - 750**2), rel=0.05)
    assert row.shares["none"] == pytest.approx(1 - quarter * 1000**2, rel=0.02)
    assert sum(row.shares.values()) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------
# Exports
# ------------------------------------------------------------------------------------------


def test_quality_geojson_has_stop_points_and_cell_squares() -> None:
    stop = q.rate_stop(
        q.QualityStop(id="7", name="Augustusplatz", lat=51.3387, lon=12.3811, group="B",
                      departures=252)
    )  # fmt: skip
    cells = q.quality_grid([stop], cell_m=100)
    data = q.quality_geojson([stop], cells, 100)
    assert json.loads(json.dumps(data)) == data  # plain JSON types only
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 1 + len(cells)
    point = data["features"][0]
    assert point["geometry"] == {"type": "Point", "coordinates": [12.3811, 51.3387]}
    assert point["properties"] == {
        "kind": "stop",
        "stop_id": "7",
        "name": "Augustusplatz",
        "group": "B",
        "departures": 252,
        "interval_minutes": 3.3,
        "category": "I",
    }
    first = data["features"][1]
    ring = first["geometry"]["coordinates"][0]
    cell = cells[0].cell
    assert first["geometry"]["type"] == "Polygon"
    assert len(ring) == 5 and ring[0] == ring[-1]
    assert ring[0] == [round(cell.west, 6), round(cell.south, 6)]
    assert ring[2] == [round(cell.east, 6), round(cell.north, 6)]
    assert first["properties"] == {"kind": "cell", "quality_class": cells[0].quality_class,
                                   "cell_m": 100}  # fmt: skip
    classes = {f["properties"]["quality_class"] for f in data["features"][1:]}
    assert classes == {"A", "B", "C"}


def test_stop_csv_rows_round_the_interval_and_escape_formulas() -> None:
    ratings = q.rate_stops(
        [
            q.QualityStop(id="1", name="Markt", lat=51.34, lon=12.37, group="A", departures=300),
            q.QualityStop(id="2", name="=HYPERLINK(1)", lat=51.3, lon=12.3, group="C",
                          departures=0),
            q.QualityStop(id="3", name="Dorf, Kirche", lat=51.3, lon=12.3, group="C",
                          departures=9),
        ]
    )  # fmt: skip
    rows = q.quality_csv_rows(ratings)
    assert rows[0] == ["stop_id", "name", "group", "departures", "interval_minutes", "category"]
    assert rows[1] == ["1", "Markt", "A", "300", "2.8", "I"]
    assert rows[2] == ["2", "'=HYPERLINK(1)", "C", "0", "", ""]
    assert rows[3] == ["3", "Dorf, Kirche", "C", "9", "93.3", "VII"]
    parsed = list(csv.reader(io.StringIO(q.write_csv(rows))))
    assert parsed == rows


def test_area_and_population_csv_rows() -> None:
    row = q.AreaRow(name="Zentrum", cells=4, counts={"A": 1, "C": 2, "none": 1})
    rows = q.area_csv_rows([row])
    assert rows[0][:3] == ["area", "cells", "cells_A"]
    assert rows[0][-1] == "share_none"
    assert dict(zip(rows[0], rows[1], strict=True)) == {
        "area": "Zentrum",
        "cells": "4",
        **{f"cells_{k}": v for k, v in zip(q.CLASS_KEYS, "1020001", strict=True)},
        "share_A": "0.2500",
        "share_B": "0.0000",
        "share_C": "0.5000",
        "share_D": "0.0000",
        "share_E": "0.0000",
        "share_F": "0.0000",
        "share_none": "0.2500",
    }
    shares = q.population_shares([(*LEIPZIG, 3.0), (0.0, 0.0, 1.0)], [rating("I", *LEIPZIG)])
    population = q.population_csv_rows(shares)
    assert population[0] == ["class", "population", "share"]
    assert population[1] == ["A", "3", "0.7500"]
    assert population[-1] == ["none", "1", "0.2500"]
