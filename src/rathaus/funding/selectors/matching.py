"""Which calls fit: open or forthcoming calls whose final deadline is still ahead, whose
programme shares a theme with what someone plans, admits their kind of applicant, covers
their region and funds the amount they need.

A ``MatchProfile`` says what is looked for (bit masks over ``core.themes.Theme``,
``ApplicantType`` and ``Region``, and an amount); ``calls_matching`` answers it with one query
(bitwise AND on the masks, on SQLite and PostgreSQL alike), soonest next deadline first, and
says for each call why it fits. A profile can be made from a strategy measure (read through
``strategy.selectors``) or an organisation of the directory (read through
``economy.selectors.directory``); who may ask for which is decided by
``measure_profile_for_user`` and ``organisation_profile_for_user``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.core.themes import Theme, labels_of, mask_of, values_of
from rathaus.economy.selectors.directory import (
    organisation_ids_of_user,
    organisation_name_and_kind,
)
from rathaus.funding.constants import ApplicantType, Region
from rathaus.funding.models import Call, CallDeadline, Programme
from rathaus.funding.selectors.calendar import (
    LIVE_STATUSES,
    DeadlineInfo,
    call_paths,
    deadline_info,
    info_of,
    programme_paths,
)
from rathaus.strategy.selectors import measure_get

MAX_LIMIT = 100

# the directory's kinds of organisation -> who they are as applicants; None: not stated (the
# list is not narrowed; the person picks on the page). Networks are mostly registered
# associations; accelerators and investors may be companies or non-profits.
KIND_TO_APPLICANT: dict[str, str | None] = {
    "startup": ApplicantType.STARTUP,
    "sme": ApplicantType.SME,
    "corporate": ApplicantType.LARGE_COMPANY,
    "research": ApplicantType.RESEARCH,
    "university": ApplicantType.UNIVERSITY,
    "city_company": ApplicantType.CITY_COMPANY,
    "public_body": ApplicantType.MUNICIPALITY,
    "network": ApplicantType.NONPROFIT,
    "accelerator": None,
    "investor": None,
}


@dataclass(frozen=True)
class MatchProfile:
    """What is looked for; a mask of 0 and an amount of None do not narrow the list.

    ``regions_mask`` holds every region the applicant is in (a Leipzig company: EU, DE and
    DE-SN); a programme fits when it covers one of them. ``label`` names where the profile
    came from (a measure, an organisation), for the page."""

    themes_mask: int = 0
    applicant_types_mask: int = 0
    regions_mask: int = 0
    amount: Decimal | None = None
    label: str = ""


def funding_regions_mask() -> int:
    """The city's regions (``RATHAUS_FUNDING_REGIONS``, default EU, DE, DE-SN) as a mask;
    codes that are not a ``Region`` are left out."""
    known = set(Region.values)
    return mask_of([code for code in settings.FUNDING_REGIONS if code in known], Region)


def profile_for_measure(*, measure_id: int) -> MatchProfile | None:
    """A strategy measure's profile: its themes, the city as applicant (a municipality), the
    city's regions, its planned budget. None for an unknown measure."""
    measure = measure_get(measure_id=measure_id)
    if measure is None:
        return None
    return MatchProfile(
        themes_mask=measure.themes_mask,
        applicant_types_mask=mask_of([ApplicantType.MUNICIPALITY], ApplicantType),
        regions_mask=funding_regions_mask(),
        amount=measure.planned_budget,
        label=_("Maßnahme %(label)s") % {"label": measure.label},
    )


def profile_for_organisation(*, organisation_id: int) -> MatchProfile | None:
    """An organisation's profile: the kind of applicant its kind of organisation is, the
    city's regions; no themes (the directory's sectors and competences are an editable
    taxonomy with no fixed relation to the themes) and no amount. None if there is no such
    organisation."""
    found = organisation_name_and_kind(organisation_id=organisation_id)
    if found is None:
        return None
    name, kind = found
    applicant = KIND_TO_APPLICANT.get(kind)
    return MatchProfile(
        applicant_types_mask=mask_of([applicant], ApplicantType) if applicant else 0,
        regions_mask=funding_regions_mask(),
        label=_("Organisation %(name)s") % {"name": name},
    )


