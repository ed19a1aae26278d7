"""The digital-economy platform (docs/economy.md): the directory of organisations with their
members, claims and relations; the hub's events with registrations and waiting lists; the
hub's rooms and their bookings; the board of offers and needs with replies and the weekly
digest.

Personal data (a contact person, a registrant's name, address and answers, a reply's text)
is kept encrypted (``*_encrypted``, core.crypto); ``email_hash`` fields are blind indexes for
finding a person's own rows without decrypting."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import TimeStampedModel
from rathaus.economy.constants import (
    BookingStatus,
    ClaimStatus,
    EntrySource,
    EntryStatus,
    EventFormat,
    EventStatus,
    MemberRole,
    OrganisationKind,
    PostKind,
    PostStatus,
    RegistrationStatus,
    RelationKind,
    RelationStatus,
    SizeBand,
    Stage,
    TermKind,
)

# ---- the directory ------------------------------------------------------------------------


class Term(TimeStampedModel):
    """An entry of the editable taxonomy: a sector or a competence (staff edit it)."""

    kind = models.CharField(_("Art"), max_length=20, choices=TermKind.choices)
    slug = models.SlugField(_("Kürzel"), max_length=80)
    name = models.CharField(_("Name"), max_length=120)
    name_en = models.CharField(_("Name (englisch)"), max_length=120, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("Begriff")
        verbose_name_plural = _("Branchen und Kompetenzen")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "slug"], name="economy_term_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Organisation(TimeStampedModel):
    """A company, start-up, institute, network or public body of the city's digital
    ecosystem. Self-registered entries are ``pending`` until staff publish them; entries
    imported by staff (``source=import``, "shadow") have no members until someone claims
    them."""

    name = models.CharField(_("Name"), max_length=200)
    # lower case, umlauts folded, legal form and punctuation dropped: finds duplicates
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    slug = models.SlugField(_("Kürzel"), max_length=220, unique=True)
    kind = models.CharField(_("Art"), max_length=20, choices=OrganisationKind.choices)
    status = models.CharField(
        _("Status"), max_length=20, choices=EntryStatus.choices, default=EntryStatus.PENDING
    )
    source = models.CharField(
        _("Herkunft"), max_length=20, choices=EntrySource.choices, default=EntrySource.SELF
    )
    register_number = models.CharField(
        _("Registernummer"),
        max_length=60,
        blank=True,
        help_text=_("z. B. HRB 12345 (Amtsgericht Leipzig), normalisiert gespeichert"),
    )
    sectors = models.ManyToManyField(
        Term, blank=True, related_name="organisations_in_sector", verbose_name=_("Branchen")
    )
    competences = models.ManyToManyField(
        Term,
        blank=True,
        related_name="organisations_with_competence",
        verbose_name=_("Kompetenzen"),
    )
    stage = models.CharField(_("Phase"), max_length=20, choices=Stage.choices, blank=True)
    size_band = models.CharField(_("Größe"), max_length=10, choices=SizeBand.choices, blank=True)
    founded_year = models.PositiveSmallIntegerField(_("Gründungsjahr"), null=True, blank=True)
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True)
    postal_code = models.CharField(_("Postleitzahl"), max_length=5, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True, default="Leipzig")
    area = models.ForeignKey(
        "core.Area",
        verbose_name=_("Stadtteil"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lat = models.FloatField(_("Breite"), null=True, blank=True)
    lon = models.FloatField(_("Länge"), null=True, blank=True)
    website = models.URLField(_("Webseite"), max_length=300, blank=True)
    email = models.EmailField(_("E-Mail (allgemein)"), blank=True)
    phone = models.CharField(_("Telefon"), max_length=50, blank=True)
    # {"name": ..., "email": ..., "phone": ...} of the contact person, encrypted
    contact_encrypted = models.TextField(blank=True)
    description = models.TextField(_("Beschreibung"), blank=True)
    description_en = models.TextField(_("Beschreibung (englisch)"), blank=True)
    logo = models.CharField(max_length=300, blank=True)  # storage path of a checked image
    hiring = models.BooleanField(_("stellt ein"), default=False)
    seeking_partners = models.BooleanField(_("sucht Partner"), default=False)
    # field name -> Visibility; fields not named are public (see services.VISIBILITY_DEFAULTS)
    visibility = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_note = models.TextField(blank=True)
    # the entry this one duplicates, as proposed when it was registered (staff merge or reject)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )

    class Meta:
        verbose_name = _("Organisation")
        verbose_name_plural = _("Organisationen")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["status", "name"]),
            models.Index(fields=["register_number"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["register_number"],
                condition=~Q(register_number="") & ~Q(status=EntryStatus.REJECTED),
                name="economy_organisation_unique_register_number",
            ),
            models.CheckConstraint(
                condition=Q(founded_year__isnull=True)
                | Q(founded_year__gte=1400, founded_year__lte=2100),
                name="economy_organisation_founded_year",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True))
                | Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="economy_organisation_position",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """A person who acts for an organisation: an admin keeps the profile and its members."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="economy_memberships"
    )
    role = models.CharField(
        _("Rolle"), max_length=20, choices=MemberRole.choices, default=MemberRole.MEMBER
    )

    class Meta:
        verbose_name = _("Mitgliedschaft")
        verbose_name_plural = _("Mitgliedschaften")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="economy_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.organisation_id} ({self.role})"


