"""Feeds for the transit tests: the real Ulm feed (loaded once per module) and small feeds
built here, each with the quirk a test needs."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rathaus.transit import selectors, timetable

# shared/ lies beside the checkout
ULM = Path(__file__).resolve().parents[5] / "shared" / "data" / "gtfs" / "ulm-swu-2015-16.zip"


def gtfs_zip(files: dict[str, str], *, folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(folder + name, text.strip() + "\n")
    return buffer.getvalue()


# A small town: a tram line A - B - C - D (B is a station with two platforms), a bus from B
# to E, weekday service in 2026 without Christmas Day, a late tram past midnight, a bus every
# 20 minutes from frequencies.txt, a stop time without times at C (interpolated).
MINI: dict[str, str] = {
    "agency.txt": """
agency_id,agency_name,agency_url,agency_timezone
MV,Minibahn,https://minibahn.example,Europe/Berlin
""",
    "stops.txt": """
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,platform_code,wheelchair_boarding
A,Anger,51.3000,12.3000,0,,,1
B,Bahnhof,51.3100,12.3000,1,,,1
B1,Bahnhof,51.3100,12.3001,0,B,1,0
B2,Bahnhof,51.3101,12.3002,0,B,2,0
C,Christuskirche,51.3200,12.3000,0,,,1
D,Dorfplatz,51.3400,12.3000,0,,,2
E,Elsterbrücke,51.3100,12.3300,0,,,1
""",
    "routes.txt": """
route_id,agency_id,route_short_name,route_long_name,route_type,route_color
T1,MV,1,Anger - Dorfplatz,0,E30613
B9,MV,9,Bahnhof - Elsterbrücke,3,
""",
    "calendar.txt": """
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
WK,1,1,1,1,1,0,0,20260101,20261231
""",
    "calendar_dates.txt": """
service_id,date,exception_type
WK,20261225,2
""",
    "trips.txt": """
route_id,service_id,trip_id,trip_headsign,wheelchair_accessible
T1,WK,T1-0800,Dorfplatz,1
T1,WK,T1-2350,Dorfplatz,2
B9,WK,B9-F,Elsterbrücke,1
""",
    "stop_times.txt": """
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1-0800,08:00:00,08:00:00,A,1
T1-0800,08:04:00,08:05:00,B1,2
T1-0800,,,C,3
T1-0800,08:15:00,08:15:00,D,4
T1-2350,23:50:00,23:50:00,A,1
T1-2350,23:55:00,23:55:00,B1,2
T1-2350,24:01:00,24:01:00,C,3
T1-2350,24:10:00,24:10:00,D,4
B9-F,00:00:00,00:00:00,B2,1
B9-F,00:07:00,00:07:00,E,2
""",
    "frequencies.txt": """
trip_id,start_time,end_time,headway_secs
B9-F,06:00:00,07:00:00,1200
""",
    "feed_info.txt": """
feed_publisher_name,feed_publisher_url,feed_lang,feed_version
Minibahn,https://minibahn.example,de,2026-1
""",
}


@pytest.fixture(autouse=True)
def _forget_timetables() -> Iterator[None]:
    """Each test sees the database it set up, not timetables an earlier test kept."""
    timetable.forget()
    selectors.search_forget()
    yield
    timetable.forget()
    selectors.search_forget()


@pytest.fixture
def mini(db: None) -> Any:
    from rathaus.transit.services import feed_import

    return feed_import(source="mini.zip", slug="mini", name="Minibahn", data=gtfs_zip(MINI))


@pytest.fixture(scope="module")
def ulm(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """The real Ulm feed, imported once for the module and removed afterwards."""
    from rathaus.core.models import AuditEntry
    from rathaus.core.services import audit_unlocked
    from rathaus.transit.models import Feed
    from rathaus.transit.services import feed_import

    with django_db_blocker.unblock():
        version = feed_import(source=str(ULM), slug="swu", name="SWU Ulm")
    yield version
    with django_db_blocker.unblock():
        Feed.objects.all().delete()
        with audit_unlocked():
            AuditEntry.objects.filter(action="transit.import").delete()
    timetable.forget()
