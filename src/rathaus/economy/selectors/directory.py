"""Reads of the directory, already scoped to the viewer: the permission gate of an
organisation (``organisation_get_for_user``), its profile with only the fields the viewer may
see, the search with filters, the map's clusters, the exports, moderation and claims lists,
and two selectors for other apps (``organisation_public_get``, ``organisations_of_user``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, CharField, Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import Cast, Floor, RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language

from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core import search
from rathaus.core.constants import AreaKind
from rathaus.core.crypto import DecryptionError, decrypt_json
from rathaus.core.models import Area
from rathaus.economy.constants import (
    ClaimStatus,
    EntrySource,
    EntryStatus,
    MemberRole,
    TermKind,
    Visibility,
)
from rathaus.economy.models import Claim, Invitation, Membership, Organisation, Term
from rathaus.economy.services.directory import (
    SEARCH_DOC_TYPE,
    VISIBILITY_DEFAULTS,
    VISIBILITY_FIELDS,
    invitation_is_open,
    invitation_token_hash,
)

MAX_RESULTS = 1000
SEARCH_WEIGHTS = {"name": 3.0, "competences": 2.0, "sectors": 1.2, "description": 1.0}
# the map's clusters: points in one grid cell of this many degrees become one marker
CLUSTER_CELL_DEGREES = 0.01  # about 1.1 km north-south, 0.7 km east-west in Leipzig


def _role_in(user: Any, organisation: Organisation) -> str | None:
    if not user.is_authenticated:
        return None
    role: str | None = (
        Membership.objects.filter(organisation=organisation, user=user)
        .values_list("role", flat=True)
        .first()
    )
    return role


def _lookup(organisation_id_or_slug: int | str) -> Organisation:
    entries = Organisation.objects.select_related("area")
    value = str(organisation_id_or_slug)
    if value.isascii() and value.isdigit():
        found = entries.filter(pk=int(value)).first() if int(value) < 2**63 else None
    else:
        found = entries.filter(slug=value[:220]).first()
    if found is None:
        raise Http404("no such organisation")
    return found


def organisation_get_for_user(
    *, user: Any, organisation_id_or_slug: int | str, for_edit: bool = False
) -> Organisation:
    """The gate of an organisation.

    - no such entry: Http404;
    - reading: a published entry for everyone; a pending, rejected or archived one only for
      its members and department staff (else Http404, so that its existence does not leak);
    - editing (``for_edit``): its admins and department staff, else PermissionDenied.
    """
    organisation = _lookup(organisation_id_or_slug)
    staff = user_is_department_staff(user=user)
    role = _role_in(user, organisation)
    if organisation.status != EntryStatus.PUBLISHED and not (staff or role):
        raise Http404("no such organisation")
    if for_edit and not (staff or role == MemberRole.ADMIN):
        raise PermissionDenied
    organisation.viewer_role = role  # type: ignore[attr-defined]
    organisation.viewer_is_staff = staff  # type: ignore[attr-defined]
    return organisation


def organisation_public_get(*, organisation_id: int) -> dict[str, Any]:
    """A published organisation's public fields (for other apps and the API); Http404 for
    anything else."""
    organisation = (
        Organisation.objects.filter(pk=organisation_id, status=EntryStatus.PUBLISHED)
        .select_related("area")
        .prefetch_related("sectors", "competences")
        .first()
        if 0 < organisation_id < 2**63
        else None
    )
    if organisation is None:
        raise Http404("no such organisation")
    return organisation_public_dict(organisation)


def organisation_names(*, organisation_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{id: (name, slug)}`` of the published ones among ``organisation_ids``, in one query
    (for other apps' lists: a competition's ranking, a call's organisers)."""
    ids = [pk for pk in set(organisation_ids) if 0 < pk < 2**63]
    return {
        pk: (name, slug)
        for pk, name, slug in Organisation.objects.filter(
            pk__in=ids, status=EntryStatus.PUBLISHED
        ).values_list("pk", "name", "slug")
    }


