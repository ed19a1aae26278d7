"""The open-data catalogue: staff writes, generated datasets kept current, the pages under
/offene-daten/ and the files they serve."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from rathaus.accounts.tests.factories import OfficeFactory
from rathaus.catalog.models import Service
from rathaus.citydata.catalogue import dataset_create, dataset_update
from rathaus.citydata.handlers import refresh_open_data
from rathaus.citydata.models import Dataset, Distribution, Observation, Thing
from rathaus.citydata.publishing import publish_open_data
from rathaus.citydata.tests import catalogue_fixtures
from rathaus.core.models import AuditEntry
from rathaus.core.outbox import PERIODIC

# the shared fixtures of the catalogue tests
environment_office = catalogue_fixtures.environment_office
open_data_storage = catalogue_fixtures.open_data_storage
small_catalogue = catalogue_fixtures.small_catalogue
station = catalogue_fixtures.station
traffic_office = catalogue_fixtures.traffic_office

pytestmark = pytest.mark.django_db


def _download(client: Client, dataset: Dataset, file_name: str) -> bytes:
    response = client.get(f"/offene-daten/{dataset.slug}/{file_name}")
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


@pytest.fixture(autouse=True)
def _no_leika_catalogue(db: None) -> None:
    """These tests make their own services. The catalog tests load the real LeiKa catalogue
    once per session (committed); in this test's transaction it is set aside (rolled back
    afterwards: foreign keys are only checked at commit)."""
    Service.objects.all()._raw_delete(Service.objects.db)


@pytest.fixture
def services(environment_office: Any) -> list[Service]:
    made = []
    for key, name in [
        ("99115005104000", "Wohnsitz Anmeldung"),
        ("99102013000000", "=Hundesteuer"),  # a name a spreadsheet would run as a formula
    ]:
        service = Service.objects.create(leika_key=key, name=name, leika_type="2/3")
        service.offices.add(environment_office)
        made.append(service)
    return made


# ---- staff writes ---------------------------------------------------------------------------


def test_staff_creates_and_changes_a_dataset_with_audit_entries(
    personas: dict[str, Any], environment_office: Any
) -> None:
    staff = personas["department"]
    dataset = dataset_create(
        actor=staff,
        slug="wahlergebnisse",
        title="Wahlergebnisse",
        description="Ergebnisse der Stadtratswahl je Wahlbezirk.",
        publisher=environment_office,
        themes=["GOVE"],
        keywords=["Wahlen"],
    )
    assert not dataset.published
    dataset_update(actor=staff, dataset=dataset, published=True, keywords=["Wahlen", "Stadtrat"])
    dataset.refresh_from_db()
    assert dataset.published and dataset.issued is not None
    entries = AuditEntry.objects.filter(object_type="citydata.dataset", object_id=str(dataset.pk))
    assert [e.action for e in entries.order_by("id")] == [
        "opendata.dataset.create",
        "opendata.dataset.update",
    ]
    change = entries.get(action="opendata.dataset.update")
    assert change.before["published"] is False and change.after["published"] is True
    assert change.after["keywords"] == ["Stadtrat", "Wahlen"]
    assert change.actor_id == staff.pk


def test_dataset_with_bad_slug_unknown_theme_or_reversed_period_is_refused(
    environment_office: Any,
) -> None:
    common = {"actor": None, "title": "T", "description": "D", "publisher": environment_office}
    with pytest.raises(ValidationError):
        dataset_create(slug="Mit Leerzeichen", **common)
    with pytest.raises(ValidationError):
        dataset_create(slug="gut", themes=["WEATHER"], **common)
    with pytest.raises(ValidationError):
        dataset_create(
            slug="zeitraum",
            temporal_start=date(2024, 1, 1),
            temporal_end=date(2023, 1, 1),
            **common,
        )
    assert not Dataset.objects.exists()


# ---- generated datasets ---------------------------------------------------------------------


def test_service_catalogue_is_published_as_csv_and_json_with_size_and_checksum(
    client: Client, services: list[Service]
) -> None:
    report = publish_open_data(only=["services"])
    assert not report.rejected
    dataset = Dataset.objects.get(source="catalog:services")
    assert dataset.published and dataset.slug == "leistungskatalog"
    assert dataset.theme_list == ["GOVE"]
    csv_file = dataset.distributions.get(file_name="leistungen.csv")
    data = _download(client, dataset, "leistungen.csv")
    assert csv_file.byte_size == len(data)
    assert csv_file.checksum == hashlib.sha256(data).hexdigest()
    rows = _csv(data)
    assert rows[0][:2] == ["leika_key", "name"]
    by_key = {row[0]: row for row in rows[1:]}
    assert by_key["99115005104000"][1] == "Wohnsitz Anmeldung"
    assert by_key["99102013000000"][1] == "'=Hundesteuer"  # not a formula
    assert by_key["99115005104000"][rows[0].index("offices")] == "Amt für Umweltschutz"
    records = json.loads(_download(client, dataset, "leistungen.json"))["services"]
    assert {r["leika_key"] for r in records} == {"99115005104000", "99102013000000"}


def test_regenerating_updates_in_place_and_skips_what_did_not_change(
    client: Client,
    services: list[Service],
    open_data_storage: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish_open_data(only=["services"])
    first = Distribution.objects.get(file_name="leistungen.csv")
    stamp = Dataset.objects.get(source="catalog:services").updated_at
    again = publish_open_data(only=["services"])
    assert Dataset.objects.filter(source="catalog:services").count() == 1
    # nothing changed: CKAN's metadata_modified stays, harvesters fetch nothing again
    assert Dataset.objects.get(source="catalog:services").updated_at == stamp
    assert not again.done
    assert any("leistungen.csv: source unchanged" in line for line in again.skipped)
    Service.objects.filter(pk=services[0].pk).update(name="Wohnsitz Anmeldung (neu)")
    with django_capture_on_commit_callbacks(execute=True):
        changed = publish_open_data(only=["services"])
    assert any(line.startswith("leistungskatalog/leistungen.csv") for line in changed.done)
    second = Distribution.objects.get(file_name="leistungen.csv")
    assert second.pk == first.pk and second.checksum != first.checksum
    assert second.modified > first.modified
    assert b"Wohnsitz Anmeldung (neu)" in _download(client, second.dataset, "leistungen.csv")
    assert not (open_data_storage / first.file.name).exists()  # the old file is gone


def test_staff_unpublishing_a_generated_dataset_survives_regeneration(
    client: Client, services: list[Service]
) -> None:
    publish_open_data(only=["services"])
    dataset = Dataset.objects.get(source="catalog:services")
    dataset_update(actor=None, dataset=dataset, published=False)
    publish_open_data(only=["services"], force=True)
    dataset.refresh_from_db()
    assert not dataset.published
    assert client.get("/offene-daten/leistungskatalog/").status_code == 404
    assert client.get("/offene-daten/leistungskatalog/leistungen.csv").status_code == 404


@pytest.mark.usefixtures("environment_office")
def test_sensor_datastreams_become_one_csv_each_and_follow_new_observations(
    client: Client, station: Thing
) -> None:
    publish_open_data(only=["sensors"])
    dataset = Dataset.objects.get(source=f"citydata:thing:{station.pk}")
    assert dataset.title == "Messwerte: Luftmessstation Leipzig-Mitte"
    assert dataset.temporal_start.isoformat() == "2014-10-01"
    assert (dataset.bbox_west, dataset.bbox_north) == (12.3807, 51.344)
    stream = station.datastreams.get()
    csv_file = dataset.distributions.get(file_name=f"no2-{stream.pk}-2014.csv")
    assert "µg/m³" in csv_file.title
    assert _csv(_download(client, dataset, csv_file.file_name)) == [
        ["phenomenonTime", "result"],
        ["2014-10-01T06:00:00Z", "31.5"],
        ["2014-10-01T07:00:00Z", "28.0"],
        ["2014-10-01T08:00:00Z", "40.25"],
    ]
    api = dataset.distributions.get(file_name="")
    assert api.access_url.endswith(f"/api/sta/v1.1/Things({station.pk})/Datastreams")
    assert any("source unchanged" in s for s in publish_open_data(only=["sensors"]).skipped)
    late = datetime(2014, 10, 1, 9, 0, tzinfo=UTC)
    Observation.objects.create(datastream=stream, phenomenon_time=late, result_number=12.0)
    type(stream).objects.filter(pk=stream.pk).update(phenomenon_end=late)
    publish_open_data(only=["sensors"])
    rows = _csv(_download(client, dataset, csv_file.file_name))
    assert rows[-1] == ["2014-10-01T09:00:00Z", "12.0"]


def test_sensor_csv_is_written_in_chunks_not_all_at_once(
    station: Thing, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    from rathaus.citydata import publishing

    monkeypatch.setattr(publishing, "OBSERVATION_CHUNK", 1000)
    stream = station.datastreams.get()
    start = datetime(2015, 1, 1, tzinfo=UTC)
    Observation.objects.bulk_create(
        Observation(
            datastream=stream, phenomenon_time=start + timedelta(minutes=i), result_number=i
        )
        for i in range(12_000)
    )
    rows = publishing.observation_rows(stream.pk)
    assert next(rows) == ["phenomenonTime", "result"]
    with django_assert_num_queries(13):  # 1,000 rows a query, never all at once
        assert sum(1 for _ in rows) == 12_003
    later = list(publishing.observation_rows(stream.pk, 2015))
    assert len(later) == 12_001 and later[1][0] == "2015-01-01T00:00:00Z"


@pytest.mark.usefixtures("environment_office")
def test_generated_dataset_goes_when_its_source_goes(
    station: Thing, open_data_storage: Path, django_capture_on_commit_callbacks: Any
) -> None:
    publish_open_data(only=["sensors"])
    stored = [d.file.name for d in Distribution.objects.exclude(file="")]
    assert stored and all((open_data_storage / name).exists() for name in stored)
    station.delete()
    with django_capture_on_commit_callbacks(execute=True):
        report = publish_open_data(only=["sensors"])
    assert not Dataset.objects.filter(source__startswith="citydata:thing:").exists()
    assert report.removed and not any((open_data_storage / name).exists() for name in stored)


def test_transit_stops_and_quality_classes_are_published_per_active_feed(
    client: Client, traffic_office: Any
) -> None:
    from rathaus.transit import selectors, timetable
    from rathaus.transit.services import feed_import
    from rathaus.transit.tests.conftest import MINI, gtfs_zip

    timetable.forget()
    selectors.search_forget()
    feed_import(source="mini.zip", slug="mini", name="Minibahn", data=gtfs_zip(MINI))
    try:
        report = publish_open_data(only=["transit-stops", "transit-quality"])
        assert not report.rejected, report.rejected
        stops = Dataset.objects.get(source="transit:stops:mini")
        assert stops.title == "Haltestellen: Minibahn" and stops.theme_list == ["TRAN"]
        assert stops.temporal_start.isoformat() == "2026-01-01"
        rows = _csv(_download(client, stops, "haltestellen.csv"))
        assert rows[0][:3] == ["stop_id", "stop_code", "stop_name"]
        platform = next(row for row in rows if row[0] == "B1")
        assert platform[rows[0].index("parent_station")] == "B"
        geojson = json.loads(_download(client, stops, "haltestellen.geojson"))
        assert {f["id"] for f in geojson["features"]} == {"A", "B", "C", "D", "E"}
        quality = Dataset.objects.get(source="transit:quality")
        table = _csv(_download(client, quality, "oev-gueteklassen-haltestellen.csv"))
        assert table[0][0] == "stop_id" and len(table) > 1
        assert json.loads(_download(client, quality, "oev-gueteklassen.geojson"))["type"] == (
            "FeatureCollection"
        )
    finally:
        timetable.forget()
        selectors.search_forget()


def test_nothing_to_publish_is_skipped_and_no_office_is_rejected_with_reasons(
    station: Thing,
) -> None:
    report = publish_open_data()
    assert "services: the service catalogue is empty" in report.skipped
    assert "transit stops: no timetable is loaded" in report.skipped
    assert any("sensors: no office to publish under" in line for line in report.incomplete)
    assert not Dataset.objects.exists()


def test_command_prints_progress_and_summary_and_the_worker_runs_it(
    station: Thing, environment_office: Any
) -> None:
    out = io.StringIO()
    call_command("publish-open-data", stdout=out)
    text = out.getvalue()
    assert "sensors ..." in text and "  done: messwerte-luftmessstation-leipzig-mitte/no2-" in text
    assert "open data: 1 done, 3 skipped, 0 rejected, 0 removed" in text
    assert AuditEntry.objects.filter(action="opendata.publish").exists()
    assert any(job is refresh_open_data for _seconds, job in PERIODIC)
    refresh_open_data()  # what the worker calls: nothing changed, nothing breaks
    assert Dataset.objects.filter(source__startswith="citydata:thing:").count() == 1


# ---- pages ----------------------------------------------------------------------------------


def test_list_shows_published_datasets_with_filter_counts(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    response = client.get("/offene-daten/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Baumkataster" in page and "Radverkehrszählung" in page
    assert "Unveröffentlichter Entwurf" not in page
    assert "2 Datensätze" in page
    assert "Umwelt (1)" in page and "Verkehr (1)" in page and "CSV (1)" in page
    assert "Amt für Umweltschutz (1)" in page
    assert '<label class="kern-label" for="id_thema">' in page  # labels linked to fields


def test_search_ignores_case_and_umlauts_and_filters_narrow_down(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    page = client.get("/offene-daten/", {"q": "BAUME"}).content.decode()
    assert "Baumkataster" in page and "Radverkehrszählung" not in page
    page = client.get("/offene-daten/", {"q": "zählstellen"}).content.decode()
    assert "Radverkehrszählung" in page and "Baumkataster" not in page
    page = client.get("/offene-daten/", {"thema": "TRAN"}).content.decode()
    assert "1 Datensatz" in page and "Radverkehrszählung" in page
    assert "Umwelt (1)" in page  # the other themes still show what they would find
    page = client.get("/offene-daten/", {"format": "CSV", "lizenz": "cc-by/4.0"}).content.decode()
    assert "Baumkataster" in page and "Radverkehrszählung" not in page
    office = small_catalogue["bikes"].publisher_id
    page = client.get("/offene-daten/", {"herausgeber": office}).content.decode()
    assert "Radverkehrszählung" in page and "Baumkataster" not in page


@pytest.mark.parametrize(
    "params",
    [
        {"thema": "WEATHER"},
        {"herausgeber": "abc"},
        {"herausgeber": "99999999999999999999"},
        {"seite": "0"},
        {"seite": "99999"},
        {"format": "<script>"},
        {"q": "x" * 5000},
    ],
)
def test_bad_filter_values_never_break_the_list(
    client: Client, small_catalogue: dict[str, Dataset], params: dict[str, str]
) -> None:
    response = client.get("/offene-daten/", params)
    assert response.status_code == 200
    assert b"<script>" not in response.content


def test_list_is_paginated(client: Client, environment_office: Any) -> None:
    for n in range(25):
        dataset_create(
            actor=None,
            slug=f"satz-{n:02d}",
            title=f"Satz {n:02d}",
            description="Test",
            publisher=environment_office,
            published=True,
        )
    first = client.get("/offene-daten/").content.decode()
    assert "Satz 19" in first and "Satz 20" not in first and "Seite 1 von 2" in first
    second = client.get("/offene-daten/", {"seite": 2}).content.decode()
    assert "Satz 24" in second and 'rel="prev"' in second


def test_dataset_page_shows_metadata_downloads_licence_and_machine_links(
    client: Client, small_catalogue: dict[str, Dataset]
) -> None:
    response = client.get("/offene-daten/baumkataster/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Baumkataster 2024 (CSV)" in page and "120,6" in page  # KB, German number
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in page
    assert "Creative Commons Namensnennung – 4.0 International (CC BY 4.0)" in page
    assert "Team Stadtgrün" in page and "jährlich" in page
    assert 'href="/offene-daten/baumkataster/metadaten.ttl"' in page
    assert "/api/3/action/package_show?id=baumkataster" in page
    assert "style=" not in page and "<script>" not in page  # CSP: nothing inline
    assert client.get("/offene-daten/entwurf/").status_code == 404
    assert client.get("/offene-daten/gibt-es-nicht/").status_code == 404


@pytest.mark.usefixtures("environment_office")
def test_download_has_etag_and_answers_304_and_unknown_files_404(
    client: Client, station: Thing
) -> None:
    publish_open_data(only=["sensors"])
    csv_file = Distribution.objects.exclude(file="").get()
    url = f"/offene-daten/{csv_file.dataset.slug}/{csv_file.file_name}"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["ETag"] == f'"{csv_file.checksum}"'
    assert "attachment" in response["Content-Disposition"]
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(f"/offene-daten/{csv_file.dataset.slug}/nichts.csv").status_code == 404
    assert client.get(f"/offene-daten/{csv_file.dataset.slug}/..%2Fsecret").status_code == 404


def test_downloads_and_exports_are_rate_limited(
    client: Client, settings: Any, small_catalogue: dict[str, Dataset]
) -> None:
    settings.RATELIMIT_OPEN_DATA = "2/m"
    assert client.get("/catalog.ttl").status_code == 200
    assert client.get("/catalog.ttl").status_code == 200
    assert client.get("/catalog.ttl").status_code == 429


def test_navigation_links_to_the_catalogue(client: Client) -> None:
    page = client.get("/offene-daten/").content.decode()
    assert 'href="/offene-daten/" aria-current="page">Offene Daten</a>' in page


def test_a_second_office_with_the_same_generated_slug_gets_its_own(
    environment_office: Any,
) -> None:
    dataset_create(
        actor=None,
        slug="leistungskatalog",
        title="Von Hand",
        description="x",
        publisher=environment_office,
    )
    Service.objects.create(leika_key="99115005104000", name="Wohnsitz Anmeldung")
    OfficeFactory(name="Stadtverwaltung")
    publish_open_data(only=["services"])
    assert Dataset.objects.get(source="catalog:services").slug == "leistungskatalog-2"


def test_list_page_takes_a_fixed_number_of_queries(
    client: Client, environment_office: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        dataset_create(
            actor=None,
            slug=f"satz-{n:02d}",
            title=f"Satz {n:02d}",
            description="Test",
            publisher=environment_office,
            keywords=["a", "b"],
            themes=["ENVI"],
            published=True,
        )
    # count, page, keywords, distributions, four facet counts (+ session and user lookups)
    with django_assert_max_num_queries(10):
        assert client.get("/offene-daten/", {"thema": "ENVI"}).status_code == 200


def test_department_staff_add_a_dataset_in_the_admin_audited_and_searchable(
    client: Client, environment_office: Any
) -> None:
    from rathaus.accounts.constants import Role
    from rathaus.accounts.services import role_assign
    from rathaus.accounts.tests.factories import UserFactory

    user = UserFactory(email="referat@example.org")
    role_assign(actor=None, user=user, role=Role.DEPARTMENT_STAFF)
    client.force_login(user)
    assert client.get("/admin/citydata/dataset/add/").status_code == 200
    data = {
        "title": "Spielplätze",
        "slug": "spielplaetze",
        "description": "Alle öffentlichen Spielplätze.",
        "published": "on",
        "publisher": environment_office.pk,
        "license": "dl-zero-de/2.0",
        "theme_codes": ["SOCI", "EDUC"],
        "keywords": "Kinder, kinder ,  Spielen,",  # the same keyword twice, by case
        "distributions-TOTAL_FORMS": "1",
        "distributions-INITIAL_FORMS": "0",
        "distributions-0-title": "Spielplätze (GeoJSON)",
        "distributions-0-format": "GEOJSON",
        "distributions-0-access_url": "https://daten.leipzig.example/spiel.geojson",
        "distributions-0-position": "0",
    }
    response = client.post("/admin/citydata/dataset/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    dataset = Dataset.objects.get(slug="spielplaetze")
    assert dataset.theme_list == ["SOCI", "EDUC"] and dataset.issued is not None
    assert dataset.distributions.get().media_type == "application/geo+json"
    assert dataset.distributions.get().access_url == "https://daten.leipzig.example/spiel.geojson"
    entry = AuditEntry.objects.get(action="opendata.dataset.create")
    assert entry.actor_id == user.pk and entry.after["keywords"] == ["Kinder", "Spielen"]
    client.logout()
    page = client.get("/offene-daten/", {"q": "kinder"}).content.decode()
    assert "Spielplätze" in page  # the keyword from the inline is searchable


@pytest.mark.usefixtures("environment_office")
def test_a_lost_file_is_made_again_on_the_next_run(
    client: Client, station: Thing, open_data_storage: Path
) -> None:
    publish_open_data(only=["sensors"])
    csv_file = Distribution.objects.exclude(file="").get()
    (open_data_storage / csv_file.file.name).unlink()
    report = publish_open_data(only=["sensors"])
    assert any(line.endswith("bytes") for line in report.done)
    assert _download(client, csv_file.dataset, csv_file.file_name).startswith(b"phenomenonTime")


# ---- review findings ------------------------------------------------------------------------


@pytest.mark.usefixtures("environment_office")
def test_incomplete_generator_keeps_its_datasets_and_staffs_decision(
    station: Thing, monkeypatch: pytest.MonkeyPatch, open_data_storage: Path
) -> None:
    """Regression: a generator that stopped early (no office) made _remove_stale delete
    every dataset of it, with its files, staff's unpublishing and the uuids harvesters know."""
    from rathaus.citydata import publishing

    publish_open_data(only=["sensors"])
    dataset = Dataset.objects.get(source=f"citydata:thing:{station.pk}")
    dataset_update(actor=None, dataset=dataset, published=False)
    stored = [d.file.name for d in dataset.distributions.exclude(file="")]

    def no_office(kind: str) -> Any:
        raise publishing.GeneratorIncomplete("no office to publish under (import the offices)")

    monkeypatch.setattr(publishing, "_publisher", no_office)
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing could be published"):
        call_command("publish-open-data", "--only", "sensors", stdout=out)
    kept = Dataset.objects.get(pk=dataset.pk)
    assert kept.uuid == dataset.uuid and not kept.published
    assert all((open_data_storage / name).exists() for name in stored)
    text = out.getvalue()
    assert "incomplete: sensors: no office to publish under" in text
    assert "0 removed, 1 incomplete" in text


