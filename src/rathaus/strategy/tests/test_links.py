"""What a measure links to elsewhere on the platform (events, competitions, open datasets,
partner organisations) and the funding applications that fund it, as the strategy reads them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from rathaus.citydata.models import Dataset
from rathaus.economy.constants import EntryStatus, EventFormat, EventStatus
from rathaus.economy.models import Event
from rathaus.economy.tests.factories_directory import OrganisationFactory
from rathaus.funding.constants import ApplicationStatus, Level
from rathaus.funding.constants import CallStatus as FundingCallStatus
from rathaus.funding.models import Application, ApplicationMeasure, Programme
from rathaus.funding.models import Call as FundingCall
from rathaus.funding.selectors.applications import applications_for_measures
from rathaus.innovation.constants import CallStatus
from rathaus.innovation.models import Call
from rathaus.strategy.constants import LinkKind
from rathaus.strategy.models import MeasureLink, MeasurePartner
from rathaus.strategy.selectors.links import links_for_measures, partners_for_measures

pytestmark = pytest.mark.django_db


def _event(slug: str, status: str) -> Event:
    start = timezone.now() + timedelta(days=7)
    return Event.objects.create(
        title=f"Veranstaltung {slug}",
        slug=slug,
        status=status,
        format=EventFormat.ON_SITE,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        venue_name="Basislager",
        venue_address="Peterssteinweg 14, 04107 Leipzig",
        capacity=20,
    )


def test_links_show_public_targets_only_with_title_and_url(
    plan: dict[str, Any], offices: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    ld1, ld3 = plan["ld1"], plan["ld3"]
    public_event = _event("open-data-day", EventStatus.PUBLISHED)
    draft_event = _event("entwurf", EventStatus.DRAFT)
    call = Call.objects.create(
        title="Smart City Challenge", slug="scc", challenge="…", status=CallStatus.PUBLISHED
    )
    dataset = Dataset.objects.create(
        slug="baustellen",
        title="Baustellen",
        description="Baustellen in Leipzig",
        publisher=offices["ordnungsamt"],
        published=True,
    )
    hidden = Dataset.objects.create(
        slug="intern", title="Intern", description="…", publisher=offices["ordnungsamt"]
    )
    for measure, kind, target in (
        (ld1, LinkKind.EVENT, public_event.pk),
        (ld1, LinkKind.EVENT, draft_event.pk),
        (ld1, LinkKind.COMPETITION, call.pk),
        (ld1, LinkKind.DATASET, dataset.pk),
        (ld3, LinkKind.DATASET, hidden.pk),
        (ld3, LinkKind.EVENT, 999_999),
    ):
        MeasureLink.objects.create(measure=measure, kind=kind, target_id=target)

    with django_assert_max_num_queries(4):
        links = links_for_measures(measure_ids=[ld1.pk, ld3.pk, plan["ld2"].pk])

    assert set(links) == {ld1.pk}
    assert [(r.kind, r.title, r.url) for r in links[ld1.pk]] == [
        (
            LinkKind.EVENT,
            "Veranstaltung open-data-day",
            "/wirtschaft/veranstaltungen/open-data-day/",
        ),
        (LinkKind.COMPETITION, "Smart City Challenge", "/wettbewerbe/scc/"),
        (LinkKind.DATASET, "Baustellen", "/offene-daten/baustellen/"),
    ]
    assert links[ld1.pk][0].kind_label == "Veranstaltung"
    assert links_for_measures(measure_ids=[]) == {}


def test_partners_by_name_with_profile_link_and_unpublished_without(
    plan: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    ld1 = plan["ld1"]
    zebra = OrganisationFactory(name="Zebra GmbH", slug="zebra")
    alpha = OrganisationFactory(name="Alpha AG", slug="alpha")
    pending = OrganisationFactory(name="Geheim", slug="geheim", status=EntryStatus.PENDING)
    for organisation in (zebra, alpha, pending):
        MeasurePartner.objects.create(measure=ld1, organisation_id=organisation.pk)

    with django_assert_max_num_queries(2):
        partners = partners_for_measures(measure_ids=[ld1.pk, plan["ld3"].pk])

    assert set(partners) == {ld1.pk}
    assert partners[ld1.pk][:2] == [
        (alpha.pk, "Alpha AG", "/wirtschaft/verzeichnis/alpha/"),
        (pending.pk, f"Organisation #{pending.pk}", ""),
    ]
    assert partners[ld1.pk][2] == (zebra.pk, "Zebra GmbH", "/wirtschaft/verzeichnis/zebra/")
    assert all("Geheim" not in name for _pk, name, _url in partners[ld1.pk])


def test_applications_for_measures_lists_funding_and_filters_granted(
    plan: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    programme = Programme.objects.create(
        name="Digital Europe Programme", code="DIGITAL", funder="EU", level=Level.EU
    )
    call = FundingCall.objects.create(
        programme=programme, identifier="DIGITAL-1", title="Twins", status=FundingCallStatus.OPEN
    )
    granted = Application.objects.create(
        call=call,
        title="Digitaler Zwilling",
        acronym="TWIN",
        status=ApplicationStatus.GRANTED,
        requested_funding=Decimal("1000000"),
        granted_amount=Decimal("900000"),
    )
    idea = Application.objects.create(call=call, title="Idee", requested_funding=Decimal("5"))
    ApplicationMeasure.objects.create(application=granted, measure_id=plan["ld1"].pk)
    ApplicationMeasure.objects.create(application=idea, measure_id=plan["ld1"].pk)
    ApplicationMeasure.objects.create(application=granted, measure_id=plan["ld3"].pk)

    with django_assert_max_num_queries(1):
        funding = applications_for_measures(measure_ids=[plan["ld1"].pk, plan["ld3"].pk])
    assert [f.application_id for f in funding[plan["ld1"].pk]] == [idea.pk, granted.pk]
    twin = funding[plan["ld3"].pk][0]
    assert (twin.title, twin.programme, twin.status_label) == (
        "TWIN",
        "Digital Europe Programme",
        "Bewilligt",
    )
    assert (twin.amount_requested, twin.amount_granted) == (Decimal("1000000"), Decimal("900000"))

    only_granted = applications_for_measures(measure_ids=[plan["ld1"].pk], granted_only=True)
    assert [f.application_id for f in only_granted[plan["ld1"].pk]] == [granted.pk]
    assert applications_for_measures(measure_ids=[plan["ld2"].pk]) == {}
