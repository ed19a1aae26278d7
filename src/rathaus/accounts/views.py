"""Log-in (password, magic link), two-factor, log-out, the account page and the staff's
offices. Thin: forms validate, services write, selectors read and guard."""

from __future__ import annotations

import base64
from functools import wraps
from io import BytesIO
from typing import Any, cast

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from rathaus.accounts.forms import LoginForm, MagicLinkForm, TokenForm
from rathaus.accounts.models import User
from rathaus.accounts.selectors import (
    office_children,
    office_get_for_user,
    office_list_for_user,
    office_members,
    user_confirmed_totp_device,
    user_is_staff_member,
    user_roles,
)
from rathaus.accounts.services import (
    magic_link_request,
    magic_link_user_get,
    totp_device_confirm,
    totp_device_start,
    user_password_set,
)
from rathaus.core.errors import error_response
from rathaus.core.ratelimit import client_address, ratelimit_exceeded

PENDING_2FA_KEY = "rathaus_2fa_user"
PENDING_2FA_NEXT = "rathaus_2fa_next"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


def ask_for_second_factor(request: HttpRequest, user: Any, next_url: str) -> HttpResponse:
    """The password (or link) was right; the enrolled second factor comes next, then
    ``next_url``. Used by every way in: log-in, magic link, staff pages, the admin."""
    request.session[PENDING_2FA_KEY] = user.pk
    request.session[PENDING_2FA_NEXT] = next_url
    return redirect("accounts:login_2fa")


def lockout(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes: the answer once too many log-ins failed."""
    return error_response(
        request,
        429,
        _(
            "Zu viele fehlgeschlagene Anmeldeversuche. Aus Sicherheitsgründen ist die Anmeldung "
            "für %(minutes)d Minuten gesperrt."
        )
        % {"minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        device = user_confirmed_totp_device(user=user)
        if device is not None:
            return ask_for_second_factor(request, user, _safe_next(request, "accounts:profile"))
        login(request, user, backend=MODEL_BACKEND)
        return HttpResponseRedirect(_safe_next(request, "accounts:profile"))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", ""), "magic_form": MagicLinkForm()},
    )


@require_http_methods(["GET", "POST"])
def login_2fa_view(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_2FA_KEY)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    device = user_confirmed_totp_device(user=user) if user else None
    if user is None or device is None:
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            next_url = request.session.pop(PENDING_2FA_NEXT, reverse("accounts:profile"))
            request.session.pop(PENDING_2FA_KEY, None)
            login(request, user, backend=MODEL_BACKEND)
            otp_login(request, device)
            return HttpResponseRedirect(next_url)
        if ratelimit_exceeded(scope="2fa", key=str(user.pk), rate="10/h"):
            request.session.pop(PENDING_2FA_KEY, None)
            return error_response(request, 429)
        form.add_error(
            "token", _("Der Code ist falsch oder abgelaufen. Bitte versuchen Sie es erneut.")
        )
    return render(request, "accounts/login_2fa.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("Sie sind abgemeldet."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def magic_link_request_view(request: HttpRequest) -> HttpResponse:
    form = MagicLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        limited = ratelimit_exceeded(
            scope="magic-link-ip", key=client_address(request), rate=settings.RATELIMIT_MAGIC_LINK
        ) or ratelimit_exceeded(
            scope="magic-link-email", key=email.lower(), rate=settings.RATELIMIT_MAGIC_LINK
        )
        if limited:
            return error_response(request, 429)
        magic_link_request(
            email=email,
            language=get_language() or "de",
            next_url=_safe_next(request, "accounts:profile"),
        )
        return render(request, "accounts/magic_link_sent.html", {"email": email})
    return render(request, "accounts/magic_link.html", {"form": form})


@require_http_methods(["GET", "POST"])
def magic_link_login_view(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not use up the token.
    user = magic_link_user_get(token=token)
    if user is None:
        return render(request, "accounts/magic_link_invalid.html", status=400)
    if request.method == "POST":
        device = user_confirmed_totp_device(user=user)
        if device is not None:
            return ask_for_second_factor(request, user, _safe_next(request, "accounts:profile"))
        login(request, user, backend=MODEL_BACKEND)
        return HttpResponseRedirect(_safe_next(request, "accounts:profile"))
    return render(
        request, "accounts/magic_link_confirm.html", {"next": request.GET.get("next", "")}
    )


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    return render(
        request,
        "accounts/profile.html",
        {
            "roles": sorted(user_roles(user=user)),
            "is_staff_member": user_is_staff_member(user=user),
            "has_2fa": user_confirmed_totp_device(user=user) is not None,
            "offices": office_list_for_user(user=user)[:50],
        },
    )


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup_view(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if user_confirmed_totp_device(user=user) is not None:
        messages.info(request, _("Die Zwei-Faktor-Anmeldung ist bereits eingerichtet."))
        return redirect("accounts:profile")
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or request.method == "GET":
        device = totp_device_start(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp_device_confirm(user=user, device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            messages.success(request, _("Die Zwei-Faktor-Anmeldung ist eingerichtet."))
            return redirect("accounts:profile")
        form.add_error(
            "token", _("Der Code ist falsch. Bitte prüfen Sie die Uhrzeit Ihres Geräts.")
        )
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "secret": secret, "qr": _qr_svg(device.config_url)},
    )


def second_factor_required(view: Any) -> Any:
    """Staff pages: a user with an enrolled second factor must have passed it in this session
    (a session started before enrolment, or by magic link, is sent to the code step)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]
            and user_confirmed_totp_device(user=user) is not None
        ):
            return ask_for_second_factor(request, user, request.get_full_path())
        response: HttpResponse = view(request, *args, **kwargs)
        return response

    return wrapped


def staff_page(view: Any) -> Any:
    """A page for signed-in staff: logged in, second factor passed (the selectors and services
    behind it check the role and the object)."""
    return login_required(second_factor_required(view))


def actor_of(request: HttpRequest) -> User:
    """The logged-in user of a ``staff_page`` (which has made sure there is one)."""
    return cast(User, request.user)


@login_required
@second_factor_required
def office_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(office_list_for_user(user=request.user), 50).get_page(request.GET.get("seite"))
    return render(request, "accounts/office_list.html", {"offices": page, "page": page})


@login_required
@second_factor_required
def office_detail_view(request: HttpRequest, office_id: int) -> HttpResponse:
    office = office_get_for_user(user=request.user, office_id=office_id)
    return render(
        request,
        "accounts/office_detail.html",
        {
            "office": office,
            "memberships": office_members(office=office),
            "children": office_children(office=office),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    """Change the password, or set a first one for an account made by magic link."""
    user = cast(User, request.user)
    form_class = PasswordChangeForm if user.has_usable_password() else SetPasswordForm
    form = form_class(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_password_set(user=user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, _("Ihr Passwort ist gespeichert."))
        return redirect("accounts:profile")
    return render(request, "accounts/password.html", {"form": form})
