"""The public site: home page, the pillars' entry pages and the legal pages. The pillars
fill their pages in as their apps arrive."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

PILLARS = {
    "buergerservice": (
        _("Bürgerservice"),
        _("Leistungen der Stadt finden, Anträge online stellen und ihren Stand verfolgen."),
    ),
    "mobilitaet": (
        _("Mobilität & Stadtdaten"),
        _("Abfahrten, Verbindungen und die Qualität des Nahverkehrs; offene Daten der Stadt."),
    ),
    "wirtschaft": (
        _("Digitale Wirtschaft"),
        _("Unternehmen, Start-ups und Forschung in der Stadt: wer macht was, wer sucht wen."),
    ),
    "leipzig-digital": (
        _("Leipzig.digital"),
        _("Die Digitalstrategie der Stadt, ihre Maßnahmen, Förderprojekte und Wettbewerbe."),
    ),
}
LEGAL = {
    "impressum": _("Impressum"),
    "datenschutz": _("Datenschutz"),
    "barrierefreiheit": _("Barrierefreiheit"),
}


# Pillars whose app has arrived have their own start page.
PILLAR_PAGES = {
    "buergerservice": "catalog:index",
    "mobilitaet": "transit:index",
    "wirtschaft": "economy:index",
}


def _pillar_url(slug: str) -> str:
    return (
        reverse(PILLAR_PAGES[slug])
        if slug in PILLAR_PAGES
        else reverse("public:pillar", args=[slug])
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    pillars = [
        {"url": _pillar_url(slug), "title": title, "text": text}
        for slug, (title, text) in PILLARS.items()
    ]
    return render(request, "public/home.html", {"pillars": pillars})


@require_safe
def pillar(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in PILLARS:
        raise Http404
    if slug in PILLAR_PAGES:
        return redirect(PILLAR_PAGES[slug], permanent=True)
    title, text = PILLARS[slug]
    return render(request, "public/pillar.html", {"slug": slug, "title": title, "text": text})


@require_safe
def legal(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in LEGAL:
        raise Http404
    return render(request, f"public/legal_{slug}.html", {"title": LEGAL[slug]})