def organisation_choices() -> list[tuple[int, str]]:
    """``(id, name)`` of every published organisation by name, in one query (for other apps'
    choice lists)."""
    return list(
        Organisation.objects.filter(status=EntryStatus.PUBLISHED)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def organisations_of_user(*, user: Any) -> QuerySet[Organisation]:
    """The organisations ``user`` is a member of (every status), by name."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user).order_by("name", "pk").distinct()


def organisation_name_and_kind(*, organisation_id: int) -> tuple[str, str] | None:
    """``(name, kind)`` of any entry (every status) by id, or None: for other apps that have
    already checked the viewer may see it (the funding matching of an organisation's
    members)."""
    if not 0 < organisation_id < 2**63:
        return None
    found: tuple[str, str] | None = (
        Organisation.objects.filter(pk=organisation_id).values_list("name", "kind").first()
    )
    return found


def organisation_ids_of_user(*, user: Any, role: str | None = None) -> set[int]:
    """The ids of the organisations ``user`` is a member of (with ``role``: only those)."""
    if not user.is_authenticated:
        return set()
    memberships = Membership.objects.filter(user_id=user.pk)
    if role is not None:
        memberships = memberships.filter(role=role)
    return set(memberships.values_list("organisation_id", flat=True))


# ---- what a viewer sees ------------------------------------------------------------------


def viewer_level(*, user: Any, organisation: Organisation) -> str:
    """The widest visibility ``user`` may see on this profile: ``organisation`` for its
    members and staff; ``members`` for a logged-in person who is a member of any published
    organisation of the directory; ``public`` for everyone else."""
    if user_is_department_staff(user=user) or _role_in(user, organisation):
        return Visibility.ORGANISATION
    if (
        user.is_authenticated
        and Membership.objects.filter(
            user=user, organisation__status=EntryStatus.PUBLISHED
        ).exists()
    ):
        return Visibility.MEMBERS
    return Visibility.PUBLIC


_ORDER = [Visibility.PUBLIC, Visibility.MEMBERS, Visibility.ORGANISATION]


def field_visibility(organisation: Organisation) -> dict[str, str]:
    chosen = organisation.visibility or {}
    return {
        name: str(chosen[name]) if chosen.get(name) in Visibility.values else default
        for name, default in VISIBILITY_DEFAULTS.items()
    }


def _may_see(level: str, needed: str) -> bool:
    return _ORDER.index(Visibility(level)) >= _ORDER.index(Visibility(needed))


def contact_of(organisation: Organisation) -> dict[str, str]:
    if not organisation.contact_encrypted:
        return {}
    try:
        value = decrypt_json(organisation.contact_encrypted)
    except DecryptionError:
        return {}
    return {k: str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def localised_description(organisation: Organisation) -> str:
    language = (get_language() or "de")[:2]
    if language == "en" and organisation.description_en.strip():
        return organisation.description_en
    return organisation.description


def localised_term(term: Term) -> str:
    language = (get_language() or "de")[:2]
    return term.name_en if language == "en" and term.name_en else term.name


@dataclass
class Profile:
    """A profile as one viewer may see it: hidden fields are None."""

    organisation: Organisation
    description: str
    sectors: list[str]
    competences: list[str]
    address: dict[str, str] | None
    email: str | None
    phone: str | None
    contact: dict[str, str] | None
    visibility: dict[str, str]
    level: str
    can_edit: bool
    can_claim: bool
    is_member: bool
    hidden: list[str] = field(default_factory=list)


def organisation_profile(*, user: Any, organisation: Organisation) -> Profile:
    """The profile of an organisation the gate let ``user`` see, with only the fields the
    viewer may see."""
    level = viewer_level(user=user, organisation=organisation)
    visibility = field_visibility(organisation)
    shown = {name: _may_see(level, visibility[name]) for name in VISIBILITY_FIELDS}
    role = _role_in(user, organisation)
    contact = contact_of(organisation) if shown["contact"] else None
    address = (
        {
            "street": organisation.street,
            "postal_code": organisation.postal_code,
            "city": organisation.city,
        }
        if shown["address"]
        else None
    )
    return Profile(
        organisation=organisation,
        description=localised_description(organisation),
        sectors=[localised_term(t) for t in organisation.sectors.all()],
        competences=[localised_term(t) for t in organisation.competences.all()],
        address=address,
        email=organisation.email if shown["email"] else None,
        phone=organisation.phone if shown["phone"] else None,
        contact=contact,
        visibility=visibility,
        level=level,
        can_edit=user_is_department_staff(user=user) or role == MemberRole.ADMIN,
        can_claim=(
            user.is_authenticated
            and organisation.status == EntryStatus.PUBLISHED
            and organisation.source == EntrySource.IMPORT
            and not organisation.memberships.exists()
        ),
        is_member=role is not None,
        hidden=[name for name, ok in shown.items() if not ok],
    )


def organisation_public_dict(organisation: Organisation) -> dict[str, Any]:
    """The public fields of a published entry (fields an organisation hid are empty). The
    sectors and competences must be prefetched."""
    visibility = field_visibility(organisation)
    public = {name: visibility[name] == Visibility.PUBLIC for name in VISIBILITY_FIELDS}
    return {
        "id": organisation.pk,
        "slug": organisation.slug,
        "name": organisation.name,
        "kind": organisation.kind,
        "register_number": organisation.register_number,
        "stage": organisation.stage,
        "size_band": organisation.size_band,
        "founded_year": organisation.founded_year,
        "sectors": [t.slug for t in organisation.sectors.all()],
        "competences": [t.slug for t in organisation.competences.all()],
        "street": organisation.street if public["address"] else "",
        "postal_code": organisation.postal_code if public["address"] else "",
        "city": organisation.city,
        "district": organisation.area.name if organisation.area else "",
        "lat": organisation.lat if public["address"] else None,
        "lon": organisation.lon if public["address"] else None,
        "website": organisation.website,
        "email": organisation.email if public["email"] else "",
        "phone": organisation.phone if public["phone"] else "",
        "description": organisation.description,
        "description_en": organisation.description_en,
        "hiring": organisation.hiring,
        "seeking_partners": organisation.seeking_partners,
        "updated_at": organisation.updated_at,
    }


# ---- finding -------------------------------------------------------------------------------


@dataclass
class DirectoryFilters:
    kind: str = ""
    sector: str = ""  # Term slug
    competence: str = ""  # Term slug
    area: int | None = None
    hiring: bool = False
    seeking_partners: bool = False

    @property
    def active(self) -> bool:
        return self != DirectoryFilters()

    def apply(self, entries: QuerySet[Organisation]) -> QuerySet[Organisation]:
        if self.kind:
            entries = entries.filter(kind=self.kind)
        if self.sector:
            entries = entries.filter(
                pk__in=Organisation.sectors.through.objects.filter(
                    term__kind=TermKind.SECTOR, term__slug=self.sector
                ).values("organisation_id")
            )
        if self.competence:
            entries = entries.filter(
                pk__in=Organisation.competences.through.objects.filter(
                    term__kind=TermKind.COMPETENCE, term__slug=self.competence
                ).values("organisation_id")
            )
        if self.area is not None:
            entries = entries.filter(Q(area_id=self.area) | Q(area__parent_id=self.area))
        if self.hiring:
            entries = entries.filter(hiring=True)
        if self.seeking_partners:
            entries = entries.filter(seeking_partners=True)
        return entries


@dataclass
class DirectoryResult:
    query: str
    total: int
    organisations: list[Organisation]


def _published() -> QuerySet[Organisation]:
    return Organisation.objects.filter(status=EntryStatus.PUBLISHED)


def _with_related(entries: QuerySet[Organisation]) -> QuerySet[Organisation]:
    # a term's name, English name and slug are all a list or an export shows
    terms = Term.objects.only("kind", "slug", "name", "name_en")
    return entries.select_related("area").prefetch_related(
        Prefetch("sectors", queryset=terms), Prefetch("competences", queryset=terms)
    )


def _allowed_ids(filters: DirectoryFilters) -> QuerySet[Any]:
    """The ids (as text, the search index's object ids) of the published entries the filters
    let through: a subquery of the search's one query, not a list of ids sent back."""
    return (
        filters.apply(_published())
        .order_by()
        .annotate(object_id=Cast("pk", output_field=CharField()))
        .values("object_id")
    )


@dataclass
class _Matches:
    """What a query with words matched: every matching published entry's search object id
    (unordered) and what ranking them needs."""

    query: str
    parsed: search.Query
    vocab: search.Vocabulary
    candidates: list[str]

    def best(self, count: int) -> list[int]:
        """The ids of the ``count`` best matches (at most MAX_RESULTS), best first."""
        if not self.candidates or count <= 0:
            return []
        hits = search.rank(
            self.parsed,
            self.candidates,
            weights=SEARCH_WEIGHTS,
            vocab=self.vocab,
            limit=min(count, MAX_RESULTS),
        )
        return [int(hit.object_id) for hit in hits]


def _matches(*, query: str, filters: DirectoryFilters) -> _Matches:
    cleaned = search.clean_query(query)
    vocab = search.vocabulary(SEARCH_DOC_TYPE)
    parsed = search.parse_query(cleaned, vocab, {}, frozenset())
    # The index holds published entries only (organisation_search_reindex drops the others
    # in the transaction that changes the status), so without filters nothing needs to be
    # checked against the table; what is shown is fetched as published entries all the same.
    within = _allowed_ids(filters) if filters.active else None
    candidates = search.candidate_documents(SEARCH_DOC_TYPE, parsed, within=within)
    return _Matches(query=cleaned, parsed=parsed, vocab=vocab, candidates=candidates)


def organisation_search_ids(*, query: str, filters: DirectoryFilters) -> tuple[str, list[int]]:
    """The ids of the published entries that match, best first (by name without a query);
    at most MAX_RESULTS with a query."""
    cleaned = search.clean_query(query)
    if not search.words(cleaned):
        ids = list(filters.apply(_published()).order_by("name", "pk").values_list("pk", flat=True))
        return cleaned, ids
    matches = _matches(query=query, filters=filters)
    return matches.query, matches.best(MAX_RESULTS)


def organisation_search(
    *, query: str, filters: DirectoryFilters, offset: int = 0, limit: int = 20
) -> DirectoryResult:
    """Published entries for what a person typed (name, description, competences), with
    filters; a page of them. The total counts the matches (at most MAX_RESULTS, as far as
    one can page); only the entries up to the page are put in order."""
    limit = max(1, min(limit, 100))
    offset = max(0, offset)
    cleaned = search.clean_query(query)
    if not search.words(cleaned):  # no query: the database counts and pages
        entries = filters.apply(_published()).order_by("name", "pk")
        return DirectoryResult(
            query=cleaned,
            total=entries.count(),
            organisations=list(_with_related(entries)[offset : offset + limit]),
        )
    matches = _matches(query=query, filters=filters)
    page = matches.best(offset + limit)[offset : offset + limit]
    by_id = _with_related(_published().filter(pk__in=page)).in_bulk(page) if page else {}
    return DirectoryResult(
        query=matches.query,
        total=min(len(matches.candidates), MAX_RESULTS),
        organisations=[by_id[pk] for pk in page if pk in by_id],
    )


def organisations_for_export(*, query: str, filters: DirectoryFilters) -> list[dict[str, Any]]:
    """Every matching published entry's public fields (in chunks, related rows prefetched)."""
    _cleaned, ids = organisation_search_ids(query=query, filters=filters)
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        by_id = _with_related(_published().filter(pk__in=chunk)).in_bulk(chunk)
        rows += [organisation_public_dict(by_id[pk]) for pk in chunk if pk in by_id]
    return rows


@dataclass
class Cluster:
    lat: float
    lon: float
    count: int
    entries: list[dict[str, Any]]  # name, url slug (the first 10)


def organisation_map_clusters(*, query: str, filters: DirectoryFilters) -> list[Cluster]:
    """The matching published entries with a public position, clustered into grid cells of
    CLUSTER_CELL_DEGREES by the database (no clustering library is vendored): one query
    for the cells (count, mean position), one for the first 10 names of each."""
    if search.words(search.clean_query(query)):
        # The entries of the list's pages: every match, or the MAX_RESULTS best of more.
        # Their order does not matter here, so up to MAX_RESULTS nothing is ranked.
        matches = _matches(query=query, filters=filters)
        if len(matches.candidates) > MAX_RESULTS:
            ids = matches.best(MAX_RESULTS)
        else:
            ids = [int(c) for c in matches.candidates]
        entries = _published().filter(pk__in=ids)
    else:
        entries = filters.apply(_published())
    placed = (
        entries.filter(lat__isnull=False, lon__isnull=False)
        # a hidden address also hides the position
        .filter(Q(visibility__address__isnull=True) | Q(visibility__address=Visibility.PUBLIC))
        .annotate(
            cell_y=Floor(F("lat") / CLUSTER_CELL_DEGREES),
            cell_x=Floor(F("lon") / CLUSTER_CELL_DEGREES),
        )
    )
    cells = {
        (row["cell_y"], row["cell_x"]): Cluster(
            lat=row["mean_lat"], lon=row["mean_lon"], count=row["count"], entries=[]
        )
        for row in placed.order_by()
        .values("cell_y", "cell_x")
        .annotate(count=Count("pk"), mean_lat=Avg("lat"), mean_lon=Avg("lon"))
    }
    firsts = (
        placed.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("cell_y"), F("cell_x")],
                order_by=[F("name").asc(), F("pk").asc()],
            )
        )
        .filter(rank__lte=10)
        .order_by("name", "pk")
        .values_list("cell_y", "cell_x", "name", "slug")
    )
    for cell_y, cell_x, name, slug in firsts:
        cell = cells.get((cell_y, cell_x))
        if cell is not None:
            cell.entries.append({"name": name, "slug": slug})
    return sorted(cells.values(), key=lambda c: (-c.count, c.lat, c.lon))


