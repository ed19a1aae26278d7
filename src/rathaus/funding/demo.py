"""The demo city's funding register (``rathaus seed-demo``): real funding programmes of the EU,
the Bund and Saxony, described from their public pages, with demo calls whose identifiers and
deadlines are invented (relative to today, so there is always something to apply for), and a
few applications of the city in different states with budget lines and reporting duties.

Everything is marked as demo content; the programme facts are simplified and must be checked
against the source before real use. Idempotent: programmes by code, calls by identifier,
applications by acronym."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.core.money import CENT
from rathaus.core.themes import Theme, mask_of
from rathaus.funding.constants import (
    ApplicantType,
    ApplicationStatus,
    CallStatus,
    DeadlineModel,
    DutyKind,
    FundingType,
    GoDecision,
    Level,
    Region,
    Role,
)
from rathaus.funding.models import (
    Application,
    ApplicationMeasure,
    BudgetLine,
    Call,
    CallDeadline,
    ConsortiumMember,
    Duty,
    Programme,
)
from rathaus.strategy.models import Measure

DEMO_NOTE = "Demo-Eintrag: Angaben vereinfacht, vor Verwendung an der Quelle prüfen."
DEMO_CALL_NOTE = "Demo-Aufruf: Kennung und Fristen sind erfunden."

PUBLIC_BODIES = [ApplicantType.MUNICIPALITY, ApplicantType.CITY_COMPANY]
EVERYONE = [
    *PUBLIC_BODIES,
    ApplicantType.SME,
    ApplicantType.STARTUP,
    ApplicantType.LARGE_COMPANY,
    ApplicantType.UNIVERSITY,
    ApplicantType.RESEARCH,
    ApplicantType.NONPROFIT,
]

PROGRAMMES: list[dict[str, object]] = [
    {
        "code": "DIGITAL",
        "name": "Programm Digitales Europa (Digital Europe Programme)",
        "funder": "Europäische Kommission (HaDEA)",
        "level": Level.EU,
        "themes": [Theme.DIGITALISATION, Theme.DATA, Theme.SMART_CITY, Theme.ADMINISTRATION],
        "applicants": EVERYONE,
        "regions": [Region.EU],
        "rate_max": Decimal("50"),
        "amount_min": Decimal("500000"),
        "amount_max": Decimal("20000000"),
        "legal_basis": "Verordnung (EU) 2021/694",
        "source_url": "https://digital-strategy.ec.europa.eu/en/activities/digital-programme",
    },
    {
        "code": "HORIZON-MISS-CITIES",
        "name": "Horizont Europa – Mission klimaneutrale und intelligente Städte",
        "funder": "Europäische Kommission (CINEA)",
        "level": Level.EU,
        "themes": [Theme.ENERGY, Theme.URBAN, Theme.SMART_CITY, Theme.RESEARCH, Theme.MOBILITY],
        "applicants": EVERYONE,
        "regions": [Region.EU],
        "rate_max": Decimal("100"),
        "amount_min": Decimal("1000000"),
        "amount_max": Decimal("30000000"),
        "legal_basis": "Verordnung (EU) 2021/695",
        "source_url": "https://research-and-innovation.ec.europa.eu/funding/funding-opportunities/funding-programmes-and-open-calls/horizon-europe_en",
    },
    {
        "code": "MPSC",
        "name": "Modellprojekte Smart Cities",
        "funder": "Bundesministerium für Wohnen, Stadtentwicklung und Bauwesen (mit der KfW)",
        "level": Level.FEDERAL,
        "themes": [Theme.SMART_CITY, Theme.URBAN, Theme.DIGITALISATION, Theme.DATA],
        "applicants": PUBLIC_BODIES,
        "regions": [Region.DE],
        "rate_max": Decimal("65"),
        "amount_min": None,
        "amount_max": Decimal("15000000"),
        "legal_basis": "Förderaufruf Modellprojekte Smart Cities (Staffeln 2019–2021)",
        "source_url": "https://www.smart-city-dialog.de/modellprojekte",
    },
    {
        "code": "MFUND",
        "name": "mFUND – Innovationsinitiative Mobilität 4.0",
        "funder": "Bundesministerium für Verkehr",
        "level": Level.FEDERAL,
        "themes": [Theme.MOBILITY, Theme.DATA, Theme.RESEARCH],
        "applicants": EVERYONE,
        "regions": [Region.DE],
        "rate_max": None,
        "amount_min": None,
        "amount_max": Decimal("3000000"),
        "legal_basis": "Förderrichtlinie mFUND",
        "source_url": "https://bmdv.bund.de/mfund",
    },
    {
        "code": "EFRE-SN",
        "name": "EFRE Sachsen 2021–2027",
        "funder": "Freistaat Sachsen (Sächsische Aufbaubank)",
        "level": Level.STATE,
        "themes": [Theme.RESEARCH, Theme.DIGITALISATION, Theme.ENERGY, Theme.URBAN],
        "applicants": EVERYONE,
        "regions": [Region.SN],
        "rate_max": Decimal("60"),
        "amount_min": Decimal("100000"),
        "amount_max": None,
        "legal_basis": "Verordnung (EU) 2021/1058; Förderrichtlinien des Freistaats Sachsen",
        "source_url": "https://www.efre.sachsen.de/",
    },
]


def _at(day: date, hour: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(zone))


def _calls(today: date) -> list[dict[str, object]]:
    """Demo calls, dated relative to today."""
    year = today.year
    return [
        {
            "programme": "DIGITAL",
            "identifier": f"DEMO-DIGITAL-{year}-CITIES-01",
            "title": "Lokale digitale Zwillinge für Städte und Gemeinden",
            "status": CallStatus.OPEN,
            "model": DeadlineModel.SINGLE,
            "opens_on": today - timedelta(days=30),
            "deadlines": [("", _at(today + timedelta(days=45), 17, "Europe/Brussels"))],
            "budget": Decimal("25000000"),
            "grants": 6,
        },
        {
            "programme": "HORIZON-MISS-CITIES",
            "identifier": f"DEMO-HORIZON-MISS-{year}-CIT-02",
            "title": "Positive-Energy-Quartiere",
            "status": CallStatus.OPEN,
            "model": DeadlineModel.TWO_STAGE,
            "opens_on": today - timedelta(days=10),
            "deadlines": [
                ("Stufe 1: Projektskizze", _at(today + timedelta(days=60), 17, "Europe/Brussels")),
                ("Stufe 2: Vollantrag", _at(today + timedelta(days=180), 17, "Europe/Brussels")),
            ],
            "budget": Decimal("40000000"),
            "grants": 4,
        },
        {
            "programme": "MFUND",
            "identifier": f"DEMO-MFUND-{year}",
            "title": "Datenbasierte Mobilitätsinnovationen (laufende Einreichung)",
            "status": CallStatus.OPEN,
            "model": DeadlineModel.CUTOFFS,
            "opens_on": today - timedelta(days=90),
            "deadlines": [
                ("Stichtag 1", _at(today + timedelta(days=20), 23, "Europe/Berlin")),
                ("Stichtag 2", _at(today + timedelta(days=110), 23, "Europe/Berlin")),
                ("Stichtag 3", _at(today + timedelta(days=200), 23, "Europe/Berlin")),
            ],
            "budget": None,
            "grants": None,
        },
        {
            "programme": "EFRE-SN",
            "identifier": f"DEMO-EFRE-SN-{year + 1}-DIGI",
            "title": "Digitale Innovationen in sächsischen Kommunen",
            "status": CallStatus.FORTHCOMING,
            "model": DeadlineModel.SINGLE,
            "opens_on": today + timedelta(days=40),
            "deadlines": [("", _at(today + timedelta(days=150), 12, "Europe/Berlin"))],
            "budget": Decimal("8000000"),
            "grants": 10,
        },
        {
            "programme": "MPSC",
            "identifier": "DEMO-MPSC-STAFFEL-2",
            "title": "Modellprojekte Smart Cities, Staffel 2 (abgeschlossen)",
            "status": CallStatus.CLOSED,
            "model": DeadlineModel.SINGLE,
            "opens_on": date(2020, 3, 1),
            "deadlines": [("", _at(date(2020, 5, 29), 23, "Europe/Berlin"))],
            "budget": None,
            "grants": 32,
        },
        {
            "programme": "HORIZON-MISS-CITIES",
            "identifier": "DEMO-H2020-SCC-2019",
            "title": "Leuchtturmstädte für positive Energie (abgeschlossen)",
            "status": CallStatus.CLOSED,
            "model": DeadlineModel.SINGLE,
            "opens_on": date(2018, 11, 1),
            "deadlines": [("", _at(date(2019, 2, 19), 17, "Europe/Brussels"))],
            "budget": None,
            "grants": 2,
        },
    ]


def _load_programmes() -> dict[str, Programme]:
    programmes = {}
    for data in PROGRAMMES:
        programmes[str(data["code"])], _ = Programme.objects.get_or_create(
            code=data["code"],
            defaults={
                "name": data["name"],
                "funder": data["funder"],
                "level": data["level"],
                "funding_type": FundingType.GRANT,
                "description": DEMO_NOTE,
                "themes_mask": mask_of(data["themes"], Theme),  # type: ignore[arg-type]
                "applicant_types_mask": mask_of(data["applicants"], ApplicantType),  # type: ignore[arg-type]
                "regions_mask": mask_of(data["regions"], Region),  # type: ignore[arg-type]
                "rate_max": data["rate_max"],
                "amount_min": data["amount_min"],
                "amount_max": data["amount_max"],
                "legal_basis": data["legal_basis"],
                "source_url": data["source_url"],
                "last_checked": timezone.localdate(),
            },
        )
    return programmes


def _load_calls(programmes: dict[str, Programme], today: date) -> dict[str, Call]:
    calls = {}
    for data in _calls(today):
        deadlines: list[tuple[str, datetime]] = data["deadlines"]  # type: ignore[assignment]
        call, made = Call.objects.get_or_create(
            identifier=data["identifier"],
            defaults={
                "programme": programmes[str(data["programme"])],
                "title": data["title"],
                "status": data["status"],
                "deadline_model": data["model"],
                "opens_on": data["opens_on"],
                "budget": data["budget"],
                "expected_grants": data["grants"],
                "notes": DEMO_CALL_NOTE,
                "final_deadline": max(due for _, due in deadlines),
            },
        )
        if made:
            CallDeadline.objects.bulk_create(
                CallDeadline(
                    call=call,
                    position=position,
                    label=label,
                    due_at=due,
                    timezone=str(due.tzinfo),
                )
                for position, (label, due) in enumerate(deadlines, start=1)
            )
        calls[str(data["identifier"])] = call
    return calls


@dataclass(frozen=True)
class DemoApplication:
    acronym: str
    call: str
    title: str
    role: str
    status: str
    total: Decimal
    requested: Decimal
    own: Decimal
    submitted: date | None
    granted: Decimal | None
    period: tuple[date | None, date | None]
    measures: list[str]
    coordinator: str = ""


def load(*, staff: User | None) -> dict[str, int]:
    """Create what is missing; returns counts for the seed command's summary."""
    today = timezone.localdate()
    programmes = _load_programmes()
    calls = _load_calls(programmes, today)
    year = today.year
    measures = dict(Measure.objects.values_list("code", "pk"))
    applications = [
        DemoApplication(
            acronym="SPARCS-DEMO",
            call="DEMO-H2020-SCC-2019",
            title="Leuchtturmstadt für positive Energie (Demo nach SPARCS)",
            role=Role.PARTNER,
            status=ApplicationStatus.CLOSED,
            total=Decimal("4200000"),
            requested=Decimal("4200000"),
            own=Decimal("0"),
            submitted=date(2019, 2, 18),
            granted=Decimal("4200000"),
            period=(date(2019, 10, 1), date(2024, 9, 30)),
            measures=["TRI-2"],
            coordinator="Demo-Koordinator (Forschungseinrichtung)",
        ),
        DemoApplication(
            acronym="CUT-DEMO",
            call="DEMO-MPSC-STAFFEL-2",
            title="Vernetzte urbane Zwillinge (Demo nach Connected Urban Twins)",
            role=Role.PARTNER,
            status=ApplicationStatus.RUNNING,
            total=Decimal("9000000"),
            requested=Decimal("5850000"),
            own=Decimal("3150000"),
            submitted=date(2020, 5, 28),
            granted=Decimal("5850000"),
            period=(date(2021, 1, 1), date(year + 1, 12, 31)),
            measures=["LD-2", "LD-3"],
            coordinator="Demo-Koordinator (Partnerstadt)",
        ),
        DemoApplication(
            acronym="TWIN-WEST",
            call=f"DEMO-DIGITAL-{year}-CITIES-01",
            title="Digitaler Zwilling Leipziger Westen",
            role=Role.COORDINATOR,
            status=ApplicationStatus.PREPARATION,
            total=Decimal("2000000"),
            requested=Decimal("1000000"),
            own=Decimal("400000"),
            submitted=None,
            granted=None,
            period=(None, None),
            measures=["LD-3"],
        ),
        DemoApplication(
            acronym="PEQ-LEIPZIG",
            call=f"DEMO-HORIZON-MISS-{year}-CIT-02",
            title="Positive-Energie-Quartier Lindenau",
            role=Role.PARTNER,
            status=ApplicationStatus.IDEA,
            total=Decimal("1500000"),
            requested=Decimal("1500000"),
            own=Decimal("0"),
            submitted=None,
            granted=None,
            period=(None, None),
            measures=["TRI-2"],
            coordinator="Demo-Koordinator (Hochschule)",
        ),
    ]
    created = 0
    for data in applications:
        if Application.objects.filter(acronym=data.acronym).exists():
            continue
        start, end = data.period
        decided = data.status != ApplicationStatus.IDEA
        application = Application.objects.create(
            call=calls[str(data.call)],
            acronym=data.acronym,
            title=data.title,
            summary=DEMO_NOTE,
            role=data.role,
            status=data.status,
            responsible=staff,
            total_cost=data.total,
            requested_funding=data.requested,
            own_share=data.own,
            own_share_budget_line="1.100.11.1.0.01.01 (Demo)" if data.own else "",
            decision=GoDecision.GO if decided else GoDecision.PENDING,
            decision_on=(data.submitted or today - timedelta(days=7)) if decided else None,
            decided_by=staff if decided else None,
            submitted_on=data.submitted,
            granted_amount=data.granted,
            grant_agreement_number="DEMO-0001" if data.granted else "",
            project_start=start,
            project_end=end,
            created_by=staff,
        )
        created += 1
        ApplicationMeasure.objects.bulk_create(
            ApplicationMeasure(application=application, measure_id=measures[code])
            for code in data.measures
            if code in measures
        )
        total = data.total
        city_share = total if data.role == Role.COORDINATOR else (total / 3).quantize(CENT)
        ConsortiumMember.objects.create(
            application=application,
            position=1,
            is_city=True,
            role=data.role,
            budget_share=city_share,
        )
        if data.role == Role.PARTNER:
            ConsortiumMember.objects.create(
                application=application,
                position=2,
                name=data.coordinator,
                role=Role.COORDINATOR,
                budget_share=total - city_share,
            )
        if data.status == ApplicationStatus.RUNNING:
            for offset, spent in ((-2, "1100000"), (-1, "1350000"), (0, "400000")):
                BudgetLine.objects.create(
                    application=application,
                    year=year + offset,
                    planned=Decimal("1500000"),
                    spent=Decimal(spent),
                    funded=Decimal(spent) * Decimal("0.65"),
                    own_share=Decimal(spent) * Decimal("0.35"),
                )
            Duty.objects.create(
                application=application,
                kind=DutyKind.INTERIM_REPORT,
                title="Zwischenbericht " + str(year),
                due_on=today + timedelta(days=10),
                responsible=staff,
            )
            Duty.objects.create(
                application=application,
                kind=DutyKind.FINAL_REPORT,
                title="Schlussbericht und Verwendungsnachweis",
                due_on=date(year + 2, 6, 30),
                responsible=staff,
            )
    return {
        "programmes": len(programmes),
        "calls": len(calls),
        "applications created": created,
    }