def measure_profile_for_user(*, user: Any, measure_id: int) -> MatchProfile:
    """The gate of prefilling from a measure: department staff only (PermissionDenied), an
    unknown measure is Http404."""
    department_staff_required(user=user)
    profile = profile_for_measure(measure_id=measure_id)
    if profile is None:
        raise Http404("no such measure")
    return profile


def organisation_profile_for_user(*, user: Any, organisation_id: int) -> MatchProfile:
    """The gate of prefilling from an organisation: department staff and the organisation's
    members (anyone else PermissionDenied, whether or not it exists); Http404 if it does not
    exist."""
    if not (
        user_is_department_staff(user=user)
        or organisation_id in organisation_ids_of_user(user=user)
    ):
        raise PermissionDenied
    profile = profile_for_organisation(organisation_id=organisation_id)
    if profile is None:
        raise Http404("no such organisation")
    return profile


# ---- the query -------------------------------------------------------------------------------


def matching_calls(profile: MatchProfile, *, now: datetime | None = None) -> QuerySet[Call]:
    """The calls that fit ``profile`` (one query), soonest next deadline first, with their
    programme and ``next_due`` (the next deadline still ahead; the final one if the deadline
    rows are missing)."""
    now = now or timezone.now()
    calls = Call.objects.filter(status__in=LIVE_STATUSES, final_deadline__gt=now)
    if profile.themes_mask:
        calls = calls.alias(
            common_themes=F("programme__themes_mask").bitand(profile.themes_mask)
        ).filter(common_themes__gt=0)
    if profile.applicant_types_mask:
        calls = calls.alias(
            common_applicants=F("programme__applicant_types_mask").bitand(
                profile.applicant_types_mask
            )
        ).filter(Q(programme__applicant_types_mask=0) | Q(common_applicants__gt=0))
    if profile.regions_mask:
        calls = calls.alias(
            common_regions=F("programme__regions_mask").bitand(profile.regions_mask)
        ).filter(Q(programme__regions_mask=0) | Q(common_regions__gt=0))
    if profile.amount is not None:
        calls = calls.filter(
            Q(programme__amount_min__isnull=True) | Q(programme__amount_min__lte=profile.amount),
            Q(programme__amount_max__isnull=True) | Q(programme__amount_max__gte=profile.amount),
        )
    next_due = (
        CallDeadline.objects.filter(call=OuterRef("pk"), due_at__gte=now)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return (
        calls.select_related("programme")
        .annotate(next_due=Coalesce(Subquery(next_due), F("final_deadline")))
        .order_by("next_due", "identifier", "pk")
    )


@dataclass(frozen=True)
class Reason:
    """Why a call fits, one criterion: ``label`` ("Themen"), ``text`` ("Daten und KI");
    ``not_stated`` when the programme does not say (it fits, to be checked with the funder)."""

    label: str
    text: str
    not_stated: bool = False


@dataclass(frozen=True)
class Match:
    call: Call
    programme: Programme
    call_url: str
    programme_url: str
    next_deadline: DeadlineInfo | None
    later_deadlines: list[DeadlineInfo]
    reasons: list[Reason]


@dataclass(frozen=True)
class MatchPage:
    total: int
    matches: list[Match] = field(default_factory=list)


def money_text(value: Decimal) -> str:
    """An amount the way the reader writes it ("2.000.000 €", "1.234,50 €")."""
    places = 0 if value == value.to_integral_value() else 2
    return f"{formats.number_format(value, places, use_l10n=True, force_grouping=True)} €"


def range_text(low: Decimal | None, high: Decimal | None) -> str:
    if low is not None and high is not None:
        return _("%(low)s bis %(high)s") % {"low": money_text(low), "high": money_text(high)}
    if low is not None:
        return _("ab %(low)s") % {"low": money_text(low)}
    if high is not None:
        return _("bis %(high)s") % {"high": money_text(high)}
    return _("keine Grenzen angegeben")


def reasons_for(programme: Programme, profile: MatchProfile) -> list[Reason]:
    """Why ``programme`` fits ``profile`` (only for what the profile asks)."""
    reasons: list[Reason] = []
    if profile.themes_mask:
        common = programme.themes_mask & profile.themes_mask
        reasons.append(Reason(_("Gemeinsame Themen"), ", ".join(labels_of(common, Theme))))
    if profile.applicant_types_mask:
        if programme.applicant_types_mask:
            common = programme.applicant_types_mask & profile.applicant_types_mask
            reasons.append(
                Reason(_("Antragsberechtigt"), ", ".join(labels_of(common, ApplicantType)))
            )
        else:
            reasons.append(
                Reason(
                    _("Antragsberechtigt"),
                    _("im Register nicht angegeben – beim Fördergeber prüfen"),
                    not_stated=True,
                )
            )
    if profile.regions_mask:
        if programme.regions_mask:
            common = programme.regions_mask & profile.regions_mask
            reasons.append(Reason(_("Förderregion"), ", ".join(labels_of(common, Region))))
        else:
            reasons.append(
                Reason(
                    _("Förderregion"),
                    _("im Register nicht angegeben – beim Fördergeber prüfen"),
                    not_stated=True,
                )
            )
    if profile.amount is not None:
        reasons.append(
            Reason(
                _("Betrag"),
                _("%(amount)s liegt im Rahmen (%(range)s)")
                % {
                    "amount": money_text(profile.amount),
                    "range": range_text(programme.amount_min, programme.amount_max),
                },
                not_stated=programme.amount_min is None and programme.amount_max is None,
            )
        )
    return reasons


def calls_matching(
    profile: MatchProfile, *, limit: int = 25, offset: int = 0, now: datetime | None = None
) -> MatchPage:
    """A page of the calls that fit ``profile`` with the count of all of them, each with its
    next deadline (as shown), later deadlines and the reasons it fits. Three queries: the
    count, the page, the page's coming deadlines."""
    now = now or timezone.now()
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    calls = matching_calls(profile, now=now)
    total = calls.count()
    if offset >= total:
        return MatchPage(total=total)
    upcoming = CallDeadline.objects.filter(due_at__gte=now).order_by("due_at", "position")
    page = list(
        calls.prefetch_related(Prefetch("deadlines", queryset=upcoming, to_attr="upcoming"))[
            offset : offset + limit
        ]
    )
    matches = []
    call_url, programme_url = call_paths(), programme_paths()
    for call in page:
        infos = [info_of(deadline, now=now) for deadline in call.upcoming]
        if not infos and call.final_deadline is not None:
            infos = [deadline_info(call.final_deadline, "Europe/Berlin", now=now)]
        matches.append(
            Match(
                call=call,
                programme=call.programme,
                call_url=call_url(call.pk),
                programme_url=programme_url(call.programme_id),
                next_deadline=infos[0] if infos else None,
                later_deadlines=infos[1:],
                reasons=reasons_for(call.programme, profile),
            )
        )
    return MatchPage(total=total, matches=matches)


def region_choice_of(mask: int) -> str:
    """The most specific region of a mask (a Land, else DE, else EU, else ""): what the
    form's single choice "where are you" shows for a profile."""
    values = values_of(mask, Region)
    for value in values:
        if value.startswith("DE-"):
            return value
    for value in (Region.DE, Region.EU):
        if value in values:
            return str(value)
    return ""


def regions_of_choice(choice: str) -> int:
    """The regions someone located in ``choice`` is in: a Land is in Germany and the EU,
    Germany is in the EU."""
    if not choice:
        return 0
    values = [choice]
    if choice.startswith("DE-"):
        values += [Region.DE, Region.EU]
    elif choice == Region.DE:
        values.append(Region.EU)
    return mask_of(values, Region)
