"""The demo city's strategies (``rathaus seed-demo``): Leipzig.digital, adopted by the city
council, with its fields of action, measures and sub-measures, milestones and KPIs, and the EU
project Triangulum (2015–2020) with its Leipziger Westen measures, sharing two of them with
Leipzig.digital. Drawn from public facts (the target of 75 municipal services online, the urban
data platform, Triangulum's measures in the Leipziger Westen), simplified, with invented
figures, and marked as demo content throughout (the council decision number too).

Idempotent: strategies by slug, fields by code, measures by code, milestones by title,
indicators by code, observations by period; what exists is kept as it is (staff may have
changed it), except measures still as bare as the first demo left them, which are filled in.
A strategy is published (``services.publication``, by the demo department staff) only when its
state differs from its newest published one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from rathaus.accounts.models import Office, User
from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.models import Area
from rathaus.core.themes import Theme, mask_of
from rathaus.strategy.constants import (
    AutoSource,
    Direction,
    Frequency,
    MeasureStatus,
    MilestoneStatus,
    ProgressMode,
    StrategyKind,
    StrategyStatus,
    TrafficLight,
)
from rathaus.strategy.models import (
    FieldOfAction,
    Indicator,
    Measure,
    MeasurePartner,
    Milestone,
    Publication,
    Strategy,
)

DEMO = "Demo-Inhalt, nach öffentlichen Angaben vereinfacht."
DEMO_FIGURES = "Demo-Inhalt: Zahlen erfunden, nach öffentlichen Angaben vereinfacht."
DEMO_STAFF_EMAIL = "referat@demo.rathaus.example"
DEMO_RESPONSIBLE_EMAIL = "sachbearbeitung@demo.rathaus.example"
PUBLISH_NOTE = "Demo"

LD = "leipzig-digital"
TRI = "triangulum"


@dataclass(frozen=True)
class DemoStrategy:
    slug: str
    name: str
    version: str
    kind: str
    description: str
    status: str = StrategyStatus.DRAFT
    decision_number: str = ""
    decision_date: date | None = None


STRATEGIES = (
    DemoStrategy(
        LD,
        "Leipzig.digital",
        "Demo",
        StrategyKind.STRATEGY,
        "Die Digitalstrategie der Stadt: Verwaltungsleistungen online, offene Daten und eine "
        "urbane Datenplattform, digitale Quartiere, Schulen und Wirtschaft, Infrastruktur. "
        + DEMO
        + " Die Beschlussnummer ist erfunden.",
        StrategyStatus.ADOPTED,
        "DEMO-VII-DS-0000",
        date(2021, 9, 15),
    ),
    DemoStrategy(
        TRI,
        "Triangulum (EU Horizon 2020)",
        "2015–2020",
        StrategyKind.EU_PROJECT,
        "EU-Leuchtturmprojekt für intelligente Städte (Horizon 2020, 2015–2020): Leipzig "
        "erprobte im Leipziger Westen energieeffiziente Sanierung, E-Mobilität, intelligente "
        "Beleuchtung und eine Quartiersdatenplattform. " + DEMO,
    ),
)

# (strategy, code, title, parent code)
FIELDS = (
    (LD, "1", "Digitale Verwaltung", ""),
    (LD, "1.1", "Online-Dienste", "1"),
    (LD, "2", "Daten und Plattformen", ""),
    (LD, "3", "Smart-City-Quartiere", ""),
    (LD, "4", "Digitale Wirtschaft und Bildung", ""),
    (LD, "5", "Infrastruktur", ""),
    (TRI, "E", "Energie", ""),
    (TRI, "M", "Mobilität", ""),
    (TRI, "D", "Daten und IKT", ""),
)

# the Leipziger Westen (linked where the areas are loaded: import-leipzig-offices)
WESTEN = ("Alt-West", "Lindenau", "Altlindenau", "Neulindenau", "Plagwitz", "Grünau-Mitte")


@dataclass(frozen=True)
class DemoMilestone:
    title: str
    baseline: date
    planned: date | None = None  # later than the baseline: slipped (needs slip_reason)
    actual: date | None = None
    status: str = MilestoneStatus.OPEN
    slip_reason: str = ""
    evidence_url: str = ""


@dataclass(frozen=True)
class DemoMeasure:
    code: str
    title: str
    strategies: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]  # (strategy slug, field code)
    themes: tuple[Theme, ...]
    description: str = ""
    office: str = ""  # office name
    responsible: str = ""  # "staff" or "caseworker" (demo accounts)
    parent: str = ""
    weight: int | None = None
    status: str = MeasureStatus.PLANNED
    light: str = TrafficLight.GREEN
    reason: str = ""
    progress: int = 0
    planned: tuple[date | None, date | None] = (None, None)
    actual: tuple[date | None, date | None] = (None, None)
    budget: Decimal | None = None
    spent: Decimal | None = None
    areas: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()  # organisation names of the directory
    milestones: tuple[DemoMilestone, ...] = ()
    stale: bool = False  # last reviewed long ago (shows the stale reminders)


def _measures(today: date) -> list[DemoMeasure]:
    """The demo measures; running ones end relative to this year, so the demo stays current."""
    year = today.year
    done = MilestoneStatus.DONE
    return [
        DemoMeasure(
            "LD-1",
            "75 kommunale Verwaltungsleistungen online",
            (LD,),
            ((LD, "1.1"),),
            (Theme.ADMINISTRATION, Theme.DIGITALISATION),
            "Die 75 meistgenutzten Leistungen der Stadtverwaltung sind online zu beantragen "
            "(Reifegrad 3 und höher), mit Servicekonto, Bezahlung und digitalem Bescheid.",
            office="Hauptamt",
            responsible="staff",
            status=MeasureStatus.RUNNING,
            planned=(date(2021, 1, 1), date(year + 1, 12, 31)),
            actual=(date(2021, 3, 1), None),
            budget=Decimal("1500000"),
            spent=Decimal("910000"),
            partners=("Formularfabrik GmbH",),
            milestones=(
                DemoMilestone(
                    "Servicekonto und Antragsassistent in Betrieb",
                    date(2021, 12, 31),
                    actual=date(2021, 11, 15),
                    status=done,
                    evidence_url="https://www.leipzig.de/",
                ),
                DemoMilestone(
                    "25 Leistungen online",
                    date(2022, 12, 31),
                    actual=date(2022, 12, 12),
                    status=done,
                    evidence_url="https://www.leipzig.de/",
                ),
                DemoMilestone(
                    "50 Leistungen online",
                    date(2024, 12, 31),
                    planned=date(2025, 9, 30),
                    actual=date(2025, 9, 12),
                    status=done,
                    slip_reason="Die Schnittstelle zum Fachverfahren des Meldewesens kam ein "
                    "Dreivierteljahr später als vom Hersteller zugesagt.",
                ),
                DemoMilestone("75 Leistungen online", date(year + 1, 12, 31)),
            ),
        ),
        DemoMeasure(
            "LD-1.1",
            "Bürgerdienste online: Melde-, Pass- und Kfz-Wesen",
            (LD,),
            (),
            (Theme.ADMINISTRATION, Theme.DIGITALISATION),
            office="Ordnungsamt",
            responsible="caseworker",
            parent="LD-1",
            weight=50,
            status=MeasureStatus.RUNNING,
            progress=70,
            planned=(date(2021, 1, 1), date(year + 1, 6, 30)),
            actual=(date(2021, 3, 1), None),
        ),
        DemoMeasure(
            "LD-1.2",
            "Bau- und Gewerbeleistungen online",
            (LD,),
            (),
            (Theme.ADMINISTRATION, Theme.ECONOMY),
            office="Amt für Bauordnung und Denkmalpflege",
            parent="LD-1",
            weight=30,
            status=MeasureStatus.RUNNING,
            progress=40,
            planned=(date(2022, 1, 1), date(year + 1, 12, 31)),
            actual=(date(2022, 4, 1), None),
        ),
        DemoMeasure(
            "LD-1.3",
            "Bezahlen und Bescheide digital (E-Payment, Postfach)",
            (LD,),
            (),
            (Theme.ADMINISTRATION, Theme.DIGITALISATION),
            office="Hauptamt",
            parent="LD-1",
            weight=20,
            status=MeasureStatus.DONE,
            progress=100,
            planned=(date(2021, 1, 1), date(2023, 6, 30)),
            actual=(date(2021, 3, 1), date(2023, 5, 31)),
        ),
        DemoMeasure(
            "LD-2",
            "Urbane Datenplattform",
            (LD,),
            ((LD, "2"),),
            (Theme.DATA, Theme.SMART_CITY),
            "Eine Plattform für Sensor-, Geo- und Verwaltungsdaten der Stadt, offen über "
            "Schnittstellen (nach dem Vorbild von Connected Urban Twins).",
            office="Amt für Geoinformation und Bodenordnung",
            responsible="staff",
            status=MeasureStatus.RUNNING,
            planned=(date(2021, 1, 1), date(year + 1, 6, 30)),
            actual=(date(2021, 1, 1), None),
            budget=Decimal("2400000"),
            spent=Decimal("1350000"),
            milestones=(
                DemoMilestone(
                    "Plattform im Regelbetrieb",
                    date(2023, 6, 30),
                    actual=date(2023, 5, 31),
                    status=done,
                    evidence_url="https://www.connectedurbantwins.de/",
                ),
                DemoMilestone(
                    "Sensor-Datenströme aus drei Fachämtern angebunden", date(year + 1, 3, 31)
                ),
            ),
        ),
        DemoMeasure(
            "LD-2.1",
            "Plattformbetrieb und Sensor-Datenströme",
            (LD,),
            (),
            (Theme.DATA, Theme.SMART_CITY),
            office="Amt für Geoinformation und Bodenordnung",
            parent="LD-2",
            weight=60,
            status=MeasureStatus.RUNNING,
            progress=75,
            planned=(date(2021, 1, 1), date(year + 1, 6, 30)),
            actual=(date(2021, 1, 1), None),
        ),
        DemoMeasure(
            "LD-2.2",
            "Schnittstellen zu den Fachverfahren",
            (LD,),
            (),
            (Theme.DATA, Theme.ADMINISTRATION),
            office="Amt für Geoinformation und Bodenordnung",
            parent="LD-2",
            weight=40,
            status=MeasureStatus.RUNNING,
            progress=30,
            planned=(date(2022, 1, 1), date(year + 1, 6, 30)),
            actual=(date(2022, 7, 1), None),
        ),
        DemoMeasure(
            "LD-3",
            "Digitaler Zwilling Leipziger Westen",
            (LD, TRI),
            ((LD, "3"), (TRI, "D")),
            (Theme.DATA, Theme.URBAN, Theme.SMART_CITY),
            "Ein digitales Abbild des Quartiers aus 3D-Stadtmodell, Sensordaten und Planungen, "
            "aufbauend auf der Quartiersdatenplattform aus Triangulum.",
            office="Stadtplanungsamt",
            responsible="staff",
            status=MeasureStatus.DELAYED,
            light=TrafficLight.YELLOW,
            reason="Die Ausschreibung der 3D-Datenerfassung musste wiederholt werden; der "
            "Zwilling geht etwa ein halbes Jahr später in Betrieb.",
            progress=35,
            planned=(date(2022, 1, 1), date(year + 1, 6, 30)),
            actual=(date(2022, 3, 1), None),
            budget=Decimal("1800000"),
            spent=Decimal("540000"),
            areas=WESTEN,
            partners=("Sensorwerk Lindenau UG",),
            milestones=(
                DemoMilestone(
                    "3D-Stadtmodell des Quartiers erfasst",
                    date(2023, 6, 30),
                    planned=date(2023, 12, 31),
                    actual=date(2023, 11, 30),
                    status=done,
                    slip_reason="Die Ausschreibung der Befliegung musste wiederholt werden.",
                    evidence_url="https://www.leipzig.de/",
                ),
                DemoMilestone("Zwilling öffentlich zugänglich", date(year + 1, 6, 30)),
            ),
        ),
        DemoMeasure(
            "LD-4",
            "Open-Data-Portal der Stadt",
            (LD,),
            ((LD, "2"),),
            (Theme.DATA,),
            "Offene Daten der Verwaltung an einem Ort, maschinenlesbar und frei nutzbar.",
            office="Amt für Statistik und Wahlen",
            status=MeasureStatus.DONE,
            progress=100,
            planned=(date(2017, 1, 1), date(2018, 12, 31)),
            actual=(date(2017, 3, 1), date(2018, 10, 31)),
            budget=Decimal("250000"),
            spent=Decimal("231000"),
            milestones=(
                DemoMilestone(
                    "Portal online",
                    date(2018, 6, 30),
                    actual=date(2018, 5, 15),
                    status=done,
                    evidence_url="https://opendata.leipzig.de/",
                ),
            ),
        ),
        DemoMeasure(
            "LD-5",
            "Digitale Schulen (DigitalPakt Schule)",
            (LD,),
            ((LD, "4"),),
            (Theme.EDUCATION, Theme.DIGITALISATION),
            "WLAN, Präsentationstechnik und Endgeräte für die kommunalen Schulen.",
            office="Amt für Jugend, Familie und Bildung",
            responsible="staff",
            status=MeasureStatus.RUNNING,
            light=TrafficLight.YELLOW,
            reason="Lieferengpässe bei Endgeräten: ein Teil der Schulen wird erst im nächsten "
            "Schuljahr ausgestattet.",
            progress=55,
            planned=(date(2020, 1, 1), date(year + 1, 7, 31)),
            actual=(date(2020, 3, 1), None),
            budget=Decimal("9800000"),
            spent=Decimal("5100000"),
            milestones=(DemoMilestone("Alle Schulen mit WLAN", date(year + 1, 7, 31)),),
            stale=True,
        ),
        DemoMeasure(
            "LD-6",
            "Gigabit-Breitband in unterversorgten Gebieten",
            (LD,),
            ((LD, "5"),),
            (Theme.INFRASTRUCTURE,),
            "Glasfaser für Haushalte, Gewerbe und Schulen dort, wo der Markt nicht ausbaut "
            "(gefördertes Ausbauprogramm).",
            office="Verkehrs- und Tiefbauamt",
            status=MeasureStatus.RUNNING,
            light=TrafficLight.RED,
            reason="Die Tiefbaukapazitäten reichen nicht: der Ausbau der Außenbezirke verschiebt "
            "sich um mindestens ein Jahr.",
            progress=30,
            planned=(date(2022, 1, 1), date(year + 2, 12, 31)),
            actual=(date(2022, 9, 1), None),
            budget=Decimal("12000000"),
            spent=Decimal("3400000"),
        ),
        DemoMeasure(
            "LD-7",
            "Vernetzung der Digitalwirtschaft (Verzeichnis und Digitalhub)",
            (LD,),
            ((LD, "4"),),
            (Theme.ECONOMY, Theme.DIGITALISATION),
            "Ein Verzeichnis der Leipziger Digitalwirtschaft und Veranstaltungen im Digitalhub.",
            office="Amt für Wirtschaftsförderung",
            status=MeasureStatus.RUNNING,
            progress=60,
            planned=(date(2023, 1, 1), date(year + 1, 12, 31)),
            actual=(date(2023, 1, 1), None),
            budget=Decimal("300000"),
            spent=Decimal("140000"),
        ),
        DemoMeasure(
            "LD-8",
            "Eigene Online-Gewerbeanmeldung",
            (LD,),
            ((LD, "1.1"),),
            (Theme.ADMINISTRATION, Theme.ECONOMY),
            office="Ordnungsamt",
            status=MeasureStatus.STOPPED,
            reason="Eingestellt: der Freistaat stellt den Dienst nach dem Prinzip „Einer für "
            "Alle“ bereit; er ist Teil von LD-1.2.",
            progress=20,
            planned=(date(2021, 1, 1), date(2022, 12, 31)),
            actual=(date(2021, 4, 1), date(2021, 12, 31)),
            budget=Decimal("120000"),
            spent=Decimal("26000"),
        ),
        DemoMeasure(
            "LD-9",
            "Umwelt-Sensornetz (LoRaWAN)",
            (LD,),
            ((LD, "5"),),
            (Theme.ENVIRONMENT, Theme.SMART_CITY, Theme.INFRASTRUCTURE),
            "Ein stadtweites Funknetz für Umwelt- und Verkehrssensoren, angebunden an die "
            "urbane Datenplattform.",
            office="Amt für Umweltschutz",
            planned=(date(year + 1, 1, 1), date(year + 2, 12, 31)),
            budget=Decimal("600000"),
            milestones=(DemoMilestone("Ausschreibung veröffentlicht", date(year + 1, 3, 31)),),
        ),
        DemoMeasure(
            "TRI-1",
            "Energieeffiziente Sanierung von Wohngebäuden im Leipziger Westen",
            (TRI,),
            ((TRI, "E"),),
            (Theme.ENERGY, Theme.URBAN),
            "Sanierung von Gründerzeit- und Plattenbauten mit Wärmepumpen, Photovoltaik und "
            "Energiemanagement.",
            office="Amt für Stadterneuerung und Wohnungsbauförderung",
            status=MeasureStatus.DONE,
            progress=100,
            planned=(date(2015, 2, 1), date(2020, 1, 31)),
            actual=(date(2015, 6, 1), date(2019, 12, 31)),
            budget=Decimal("2100000"),
            spent=Decimal("2050000"),
            areas=WESTEN,
            milestones=(
                DemoMilestone(
                    "Sanierung der Pilotgebäude abgeschlossen",
                    date(2018, 12, 31),
                    planned=date(2019, 6, 30),
                    actual=date(2019, 6, 14),
                    status=done,
                    slip_reason="Die Baugenehmigung für ein Gebäude kam ein halbes Jahr später.",
                    evidence_url="https://cordis.europa.eu/project/id/646578",
                ),
            ),
        ),
        DemoMeasure(
            "TRI-2",
            "Leipziger Westen: Energie und Mobilität im Quartier",
            (TRI, LD),
            ((TRI, "M"), (LD, "3")),
            (Theme.ENERGY, Theme.MOBILITY, Theme.URBAN),
            "Mobilitätsstationen mit E-Carsharing und Ladepunkten und intelligente "
            "Straßenbeleuchtung, erprobt im Leipziger Westen.",
            office="Verkehrs- und Tiefbauamt",
            status=MeasureStatus.DONE,
            planned=(date(2015, 2, 1), date(2020, 1, 31)),
            actual=(date(2015, 9, 1), date(2020, 1, 31)),
            budget=Decimal("3000000"),
            spent=Decimal("2870000"),
            areas=WESTEN,
            milestones=(
                DemoMilestone(
                    "Erste Mobilitätsstation eröffnet",
                    date(2017, 6, 30),
                    actual=date(2017, 6, 1),
                    status=done,
                    evidence_url="https://cordis.europa.eu/project/id/646578",
                ),
            ),
        ),
        DemoMeasure(
            "TRI-2.1",
            "Mobilitätsstationen mit E-Carsharing und Ladepunkten",
            (TRI, LD),
            (),
            (Theme.MOBILITY, Theme.ENERGY),
            office="Verkehrs- und Tiefbauamt",
            parent="TRI-2",
            weight=60,
            status=MeasureStatus.DONE,
            progress=100,
            planned=(date(2015, 2, 1), date(2019, 12, 31)),
            actual=(date(2015, 9, 1), date(2019, 10, 31)),
        ),
        DemoMeasure(
            "TRI-2.2",
            "Intelligente Straßenbeleuchtung mit Sensorik",
            (TRI, LD),
            (),
            (Theme.ENERGY, Theme.SMART_CITY),
            office="Verkehrs- und Tiefbauamt",
            parent="TRI-2",
            weight=40,
            status=MeasureStatus.DONE,
            progress=100,
            planned=(date(2016, 1, 1), date(2020, 1, 31)),
            actual=(date(2016, 4, 1), date(2020, 1, 31)),
        ),
    ]


@dataclass(frozen=True)
class DemoIndicator:
    strategy: str
    code: str
    name: str
    definition: str
    unit: str
    field_code: str = ""
    measures: tuple[str, ...] = ()
    direction: str = Direction.HIGHER
    frequency: str = Frequency.YEARLY
    baseline: tuple[Decimal, date] | None = None
    target: tuple[Decimal, date] | None = None
    data_source: str = ""
    auto_source: str = ""
    observations: tuple[tuple[date, Decimal, bool], ...] = field(default=())


def _indicators(today: date) -> list[DemoIndicator]:
    year = today.year
    return [
        DemoIndicator(
            LD,
            "K-1",
            "Anteil der Leistungen online ab Reifegrad 3",
            "Anteil der Leistungen des Leistungskatalogs, die online ab Reifegrad 3 "
            "(Antrag und Nachweise digital) angeboten werden, in Prozent.",
            "%",
            "1.1",
            ("LD-1",),
            target=(Decimal("60"), date(year + 1, 12, 31)),
            data_source="Leistungskatalog der Plattform (automatisch)",
            auto_source=AutoSource.CATALOG_ONLINE_SHARE,
        ),
        DemoIndicator(
            LD,
            "K-2",
            "Kommunale Verwaltungsleistungen online",
            "Zahl der kommunalen Leistungen, die online beantragt werden können "
            "(Reifegrad 3 und höher), jeweils zum Jahresende. " + DEMO_FIGURES,
            "Anzahl",
            "1.1",
            ("LD-1",),
            baseline=(Decimal("14"), date(2021, 12, 31)),
            target=(Decimal("75"), date(year + 1, 12, 31)),
            data_source="Hauptamt, Bericht zum Onlinezugang",
            observations=(
                (date(2021, 1, 1), Decimal("14"), False),
                (date(2022, 1, 1), Decimal("26"), False),
                (date(2023, 1, 1), Decimal("35"), False),
                (date(2024, 1, 1), Decimal("44"), False),
                (date(2025, 1, 1), Decimal("52"), True),
            ),
        ),
        DemoIndicator(
            LD,
            "K-3",
            "Median der Bearbeitungszeit",
            "Median der Tage von der Antragstellung bis zum Abschluss der Vorgänge, die im "
            "Quartal abgeschlossen wurden.",
            "Tage",
            "1",
            ("LD-1",),
            direction=Direction.LOWER,
            frequency=Frequency.QUARTERLY,
            data_source="Vorgänge der Plattform (automatisch)",
            auto_source=AutoSource.CASE_MEDIAN_DAYS,
        ),
        DemoIndicator(
            LD,
            "K-4",
            "Veröffentlichte Sensor-Datenströme",
            "Zahl der Datenströme von Sensoren, die auf der Plattform offen veröffentlicht sind.",
            "Anzahl",
            "2",
            ("LD-2",),
            data_source="Stadtdaten der Plattform (automatisch)",
            auto_source=AutoSource.SENSOR_DATASTREAMS,
        ),
        DemoIndicator(
            LD,
            "K-5",
            "Organisationen im Verzeichnis der Digitalwirtschaft",
            "Zahl der veröffentlichten Organisationen im Verzeichnis der Digitalwirtschaft.",
            "Anzahl",
            "4",
            ("LD-7",),
            data_source="Verzeichnis der Plattform (automatisch)",
            auto_source=AutoSource.DIRECTORY_ORGANISATIONS,
        ),
        DemoIndicator(
            TRI,
            "T-1",
            "CO₂-Einsparung im Leipziger Westen",
            "Eingesparte CO₂-Emissionen der sanierten Gebäude und der Mobilitätsangebote im "
            "Projektgebiet gegenüber 2015, in Tonnen je Jahr. " + DEMO_FIGURES,
            "t/Jahr",
            "E",
            ("TRI-1", "TRI-2"),
            baseline=(Decimal("0"), date(2015, 12, 31)),
            target=(Decimal("1000"), date(2020, 12, 31)),
            data_source="Monitoring des Projekts",
            observations=(
                (date(2016, 1, 1), Decimal("40"), False),
                (date(2017, 1, 1), Decimal("210"), False),
                (date(2018, 1, 1), Decimal("480"), False),
                (date(2019, 1, 1), Decimal("790"), False),
                (date(2020, 1, 1), Decimal("930"), False),
            ),
        ),
        DemoIndicator(
            TRI,
            "T-2",
            "Öffentliche Ladepunkte im Leipziger Westen",
            "Zahl der öffentlich zugänglichen Ladepunkte für Elektrofahrzeuge im "
            "Projektgebiet, jeweils zum Jahresende. " + DEMO_FIGURES,
            "Anzahl",
            "M",
            ("TRI-2",),
            baseline=(Decimal("2"), date(2015, 12, 31)),
            target=(Decimal("30"), date(2020, 12, 31)),
            data_source="Verkehrs- und Tiefbauamt",
            observations=(
                (date(2016, 1, 1), Decimal("4"), False),
                (date(2017, 1, 1), Decimal("11"), False),
                (date(2018, 1, 1), Decimal("19"), False),
                (date(2019, 1, 1), Decimal("26"), False),
                (date(2020, 1, 1), Decimal("31"), False),
            ),
        ),
    ]


def _demo_user(email: str) -> User | None:
    return User.objects.filter(email=email, is_active=True).first()


def _rolled_up(children: list[DemoMeasure]) -> int:
    """As the services compute it: round(sum(progress * weight) / 100), halves up."""
    return (sum(child.progress * (child.weight or 0) for child in children) + 50) // 100


def _measure_values(
    demo: DemoMeasure,
    *,
    children: list[DemoMeasure],
    offices: dict[str, int],
    people: dict[str, User | None],
    parent_id: int | None,
    now: Any,
) -> dict[str, Any]:
    person = people.get(demo.responsible)
    return {
        "title": demo.title,
        "description": f"{demo.description} {DEMO}".strip(),
        "themes_mask": mask_of(demo.themes, Theme),
        "parent_id": parent_id,
        "weight": demo.weight,
        "office_id": offices.get(demo.office),
        "responsible_id": person.pk if person is not None else None,
        "status": demo.status,
        "traffic_light": demo.light,
        "status_reason": demo.reason,
        "progress": _rolled_up(children) if children else demo.progress,
        "progress_mode": ProgressMode.ROLLED_UP if children else ProgressMode.ENTERED,
        "planned_start": demo.planned[0],
        "planned_end": demo.planned[1],
        "actual_start": demo.actual[0],
        "actual_end": demo.actual[1],
        "planned_budget": demo.budget,
        "spent_budget": demo.spent,
        "reviewed_at": (
            now - timedelta(days=settings.STRATEGY_STALE_DAYS + 30) if demo.stale else now
        ),
    }


def _is_bare(measure: Measure) -> bool:
    """Still as the first demo (before fields of action and milestones) left it."""
    return (
        measure.description == DEMO
        and measure.planned_start is None
        and not measure.milestones.exists()
    )


def _organisation_ids(names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    from rathaus.economy.selectors.directory import organisation_choices

    return {name: pk for pk, name in organisation_choices() if name in names}


def _load_structure(today: date, now: Any) -> dict[str, int]:
    counts = dict.fromkeys(("measures created", "milestones created", "indicators created"), 0)
    strategies: dict[str, Strategy] = {}
    for strategy_spec in STRATEGIES:
        values = {
            "name": strategy_spec.name,
            "version": strategy_spec.version,
            "kind": strategy_spec.kind,
            "description": strategy_spec.description,
            "status": strategy_spec.status,
            "council_decision_number": strategy_spec.decision_number,
            "council_decision_date": strategy_spec.decision_date,
        }
        strategy, made = Strategy.objects.get_or_create(slug=strategy_spec.slug, defaults=values)
        if not made and not strategy.description:  # the first demo's bare strategy
            for name, value in values.items():
                setattr(strategy, name, value)
            strategy.save()
        strategies[strategy_spec.slug] = strategy
    fields: dict[tuple[str, str], FieldOfAction] = {}
    for position, (slug, code, title, parent) in enumerate(FIELDS, start=1):
        fields[(slug, code)], _made = FieldOfAction.objects.get_or_create(
            strategy=strategies[slug],
            code=code,
            defaults={
                "title": title,
                "parent": fields[(slug, parent)] if parent else None,
                "position": position,
                "description": DEMO,
            },
        )

    demos = _measures(today)
    found = Office.objects.filter(name__in={demo.office for demo in demos if demo.office})
    # the first of equally named offices wins
    offices = dict(reversed(list(found.order_by("pk").values_list("name", "pk"))))
    people = {
        "staff": _demo_user(DEMO_STAFF_EMAIL),
        "caseworker": _demo_user(DEMO_RESPONSIBLE_EMAIL),
    }
    areas = {
        name: pk
        for name, pk in Area.objects.filter(
            name__in={name for demo in demos for name in demo.areas}
        ).values_list("name", "pk")
    }
    partners = _organisation_ids({name for demo in demos for name in demo.partners})
    measures: dict[str, Measure] = {}
    for demo in demos:
        children = [child for child in demos if child.parent == demo.code]
        values = _measure_values(
            demo,
            children=children,
            offices=offices,
            people=people,
            parent_id=measures[demo.parent].pk if demo.parent else None,
            now=now,
        )
        measure, made = Measure.objects.get_or_create(code=demo.code, defaults=values)
        fresh = made or _is_bare(measure)
        if not made and fresh:
            for name, value in values.items():
                setattr(measure, name, value)
            measure.save()
        counts["measures created"] += made
        measures[demo.code] = measure
        if not fresh:
            continue  # kept as it is: staff may have changed it
        measure.strategies.add(*(strategies[slug] for slug in demo.strategies))
        measure.fields_of_action.add(*(fields[key] for key in demo.fields))
        measure.areas.add(*(areas[name] for name in demo.areas if name in areas))
        for name in demo.partners:
            if name in partners:
                MeasurePartner.objects.get_or_create(
                    measure=measure, organisation_id=partners[name]
                )
        for milestone in demo.milestones:
            _milestone, made = Milestone.objects.get_or_create(
                measure=measure,
                title=milestone.title,
                defaults={
                    "baseline_date": milestone.baseline,
                    "planned_date": milestone.planned or milestone.baseline,
                    "actual_date": milestone.actual,
                    "status": milestone.status,
                    "slip_reason": milestone.slip_reason,
                    "evidence_url": milestone.evidence_url,
                },
            )
            counts["milestones created"] += made

    staff = people["staff"]
    for kpi in _indicators(today):
        strategy = strategies[kpi.strategy]
        indicator, made = Indicator.objects.get_or_create(
            strategy=strategy,
            code=kpi.code,
            defaults={
                "name": kpi.name,
                "definition": kpi.definition,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "frequency": kpi.frequency,
                "field_of_action": fields.get((kpi.strategy, kpi.field_code)),
                "baseline_value": kpi.baseline[0] if kpi.baseline else None,
                "baseline_date": kpi.baseline[1] if kpi.baseline else None,
                "target_value": kpi.target[0] if kpi.target else None,
                "target_date": kpi.target[1] if kpi.target else None,
                "data_source": kpi.data_source,
                "auto_source": kpi.auto_source,
                "owner": staff,
                "position": int(kpi.code.rsplit("-", 1)[-1]),
            },
        )
        counts["indicators created"] += made
        if made:
            indicator.measures.add(*(measures[code] for code in kpi.measures))
    return counts


def _load_observations(staff: User | None) -> int:
    """The hand-entered values of the manual KPIs, through the KPI service (with its checks
    and audit entries); a period that has a value already is left alone."""
    from rathaus.strategy.services.kpis import observation_record

    created = 0
    for spec in _indicators(timezone.localdate()):
        if not spec.observations:
            continue
        indicator = Indicator.objects.get(strategy__slug=spec.strategy, code=spec.code)
        have = set(indicator.observations.values_list("period", flat=True))
        for period, value, provisional in spec.observations:
            if period in have:
                continue
            _observation, outcome = observation_record(
                actor=staff,
                indicator_id=indicator.pk,
                period=period,
                value=value,
                provisional=provisional,
                note="Demo-Wert" if provisional else "",
                unit=spec.unit,
            )
            created += outcome == "created"
    return created


def _refresh_automatic(today: date) -> int:
    """Take the current values of the demo KPIs fed from platform data (KPI service)."""
    from rathaus.strategy.services.kpis import indicator_refresh_auto

    ids = Indicator.objects.filter(strategy__slug__in=[spec.slug for spec in STRATEGIES]).exclude(
        auto_source=""
    )
    recorded = 0
    for indicator_id in ids.order_by("pk").values_list("pk", flat=True):
        outcome = indicator_refresh_auto(indicator_id=indicator_id, today=today)
        recorded += outcome.outcome in ("created", "corrected")
    return recorded


def _as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def publish(*, staff: User | None) -> int:
    """Publish each demo strategy whose current state differs from its newest published one
    (by the demo department staff); returns how many states were published."""
    if staff is None or not user_is_department_staff(user=staff):
        return 0
    from rathaus.strategy.selectors.snapshot import strategy_snapshot
    from rathaus.strategy.services.publication import strategy_publish

    published = 0
    for strategy in Strategy.objects.filter(slug__in=[spec.slug for spec in STRATEGIES]):
        newest = Publication.objects.filter(strategy=strategy).order_by("-number").first()
        if newest is not None and _as_json(newest.data) == _as_json(
            strategy_snapshot(strategy=strategy)
        ):
            continue
        strategy_publish(actor=staff, strategy_id=strategy.pk, note=PUBLISH_NOTE)
        published += 1
    return published


def load(*, staff: User | None = None, publish_states: bool = True) -> dict[str, int]:
    """Create what is missing, take the automatic KPI values and publish what changed;
    returns counts for the seed command's summary. ``staff`` (default: the demo department
    staff account, if it exists) enters the manual KPI values and publishes; without one,
    nothing is published."""
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        counts = _load_structure(today, now)
    staff = staff or _demo_user(DEMO_STAFF_EMAIL)
    counts["observations created"] = _load_observations(staff)
    counts["automatic KPI values recorded"] = _refresh_automatic(today)
    counts["states published"] = publish(staff=staff) if publish_states else 0
    return {"strategies": len(STRATEGIES), **counts}
