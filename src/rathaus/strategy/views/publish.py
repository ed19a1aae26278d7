"""Drafts and publishing for department staff: the dashboard of a strategy's current draft
(computed, not saved, under an unmistakable banner) and publishing it as the next published
state after seeing what would change for the public."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from rathaus.accounts.views import actor_of, staff_page
from rathaus.strategy.selectors import public as public_selectors
from rathaus.strategy.selectors.gate import strategy_get_for_staff
from rathaus.strategy.selectors.snapshot import snapshot_changes, strategy_snapshot
from rathaus.strategy.services import StrategyError
from rathaus.strategy.services.publication import NOTE_MAX, strategy_publish
from rathaus.strategy.views.public import dashboard_context


class PublishForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Was sich geändert hat"),
        help_text=gettext_lazy("Erscheint in der Liste der veröffentlichten Stände."),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@require_safe
@staff_page
def draft(request: HttpRequest, strategy_id: int) -> HttpResponse:
    """The dashboard of the strategy as it is now, not as published."""
    strategy = strategy_get_for_staff(user=actor_of(request), strategy_id=strategy_id)
    state = public_selectors.draft_state(
        strategy_id=strategy.pk, data=strategy_snapshot(strategy=strategy), now=timezone.now()
    )
    context = dashboard_context(request, state, draft=True)
    context["strategy_id"] = strategy.pk
    return render(request, "strategy/public/dashboard.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page
def publish(request: HttpRequest, strategy_id: int) -> HttpResponse:
    """GET: what publishing would change for the public, and a note; POST: publish."""
    actor = actor_of(request)
    strategy = strategy_get_for_staff(user=actor, strategy_id=strategy_id)
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            publication = strategy_publish(
                actor=actor, strategy_id=strategy.pk, note=form.cleaned_data["note"]
            )
        except StrategyError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Stand %(number)d ist veröffentlicht.") % {"number": publication.number},
            )
            return redirect("strategy:dashboard", slug=strategy.slug)
    newest = public_selectors.newest_state_of(strategy_id=strategy.pk)
    changes = snapshot_changes(
        before=newest.data if newest is not None else None,
        after=strategy_snapshot(strategy=strategy),
    )
    return render(
        request,
        "strategy/publish/confirm.html",
        {"strategy": strategy, "form": form, "newest": newest, "changes": changes},
    )


urlpatterns: list[URLPattern] = [
    path("verwaltung/strategien/<int:strategy_id>/entwurf/", draft, name="draft"),
    path("verwaltung/strategien/<int:strategy_id>/veroeffentlichen/", publish, name="publish"),
]