def term_list(*, kind: str) -> QuerySet[Term]:
    return Term.objects.filter(kind=kind).order_by("name", "pk")


def district_list() -> QuerySet[Area]:
    return Area.objects.filter(kind=AreaKind.ORTSTEIL).order_by("name", "pk")


def terms_for(*, kind: str, values: Iterable[str]) -> tuple[list[Term], list[str]]:
    """Terms of ``kind`` by slug or name (for the import); and the values not found."""
    found: list[Term] = []
    missing: list[str] = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        term = Term.objects.filter(kind=kind).filter(Q(slug=value) | Q(name__iexact=value)).first()
        if term is None:
            missing.append(value)
        else:
            found.append(term)
    return found, missing


def area_for_name(*, name: str) -> Area | None:
    if not name.strip():
        return None
    return Area.objects.filter(kind=AreaKind.ORTSTEIL, name__iexact=name.strip()).first()


# ---- staff: moderation and claims ------------------------------------------------------------


def organisation_moderation_list(*, user: Any) -> QuerySet[Organisation]:
    """Pending entries, oldest first, with the entry each may duplicate (staff only)."""
    department_staff_required(user=user)
    return (
        Organisation.objects.filter(status=EntryStatus.PENDING)
        .select_related("duplicate_of", "area")
        .order_by("created_at", "pk")
    )


