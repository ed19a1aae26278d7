"""The pillar's start page and the directory: the list with search, filters, map and
exports; a profile; registering, editing, the logo, members and claims; staff moderation.
Thin: reads in selectors/directory.py, writes in services/directory.py."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.accounts.views import second_factor_required
from rathaus.core.csvsafe import csv_cell
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_blocked, ratelimit_exceeded
from rathaus.economy.constants import EntryStatus, OrganisationKind
from rathaus.economy.forms_directory import (
    ClaimDecisionForm,
    ClaimForm,
    DirectoryFilterForm,
    LogoForm,
    MemberInviteForm,
    MemberRoleForm,
    ModerationForm,
    OrganisationForm,
)
from rathaus.economy.selectors import directory as selectors
from rathaus.economy.services import directory as services

PAGE_SIZE = 20
REGISTER_RATE = settings.RATELIMIT_ECONOMY_REGISTER
INVITE_RATE = settings.RATELIMIT_RELATION  # invitations per admin, as relation proposals
LINK_FAILURE_RATE = "20/h"  # wrong invitation links per client address
EXPORT_FIELDS = [
    "id",
    "name",
    "kind",
    "register_number",
    "stage",
    "size_band",
    "founded_year",
    "sectors",
    "competences",
    "street",
    "postal_code",
    "city",
    "district",
    "lat",
    "lon",
    "website",
    "email",
    "phone",
    "hiring",
    "seeking_partners",
    "description",
    "description_en",
]


def _filters(form: DirectoryFilterForm) -> tuple[str, selectors.DirectoryFilters]:
    if not form.is_valid():
        return "", selectors.DirectoryFilters()
    d = form.cleaned_data
    area = d.get("ortsteil")
    return d.get("q", ""), selectors.DirectoryFilters(
        kind=d.get("art", ""),
        sector=d.get("branche", ""),
        competence=d.get("kompetenz", ""),
        area=int(area) if area else None,
        hiring=bool(d.get("stellt_ein")),
        seeking_partners=bool(d.get("sucht_partner")),
    )


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("seite", "1")
    return int(value) if (value.isascii() and value.isdigit()) and 0 < len(value) < 7 else 1


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "economy/index.html", {"kinds": OrganisationKind.choices})


@require_safe
def directory_list(request: HttpRequest) -> HttpResponse:
    """The published entries with search and filters, a page of them as a list, and all of
    them on a map beside it (clustered by grid cell on the server)."""
    if ratelimit_exceeded(
        scope="economy-list", key=client_address(request), rate=settings.RATELIMIT_CITYDATA
    ):
        return error_response(request, 429)
    form = DirectoryFilterForm(request.GET or None)
    query, filters = _filters(form)
    number = _page_number(request)
    result = selectors.organisation_search(
        query=query, filters=filters, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    clusters = selectors.organisation_map_clusters(query=query, filters=filters)
    base = {k: v for k, v in request.GET.items() if k != "seite" and v}
    map_data = {
        "clusters": [
            {
                "lat": c.lat,
                "lon": c.lon,
                "count": c.count,
                "entries": [
                    {
                        "name": e["name"],
                        "url": reverse("economy:organisation", args=[e["slug"]]),
                    }
                    for e in c.entries
                ],
            }
            for c in clusters
        ]
    }
    return render(
        request,
        "economy/directory/list.html",
        {
            "form": form,
            "result": result,
            "page_number": number,
            "pages": pages,
            "previous_url": f"?{urlencode({**base, 'seite': number - 1})}" if number > 1 else "",
            "next_url": f"?{urlencode({**base, 'seite': number + 1})}" if number < pages else "",
            "query_string": urlencode(base),
            "map_data": map_data,
            "mapped": sum(c.count for c in clusters),
            "tile_url": settings.TILE_URL,
            "is_staff": user_is_department_staff(user=request.user),
        },
    )


def _export_limited(request: HttpRequest) -> bool:
    return ratelimit_exceeded(
        scope="economy-export", key=client_address(request), rate=settings.RATELIMIT_EXPORT
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(rows: list[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_FIELDS)
    for row in rows:
        values = []
        for name in EXPORT_FIELDS:
            value = row[name]
            if isinstance(value, list):
                value = ", ".join(value)
            elif value is None:
                value = ""
            values.append(csv_cell(value))
        yield writer.writerow(values)


@require_safe
def directory_export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The matching published entries' public fields as CSV (safe to open in a
    spreadsheet: text that would start a formula gets an apostrophe)."""
    if _export_limited(request):
        return error_response(request, 429)
    query, filters = _filters(DirectoryFilterForm(request.GET or None))
    rows = selectors.organisations_for_export(query=query, filters=filters)
    response = StreamingHttpResponse(_csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="organisationen.csv"'
    return response


@require_safe
def directory_export_json(request: HttpRequest) -> HttpResponse:
    if _export_limited(request):
        return error_response(request, 429)
    query, filters = _filters(DirectoryFilterForm(request.GET or None))
    rows = selectors.organisations_for_export(query=query, filters=filters)
    response = HttpResponse(
        json.dumps({"organisations": rows}, cls=DjangoJSONEncoder, ensure_ascii=False),
        content_type="application/json",
    )
    response["Content-Disposition"] = 'attachment; filename="organisationen.json"'
    return response


@require_safe
def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = selectors.organisation_get_for_user(
        user=request.user, organisation_id_or_slug=slug
    )
    profile = selectors.organisation_profile(user=request.user, organisation=organisation)
    return render(
        request,
        "economy/directory/detail.html",
        {
            "organisation": organisation,
            "profile": profile,
            "user": request.user,
            "tile_url": settings.TILE_URL,
        },
    )


@require_safe
def organisation_logo(request: HttpRequest, slug: str) -> FileResponse:
    organisation = selectors.organisation_get_for_user(
        user=request.user, organisation_id_or_slug=slug
    )
    if not organisation.logo or not default_storage.exists(organisation.logo):
        raise Http404("no logo")
    response = FileResponse(default_storage.open(organisation.logo, "rb"), content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    # a logo of an entry not (yet) published is seen only by its members and staff
    visible = organisation.status == EntryStatus.PUBLISHED
    response["Cache-Control"] = f"{'public' if visible else 'private'}, max-age=3600"
    return response


def _form_error(form: OrganisationForm, error: services.DirectoryError) -> None:
    name = error.field_name if error.field_name in form.fields else None
    form.add_error(name, str(error.message))


@login_required
@require_http_methods(["GET", "POST"])
def organisation_register(request: HttpRequest) -> HttpResponse:
    """A logged-in person enters their organisation; it waits for the department's check."""
    form = OrganisationForm(request.POST or None)
    duplicate = None
    if request.method == "POST":
        if ratelimit_exceeded(
            scope="economy-register",
            key=f"{client_address(request)}:{request.user.pk}",
            rate=REGISTER_RATE,
        ):
            return error_response(request, 429)
        if form.is_valid():
            if form.is_robot:  # the honeypot: answer as if done, store nothing
                return redirect("economy:my_organisations")
            confirmed = request.POST.get("andere_organisation", "")
            duplicate_of = None
            if (confirmed.isascii() and confirmed.isdigit()) and len(confirmed) < 19:
                duplicate_of = selectors.organisation_by_id(organisation_id=int(confirmed))
            try:
                organisation = services.organisation_register(
                    user=request.user,  # type: ignore[arg-type]
                    data=form.to_input(),
                    duplicate_of=duplicate_of,
                )
            except services.DuplicateError as error:
                duplicate = error
            except services.DirectoryError as error:
                _form_error(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Danke! Ihr Eintrag wartet auf die Prüfung durch das Referat Digitale "
                        "Stadt."
                    ),
                )
                return redirect("economy:organisation", organisation.slug)
    return render(
        request,
        "economy/directory/register.html",
        {"form": form, "duplicate": duplicate, "existing": getattr(duplicate, "existing", None)},
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = selectors.organisation_get_for_user(
        user=request.user, organisation_id_or_slug=slug, for_edit=True
    )
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                organisation = services.organisation_update(
                    actor=request.user,  # type: ignore[arg-type]
                    organisation=organisation,
                    data=form.to_input(),
                )
            except services.DirectoryError as error:
                _form_error(form, error)
            else:
                messages.success(request, _("Das Profil ist gespeichert."))
                return redirect("economy:organisation", organisation.slug)
    else:
        form = OrganisationForm(initial=OrganisationForm.initial_from(organisation))
    return render(
        request,
        "economy/directory/edit.html",
        {"form": form, "organisation": organisation, "logo_form": LogoForm()},
    )


@login_required
@second_factor_required
@require_POST
def organisation_logo_upload(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = selectors.organisation_get_for_user(
        user=request.user, organisation_id_or_slug=slug, for_edit=True
    )
    if request.POST.get("entfernen"):
        services.organisation_logo_set(
            actor=request.user,  # type: ignore[arg-type]
            organisation=organisation,
            content=None,
        )
        messages.success(request, _("Das Logo ist entfernt."))
        return redirect("economy:organisation_edit", organisation.slug)
    logo_form = LogoForm(request.POST, request.FILES)
    if logo_form.is_valid():
        try:
            services.organisation_logo_set(
                actor=request.user,  # type: ignore[arg-type]
                organisation=organisation,
                content=logo_form.cleaned_data["logo"],
            )
        except ValidationError as error:
            logo_form.add_error("logo", error)
        else:
            messages.success(request, _("Das Logo ist gespeichert."))
            return redirect("economy:organisation_edit", organisation.slug)
    form = OrganisationForm(initial=OrganisationForm.initial_from(organisation))
    return render(
        request,
        "economy/directory/edit.html",
        {"form": form, "organisation": organisation, "logo_form": logo_form},
        status=400,
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def organisation_members(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = selectors.organisation_get_for_user(
        user=request.user, organisation_id_or_slug=slug
    )
    members = selectors.organisation_members(user=request.user, organisation=organisation)
    can_manage = getattr(organisation, "viewer_is_staff", False) or (
        getattr(organisation, "viewer_role", None) == "admin"
    )
    add_form = MemberInviteForm(request.POST if request.POST.get("action") == "add" else None)
    if request.method == "POST":
        if not can_manage:
            return error_response(request, 403)
        action = request.POST.get("action", "")
        try:
            if action == "add":
                if ratelimit_exceeded(
                    scope="economy-invite", key=str(request.user.pk), rate=INVITE_RATE
                ):
                    return error_response(request, 429)
                if add_form.is_valid():
                    services.membership_invite(
                        actor=request.user,  # type: ignore[arg-type]
                        organisation=organisation,
                        email=add_form.cleaned_data["email"],
                        role=add_form.cleaned_data["role"],
                    )
                    # the same answer whether or not the address has an account
                    messages.success(
                        request,
                        _(
                            "Die Einladung an %(email)s ist unterwegs. Die Person wird Mitglied, "
                            "sobald sie die Einladung annimmt."
                        )
                        % {"email": add_form.cleaned_data["email"]},
                    )
                    return redirect("economy:organisation_members", organisation.slug)
            elif action == "withdraw":
                raw = request.POST.get("invitation", "")
                if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
                    raise Http404("no such invitation")
                invitation = selectors.invitation_get_for_admin(
                    user=request.user, organisation=organisation, invitation_id=int(raw)
                )
                services.invitation_withdraw(actor=request.user, invitation=invitation)  # type: ignore[arg-type]
                messages.success(request, _("Die Einladung ist zurückgezogen."))
                return redirect("economy:organisation_members", organisation.slug)
            elif action in ("role", "remove"):
                raw = request.POST.get("membership", "")
                if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
                    raise Http404("no such member")
                membership = selectors.membership_get_for_admin(
                    user=request.user, organisation=organisation, membership_id=int(raw)
                )
                if action == "remove":
                    services.membership_remove(actor=request.user, membership=membership)  # type: ignore[arg-type]
                    messages.success(request, _("Die Person ist entfernt."))
                else:
                    role_form = MemberRoleForm(request.POST)
                    if not role_form.is_valid():
                        raise services.DirectoryError(_("Bitte eine Rolle aus der Liste wählen."))
                    services.membership_role_set(
                        actor=request.user,  # type: ignore[arg-type]
                        membership=membership,
                        role=role_form.cleaned_data["role"],
                    )
                    messages.success(request, _("Die Rolle ist geändert."))
                return redirect("economy:organisation_members", organisation.slug)
            else:
                return error_response(request, 400)
        except services.DirectoryError as error:
            if action == "add":
                add_form.add_error(
                    error.field_name if error.field_name in add_form.fields else None,
                    str(error.message),
                )
            else:
                messages.error(request, str(error.message))
                return redirect("economy:organisation_members", organisation.slug)
    return render(
        request,
        "economy/directory/members.html",
        {
            "organisation": organisation,
            "members": members,
            "can_manage": can_manage,
            "invitations": selectors.invitations_open_of(
                user=request.user, organisation=organisation
            )
            if can_manage
            else [],
            "form": add_form,
            "role_choices": MemberRoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        },
        status=400 if add_form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_claim(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = selectors.organisation_get_for_user(
        user=request.user, organisation_id_or_slug=slug
    )
    form = ClaimForm(request.POST or None)
    if request.method == "POST":
        if ratelimit_exceeded(
            scope="economy-claim",
            key=f"{client_address(request)}:{request.user.pk}",
            rate=REGISTER_RATE,
        ):
            return error_response(request, 429)
        if form.is_valid():
            try:
                services.claim_create(
                    user=request.user,  # type: ignore[arg-type]
                    organisation=organisation,
                    evidence=form.cleaned_data["evidence"],
                )
            except services.DirectoryError as error:
                form.add_error(
                    "evidence" if error.field_name == "evidence" else None, str(error.message)
                )
            else:
                messages.success(
                    request,
                    _("Ihr Antrag ist eingegangen. Das Referat prüft ihn und meldet sich."),
                )
                return redirect("economy:organisation", organisation.slug)
    return render(
        request,
        "economy/directory/claim.html",
        {"organisation": organisation, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_safe
def my_organisations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "economy/directory/mine.html",
        {
            "organisations": selectors.organisations_of_user(user=request.user),
            "claims": selectors.claims_of_user(user=request.user)[:50],
        },
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def moderation(request: HttpRequest, organisation_id: int | None = None) -> HttpResponse:
    """Staff: the pending entries, each with a publish/reject form (POST to its own URL)."""
    pending = selectors.organisation_moderation_list(user=request.user)
    failed: tuple[int, ModerationForm] | None = None
    if request.method == "POST":
        if organisation_id is None:
            return error_response(request, 405)
        organisation = pending.filter(pk=organisation_id).first()
        if organisation is None:
            messages.error(request, _("Dieser Eintrag wartet nicht mehr auf Prüfung."))
            return redirect("economy:moderation")
        form = ModerationForm(request.POST, prefix=f"m{organisation_id}")
        if form.is_valid():
            try:
                services.organisation_moderate(
                    actor=request.user,  # type: ignore[arg-type]
                    organisation=organisation,
                    publish=form.cleaned_data["decision"] == "publish",
                    note=form.cleaned_data["note"],
                )
            except services.DirectoryError as error:
                messages.error(request, str(error.message))
            else:
                text = (
                    _("„%(name)s“ ist veröffentlicht.")
                    if form.cleaned_data["decision"] == "publish"
                    else _("„%(name)s“ ist abgelehnt.")
                )
                messages.success(request, text % {"name": organisation.name})
                return redirect("economy:moderation")
        failed = (organisation_id, form)
    elif organisation_id is not None:
        return redirect("economy:moderation")
    rows = []
    for organisation in pending[:100]:
        if failed and failed[0] == organisation.pk:
            form = failed[1]
        else:
            form = ModerationForm(prefix=f"m{organisation.pk}")
        rows.append({"organisation": organisation, "form": form})
    claims = selectors.claim_list_pending(user=request.user)[:100]
    return render(
        request,
        "economy/directory/moderation.html",
        {
            "rows": rows,
            "claims": [
                {
                    "claim": c,
                    "evidence": selectors.claim_evidence(c),
                    "form": ClaimDecisionForm(prefix=f"c{c.pk}"),
                }
                for c in claims
            ],
        },
        status=400 if failed else 200,
    )


@login_required
@second_factor_required
@require_POST
def claim_decide(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = selectors.claim_get_for_staff(user=request.user, claim_id=claim_id)
    form = ClaimDecisionForm(request.POST, prefix=f"c{claim.pk}")
    if not form.is_valid():
        messages.error(request, _("Bitte eine Entscheidung wählen."))
        return redirect("economy:moderation")
    try:
        services.claim_decide(
            actor=request.user,  # type: ignore[arg-type]
            claim=claim,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except services.DirectoryError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Der Antrag ist entschieden."))
    return redirect("economy:moderation")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link of an invitation e-mail. GET shows what it is about (mail scanners open
    links); accepting needs a log-in (an account is made by the log-in link if there is
    none) and a POST."""
    client = client_address(request)
    if ratelimit_blocked(scope="economy-invitation-failures", key=client, rate=LINK_FAILURE_RATE):
        return error_response(request, 429)
    found = selectors.invitation_by_token(token=token)
    if found is None:
        ratelimit_exceeded(scope="economy-invitation-failures", key=client, rate=LINK_FAILURE_RATE)
        return render(request, "economy/directory/invitation.html", {"invalid": True}, status=404)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            membership = services.invitation_accept(user=request.user, token=token)
        except services.DirectoryError as error:
            messages.error(request, str(error.message))
            return redirect("economy:my_organisations")
        messages.success(
            request,
            _("Willkommen! Sie sind jetzt Mitglied von „%(name)s“.")
            % {"name": membership.organisation.name},
        )
        return redirect("economy:organisation", membership.organisation.slug)
    return render(
        request,
        "economy/directory/invitation.html",
        {
            "invitation": found,
            "organisation": found.organisation,
            "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
        },
    )


urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
    path("verzeichnis/", directory_list, name="directory"),
    path("verzeichnis/export.csv", directory_export_csv, name="directory_csv"),
    path("verzeichnis/export.json", directory_export_json, name="directory_json"),
    path("verzeichnis/eintragen/", organisation_register, name="organisation_register"),
    path("verzeichnis/meine/", my_organisations, name="my_organisations"),
    path("verzeichnis/pruefung/", moderation, name="moderation"),
    path("verzeichnis/pruefung/<int:organisation_id>/", moderation, name="moderation_decide"),
    path("verzeichnis/uebernahmen/<int:claim_id>/", claim_decide, name="claim_decide"),
    path("einladung/<str:token>/", invitation, name="invitation"),
    path("verzeichnis/<slug:slug>/", organisation_detail, name="organisation"),
    path("verzeichnis/<slug:slug>/logo.png", organisation_logo, name="organisation_logo"),
    path("verzeichnis/<slug:slug>/bearbeiten/", organisation_edit, name="organisation_edit"),
    path(
        "verzeichnis/<slug:slug>/logo/", organisation_logo_upload, name="organisation_logo_upload"
    ),
    path("verzeichnis/<slug:slug>/mitglieder/", organisation_members, name="organisation_members"),
    path("verzeichnis/<slug:slug>/uebernehmen/", organisation_claim, name="organisation_claim"),
]