def test_sensor_data_is_split_by_year_and_only_the_current_year_is_rewritten(
    client: Client, station: Thing, environment_office: Any
) -> None:
    """Regression: every run rebuilt each datastream's CSV from its whole history."""
    stream = station.datastreams.get()
    Observation.objects.create(
        datastream=stream, phenomenon_time=datetime(2015, 3, 1, tzinfo=UTC), result_number=7.0
    )
    publish_open_data(only=["sensors"])
    dataset = Dataset.objects.get(source=f"citydata:thing:{station.pk}")
    old_year = dataset.distributions.get(file_name=f"no2-{stream.pk}-2014.csv")
    new_year = dataset.distributions.get(file_name=f"no2-{stream.pk}-2015.csv")
    assert len(_csv(_download(client, dataset, old_year.file_name))) == 4
    assert "2015" in new_year.title and "µg/m³" in new_year.title
    # ingestion moves the datastream's time range and updated_at with every batch
    Observation.objects.create(
        datastream=stream, phenomenon_time=datetime(2015, 3, 2, tzinfo=UTC), result_number=8.0
    )
    type(stream).objects.filter(pk=stream.pk).update(
        phenomenon_end=datetime(2015, 3, 2, tzinfo=UTC), updated_at=datetime.now(tz=UTC)
    )
    report = publish_open_data(only=["sensors"])
    assert [line.split(":")[0] for line in report.done] == [
        f"{dataset.slug}/no2-{stream.pk}-2015.csv"
    ]
    assert any(f"no2-{stream.pk}-2014.csv: source unchanged" in line for line in report.skipped)
    again = Distribution.objects.get(pk=old_year.pk)
    assert (again.checksum, again.modified) == (old_year.checksum, old_year.modified)
    rows = _csv(_download(client, dataset, new_year.file_name))
    assert rows[1:] == [["2015-03-01T00:00:00Z", "7.0"], ["2015-03-02T00:00:00Z", "8.0"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("environment_office")
def test_only_one_process_publishes_at_a_time(station: Thing) -> None:
    """Regression: every worker replica published at once, without a lock."""
    import threading

    from django.db import connection

    from rathaus.citydata.publishing import LOCK_NAME
    from rathaus.core.locks import exclusive

    held, done = threading.Event(), threading.Event()
    got: list[bool] = []

    def other_process() -> None:  # another connection: another session, another file handle
        try:
            with exclusive(LOCK_NAME) as ok:
                got.append(ok)
                held.set()
                done.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_process)
    thread.start()
    try:
        assert held.wait(30) and got == [True]
        report = publish_open_data(only=["sensors"])
        assert report.busy and not report.done
        assert not Dataset.objects.exists()
        with pytest.raises(CommandError, match="another process"):
            call_command("publish-open-data", "--quiet", stdout=io.StringIO())
    finally:
        done.set()
        thread.join()
    assert publish_open_data(only=["sensors"]).done  # free again


def test_quality_classes_are_not_computed_again_when_the_timetable_did_not_change(
    traffic_office: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.transit import selectors, timetable
    from rathaus.transit.services import feed_import
    from rathaus.transit.tests.conftest import MINI, gtfs_zip

    timetable.forget()
    selectors.search_forget()
    feed_import(source="mini.zip", slug="mini", name="Minibahn", data=gtfs_zip(MINI))
    try:
        assert publish_open_data(only=["transit-quality"]).done

        def costly(**kwargs: Any) -> Any:
            raise AssertionError("the report was computed again")

        monkeypatch.setattr(selectors, "quality_report", costly)
        report = publish_open_data(only=["transit-quality"])
        assert "ÖV-Güteklassen: source unchanged" in report.skipped
        assert not report.done and not report.removed and not report.rejected
        assert Dataset.objects.filter(source="transit:quality").exists()
    finally:
        timetable.forget()
        selectors.search_forget()


def test_a_distribution_needs_a_file_or_an_access_address(
    client: Client, small_catalogue: dict[str, Dataset], personas: dict[str, Any]
) -> None:
    """Regression: a distribution with neither gave `dcat:accessURL <>` and CKAN url ""."""
    from django.db import IntegrityError, transaction

    from rathaus.citydata.catalogue import distribution_create

    trees = small_catalogue["trees"]
    with pytest.raises(ValidationError) as refused:
        distribution_create(
            actor=None, dataset=trees, title="Nirgends", format="CSV", access_url=""
        )
    assert "access_url" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Distribution.objects.create(dataset=trees, title="Nirgends", format="CSV")
    client.force_login(personas["admin"])
    data = {
        "title": "Baumkataster",
        "slug": "baumkataster",
        "description": "x",
        "publisher": trees.publisher_id,
        "license": "cc-by/4.0",
        "distributions-TOTAL_FORMS": "2",
        "distributions-INITIAL_FORMS": "1",
        "distributions-0-id": trees.distributions.get().pk,
        "distributions-0-dataset": trees.pk,
        "distributions-0-title": "Baumkataster 2024 (CSV)",
        "distributions-0-format": "CSV",
        "distributions-0-access_url": "https://daten.leipzig.example/baeume.csv",
        "distributions-0-position": "0",
        "distributions-1-title": "Nirgends",
        "distributions-1-format": "CSV",
        "distributions-1-position": "1",
    }
    response = client.post(f"/admin/citydata/dataset/{trees.pk}/change/", data)
    assert response.status_code == 200  # the form again, with the error
    assert "Bitte eine Zugriffsadresse angeben" in response.content.decode()
    assert trees.distributions.count() == 1


def test_pages_and_downloads_are_rate_limited_also_when_answered_304(
    client: Client, settings: Any, station: Thing, environment_office: Any
) -> None:
    """Regression: the list and dataset pages had no limit; a download's 304 skipped it."""
    publish_open_data(only=["sensors"])
    csv_file = Distribution.objects.exclude(file="").get()
    url = f"/offene-daten/{csv_file.dataset.slug}/{csv_file.file_name}"
    settings.RATELIMIT_OPEN_DATA = "3/m"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/offene-daten/").status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 429
    assert client.get("/offene-daten/").status_code == 429
    assert client.get(f"/offene-daten/{csv_file.dataset.slug}/").status_code == 429