def claim_list_pending(*, user: Any) -> QuerySet[Claim]:
    department_staff_required(user=user)
    return (
        Claim.objects.filter(status=ClaimStatus.PENDING)
        .select_related("organisation", "user")
        .order_by("created_at", "pk")
    )


def claim_evidence(claim: Claim) -> str:
    """What the claimant wrote (kept encrypted); empty if it cannot be read."""
    if not claim.evidence_encrypted:
        return ""
    try:
        return str(decrypt_json(claim.evidence_encrypted))
    except DecryptionError:
        return ""


def claim_get_for_staff(*, user: Any, claim_id: int) -> Claim:
    department_staff_required(user=user)
    claim = Claim.objects.select_related("organisation").filter(pk=claim_id).first()
    if claim is None:
        raise Http404("no such claim")
    return claim


def claims_of_user(*, user: Any) -> QuerySet[Claim]:
    if not user.is_authenticated:
        return Claim.objects.none()
    return Claim.objects.filter(user=user).select_related("organisation").order_by("-created_at")


def organisation_members(*, user: Any, organisation: Organisation) -> QuerySet[Membership]:
    """The members of an organisation: for its members and staff only."""
    if not (user_is_department_staff(user=user) or _role_in(user, organisation)):
        raise PermissionDenied
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("role", "user__email", "pk")
    )


