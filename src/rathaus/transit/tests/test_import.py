"""`rathaus import-gtfs`: real and messy feeds, bad sources, several feeds, atomic switching."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from rathaus.core.models import AuditEntry
from rathaus.transit import selectors
from rathaus.transit.constants import VersionStatus
from rathaus.transit.gtfs import GtfsError
from rathaus.transit.models import Feed, FeedVersion, ServiceDay, Stop, StopTime, Trip
from rathaus.transit.services import feed_import
from rathaus.transit.tests.conftest import MINI, ULM, gtfs_zip

pytestmark = pytest.mark.django_db


def _at(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def test_the_ulm_feed_loads_with_its_quirks_reported(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import-gtfs", str(ULM), "--feed", "swu")

    out = capsys.readouterr().out
    assert "feed swu: version" in out and "stop_times/s" in out
    assert "stop_times.txt: 84699 read, 83903 imported" in out
    assert "796 x stop_times.txt: Haltestelle fehlt / stop missing (e.g. line 1560" in out
    ulm = Feed.objects.get(slug="swu").active_version
    assert ulm is not None
    missing = ulm.report["skipped"]["stop_times.txt: Haltestelle fehlt / stop missing"]
    assert missing["count"] == 796 and len(missing["examples"]) == 5
    assert Stop.objects.filter(version=ulm).count() == 770
    assert Trip.objects.filter(version=ulm).count() == 3597
    assert StopTime.objects.filter(version=ulm).count() == 84699 - 796
    # calendar.txt is all zeros: the service days come from calendar_dates.txt alone
    assert ServiceDay.objects.filter(version=ulm, date=date(2016, 10, 31)).exists()
    assert (ulm.first_date, ulm.last_date) == (date(2015, 12, 13), date(2016, 12, 31))
    assert ulm.publisher == "SWU Nahverkehr Ulm/Neu-Ulm GmbH"
    # platforms hang on their stations
    assert Stop.objects.filter(version=ulm, parent__isnull=False).count() == 523


def test_times_are_interpolated_and_may_pass_midnight(mini: Any) -> None:
    late = {
        st.stop.stop_id: st
        for st in StopTime.objects.filter(trip__trip_id="T1-2350").select_related("stop")
    }
    assert late["D"].arrival == 24 * 3600 + 600  # 24:10:00
    early = {
        st.stop.stop_id: st
        for st in StopTime.objects.filter(trip__trip_id="T1-0800").select_related("stop")
    }
    # C lies a third of the way (by distance) from B (08:05) to D (08:15): 08:08:20
    assert early["C"].interpolated is True
    assert abs(early["C"].arrival - (8 * 3600 + 8 * 60 + 20)) <= 2
    assert early["B1"].interpolated is False


def test_frequencies_become_one_trip_per_run(mini: Any) -> None:
    runs = sorted(Trip.objects.filter(frequency_trip_id="B9-F").values_list("trip_id", flat=True))
    assert runs == ["B9-F@06:00:00", "B9-F@06:20:00", "B9-F@06:40:00"]
    departures = StopTime.objects.filter(trip__trip_id="B9-F@06:20:00", stop__stop_id="E")
    assert departures.get().arrival == 6 * 3600 + 20 * 60 + 7 * 60


def test_stations_have_their_platforms_and_trips_without_headsign_get_the_last_stop(
    db: None,
) -> None:
    files = dict(MINI)
    files["trips.txt"] = files["trips.txt"].replace("Dorfplatz,1", ",1", 1)
    version = feed_import(source="mini.zip", slug="mini", data=gtfs_zip(files))

    station = Stop.objects.get(version=version, stop_id="B")
    assert sorted(station.children.values_list("platform_code", flat=True)) == ["1", "2"]
    assert Trip.objects.get(trip_id="T1-0800").headsign == "Dorfplatz"


def test_messy_csv_is_read_and_its_problems_reported(db: None) -> None:
    files = dict(MINI)
    files["stops.txt"] = (
        "\ufeff"
        + files["stops.txt"].strip().replace("wheelchair_boarding", "wheelchair_boarding,x_note")
        + "\n"
        + 'A,"Anger, doppelt",51.3,12.3,0,,,1\n'
        + 'F,"Friedhof, Nord",51.35,12.35,0,,,0\n'
    )
    version = feed_import(source="messy.zip", slug="messy", data=gtfs_zip(files, folder="gtfs/"))

    assert Stop.objects.get(version=version, stop_id="F").name == "Friedhof, Nord"
    assert Stop.objects.get(version=version, stop_id="A").name == "Anger"  # the first one wins
    assert version.report["skipped"]["stops.txt: doppelte ID / duplicate id"]["count"] == 1
    assert any("x_note" in note for note in version.report["notes"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 broken", "Keine ZIP-Datei / not a zip file"),
        (b"<!DOCTYPE html><html>Login</html>", "HTML"),
        (gtfs_zip({"agency.txt": MINI["agency.txt"]}), "missing: stops.txt"),
        (
            gtfs_zip({**MINI, "stops.txt": "stop_name,stop_lat\nX,1\n"}),
            "stops.txt: Spalten fehlen / columns missing: stop_id",
        ),
        (
            gtfs_zip({k: v for k, v in MINI.items() if not k.startswith("calendar")}),
            "calendar.txt / calendar_dates.txt",
        ),
    ],
)
def test_a_source_that_is_not_gtfs_is_refused_and_the_previous_version_stays(
    mini: Any, data: bytes, message: str
) -> None:
    with pytest.raises(GtfsError, match=message):
        feed_import(source="bad.zip", slug="mini", data=data)

    feed = Feed.objects.get(slug="mini")
    assert feed.active_version_id == mini.pk
    failed = FeedVersion.objects.get(feed=feed, status=VersionStatus.FAILED)
    assert message in failed.report["error"]
    assert Trip.objects.filter(version=mini).count() == 5


def test_the_command_fails_loudly_on_a_missing_file(db: None) -> None:
    with pytest.raises(CommandError, match="Datei nicht gefunden / file not found"):
        call_command("import-gtfs", "/nonexistent/feed.zip")


def test_a_new_version_replaces_the_old_one_in_one_step(mini: Any) -> None:
    stop = selectors.stop_get("B")
    before = selectors.departures(stop, at=_at("2026-03-02T07:55"))
    seen_while_loading: list[list[str]] = []

    def watch(message: str) -> None:
        # the new rows are written but not active: departures still come from the old ones
        if message.startswith("trips written"):
            board = selectors.departures(selectors.stop_get("B"), at=_at("2026-03-02T07:55"))
            seen_while_loading.append([d.trip_id for d in board.departures])

    files = dict(MINI)
    files["stop_times.txt"] = files["stop_times.txt"].replace(
        "08:04:00,08:05:00", "08:06:00,08:07:00"
    )
    new = feed_import(source="mini2.zip", slug="mini", data=gtfs_zip(files), progress=watch)

    assert seen_while_loading == [[d.trip_id for d in before.departures]]
    assert not FeedVersion.objects.filter(pk=mini.pk).exists()
    assert not StopTime.objects.filter(version_id=mini.pk).exists()
    after = selectors.departures(selectors.stop_get("B"), at=_at("2026-03-02T07:55"))
    assert after.departures[0].scheduled.strftime("%H:%M") == "08:07"
    assert (
        AuditEntry.objects.filter(action="transit.import", object_id=str(new.feed_id)).count() == 2
    )


def test_an_import_failing_halfway_leaves_the_old_version_active(
    mini: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.transit import services

    def broken(*args: Any, **kwargs: Any) -> None:
        raise GtfsError("Platte voll / disk full")

    monkeypatch.setattr(services.Shape.objects, "bulk_create", broken)
    with pytest.raises(GtfsError):
        feed_import(source="mini2.zip", slug="mini", data=gtfs_zip(MINI))

    assert Feed.objects.get(slug="mini").active_version_id == mini.pk
    assert (
        FeedVersion.objects.filter(feed__slug="mini").exclude(pk=mini.pk).get().status == "failed"
    )
    assert StopTime.objects.exclude(version=mini).count() == 0  # nothing half-loaded remains


def test_several_feeds_coexist_and_stops_are_named_with_their_feed(mini: Any) -> None:
    files = {k: v.replace("Minibahn", "Regiobus") for k, v in MINI.items()}
    feed_import(source="regio.zip", slug="regio", data=gtfs_zip(files))

    assert Feed.objects.filter(active_version__isnull=False).count() == 2
    with pytest.raises(selectors.TransitError) as ambiguous:
        selectors.stop_get("A")
    assert ambiguous.value.code == "ambiguous_stop"
    stop = selectors.stop_get("regio:A")
    assert stop.version.feed.slug == "regio"
    assert selectors.stop_ref(stop) == "regio:A"


class _Source(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow.zip":
            time.sleep(2)
        if self.path == "/login":
            body, kind = b"<html><body>Anmeldung</body></html>", "text/html"
        else:
            body, kind = gtfs_zip(MINI), "application/zip"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def source_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Source)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_a_feed_is_fetched_from_a_url(db: None, source_server: str) -> None:
    version = feed_import(source=f"{source_server}/feeds/mini.zip")

    assert version.feed.slug == "mini"
    assert version.status == VersionStatus.ACTIVE


def test_a_url_that_answers_html_or_too_late_is_refused(
    mini: Any, source_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.transit import gtfs

    with pytest.raises(GtfsError, match="HTML"):
        feed_import(source=f"{source_server}/login", slug="mini")
    original = gtfs.fetch
    monkeypatch.setattr(gtfs, "fetch", lambda source: original(source, timeout=0.3))
    with pytest.raises(GtfsError, match="no answer within 0.3 s"):
        feed_import(source=f"{source_server}/slow.zip", slug="mini")
    assert Feed.objects.get(slug="mini").active_version_id == mini.pk


def test_rows_that_do_not_fit_are_reported_not_fatal(db: None) -> None:
    long_id = "S" * 150
    files = dict(MINI)
    files["stops.txt"] += f"{long_id},Langer Halt,51.3,12.3,0,,,0\n"
    files["stop_times.txt"] += "T1-0800,08:20:00,08:20:00,D,-1\n"
    files["stop_times.txt"] += "T1-0800,08:20:00,08:20:00,D,99999999999999\n"
    files["stop_times.txt"] += f'T1-0800,08:20:00,08:20:00,"{"x" * 200_000}",9\n'
    files["calendar.txt"] += "LONG,1,1,1,1,1,1,1,20260101,21001231\n"
    files["shapes.txt"] = (
        "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\nS1,nan,12.3,1\nS1,51.3,12.3,2\n"
    )
    files["stops.txt"] = files["stops.txt"].replace("Elsterbrücke", "Elsterbr\u00fccke")
    buffer = io.BytesIO(gtfs_zip({k: v for k, v in files.items() if k != "stops.txt"}))
    with zipfile.ZipFile(buffer, "a") as archive:  # stops.txt in Windows-1252, as Excel saves it
        archive.writestr("stops.txt", files["stops.txt"].strip().encode("cp1252") + b"\n")

    version = feed_import(source="messy.zip", slug="messy", data=buffer.getvalue())

    skipped = version.report["skipped"]
    assert skipped["stops.txt: ID länger als 100 Zeichen / id longer than 100"]["count"] == 1
    assert skipped["stop_times.txt: Zeit oder Zahl ungültig / invalid time or number"]["count"] == 2
    assert skipped["stop_times.txt: CSV-Fehler / CSV error"]["count"] == 1
    assert skipped["shapes.txt: Zahl ungültig / invalid number"]["count"] == 1
    notes = " ".join(version.report["notes"])
    assert "period cut to 3 years" in notes and "not UTF-8, read as Windows-1252" in notes
    assert Stop.objects.get(version=version, stop_id="E").name == "Elsterbrücke"
    assert StopTime.objects.filter(trip__trip_id="T1-0800").count() == 4  # the good ones stay


def test_an_unexpected_failure_is_recorded_and_the_old_version_stays(
    mini: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.transit import services

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(services.Trip.objects, "bulk_create", broken)
    with pytest.raises(GtfsError, match="import aborted, the previous timetable stays active"):
        feed_import(source="mini2.zip", slug="mini", data=gtfs_zip(MINI))

    assert Feed.objects.get(slug="mini").active_version_id == mini.pk
    failed = FeedVersion.objects.get(feed__slug="mini", status=VersionStatus.FAILED)
    assert "RuntimeError: connection lost" in failed.report["error"]
