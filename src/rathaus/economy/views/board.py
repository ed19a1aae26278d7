"""The board of offers and needs (/wirtschaft/marktplatz/) and the relations between
organisations (/wirtschaft/beziehungen/, the network view /wirtschaft/netzwerk/). Thin: forms
parse, services write, selectors read."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rathaus.accounts.selectors import user_is_department_staff
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import ratelimit_exceeded
from rathaus.economy.constants import EntryStatus, PostStatus
from rathaus.economy.forms_board import (
    DigestForm,
    PostFilterForm,
    PostForm,
    RelationForm,
    ReplyForm,
    choices_of,
)
from rathaus.economy.models import Organisation, Person
from rathaus.economy.selectors import board as board_selectors
from rathaus.economy.selectors import relations as relation_selectors
from rathaus.economy.selectors.directory import organisations_of_user
from rathaus.economy.services import board as board_services
from rathaus.economy.services import relations as relation_services

RATE_POST = settings.RATELIMIT_BOARD_POST
RATE_REPLY = settings.RATELIMIT_BOARD_REPLY
RATE_RELATION = settings.RATELIMIT_RELATION


def _limited(request: HttpRequest, scope: str, rate: str) -> bool:
    return ratelimit_exceeded(scope=f"economy-{scope}", key=str(request.user.pk), rate=rate)


# ---- the board ---------------------------------------------------------------------------


@require_http_methods(["GET"])
def board_index(request: HttpRequest) -> HttpResponse:
    terms = board_selectors.competence_terms()
    form = PostFilterForm(request.GET or None, terms=terms)
    status = 200
    kind, competence, page = "", None, 1
    state: str = PostStatus.OPEN
    if form.is_bound:
        if form.is_valid():
            kind = form.cleaned_data["art"]
            competence = form.cleaned_data["kompetenz"]
            chosen = form.cleaned_data["status"] or PostStatus.OPEN
            state = "" if chosen == "alle" else chosen
            page = form.cleaned_data["seite"] or 1
        else:
            status = 400
    posts = board_selectors.post_list(kind=kind, competence_id=competence, status=state, page=page)
    query = request.GET.copy()
    query.pop("seite", None)
    base = query.urlencode()
    return render(
        request,
        "economy/board/index.html",
        {
            "form": form,
            "page": posts,
            "matching": board_selectors.posts_matching_user(user=request.user, limit=5),
            "can_post": board_services.may_reply(request.user),
            "page_query": (base + "&") if base else "",
        },
        status=status,
    )


def _post_form(request: HttpRequest, data: Any = None) -> PostForm:
    return PostForm(
        data,
        organisations=[
            o for o in organisations_of_user(user=request.user) if o.status == EntryStatus.PUBLISHED
        ],
        staff=user_is_department_staff(user=request.user),
        terms=board_selectors.competence_terms(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_create(request: HttpRequest) -> HttpResponse:
    if not board_services.may_reply(request.user):
        return error_response(
            request,
            403,
            _(
                "Beiträge schreiben Mitglieder von Organisationen im Verzeichnis und das "
                "Referat Digitale Stadt. Tragen Sie zuerst Ihre Organisation ein."
            ),
        )
    form = _post_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if _limited(request, "post", RATE_POST):
            return error_response(request, 429)
        if request.POST.get("website"):  # the honeypot: only a bot fills it in
            messages.success(request, _("Ihr Beitrag ist veröffentlicht."))
            return redirect("economy:board")
        if form.is_valid():
            data = form.cleaned_data
            try:
                tags = board_services.tags_parse(data["tags"])
                post = board_services.post_create(
                    author=request.user,
                    kind=data["kind"],
                    title=data["title"],
                    body=data["body"],
                    organisation_id=data["organisation"],
                    competence_ids=data["competences"],
                    tags=tags,
                    deadline=data["deadline"],
                    contact=data["contact"],
                )
            except board_services.BoardRefused as refused:
                form.add_error(
                    refused.field if refused.field in form.fields else None, str(refused.message)
                )
            else:
                messages.success(request, _("Ihr Beitrag ist veröffentlicht."))
                return redirect("economy:post", post_id=post.pk)
    if not choices_of(form.fields["organisation"]).choices:
        return error_response(
            request,
            403,
            _(
                "Ihre Organisation ist noch nicht veröffentlicht. Sobald das Referat sie "
                "geprüft hat, können Sie Beiträge schreiben."
            ),
        )
    return render(
        request,
        "economy/board/post_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _post_page(
    request: HttpRequest, post_id: int, reply: ReplyForm | None = None, status: int = 200
) -> HttpResponse:
    post = board_selectors.post_get_for_user(user=request.user, post_id=post_id)
    user = request.user
    is_author = user.is_authenticated and post.author_id == user.pk
    conversations = (
        board_selectors.conversations_of_user(user=user, post_id=post.pk)
        if user.is_authenticated
        else []
    )
    member = board_services.may_reply(user)
    can_reply = (
        user.is_authenticated
        and not is_author
        and member
        and (post.status == PostStatus.OPEN or bool(conversations))
    )
    return render(
        request,
        "economy/board/post.html",
        {
            "post": post,
            "is_author": is_author,
            "can_close": board_services.may_close(user, post) and post.status == PostStatus.OPEN,
            "can_reply": can_reply,
            # the contact only to members and the author; others learn that there is one
            "has_contact": bool(post.contact_encrypted),
            "contact": board_selectors.post_contact(post) if (member or is_author) else "",
            "reply": reply or ReplyForm(),
            "conversations": conversations,
            "matching": board_selectors.post_matching_organisations(post=post),
            "author_label": post.organisation.name
            if post.organisation
            else _("Stadt Leipzig, Referat Digitale Stadt"),
        },
        status=status,
    )


@require_http_methods(["GET"])
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    return _post_page(request, post_id)


@login_required
@require_POST
def post_close(request: HttpRequest, post_id: int) -> HttpResponse:
    board_selectors.post_get_for_user(user=request.user, post_id=post_id)
    try:
        board_services.post_close(actor=request.user, post_id=post_id)
    except board_services.BoardRefused as refused:
        return error_response(request, 403, str(refused.message))
    messages.success(request, _("Der Beitrag ist geschlossen."))
    return redirect("economy:post", post_id=post_id)


@login_required
@require_POST
def post_reply(request: HttpRequest, post_id: int) -> HttpResponse:
    """A member's reply to a post: starts their conversation or continues it."""
    board_selectors.post_get_for_user(user=request.user, post_id=post_id)
    form = ReplyForm(request.POST)
    if _limited(request, "reply", RATE_REPLY):
        return error_response(request, 429)
    if form.is_valid():
        try:
            board_services.message_send(
                sender=request.user, post_id=post_id, body=form.cleaned_data["body"]
            )
        except board_services.BoardRefused as refused:
            form.add_error("body" if refused.field == "body" else None, str(refused.message))
        else:
            messages.success(request, _("Ihre Nachricht ist gesendet."))
            return redirect("economy:conversation", post_id=post_id, thread_user_id=request.user.pk)
    return _post_page(request, post_id, reply=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, post_id: int, thread_user_id: int) -> HttpResponse:
    post, rows = board_selectors.conversation_get_for_user(
        user=request.user, post_id=post_id, thread_user_id=thread_user_id
    )
    form = ReplyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if _limited(request, "reply", RATE_REPLY):
            return error_response(request, 429)
        if form.is_valid():
            try:
                board_services.message_send(
                    sender=request.user,
                    post_id=post.pk,
                    body=form.cleaned_data["body"],
                    thread_user_id=thread_user_id,
                )
            except board_services.BoardRefused as refused:
                form.add_error("body" if refused.field == "body" else None, str(refused.message))
            else:
                messages.success(request, _("Ihre Nachricht ist gesendet."))
                return redirect(request.path)
        status = 400
    board_services.conversation_mark_read(
        user=request.user, post_id=post.pk, thread_user_id=thread_user_id
    )
    if request.user.pk == post.author_id:
        from django.contrib.auth import get_user_model

        other = get_user_model().objects.filter(pk=thread_user_id).first()
        other_label = board_selectors.person_label(other) if other else ""
    else:
        other_label = post.organisation.name if post.organisation else _("Referat Digitale Stadt")
    response = render(
        request,
        "economy/board/conversation.html",
        {"post": post, "rows": rows, "form": form, "other_label": other_label},
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET"])
def my_messages(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "economy/board/messages.html",
        {"conversations": board_selectors.conversations_of_user(user=request.user)},
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def digest_settings(request: HttpRequest) -> HttpResponse:
    current = board_selectors.digest_subscription_of(user=request.user)
    initial = {
        "active": current.active if current else False,
        "only_matching": current.only_matching if current else True,
    }
    form = DigestForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if _limited(request, "digest", RATE_RELATION):
            return error_response(request, 429)
        if form.is_valid():
            board_services.digest_subscription_set(
                user=request.user,
                active=form.cleaned_data["active"],
                only_matching=form.cleaned_data["only_matching"],
            )
            messages.success(
                request,
                _("Sie erhalten die Wochenübersicht.")
                if form.cleaned_data["active"]
                else _("Sie erhalten keine Wochenübersicht mehr."),
            )
            return redirect("economy:digest")
    return render(
        request,
        "economy/board/digest.html",
        {"form": form, "subscribed": bool(current and current.active)},
    )


# ---- relations ---------------------------------------------------------------------------


def _relation_form(request: HttpRequest, data: Any = None, source: str = "") -> RelationForm:
    staff = user_is_department_staff(user=request.user)
    if staff:
        sources = list(
            Organisation.objects.exclude(
                status__in=[EntryStatus.REJECTED, EntryStatus.ARCHIVED]
            ).order_by("name")[:2000]
        )
    else:
        sources = list(organisations_of_user(user=request.user))
    targets = list(
        Organisation.objects.filter(status=EntryStatus.PUBLISHED)
        .only("pk", "name")
        .order_by("name")[:2000]
    )
    people = list(Person.objects.order_by("name")[:2000])
    return RelationForm(
        data,
        sources=sources,
        targets=targets,
        people=people,
        initial={"source": source} if source else None,
    )


@login_required
@require_http_methods(["GET"])
def relations_mine(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "economy/relations/mine.html",
        {
            "waiting": relation_selectors.relations_waiting_for(user=request.user),
            "proposed": relation_selectors.relations_proposed_by_mine(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def relation_create(request: HttpRequest) -> HttpResponse:
    form = _relation_form(
        request,
        request.POST if request.method == "POST" else None,
        source=request.GET.get("von", ""),
    )
    if not choices_of(form.fields["source"]).choices:
        return error_response(
            request,
            403,
            _("Beziehungen tragen Mitglieder einer Organisation im Verzeichnis ein."),
        )
    if request.method == "POST":
        if _limited(request, "relation", RATE_RELATION):
            return error_response(request, 429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                relation = relation_services.relation_propose(
                    actor=request.user,
                    source_id=data["source"],
                    kind=data["kind"],
                    target_id=data["target"],
                    person_id=data["person"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    note=data["note"],
                )
            except relation_services.RelationRefused as refused:
                form.add_error(
                    refused.field if refused.field in form.fields else None, str(refused.message)
                )
            else:
                messages.success(
                    request,
                    _("Die Beziehung ist eingetragen.")
                    if relation.status == "confirmed"
                    else _(
                        "Die Beziehung ist vorgeschlagen. Sie wird gezeigt, sobald die andere Seite sie bestätigt hat."
                    ),
                )
                return redirect("economy:relations")
    return render(
        request,
        "economy/relations/form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _relation_action(request: HttpRequest, relation_id: int, action: str) -> HttpResponse:
    if _limited(request, "relation", RATE_RELATION):
        return error_response(request, 429)
    try:
        if action == "confirm":
            relation_services.relation_confirm(actor=request.user, relation_id=relation_id)
            text = _("Die Beziehung ist bestätigt.")
        elif action == "decline":
            relation_services.relation_decline(actor=request.user, relation_id=relation_id)
            text = _("Der Vorschlag ist abgelehnt.")
        else:
            relation_services.relation_delete(actor=request.user, relation_id=relation_id)
            text = _("Die Beziehung ist entfernt.")
    except relation_services.RelationRefused as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(request, text)
    target = request.POST.get("next", "")
    if target.startswith("/wirtschaft/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts=None
    ):
        return redirect(target)
    return redirect("economy:relations")


@login_required
@require_POST
def relation_confirm(request: HttpRequest, relation_id: int) -> HttpResponse:
    return _relation_action(request, relation_id, "confirm")


@login_required
@require_POST
def relation_decline(request: HttpRequest, relation_id: int) -> HttpResponse:
    return _relation_action(request, relation_id, "decline")


@login_required
@require_POST
def relation_delete(request: HttpRequest, relation_id: int) -> HttpResponse:
    return _relation_action(request, relation_id, "delete")


@require_http_methods(["GET"])
def network(request: HttpRequest) -> HttpResponse:
    slug = request.GET.get("organisation", "").strip()[:220]
    centre = None
    if slug:
        try:
            centre = relation_selectors.network_centre(slug=slug)
        except Http404:
            messages.error(request, _("Diese Organisation ist nicht im Verzeichnis."))
            return redirect(reverse("economy:network"))
    graph = relation_selectors.network_of(organisation=centre)
    return render(
        request,
        "economy/relations/network.html",
        {
            "graph": graph,
            "centre": centre,
            "choices": relation_selectors.network_organisations(),
        },
    )


urlpatterns: list[URLPattern] = [
    path("marktplatz/", board_index, name="board"),
    path("marktplatz/neu/", post_create, name="post_create"),
    path("marktplatz/nachrichten/", my_messages, name="board_messages"),
    path("marktplatz/wochenuebersicht/", digest_settings, name="digest"),
    path("marktplatz/<int:post_id>/", post_detail, name="post"),
    path("marktplatz/<int:post_id>/schliessen/", post_close, name="post_close"),
    path("marktplatz/<int:post_id>/antworten/", post_reply, name="post_reply"),
    path(
        "marktplatz/<int:post_id>/gespraech/<int:thread_user_id>/",
        conversation,
        name="conversation",
    ),
    path("beziehungen/", relations_mine, name="relations"),
    path("beziehungen/neu/", relation_create, name="relation_create"),
    path("beziehungen/<int:relation_id>/bestaetigen/", relation_confirm, name="relation_confirm"),
    path("beziehungen/<int:relation_id>/ablehnen/", relation_decline, name="relation_decline"),
    path("beziehungen/<int:relation_id>/entfernen/", relation_delete, name="relation_delete"),
    path("netzwerk/", network, name="network"),
]