class Claim(TimeStampedModel):
    """Someone asks to take over an imported ("shadow") entry; staff decide, or the code sent
    to the entry's own e-mail address proves it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="economy_claims"
    )
    status = models.CharField(
        _("Status"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    # what the claimant says about themselves and the organisation, encrypted (a string)
    evidence_encrypted = models.TextField(blank=True)
    code_hash = models.CharField(max_length=64, blank=True)  # the e-mailed code, hashed
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("Begründung"), blank=True)

    class Meta:
        verbose_name = _("Übernahme-Antrag")
        verbose_name_plural = _("Übernahme-Anträge")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(status=ClaimStatus.PENDING),
                name="economy_claim_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"claim {self.organisation_id} by {self.user_id} ({self.status})"


class Invitation(TimeStampedModel):
    """An admin of an organisation (or staff) asks someone by e-mail to join it. The person
    follows the link, logged in with any account, and accepts; only then are they a member.
    The address is kept encrypted (the admin's list of open invitations shows it), the
    link's token only as a hash."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email_encrypted = models.TextField()
    role = models.CharField(
        _("Rolle"), max_length=20, choices=MemberRole.choices, default=MemberRole.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Einladung")
        verbose_name_plural = _("Einladungen")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "accepted_at", "withdrawn_at"])]

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.organisation_id} ({self.role})"


