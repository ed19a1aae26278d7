"""The hub's rooms under /wirtschaft/raeume/: the list of rooms, a room's week (bookings and
free times, as a table and as text), booking a room, "my bookings", cancelling, and the
staff's room editing. Thin: reads in selectors.rooms, writes in services.rooms."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rathaus.accounts.selectors import department_staff_required, user_is_department_staff
from rathaus.accounts.views import second_factor_required
from rathaus.economy.forms_rooms import BookingForm, RoomForm, WeekForm
from rathaus.economy.selectors import rooms as selectors
from rathaus.economy.services import rooms as services

PAGE_SIZE = 50


@require_safe
def room_list(request: HttpRequest) -> HttpResponse:
    rooms = selectors.room_list_for_user(user=request.user)
    return render(
        request,
        "economy/rooms/list.html",
        {
            "rooms": rooms,
            "staff": user_is_department_staff(user=request.user),
            "may_book": selectors.user_may_book(user=request.user),
        },
    )


@require_safe
def room_detail(request: HttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_user(user=request.user, room_id=room_id)
    today = timezone.localdate()
    form = WeekForm(request.GET or None)
    chosen = today
    if form.is_bound and form.is_valid() and form.cleaned_data["woche"]:
        chosen = form.cleaned_data["woche"]
    monday = selectors.week_start(chosen)
    if not form.is_bound:
        form = WeekForm(initial={"woche": chosen})
    week = selectors.room_week(user=request.user, room=room, monday=monday)
    base = reverse("economy:room_detail", args=[room.pk])
    return render(
        request,
        "economy/rooms/detail.html",
        {
            "room": room,
            "form": form,
            "week": week,
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "today": today,
            "previous_url": f"{base}?woche={(monday - timedelta(days=7)).isoformat()}",
            "next_url": f"{base}?woche={(monday + timedelta(days=7)).isoformat()}",
            "this_week_url": base,
            "opens": selectors.HUB_OPENS,
            "closes": selectors.HUB_CLOSES,
            "staff": user_is_department_staff(user=request.user),
            "may_book": room.active and selectors.user_may_book(user=request.user),
        },
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def booking_create(request: HttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_user(user=request.user, room_id=room_id)
    if not selectors.user_may_book(user=request.user):
        raise PermissionDenied
    staff = user_is_department_staff(user=request.user)
    organisations = list(selectors.organisations_for_booking(user=request.user))
    form = BookingForm(
        request.POST or None,
        capacity=room.capacity,
        organisations=organisations,
        events=list(selectors.events_for_booking()) if staff else None,
        staff=staff,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            booking = services.room_booking_create(
                actor=request.user,  # type: ignore[arg-type]
                room_id=room.pk,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                title=data["title"],
                organisation_id=data.get("organisation"),
                event_id=data.get("event"),
                attendees=data.get("attendees"),
            )
        except services.BookingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.messages)
        else:
            when = formats.date_format(
                timezone.localtime(booking.starts_at), "SHORT_DATETIME_FORMAT"
            )
            messages.success(
                request,
                _("Der Raum %(raum)s ist ab %(beginn)s für Sie gebucht.")
                % {"raum": room.name, "beginn": when},
            )
            return redirect(
                f"{reverse('economy:room_detail', args=[room.pk])}"
                f"?woche={timezone.localtime(booking.starts_at).date().isoformat()}"
            )
    return render(
        request,
        "economy/rooms/book.html",
        {"room": room, "form": form, "staff": staff},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@second_factor_required
@require_safe
def booking_mine(request: HttpRequest) -> HttpResponse:
    past = request.GET.get("vergangene") == "1"
    bookings = selectors.booking_list_for_user(user=request.user, include_past=past)
    page = Paginator(bookings, PAGE_SIZE).get_page(request.GET.get("seite"))
    rows = selectors.bookings_with_cancel_flags(user=request.user, bookings=list(page))
    return render(
        request,
        "economy/rooms/mine.html",
        {"page": page, "rows": rows, "past": past},
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = selectors.booking_get_for_user(user=request.user, booking_id=booking_id)
    if not selectors.booking_is_canceller(user=request.user, booking=booking):
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:
            services.room_booking_cancel(
                actor=request.user,  # type: ignore[arg-type]
                booking_id=booking.pk,
            )
        except services.BookingError as failure:
            error = failure.messages[0]
        else:
            messages.success(request, _("Die Buchung ist storniert."))
            return redirect("economy:room_booking_mine")
    return render(
        request,
        "economy/rooms/cancel.html",
        {
            "booking": booking,
            "error": error,
            "may_cancel": selectors.booking_may_cancel(user=request.user, booking=booking),
        },
        status=400 if error else 200,
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def room_create(request: HttpRequest) -> HttpResponse:
    department_staff_required(user=request.user)
    form = RoomForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except services.BookingError as error:
            form.add_error(error.field, error.messages)
        else:
            messages.success(request, _("Der Raum ist angelegt."))
            return redirect("economy:room_detail", room_id=room.pk)
    return render(
        request,
        "economy/rooms/edit.html",
        {"form": form, "room": None},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def room_edit(request: HttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_staff(user=request.user, room_id=room_id)
    initial = {
        "name": room.name,
        "capacity": room.capacity,
        "equipment": "\n".join(room.equipment or []),
        "accessibility": room.accessibility,
        "wheelchair_accessible": room.wheelchair_accessible,
        "active": room.active,
    }
    form = RoomForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.room_update(
                actor=request.user,  # type: ignore[arg-type]
                room_id=room.pk,
                **form.cleaned_data,
            )
        except services.BookingError as error:
            form.add_error(error.field, error.messages)
        else:
            messages.success(request, _("Die Änderungen sind gespeichert."))
            return redirect("economy:room_detail", room_id=room.pk)
    return render(
        request,
        "economy/rooms/edit.html",
        {"form": form, "room": room},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@second_factor_required
@require_POST
def room_deactivate(request: HttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_staff(user=request.user, room_id=room_id)
    services.room_deactivate(actor=request.user, room_id=room.pk)  # type: ignore[arg-type]
    messages.success(
        request,
        _("Der Raum ist nicht mehr buchbar. Bestehende Buchungen bleiben bestehen."),
    )
    return redirect("economy:room_detail", room_id=room.pk)


urlpatterns: list[URLPattern] = [
    path("raeume/", room_list, name="room_list"),
    path("raeume/neu/", room_create, name="room_create"),
    path("raeume/buchungen/", booking_mine, name="room_booking_mine"),
    path(
        "raeume/buchungen/<int:booking_id>/stornieren/", booking_cancel, name="room_booking_cancel"
    ),
    path("raeume/<int:room_id>/", room_detail, name="room_detail"),
    path("raeume/<int:room_id>/buchen/", booking_create, name="room_booking_create"),
    path("raeume/<int:room_id>/bearbeiten/", room_edit, name="room_edit"),
    path("raeume/<int:room_id>/deaktivieren/", room_deactivate, name="room_deactivate"),
]
