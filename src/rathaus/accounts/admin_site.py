"""The admin site, behind Rathaus' own log-in (throttled, with two-factor once enrolled)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class RathausAdminSite(admin.AdminSite):
    site_header = "Rathaus – Administration"
    site_title = "Rathaus"

    def has_permission(self, request: HttpRequest) -> bool:
        from rathaus.accounts.selectors import user_confirmed_totp_device

        user = request.user
        if not super().has_permission(request):
            return False
        # Enrolled staff must have passed the second factor in this session.
        return bool(user.is_verified()) or user_confirmed_totp_device(user=user) is None  # type: ignore[union-attr,arg-type]

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Rathaus' own log-in stands in for the admin's: throttled, with the second factor."""
        from rathaus.accounts.selectors import user_confirmed_totp_device

        next_url = request.GET.get("next") or reverse("admin:index")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index")
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, reverse("accounts:login"))
        if self.has_permission(request):
            return HttpResponseRedirect(next_url)
        if user.is_staff and user_confirmed_totp_device(user=user) is not None:
            from rathaus.accounts.views import ask_for_second_factor

            return ask_for_second_factor(request, user, next_url)  # password only so far
        raise PermissionDenied