class Person(TimeStampedModel):
    """A person in the ecosystem who appears in relations or as a speaker: a public figure
    of the ecosystem by their own choice (``user``) or entered by staff."""

    name = models.CharField(_("Name"), max_length=200)
    title = models.CharField(_("Funktion"), max_length=200, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="economy_person",
    )

    class Meta:
        verbose_name = _("Person")
        verbose_name_plural = _("Personen")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Relation(TimeStampedModel):
    """A typed, dated link from an organisation to another organisation or to a person.
    Entered by staff or a member of one side; shown once the other side confirmed it (staff
    entries and links to people without an account are confirmed by staff)."""

    source = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="relations_out")
    kind = models.CharField(_("Art"), max_length=20, choices=RelationKind.choices)
    target = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="relations_in"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="relations"
    )
    starts_on = models.DateField(_("seit"), null=True, blank=True)
    ends_on = models.DateField(_("bis"), null=True, blank=True)
    note = models.CharField(_("Anmerkung"), max_length=300, blank=True)
    status = models.CharField(
        _("Status"),
        max_length=20,
        choices=RelationStatus.choices,
        default=RelationStatus.PROPOSED,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Beziehung")
        verbose_name_plural = _("Beziehungen")
        indexes = [
            models.Index(fields=["source", "status"]),
            models.Index(fields=["target", "status"]),
            models.Index(fields=["person", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(target__isnull=False) & Q(person__isnull=True))
                | (Q(target__isnull=True) & Q(person__isnull=False)),
                name="economy_relation_one_target",
            ),
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="economy_relation_not_to_itself"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="economy_relation_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id or self.person_id}"


# ---- the hub: rooms and events ------------------------------------------------------------


class Room(TimeStampedModel):
    """A room of the hub (the meeting place), bookable by staff and members."""

    name = models.CharField(_("Name"), max_length=120, unique=True)
    capacity = models.PositiveIntegerField(_("Plätze"))
    equipment = models.JSONField(_("Ausstattung"), default=list, blank=True)  # ["Beamer", ...]
    accessibility = models.TextField(_("Barrierefreiheit"), blank=True)
    wheelchair_accessible = models.BooleanField(_("rollstuhlgerecht"), default=False)
    active = models.BooleanField(_("buchbar"), default=True)

    class Meta:
        verbose_name = _("Raum")
        verbose_name_plural = _("Räume")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Event(TimeStampedModel):
    """An event at the hub or elsewhere, with registration (capacity, window, own questions
    from the form engine), a waiting list and check-in at the door.

    ``confirmed_count`` is the number of confirmed registrations, kept by the registration
    service with a conditional UPDATE (``confirmed_count < capacity``): the one row every
    registration of the event goes through, so no two requests can take the last seat."""

    title = models.CharField(_("Titel"), max_length=200)
    title_en = models.CharField(_("Titel (englisch)"), max_length=200, blank=True)
    slug = models.SlugField(_("Kürzel"), max_length=220, unique=True)
    status = models.CharField(
        _("Status"), max_length=20, choices=EventStatus.choices, default=EventStatus.DRAFT
    )
    format = models.CharField(_("Format"), max_length=20, choices=EventFormat.choices)
    description = models.TextField(_("Beschreibung"), blank=True)
    description_en = models.TextField(_("Beschreibung (englisch)"), blank=True)
    starts_at = models.DateTimeField(_("Beginn"))
    ends_at = models.DateTimeField(_("Ende"))
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    venue_name = models.CharField(_("Ort"), max_length=200, blank=True)
    venue_address = models.CharField(_("Adresse"), max_length=300, blank=True)
    accessibility = models.TextField(_("Barrierefreiheit des Orts"), blank=True)
    online_url = models.URLField(_("Link zur Online-Teilnahme"), max_length=500, blank=True)
    organisers = models.ManyToManyField(
        Organisation, blank=True, related_name="events", verbose_name=_("Veranstalter")
    )
    speakers = models.ManyToManyField(
        Person, blank=True, related_name="talks", verbose_name=_("Sprecherinnen und Sprecher")
    )
    # [{"time": "18:00", "title": "...", "speaker": "..."}]
    agenda = models.JSONField(_("Programm"), default=list, blank=True)
    capacity = models.PositiveIntegerField(_("Plätze"))
    waiting_list = models.BooleanField(_("Warteliste"), default=True)
    registration_opens_at = models.DateTimeField(_("Anmeldung ab"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(_("Anmeldung bis"), null=True, blank=True)
    # own questions: a form of the form engine (forms.Form.slug); none: name and e-mail only
    registration_form = models.CharField(_("Anmeldeformular"), max_length=100, blank=True)
    confirmed_count = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # after the event
    outcome_notes = models.TextField(_("Ergebnis"), blank=True)
    # [{"kind": "strategy_measure" | "competition" | "link", "id": ..., "title": ..., "url": ...}]
    outcome_links = models.JSONField(_("Verknüpfungen"), default=list, blank=True)
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Veranstaltung")
        verbose_name_plural = _("Veranstaltungen")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="economy_event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_count__lte=F("capacity")),
                name="economy_event_never_overbooked",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Registration(TimeStampedModel):
    """One person's registration for an event: confirmed, on the waiting list (in the order
    they came, ``created_at``, ``id``) or cancelled. The cancellation link and the check-in
    QR code carry random tokens; only their hashes are kept."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="economy_registrations",
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("Status"), max_length=20, choices=RegistrationStatus.choices)
    # {"name": ..., "email": ..., "answers": {...}} encrypted
    person_encrypted = models.TextField()
    email_hash = models.CharField(max_length=64)  # one registration per address and event
    language = models.CharField(max_length=5, default="de")
    cancel_token_hash = models.CharField(max_length=64, unique=True)
    checkin_token_hash = models.CharField(max_length=64, unique=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    moved_up_at = models.DateTimeField(null=True, blank=True)  # from the waiting list

    class Meta:
        verbose_name = _("Anmeldung")
        verbose_name_plural = _("Anmeldungen")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["event", "status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "email_hash"],
                condition=~Q(status=RegistrationStatus.CANCELLED),
                name="economy_registration_once_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"registration {self.pk} ({self.status})"


class RoomBooking(TimeStampedModel):
    """A room taken for a time (for an event or a meeting). Bookings of one room never
    overlap: the booking service locks the room's row and checks, and on PostgreSQL an
    exclusion constraint holds as well (migration)."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="bookings")
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    title = models.CharField(_("Anlass"), max_length=200)
    starts_at = models.DateTimeField(_("Beginn"))
    ends_at = models.DateTimeField(_("Ende"))
    status = models.CharField(
        _("Status"), max_length=20, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("Raumbuchung")
        verbose_name_plural = _("Raumbuchungen")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["room", "status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="economy_booking_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.starts_at:%Y-%m-%d %H:%M}"


# ---- the board of offers and needs --------------------------------------------------------


class Post(TimeStampedModel):
    """An offer or a need: by the administration ("Wir suchen eine Lösung für ..."), a company
    or a research group."""

    kind = models.CharField(_("Art"), max_length=10, choices=PostKind.choices)
    title = models.CharField(_("Titel"), max_length=200)
    body = models.TextField(_("Beschreibung"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="economy_posts"
    )
    # on behalf of: an organisation of the author, or none for the administration (staff)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="posts"
    )
    competences = models.ManyToManyField(
        Term, blank=True, related_name="posts", verbose_name=_("Kompetenzen")
    )
    tags = models.JSONField(_("Schlagworte"), default=list, blank=True)  # free words
    deadline = models.DateField(_("Frist"), null=True, blank=True)
    # how to reach the author (a name, an address, a number), encrypted; shown to members
    contact_encrypted = models.TextField(blank=True)
    status = models.CharField(
        _("Status"), max_length=10, choices=PostStatus.choices, default=PostStatus.OPEN
    )

    class Meta:
        verbose_name = _("Angebot oder Gesuch")
        verbose_name_plural = _("Angebote und Gesuche")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "kind", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Message(TimeStampedModel):
    """A reply to a post, or an answer to a reply: a message between two members. A
    conversation is the post and the member who is not its author (``thread_user``)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="messages")
    thread_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="economy_messages"
    )
    body_encrypted = models.TextField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Nachricht")
        verbose_name_plural = _("Nachrichten")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["post", "thread_user", "created_at"]),
            models.Index(fields=["recipient", "read_at"]),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} on {self.post_id}"


class DigestSubscription(TimeStampedModel):
    """A member's weekly digest of new posts (matching their organisations' competences, or
    all), sent through the outbox."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="economy_digest"
    )
    active = models.BooleanField(default=True)
    only_matching = models.BooleanField(_("nur passende"), default=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Wochenübersicht")
        verbose_name_plural = _("Wochenübersichten")

    def __str__(self) -> str:
        return f"digest {self.user_id}"