def membership_get_for_admin(
    *, user: Any, organisation: Organisation, membership_id: int
) -> Membership:
    if not (
        user_is_department_staff(user=user) or _role_in(user, organisation) == MemberRole.ADMIN
    ):
        raise PermissionDenied
    membership = (
        Membership.objects.select_related("organisation", "user")
        .filter(pk=membership_id, organisation=organisation)
        .first()
    )
    if membership is None:
        raise Http404("no such member")
    return membership


def organisation_by_id(*, organisation_id: int) -> Organisation | None:
    """Any entry by id, unscoped: only for matching what the person confirmed as the
    duplicate their registration differs from (nothing of it is shown)."""
    return Organisation.objects.filter(pk=organisation_id).first()


# ---- invitations ----------------------------------------------------------------------------


def invitation_by_token(*, token: str) -> Invitation | None:
    """The open invitation of a link, or None (unknown, used, withdrawn or expired)."""
    if not token or len(token) > 100:
        return None
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    return invitation if invitation is not None and invitation_is_open(invitation) else None


@dataclass
class OpenInvitation:
    invitation: Invitation
    email: str


def invitations_open_of(*, user: Any, organisation: Organisation) -> list[OpenInvitation]:
    """The organisation's invitations not yet accepted, withdrawn or expired, with their
    addresses: for its admins and staff."""
    if not (
        user_is_department_staff(user=user)
        or organisation.pk in organisation_ids_of_user(user=user, role=MemberRole.ADMIN)
    ):
        raise PermissionDenied
    found = Invitation.objects.filter(
        organisation=organisation,
        accepted_at__isnull=True,
        withdrawn_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("-created_at", "-pk")[:100]
    rows = []
    for invitation in found:
        try:
            email = str(decrypt_json(invitation.email_encrypted))
        except DecryptionError:
            email = "?"
        rows.append(OpenInvitation(invitation=invitation, email=email))
    return rows


def invitation_get_for_admin(
    *, user: Any, organisation: Organisation, invitation_id: int
) -> Invitation:
    for row in invitations_open_of(user=user, organisation=organisation):
        if row.invitation.pk == invitation_id:
            return row.invitation
    raise Http404("no such invitation")


def organisation_public_count() -> int:
    """How many organisations the public directory lists (published entries; strategy KPIs)."""
    return Organisation.objects.filter(status=EntryStatus.PUBLISHED).count()
