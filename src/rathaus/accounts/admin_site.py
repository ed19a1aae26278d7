"""The admin site, behind Rathaus' own log-in (throttled, with two-factor once enrolled)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


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
        return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
