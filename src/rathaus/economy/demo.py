"""The demo city's digital economy: a small taxonomy, 14 directory entries (Leipzig's
university, HTWK and the department as public bodies; the companies are fictional and say
so), relations between them, the hub's rooms, upcoming events (one of them full, with a
waiting list) and a past one with its outcome, and a few offers and needs. Idempotent: what
exists is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.core.crypto import encrypt_json
from rathaus.economy.constants import (
    EntryStatus,
    EventFormat,
    EventStatus,
    MemberRole,
    PostKind,
    RelationKind,
    RelationStatus,
    TermKind,
)
from rathaus.economy.models import Event, Membership, Organisation, Post, Relation, Room, Term
from rathaus.economy.services.directory import organisation_search_reindex, organisations_import

DATA = Path(__file__).resolve().parent / "data"

TERMS = (
    (TermKind.SECTOR, "mobilitaet", "Mobilität", "Mobility"),
    (TermKind.SECTOR, "energie", "Energie", "Energy"),
    (TermKind.SECTOR, "gesundheit", "Gesundheit", "Health"),
    (TermKind.SECTOR, "verwaltung", "Verwaltung (GovTech)", "Public administration (GovTech)"),
    (TermKind.SECTOR, "bildung", "Bildung", "Education"),
    (TermKind.SECTOR, "logistik", "Logistik", "Logistics"),
    (TermKind.SECTOR, "smart-city", "Smart City", "Smart city"),
    (TermKind.COMPETENCE, "kuenstliche-intelligenz", "Künstliche Intelligenz", "AI"),
    (TermKind.COMPETENCE, "daten-analyse", "Datenanalyse", "Data analysis"),
    (TermKind.COMPETENCE, "sensorik-iot", "Sensorik und IoT", "Sensors and IoT"),
    (TermKind.COMPETENCE, "softwareentwicklung", "Softwareentwicklung", "Software development"),
    (TermKind.COMPETENCE, "ux-design", "UX-Design und Barrierefreiheit", "UX and accessibility"),
    (TermKind.COMPETENCE, "cloud", "Cloud und Rechenzentren", "Cloud and data centres"),
    (TermKind.COMPETENCE, "it-sicherheit", "IT-Sicherheit", "IT security"),
    (TermKind.COMPETENCE, "open-data", "Open Data", "Open data"),
    (TermKind.COMPETENCE, "geoinformation", "Geoinformation", "Geographic information"),
)

# (source, kind, target) by name
RELATIONS = (
    ("Beispiel Verkehrsdaten GmbH", RelationKind.SPIN_OFF_OF, "Universität Leipzig"),
    ("Beispiel Verkehrsdaten GmbH", RelationKind.FUNDED_BY, "Stadtwerk Daten Invest GmbH"),
    ("Sensorwerk Lindenau UG", RelationKind.LOCATED_AT_HUB, "Referat Digitale Stadt"),
    ("Sensorwerk Lindenau UG", RelationKind.PARTNER_IN, "HTWK Leipzig"),
    ("Geoblick UG", RelationKind.MEMBER_OF, "Startrampe Leipzig"),
    ("Geoblick UG", RelationKind.SPIN_OFF_OF, "HTWK Leipzig"),
    ("Formularfabrik GmbH", RelationKind.MEMBER_OF, "Mitteldeutscher Digitalverband e.V."),
    ("Cloudhafen Leipzig GmbH", RelationKind.MEMBER_OF, "Mitteldeutscher Digitalverband e.V."),
    ("Gesundheitsdaten Labor e.V.", RelationKind.PARTNER_IN, "Universität Leipzig"),
    ("Energiekontor Ost AG", RelationKind.PARTNER_IN, "Sensorwerk Lindenau UG"),
)

ROOMS = (
    ("Werkstatt", 40, ["Beamer", "Mikrofon", "Whiteboard"], True),
    ("Denkraum", 12, ["Bildschirm", "Videokonferenz"], True),
    ("Galerie", 80, ["Bühne", "Beschallung", "Induktionsschleife"], True),
)


@dataclass(frozen=True)
class DemoEvent:
    slug: str
    title: str
    title_en: str
    days_ahead: int
    hour: int
    capacity: int
    format: str
    room: str
    description: str


EVENTS = (
    DemoEvent(
        "open-data-stammtisch",
        "Open-Data-Stammtisch",
        "Open data meet-up",
        7,
        18,
        40,
        EventFormat.HYBRID,
        "Werkstatt",
        "Wer mit Leipzigs offenen Daten arbeitet, zeigt, was daraus wurde: Luftqualität, "
        "Fahrpläne, Verwaltungsleistungen.",
    ),
    DemoEvent(
        "govtech-pitch",
        "GovTech-Pitch: Lösungen für die Verwaltung",
        "GovTech pitch: solutions for the administration",
        14,
        16,
        2,
        EventFormat.ON_SITE,
        "Denkraum",
        "Start-ups stellen Lösungen für Gesuche der Verwaltung vor. Wenige Plätze: die "
        "Warteliste rückt automatisch nach.",
    ),
    DemoEvent(
        "sensorik-workshop",
        "Workshop: Sensoren im Quartier",
        "Workshop: sensors in the neighbourhood",
        -10,
        10,
        20,
        EventFormat.ON_SITE,
        "Werkstatt",
        "Luftqualitätssensoren bauen und an die Stadtdaten-Plattform anschließen.",
    ),
)

POSTS = (
    (
        PostKind.NEED,
        "Wir suchen eine Lösung für die Auslastung der Bürgerbüros",
        "Das Referat sucht eine Lösung, die Wartezeiten und Auslastung der Bürgerbüros "
        "vorhersagt und als offene Daten veröffentlicht.",
        "",
        ["daten-analyse", "open-data"],
    ),
    (
        PostKind.OFFER,
        "Sensoren für Schulhöfe zum Selbstkostenpreis",
        "Wir stellen zehn Schulen Luftqualitätssensoren samt Einrichtung bereit.",
        "Sensorwerk Lindenau UG",
        ["sensorik-iot"],
    ),
    (
        PostKind.NEED,
        "Partner für barrierefreie Formulare gesucht",
        "Für ein Projekt mit drei Kommunen suchen wir Partner mit Erfahrung in BITV-Prüfungen.",
        "Formularfabrik GmbH",
        ["ux-design", "softwareentwicklung"],
    ),
)


def load(*, staff: User | None, member: User | None) -> dict[str, int]:
    """Everything above; counts of what was created."""
    created = {"terms": 0, "organisations": 0, "relations": 0, "rooms": 0, "events": 0, "posts": 0}
    for term_kind, slug, name, name_en in TERMS:
        _term, new = Term.objects.get_or_create(
            kind=term_kind, slug=slug, defaults={"name": name, "name_en": name_en}
        )
        created["terms"] += new
    with (DATA / "demo-organisations.csv").open(encoding="utf-8") as handle:
        result = organisations_import(actor=staff, lines=handle)
    created["organisations"] = result.created
    by_name = {o.name: o for o in Organisation.objects.filter(status=EntryStatus.PUBLISHED)}
    with transaction.atomic():
        for source, relation_kind, target in RELATIONS:
            if source in by_name and target in by_name:
                _relation, new = Relation.objects.get_or_create(
                    source=by_name[source],
                    kind=relation_kind,
                    target=by_name[target],
                    defaults={"status": RelationStatus.CONFIRMED, "decided_by": staff},
                )
                created["relations"] += new
        startup = by_name.get("Sensorwerk Lindenau UG")
        if member is not None and startup is not None:
            Membership.objects.get_or_create(
                organisation=startup, user=member, defaults={"role": MemberRole.ADMIN}
            )
        rooms = {}
        for name, capacity, equipment, wheelchair in ROOMS:
            rooms[name], new = Room.objects.get_or_create(
                name=name,
                defaults={
                    "capacity": capacity,
                    "equipment": equipment,
                    "wheelchair_accessible": wheelchair,
                    "accessibility": "Ebenerdiger Zugang, rollstuhlgerechtes WC im Erdgeschoss.",
                },
            )
            created["rooms"] += new
        today = timezone.localdate()
        for demo in EVENTS:
            if Event.objects.filter(slug=demo.slug).exists():
                continue
            starts = timezone.make_aware(
                datetime.combine(today + timedelta(days=demo.days_ahead), time(demo.hour))
            )
            event = Event.objects.create(
                slug=demo.slug,
                title=demo.title,
                title_en=demo.title_en,
                status=EventStatus.PUBLISHED,
                format=demo.format,
                description=demo.description,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                room=rooms[demo.room],
                venue_name=f"Digitalhub, {demo.room}",
                venue_address="Martin-Luther-Ring 4-6, 04109 Leipzig",
                accessibility="Ebenerdiger Zugang, Induktionsschleife auf Anfrage.",
                online_url="https://meet.example/open-data" if demo.format != "on_site" else "",
                capacity=demo.capacity,
                registration_opens_at=starts - timedelta(days=30),
                registration_closes_at=starts - timedelta(hours=2),
                created_by=staff,
                outcome_notes=(
                    "18 Teilnehmende, 6 Sensoren gebaut und angeschlossen."
                    if demo.days_ahead < 0
                    else ""
                ),
                outcome_recorded_at=timezone.now() if demo.days_ahead < 0 else None,
            )
            organiser = by_name.get("Referat Digitale Stadt")
            if organiser is not None:
                event.organisers.add(organiser)
            created["events"] += 1
        author = staff or member
        if author is not None:
            for post_kind, title, body, on_behalf, competences in POSTS:
                if Post.objects.filter(title=title).exists():
                    continue
                organisation = by_name.get(on_behalf) if on_behalf else None
                post = Post.objects.create(
                    kind=post_kind,
                    title=title,
                    body=body,
                    author=(member or author) if organisation is not None else author,
                    organisation=organisation,
                    deadline=today + timedelta(days=45),
                    contact_encrypted=""
                    if on_behalf
                    else encrypt_json("digitale-stadt@demo.rathaus.example"),
                )
                post.competences.set(
                    Term.objects.filter(kind=TermKind.COMPETENCE, slug__in=competences)
                )
                created["posts"] += 1
    organisation_search_reindex()
    return created
