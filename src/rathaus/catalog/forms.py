from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rathaus.catalog.selectors import (
    ServiceFilters,
    life_situation_list,
    office_list_with_services,
    topic_list,
)
from rathaus.core.search import MAX_QUERY_CHARS


class ServiceSearchForm(forms.Form):
    """The search and its filters (GET). Every field is optional; a bad value is ignored
    with a message rather than breaking the page."""

    q = forms.CharField(
        label=_("Wonach suchen Sie?"),
        required=False,
        help_text=_("Zum Beispiel „Ummeldung“, „Hund anmelden“ oder „Gewerbe“."),
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}
        ),
    )
    lebenslage = forms.ChoiceField(label=_("Lebenslage"), required=False)
    themenfeld = forms.ChoiceField(label=_("Themenfeld"), required=False)
    amt = forms.TypedChoiceField(
        label=_("Zuständige Stelle"), required=False, coerce=int, empty_value=None
    )
    online = forms.BooleanField(label=_("nur Leistungen, die online möglich sind"), required=False)
    seite = forms.IntegerField(required=False, min_value=1, max_value=50, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        everything: list[tuple[object, object]] = [("", _("alle"))]
        choices: dict[str, list[tuple[object, object]]] = {
            "lebenslage": [(x.slug, x.name) for x in life_situation_list()],
            "themenfeld": [(x.slug, x.name) for x in topic_list()],
            "amt": [(x.pk, x.name) for x in office_list_with_services()],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
            field.choices = everything + options

    def clean_q(self) -> str:
        return str(self.cleaned_data.get("q") or "")[: MAX_QUERY_CHARS * 50]

    def filters(self) -> ServiceFilters:
        # A field with a bad value (an old bookmark's Lebenslage) is dropped on its own; the
        # other filters still apply.
        if not self.is_bound:
            return ServiceFilters()
        self.is_valid()
        data = self.cleaned_data
        return ServiceFilters(
            life_situation=data.get("lebenslage") or "",
            topic=data.get("themenfeld") or "",
            office=data.get("amt"),
            online=bool(data.get("online")),
        )
