"""``rathaus seed-demo``: the Leipzig demo city (areas, offices, the service catalogue with
responsible offices and locations) and a demo user for every role. Idempotent: run again, it
keeps what exists and creates only what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rathaus.accounts.constants import MembershipRole, Role
from rathaus.accounts.models import Office, User
from rathaus.accounts.services import office_membership_set, role_assign, user_create
from rathaus.cases.demo import load_demo_letter_templates
from rathaus.catalog import demo as catalog_demo
from rathaus.economy import demo as economy_demo
from rathaus.forms.demo import load_demo_forms
from rathaus.funding import demo as funding_demo
from rathaus.innovation import demo as innovation_demo
from rathaus.strategy import demo as strategy_demo
from rathaus.submissions.demo import load_demo_official_forms
from rathaus.transit.models import Feed

DEMO_PASSWORD = "rathaus-demo"  # noqa: S105 - printed for the demo on purpose


@dataclass(frozen=True)
class DemoUser:
    email: str
    first_name: str
    last_name: str
    role: Role
    office: str = ""  # office name for caseworkers and leads


DEMO_USERS = (
    DemoUser("buerger@demo.rathaus.example", "Bea", "Bürger", Role.CITIZEN),
    DemoUser(
        "sachbearbeitung@demo.rathaus.example", "Sam", "Sachs", Role.CASEWORKER, "Ordnungsamt"
    ),
    DemoUser("standesamt@demo.rathaus.example", "Stefan", "Stand", Role.CASEWORKER, "Standesamt"),
    DemoUser("amtsleitung@demo.rathaus.example", "Olga", "Ordner", Role.OFFICE_LEAD, "Ordnungsamt"),
    DemoUser("referat@demo.rathaus.example", "Dora", "Digital", Role.DEPARTMENT_STAFF),
    DemoUser("jury@demo.rathaus.example", "Jan", "Jury", Role.JURY_MEMBER),
    DemoUser("organisation@demo.rathaus.example", "Ole", "Org", Role.ORGANISATION_MEMBER),
    DemoUser("admin@demo.rathaus.example", "Ada", "Admin", Role.ADMINISTRATOR),
)


DEMO_FEED = "ulm"
DEMO_FEED_FILE = Path(__file__).resolve().parents[3] / "transit" / "data" / "ulm-swu-2015-16.zip"


class Command(BaseCommand):
    help = "Load the Leipzig demo city and demo users (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-outside-demo",
            action="store_true",
            help="seed although RATHAUS_DEMO is off (the demo accounts share a public password)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO and not options["allow_outside_demo"]:
            raise CommandError(
                "seed-demo creates accounts with a public password: run it with RATHAUS_DEMO=1"
            )
        call_command("import-leipzig-offices", stdout=self.stdout)
        call_command("import-leika", stdout=self.stdout)
        considered, linked = catalog_demo.assign_municipal_services()
        self.stdout.write(
            f"municipal services: {considered} assigned to offices ({linked} new links)"
        )
        call_command("import-postcodes", stdout=self.stdout)
        loaded_forms = load_demo_forms()
        self.stdout.write(f"official forms: {load_demo_official_forms()} attached")
        self.stdout.write(
            f"forms: {len(loaded_forms)} published ({', '.join(loaded_forms) or 'all there already'})"
        )
        if not Feed.objects.filter(slug=DEMO_FEED).exists():
            # Leipzig's MDV feed is not in the repository; the demo shows a real city's feed
            call_command(
                "import-gtfs",
                str(DEMO_FEED_FILE),
                "--feed",
                DEMO_FEED,
                "--name",
                "Beispiel: SWU Ulm/Neu-Ulm 2015/16",
                stdout=self.stdout,
            )
        call_command("import-air-quality", stdout=self.stdout)
        created_locations, updated_locations = catalog_demo.load_locations()
        self.stdout.write(f"locations: {created_locations} created, {updated_locations} updated")
        created = kept = 0
        for demo in DEMO_USERS:
            with transaction.atomic():
                user = User.objects.filter(email=demo.email).first()
                if user is not None:
                    kept += 1
                    continue
                user = user_create(
                    email=demo.email,
                    password=DEMO_PASSWORD,
                    first_name=demo.first_name,
                    last_name=demo.last_name,
                    is_staff=demo.role == Role.ADMINISTRATOR,
                    is_superuser=demo.role == Role.ADMINISTRATOR,
                )
                if demo.office:
                    office = Office.objects.filter(name=demo.office).first()
                    if office is None:
                        raise CommandError(f"demo office {demo.office!r} is missing")
                    office_membership_set(
                        actor=None,
                        user=user,
                        office=office,
                        role=MembershipRole.LEAD
                        if demo.role == Role.OFFICE_LEAD
                        else MembershipRole.CASEWORKER,
                    )
                elif demo.role != Role.CITIZEN:
                    role_assign(actor=None, user=user, role=demo.role)
                created += 1
        self.stdout.write(f"demo users: {created} created, {kept} kept")
        self.stdout.write(f"decision letter templates: {load_demo_letter_templates()} created")
        economy = economy_demo.load(
            staff=User.objects.filter(email="referat@demo.rathaus.example").first(),
            member=User.objects.filter(email="organisation@demo.rathaus.example").first(),
        )
        self.stdout.write(
            "digital economy: " + ", ".join(f"{count} {what}" for what, count in economy.items())
        )
        department = User.objects.filter(email="referat@demo.rathaus.example").first()
        juror = User.objects.filter(email="jury@demo.rathaus.example").first()
        competition = innovation_demo.load(
            staff=department,
            jury=[
                (user, name, role)
                for user, name, role in (
                    (juror, "Jan Jury", "Hochschule für Technik, Wirtschaft und Kultur"),
                    (department, "Dora Digital", "Referat Digitale Stadt"),
                )
                if user is not None
            ],
        )
        self.stdout.write(
            "innovation competitions: "
            + ", ".join(f"{count} {what}" for what, count in competition.items())
        )
        strategy = strategy_demo.load(staff=department, publish_states=False)
        funding = funding_demo.load(staff=department)
        # published after the funding demo: its applications are part of a measure's state
        strategy["states published"] = strategy_demo.publish(staff=department)
        self.stdout.write(
            "strategy: " + ", ".join(f"{count} {what}" for what, count in strategy.items())
        )
        self.stdout.write(
            "funding: " + ", ".join(f"{count} {what}" for what, count in funding.items())
        )
        # last: the catalogue is a nicety of the demo; its failing must not cost the log-ins
        try:
            call_command("publish-open-data", "--quiet", stdout=self.stdout)
        except Exception as exc:  # noqa: BLE001 - reported, the demo stays usable
            self.stderr.write(
                self.style.WARNING(
                    f"warning: open data not published ({type(exc).__name__}: {exc}); "
                    "run `rathaus publish-open-data` later"
                )
            )
        self.stdout.write("")
        self.stdout.write(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
        for demo in DEMO_USERS:
            where = f" – {demo.office}" if demo.office else ""
            self.stdout.write(f"  {demo.role.label:<24} {demo.email}{where}")
