"""Regressions of the review of the public strategy pages: no rate limit on the pages and
CSV exports, links to the old slug after a strategy's slug was renamed, the draft banner's
heading before the page's h1, a partner's fallback label stored in the publisher's language,
and an index that parsed every strategy's whole snapshot."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from rathaus.citydata.models import Dataset
from rathaus.citydata.publishing import publish_open_data
from rathaus.economy.constants import EntryStatus
from rathaus.economy.tests.factories_directory import OrganisationFactory
from rathaus.strategy.constants import StrategyKind
from rathaus.strategy.models import Indicator, Measure, MeasurePartner, Publication, Strategy
from rathaus.strategy.selectors import public as public_selectors
from rathaus.strategy.selectors.public import state_clear_cache
from rathaus.strategy.services.publication import strategy_publish

pytestmark = pytest.mark.django_db

OLD, NEW = "leipzig-digital", "digitale-stadt"


@pytest.fixture(autouse=True)
def _fresh_states() -> None:
    state_clear_cache()


@pytest.fixture
def published(plan: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk, note="Start")
    return plan


def _cached() -> int:
    return public_selectors._loaded.cache_info().currsize


# ---- 1. rate limits ---------------------------------------------------------------------------

PAGES = [
    ("strategy:index", []),
    ("strategy:dashboard", [OLD]),
    ("strategy:measure", [OLD, "LD-3"]),
    ("strategy:indicator", [OLD, "K-1"]),
    ("strategy:publications", [OLD]),
]
EXPORTS = [("strategy:measures_csv", [OLD]), ("strategy:indicators_csv", [OLD])]


@pytest.mark.parametrize(("name", "args"), PAGES)
@override_settings(RATELIMIT_CITYDATA="2/m")
def test_bug_public_pages_had_no_rate_limit(
    published: dict[str, Any], client: Client, name: str, args: list[str]
) -> None:
    url = reverse(name, args=args)
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    # the downloads are counted apart from the pages
    assert client.get(reverse("strategy:measures_csv", args=[OLD])).status_code == 200


def test_public_pages_share_one_limit(published: dict[str, Any], client: Client) -> None:
    with override_settings(RATELIMIT_CITYDATA="2/m"):
        assert client.get(reverse("strategy:index")).status_code == 200
        assert client.get(reverse("strategy:dashboard", args=[OLD])).status_code == 200
        response = client.get(reverse("strategy:measure", args=[OLD, "LD-1"]))
    assert response.status_code == 429


@pytest.mark.parametrize(("name", "args"), EXPORTS)
@override_settings(RATELIMIT_EXPORT="2/m")
def test_bug_csv_exports_had_no_rate_limit(
    published: dict[str, Any], client: Client, name: str, args: list[str]
) -> None:
    url = reverse(name, args=args)
    statuses = []
    for _ in range(3):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)  # type: ignore[arg-type]
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert client.get(reverse("strategy:dashboard", args=[OLD])).status_code == 200


# ---- 2. a renamed slug --------------------------------------------------------------------------


def _strategie_links(text: str) -> list[str]:
    return sorted(
        {href.replace("&amp;", "&") for href in re.findall(r'href="(/strategie/[^"]*)"', text)}
    )


def test_bug_links_pointed_to_the_old_slug_after_a_rename(
    published: dict[str, Any], client: Client
) -> None:
    Strategy.objects.filter(pk=published["digital"].pk).update(slug=NEW)
    assert client.get(reverse("strategy:dashboard", args=[OLD])).status_code == 404
    pages = [
        reverse("strategy:index"),
        reverse("strategy:dashboard", args=[NEW]),
        reverse("strategy:dashboard", args=[NEW]) + "?stand=1",
        reverse("strategy:measure", args=[NEW, "LD-2"]),
        reverse("strategy:measure", args=[NEW, "LD-2.1"]),
        reverse("strategy:indicator", args=[NEW, "K-1"]),
        reverse("strategy:publications", args=[NEW]),
    ]
    checked: set[str] = set()
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        assert f"/strategie/{OLD}/" not in text, page
        links = _strategie_links(text)
        assert links, page
        for link in links:
            if link in checked:
                continue
            checked.add(link)
            target = client.get(link)
            assert target.status_code == 200, (page, link)
    assert f"/strategie/{NEW}/massnahmen.csv" in checked
    # the timeline's rows link to the measures under the new slug too
    dashboard = client.get(reverse("strategy:dashboard", args=[NEW])).content.decode()
    assert f"/strategie/{NEW}/massnahmen/LD-1/" in dashboard


def test_bug_csv_rows_linked_to_the_old_slug_after_a_rename(
    published: dict[str, Any], client: Client
) -> None:
    Strategy.objects.filter(pk=published["digital"].pk).update(slug=NEW)
    response = client.get(reverse("strategy:measures_csv", args=[NEW]))
    assert response.status_code == 200
    assert NEW in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[arg-type]
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert rows and all(f"/strategie/{NEW}/massnahmen/" in row["url"] for row in rows)
    for row in rows[:2]:
        path = row["url"].split("testserver", 1)[1]
        assert client.get(path).status_code == 200


def test_bug_open_data_dataset_kept_the_old_slug_after_a_rename(
    published: dict[str, Any],
) -> None:
    strategy = published["digital"]
    Strategy.objects.filter(pk=strategy.pk).update(slug=NEW)
    publish_open_data(only=["strategy"])
    dataset = Dataset.objects.get(source=f"strategy:{strategy.pk}")
    # a dataset made after the rename is named after the new slug
    assert dataset.slug == f"strategie-{NEW}"
    assert dataset.landing_page.endswith(f"/strategie/{NEW}/")
    # renamed again: the same dataset (found by the strategy's id) follows
    Strategy.objects.filter(pk=strategy.pk).update(slug="leipzig-2030")
    publish_open_data(only=["strategy"])
    assert Dataset.objects.filter(source__startswith="strategy:").count() == 1
    dataset.refresh_from_db()
    assert dataset.landing_page.endswith("/strategie/leipzig-2030/")
    measures = dataset.distributions.get(file_name="massnahmen.csv").file.read().decode()
    rows = list(csv.DictReader(io.StringIO(measures)))
    assert rows and all("/strategie/leipzig-2030/massnahmen/" in row["url"] for row in rows)


# ---- 3. heading order of the draft ------------------------------------------------------------


def test_bug_draft_banner_heading_came_before_the_h1(
    plan: dict[str, Any], staff_client: Client
) -> None:
    response = staff_client.get(reverse("strategy:draft", args=[plan["digital"].pk]))
    assert response.status_code == 200
    text = response.content.decode()
    main = text[text.index("<main") :] if "<main" in text else text
    headings = re.findall(r"<h([1-6])\b", main)
    assert headings[0] == "1"
    assert "Entwurf – nicht veröffentlicht" in main


# ---- 4. a partner without a public name ---------------------------------------------------------


def test_bug_unnamed_partner_label_was_stored_in_the_publishers_language(
    plan: dict[str, Any], personas: dict[str, Any], client: Client
) -> None:
    pending = OrganisationFactory(name="Geheim", slug="geheim", status=EntryStatus.PENDING)
    shown = OrganisationFactory(name="Alpha AG", slug="alpha")
    for organisation in (pending, shown):
        MeasurePartner.objects.create(measure=plan["ld1"], organisation_id=organisation.pk)
    strategy_publish(actor=personas["department"], strategy_id=plan["digital"].pk)
    stored = Publication.objects.get().data["measures"][0]["partners"]
    assert {p["id"]: p["name"] for p in stored} == {pending.pk: None, shown.pk: "Alpha AG"}
    page = client.get(reverse("strategy:measure", args=[OLD, "LD-1"])).content.decode()
    assert f"Organisation #{pending.pk}" in page and "Geheim" not in page
    assert "Alpha AG" in page
    response = client.get(reverse("strategy:measures_csv", args=[OLD]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[arg-type]
    row = next(r for r in csv.DictReader(io.StringIO(text), delimiter=";") if r["code"] == "LD-1")
    assert f"Organisation #{pending.pk}" in row["partners"] and "Alpha AG" in row["partners"]


# ---- 5. a cheap index ---------------------------------------------------------------------------


def _strategies(count: int, personas: dict[str, Any]) -> None:
    for n in range(count):
        strategy = Strategy.objects.create(
            name=f"Strategie {n:02d}", slug=f"strategie-{n:02d}", kind=StrategyKind.STRATEGY
        )
        for m in range(n % 3 + 1):
            measure = Measure.objects.create(code=f"S{n}-{m}", title=f"Maßnahme {m}")
            measure.strategies.add(strategy)
        Indicator.objects.create(strategy=strategy, code=f"K{n}", name="Kennzahl", unit="%")
        strategy_publish(actor=personas["department"], strategy_id=strategy.pk)


def test_bug_index_parsed_every_snapshot(
    personas: dict[str, Any], client: Client, django_assert_max_num_queries: Any
) -> None:
    _strategies(10, personas)
    state_clear_cache()
    with django_assert_max_num_queries(4):
        response = client.get(reverse("strategy:index"))
    assert response.status_code == 200
    assert _cached() == 0  # not one snapshot was loaded
    text = response.content.decode()
    assert text.count('href="/strategie/strategie-') == 10
    assert "Strategie 00" in text and "Strategie 09" in text
    assert "3 Maßnahmen" in text and "1 Maßnahme " in text and "1 Kennzahl " in text
    assert text.index("Strategie 00") < text.index("Strategie 09")


def test_index_shows_the_published_name_and_counts_not_the_draft(
    published: dict[str, Any], client: Client
) -> None:
    Strategy.objects.filter(pk=published["digital"].pk).update(name="Noch geheim", slug=NEW)
    Measure.objects.create(code="LD-9", title="Neu").strategies.add(published["digital"])
    text = client.get(reverse("strategy:index")).content.decode()
    assert "Leipzig.digital" in text and "Noch geheim" not in text
    assert "5 Maßnahmen" in text
    assert f'href="/strategie/{NEW}/"' in text


def test_index_counts_a_state_published_before_the_counts_were_stored(
    published: dict[str, Any], client: Client, django_assert_max_num_queries: Any
) -> None:
    publication = Publication.objects.get()
    data = dict(publication.data)
    del data["counts"]
    Publication.objects.filter(pk=publication.pk).update(data=data)
    state_clear_cache()
    with django_assert_max_num_queries(5):
        text = client.get(reverse("strategy:index")).content.decode()
    assert "5 Maßnahmen" in text and "1 Kennzahl " in text
