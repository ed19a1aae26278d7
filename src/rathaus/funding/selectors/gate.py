"""The permission gate of the funding register's staff pages: applications (with everything
that hangs on them: consortium, documents, budget lines, duties) are seen and changed by
department staff only. Programmes and calls are public to read."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from rathaus.accounts.models import User
from rathaus.accounts.selectors import department_staff_required
from rathaus.funding.models import Application

AnyUser = User | AnonymousUser


def application_get_for_staff(*, user: AnyUser, application_id: int) -> Application:
    """One application with its call and programme; ``PermissionDenied`` unless the user is
    department staff, ``Http404`` if there is no such application."""
    department_staff_required(user=user)
    application = (
        Application.objects.select_related("call__programme", "office", "responsible")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise Http404
    return application
