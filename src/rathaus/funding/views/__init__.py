"""The funding register's pages, one module per part (see ``funding/urls.py``). Shared here:
how a staff page is wrapped and who acts."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest

from rathaus.accounts.models import User
from rathaus.accounts.views import second_factor_required


def staff_page(view: Any) -> Any:
    """A page for department staff: logged in, second factor passed (the selectors and services
    behind it check the role)."""
    return login_required(second_factor_required(view))


def actor_of(request: HttpRequest) -> User:
    """The logged-in user of a staff page (``staff_page`` has made sure there is one)."""
    return cast(User, request.user)
