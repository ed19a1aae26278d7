"""The hub's events under /wirtschaft/veranstaltungen/: the public list and event pages,
registering (with the event's own questions from the form engine), the calendar files,
cancelling by link, check-in at the door, and the staff's pages (edit, publish, call off,
registrations and waiting list, outcome). Thin: selectors and services do the work."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.models import User
from rathaus.accounts.selectors import user_is_department_staff
from rathaus.accounts.views import second_factor_required
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_blocked, ratelimit_exceeded
from rathaus.economy import ical
from rathaus.economy.constants import RegistrationStatus
from rathaus.economy.events_mail import checkin_url as make_checkin_url
from rathaus.economy.events_mail import code_display, event_when, qr_data_uri
from rathaus.economy.forms_events import (
    CheckInForm,
    EventForm,
    OutcomeForm,
    RegistrationForm,
    answer_rows,
    questions_for,
    questions_of_version,
)
from rathaus.economy.selectors.events import (
    event_attendance,
    event_feed_events,
    event_get_for_staff,
    event_get_for_user,
    event_list_for_staff,
    event_public_list,
    event_registration_state,
    registration_by_cancel_token,
    registration_by_checkin_code,
    registration_form_choices,
    registration_person,
    registrations_for_staff,
)
from rathaus.economy.services.events import (
    EventError,
    event_cancel,
    event_create,
    event_outcome_record,
    event_publish,
    event_update,
    registration_cancel,
    registration_cancel_by_staff,
    registration_check_in,
    registration_create,
    registration_repeat_notice,
)

PAGE_SIZE = 20
REGISTER_RATE = settings.RATELIMIT_EVENT_REGISTER  # registrations per client address
CANCEL_FAILURE_RATE = "20/h"  # wrong cancel links per client address
SESSION_KEY = "economy_registered"


def _staff(view: Any) -> Any:
    return login_required(second_factor_required(view))


# ---- public -------------------------------------------------------------------------------


@require_safe
def event_list(request: HttpRequest) -> HttpResponse:
    past = request.GET.get("zeit") == "vergangen"
    page = Paginator(event_public_list(upcoming=not past), PAGE_SIZE).get_page(
        request.GET.get("seite")
    )
    return render(
        request,
        "economy/events/list.html",
        {
            "page": page,
            "events": page.object_list,
            "past": past,
            "is_staff": user_is_department_staff(user=request.user),
        },
    )


@require_safe
def event_feed(request: HttpRequest) -> HttpResponse:
    name = _("Veranstaltungen der digitalen Wirtschaft")
    response = HttpResponse(
        ical.calendar(event_feed_events(), name=f"{name} {settings.CITY_NAME}"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'inline; filename="veranstaltungen.ics"'
    return response


@require_safe
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_get_for_user(user=request.user, slug=slug)
    return render(
        request,
        "economy/events/detail.html",
        {
            "event": event,
            "when": event_when(event),
            "state": event_registration_state(event),
            "organisers": list(event.organisers.all()),
            "speakers": list(event.speakers.all()),
            "is_staff": user_is_department_staff(user=request.user),
            "english": get_language() == "en",
        },
    )


@require_safe
def event_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_get_for_user(user=request.user, slug=slug)
    response = HttpResponse(ical.calendar([event]), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug[:60]}.ics"'
    return response


@require_http_methods(["GET", "POST"])
def event_register(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_get_for_user(user=request.user, slug=slug)
    state = event_registration_state(event)
    questions = questions_for(event.registration_form)
    initial = {}
    if request.user.is_authenticated:
        initial = {"name": request.user.get_full_name(), "email": request.user.email}
    form = RegistrationForm(request.POST or None, initial=initial)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    typed = request.POST.copy() if request.method == "POST" else None
    status = 200
    if request.method == "POST" and state.open:
        if ratelimit_exceeded(
            scope="economy-event-register", key=client_address(request), rate=REGISTER_RATE
        ):
            return error_response(request, 429)
        action = request.POST.get("action", "register")
        if questions is not None and typed is not None and action.startswith(("add:", "remove:")):
            _change_entries(typed, action)
            return _register_page(request, event, state, form, questions, typed, {}, {}, 200)
        form_ok = form.is_valid()
        if questions is not None:
            result = questions.clean(request.POST)
            errors, values = result.errors, result.values
        if form.is_robot():
            # a robot filled in the hidden field: it is told "done", nothing is stored
            return redirect("economy:event_list")
        if form_ok and not errors:
            answers = values
            if questions is not None:
                answers = {"form_version": questions.version.pk, "values": values}
            email = form.cleaned_data["email"]
            # Only someone logged in with this very address sees the registration on the
            # page (and is told it exists already); everyone else is pointed to the e-mail,
            # alike for a new and an existing registration: the page tells nobody whether
            # an address is registered.
            own = bool(
                request.user.is_authenticated
                and email.strip().lower() == (request.user.email or "").lower()
            )
            try:
                result_ = registration_create(
                    event_id=event.pk,
                    name=form.cleaned_data["name"],
                    email=email,
                    answers=answers,
                    user=request.user if request.user.is_authenticated else None,
                    language=get_language() or "de",
                )
            except EventError as error:
                if error.code != "duplicate" or own:
                    form.add_error("email" if error.code == "duplicate" else None, error.message)
                else:
                    registration_repeat_notice(event_id=event.pk, email=email)
                    request.session[SESSION_KEY] = {"event": event.pk, "mail_only": True}
                    return redirect("economy:event_registered", slug=event.slug)
            else:
                request.session[SESSION_KEY] = (
                    {
                        "registration": result_.registration.pk,
                        "event": event.pk,
                        "status": result_.registration.status,
                        "checkin": result_.checkin_code,
                    }
                    if own
                    else {"event": event.pk, "mail_only": True}
                )
                return redirect("economy:event_registered", slug=event.slug)
        status = 422
    elif request.method == "POST":
        status = 409
    return _register_page(request, event, state, form, questions, typed, values, errors, status)


def _change_entries(typed: Any, action: str) -> None:
    """Add or remove an entry of a repeatable group (the page comes back, nothing is saved)."""
    from rathaus.forms.views import _shift_entries

    counts = {
        key.removesuffix("__count"): min(int(value), 50)
        for key, value in typed.items()
        if key.endswith("__count") and (value.isascii() and value.isdigit())
    }
    if action.startswith("add:"):
        counts[action[4:]] = counts.get(action[4:], 0) + 1
    else:
        group, _sep, index = action[7:].rpartition(":")
        counts[group] = max(counts.get(group, 1) - 1, 0)
        _shift_entries(
            typed, group, int(index) if (index.isascii() and index.isdigit()) else 0, counts[group]
        )
    for key, value in counts.items():
        typed[f"{key}__count"] = str(value)


def _register_page(
    request: HttpRequest,
    event: Any,
    state: Any,
    form: RegistrationForm,
    questions: Any,
    typed: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int,
) -> HttpResponse:
    from rathaus.forms import rendering

    nodes = questions.nodes(typed, values, errors) if questions is not None else []
    question_errors = rendering.error_list(nodes)
    return render(
        request,
        "economy/events/register.html",
        {
            "event": event,
            "when": event_when(event),
            "state": state,
            "form": form,
            "questions": questions,
            "nodes": nodes,
            "question_errors": question_errors,
            "has_errors": bool(form.errors or question_errors),
        },
        status=status,
    )


@require_safe
def event_registered(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_get_for_user(user=request.user, slug=slug)
    done = request.session.get(SESSION_KEY) or {}
    if done.get("event") != event.pk:
        return redirect("economy:event_detail", slug=event.slug)
    waiting = done.get("status") == RegistrationStatus.WAITING
    mail_only = bool(done.get("mail_only"))
    context: dict[str, Any] = {
        "event": event,
        "when": event_when(event),
        "waiting": waiting,
        "mail_only": mail_only,
    }
    if not (waiting or mail_only):
        url = make_checkin_url(done["checkin"])
        context.update({"qr": qr_data_uri(url), "code": code_display(done["checkin"])})
    return render(request, "economy/events/registered.html", context)


@require_http_methods(["GET", "POST"])
def event_cancel_registration(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners open links), POST cancels."""
    client = client_address(request)
    if ratelimit_blocked(scope="economy-cancel-failures", key=client, rate=CANCEL_FAILURE_RATE):
        return error_response(request, 429)
    registration = registration_by_cancel_token(token=token)
    if registration is None:
        ratelimit_exceeded(scope="economy-cancel-failures", key=client, rate=CANCEL_FAILURE_RATE)
        return render(
            request,
            "economy/events/cancel.html",
            {
                "invalid": _(
                    "Dieser Link zum Abmelden ist ungültig. Bitte prüfen Sie, ob er vollständig ist."
                )
            },
            status=404,
        )
    event = registration.event
    context: dict[str, Any] = {
        "registration": registration,
        "event": event,
        "when": event_when(event),
    }
    if registration.status == RegistrationStatus.CANCELLED:
        context["already"] = True
        return render(
            request,
            "economy/events/cancel.html",
            context,
            status=410 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        try:
            registration_cancel(token=token)
        except EventError as error:
            context["error"] = error.message
            return render(request, "economy/events/cancel.html", context, status=409)
        context["done"] = True
    return render(request, "economy/events/cancel.html", context)


# ---- check-in at the door (staff) ---------------------------------------------------------


@_staff
@require_http_methods(["GET", "POST"])
def event_checkin(request: HttpRequest) -> HttpResponse:
    if not user_is_department_staff(user=request.user):
        return error_response(request, 403)
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _check_in(request, form.cleaned_data["code"], form)
    return render(
        request, "economy/events/checkin.html", {"form": form}, status=422 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def event_checkin_code(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code's address. Staff see who it is and let them in with one button; anyone
    else (the person themselves) is told to show the code at the door."""
    if not user_is_department_staff(user=request.user):
        return render(request, "economy/events/ticket.html", {"code": code_display(code)})
    response: HttpResponse = _checkin_code_for_staff(request, code)
    return response


@second_factor_required
def _checkin_code_for_staff(request: HttpRequest, code: str) -> HttpResponse:
    if request.method == "POST":
        return _check_in(request, code, CheckInForm())
    registration = registration_by_checkin_code(user=request.user, code=code)
    context: dict[str, Any] = {"form": CheckInForm(initial={"code": code}), "code": code}
    if registration is None:
        context["error"] = _("Diesen Einlass-Code kennen wir nicht. Bitte prüfen Sie die Eingabe.")
        return render(request, "economy/events/checkin.html", context, status=404)
    context.update(
        {
            "registration": registration,
            "person": registration_person(registration),
            "event": registration.event,
        }
    )
    return render(request, "economy/events/checkin.html", context)


def _check_in(request: HttpRequest, code: str, form: CheckInForm) -> HttpResponse:
    try:
        result = registration_check_in(actor=cast(User, request.user), code=code)
    except EventError as error:
        return render(
            request,
            "economy/events/checkin.html",
            {"form": form, "error": error.message},
            status=409 if error.code != "unknown_code" else 404,
        )
    registration = result.registration
    return render(
        request,
        "economy/events/checkin.html",
        {
            "form": CheckInForm(),
            "result": result,
            "registration": registration,
            "person": registration_person(registration),
            "event": registration.event,
        },
    )


# ---- staff --------------------------------------------------------------------------------


@_staff
@require_safe
def event_staff_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(event_list_for_staff(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("seite")
    )
    return render(
        request, "economy/events/staff_list.html", {"page": page, "events": page.object_list}
    )


@_staff
@require_http_methods(["GET", "POST"])
def event_staff_create(request: HttpRequest) -> HttpResponse:
    event_list_for_staff(user=request.user)  # the gate
    form = EventForm(
        request.POST or None,
        form_choices=registration_form_choices(),
        initial={"capacity": 30, "waiting_list": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            event = event_create(actor=cast(User, request.user), data=form.to_data())
        except EventError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Die Veranstaltung ist als Entwurf angelegt."))
            return redirect("economy:event_staff_edit", event_id=event.pk)
    return render(
        request,
        "economy/events/staff_edit.html",
        {"form": form, "event": None},
        status=422 if form.errors else 200,
    )


@_staff
@require_http_methods(["GET", "POST"])
def event_staff_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_get_for_staff(user=request.user, event_id=event_id)
    form = EventForm(
        request.POST or None,
        form_choices=registration_form_choices(),
        initial=EventForm.initial_from(event),
    )
    if request.method == "POST" and form.is_valid():
        try:
            event_update(actor=cast(User, request.user), event_id=event.pk, data=form.to_data())
        except EventError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Die Änderungen sind gespeichert."))
            return redirect("economy:event_staff_edit", event_id=event.pk)
    return render(
        request,
        "economy/events/staff_edit.html",
        {"form": form, "event": event},
        status=422 if form.errors else 200,
    )


@_staff
@require_POST
def event_staff_status(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_get_for_staff(user=request.user, event_id=event_id)
    action = request.POST.get("action")
    try:
        if action == "publish":
            event_publish(actor=cast(User, request.user), event_id=event.pk)
            messages.success(request, _("Die Veranstaltung ist veröffentlicht."))
        elif action == "cancel":
            event_cancel(actor=cast(User, request.user), event_id=event.pk)
            messages.success(
                request,
                _("Die Veranstaltung ist abgesagt. Alle Angemeldeten bekommen eine E-Mail."),
            )
        else:
            raise Http404
    except EventError as error:
        messages.error(request, str(error.message))
    return redirect("economy:event_staff_edit", event_id=event.pk)


@_staff
@require_safe
def event_staff_registrations(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_get_for_staff(user=request.user, event_id=event_id)
    rows = registrations_for_staff(user=request.user, event_id=event.pk)
    versions: dict[Any, Any] = {}
    for row in rows:
        answers = row.answers or {}
        version_id = answers.get("form_version") if isinstance(answers, dict) else None
        if version_id and version_id not in versions:
            versions[version_id] = questions_of_version(version_id)
        row.answers = {
            "rows": answer_rows(
                versions.get(version_id), answers.get("values", {}) if version_id else answers
            )
        }
    return render(
        request,
        "economy/events/staff_registrations.html",
        {
            "event": event,
            "confirmed": [r for r in rows if r.status == RegistrationStatus.CONFIRMED],
            "waiting": [r for r in rows if r.status == RegistrationStatus.WAITING],
            "cancelled": [r for r in rows if r.status == RegistrationStatus.CANCELLED],
            "attendance": event_attendance(user=request.user, event_id=event.pk),
            "can_cancel": event.ends_at > timezone.now(),
        },
    )


@_staff
@require_POST
def event_staff_registration_cancel(
    request: HttpRequest, event_id: int, registration_id: int
) -> HttpResponse:
    """Staff cancel a registration for someone who asked them to."""
    event = event_get_for_staff(user=request.user, event_id=event_id)
    try:
        registration_cancel_by_staff(
            actor=cast(User, request.user), event_id=event.pk, registration_id=registration_id
        )
    except EventError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Die Anmeldung ist storniert; die Person bekommt eine E-Mail."),
        )
    return redirect("economy:event_staff_registrations", event_id=event.pk)


@_staff
@require_http_methods(["GET", "POST"])
def event_staff_outcome(request: HttpRequest, event_id: int) -> HttpResponse:
    event = event_get_for_staff(user=request.user, event_id=event_id)
    form = OutcomeForm(request.POST or None, initial=OutcomeForm.initial_from(event))
    if request.method == "POST" and form.is_valid():
        try:
            event_outcome_record(
                actor=cast(User, request.user),
                event_id=event.pk,
                notes=form.cleaned_data["notes"],
                links=form.cleaned_data["links"],
            )
        except EventError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Das Ergebnis ist gespeichert."))
            return redirect(reverse("economy:event_staff_outcome", args=[event.pk]))
    return render(
        request,
        "economy/events/staff_outcome.html",
        {
            "event": event,
            "form": form,
            "attendance": event_attendance(user=request.user, event_id=event.pk),
        },
        status=422 if form.errors else 200,
    )


urlpatterns: list[URLPattern] = [
    path("veranstaltungen/", event_list, name="event_list"),
    path("veranstaltungen/feed.ics", event_feed, name="event_feed"),
    path("veranstaltungen/einlass/", event_checkin, name="event_checkin"),
    path("veranstaltungen/einlass/<str:code>/", event_checkin_code, name="event_checkin_code"),
    path("veranstaltungen/abmelden/<str:token>/", event_cancel_registration, name="event_cancel"),
    path("veranstaltungen/verwaltung/", event_staff_list, name="event_staff_list"),
    path("veranstaltungen/verwaltung/neu/", event_staff_create, name="event_staff_create"),
    path("veranstaltungen/verwaltung/<int:event_id>/", event_staff_edit, name="event_staff_edit"),
    path(
        "veranstaltungen/verwaltung/<int:event_id>/status/",
        event_staff_status,
        name="event_staff_status",
    ),
    path(
        "veranstaltungen/verwaltung/<int:event_id>/anmeldungen/",
        event_staff_registrations,
        name="event_staff_registrations",
    ),
    path(
        "veranstaltungen/verwaltung/<int:event_id>/anmeldungen/<int:registration_id>/abmelden/",
        event_staff_registration_cancel,
        name="event_staff_registration_cancel",
    ),
    path(
        "veranstaltungen/verwaltung/<int:event_id>/ergebnis/",
        event_staff_outcome,
        name="event_staff_outcome",
    ),
    path("veranstaltungen/<slug:slug>/", event_detail, name="event_detail"),
    path("veranstaltungen/<slug:slug>/kalender.ics", event_ics, name="event_ics"),
    path("veranstaltungen/<slug:slug>/anmelden/", event_register, name="event_register"),
    path("veranstaltungen/<slug:slug>/angemeldet/", event_registered, name="event_registered"),
]
