"""A published form's questions asked inside another app's page: every step of the form's
published version on one page (an event's registration, a competition entry ...), rendered
with the forms app's nodes and checked by its validation. The other app stores the answers
as ``{"form_version": id, "values": {...}}`` and shows them again with ``answer_rows``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, QueryDict

from rathaus.forms import rendering
from rathaus.forms.definition import FieldSpec, FormDefinition, Group, Item
from rathaus.forms.models import FormVersion
from rathaus.forms.selectors import definition_of, form_published_version
from rathaus.forms.validation import StepResult, clean_items

MAX_REPEAT = 50


@dataclass
class Questions:
    """A form's questions: every step of one version on one page."""

    version: FormVersion
    definition: FormDefinition
    items: list[Item]

    @property
    def title(self) -> str:
        return rendering.text(self.definition.title)

    def clean(self, post: QueryDict) -> StepResult:
        typed = post.copy()
        result = StepResult()
        clean_items(self.items, typed, {}, self.definition, result)
        return result

    def nodes(
        self, typed: QueryDict | None, values: dict[str, Any], errors: dict[str, str]
    ) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        if typed is not None:
            for key in typed:
                value = str(typed.get(key, ""))
                if key.endswith("__count") and (value.isascii() and value.isdigit()):
                    counts[key.removesuffix("__count")] = min(int(value), MAX_REPEAT)
        return rendering.build(self.items, self.definition, values, typed, errors, counts)


def _of_version(version: FormVersion) -> Questions:
    definition = definition_of(version)
    items = [item for step in definition.steps for item in step.items]
    return Questions(version=version, definition=definition, items=items)


def questions_for(slug: str) -> Questions | None:
    """The questions of the form ``slug``, or None when none are asked (or the form has no
    published version any more: then the page asks its own fields, nothing breaks)."""
    if not slug:
        return None
    try:
        version = form_published_version(slug=slug)
    except Http404:
        return None
    return _of_version(version)


def questions_of_version(version_id: int | None) -> Questions | None:
    """The questions as they were asked (the version stored with the answers)."""
    if version_id is None:
        return None
    version = FormVersion.objects.select_related("form").filter(pk=version_id).first()
    if version is None:
        return None
    return _of_version(version)


def answer_rows(questions: Questions | None, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers as label/value rows, as the forms app shows a summary."""
    if questions is None or not answers:
        return [{"label": key, "value": str(value)} for key, value in answers.items()]
    rows = []
    for section in rendering.summary_sections(questions.definition, answers):
        rows += section["rows"]
    return rows


def has_files(items: list[Item]) -> bool:
    """Whether any of ``items`` (groups included) asks for a file: pages that are not the
    forms app's own do not take uploads."""
    for item in items:
        if isinstance(item, FieldSpec) and item.type == "file":
            return True
        if isinstance(item, Group) and has_files(item.items):
            return True
    return False


def repeat_change(typed: QueryDict, action: str) -> None:
    """Add (``add:<group>``) or remove (``remove:<group>:<index>``) an entry of a repeatable
    group in the posted inputs ``typed`` (mutable): the page comes back, nothing is saved."""
    from rathaus.forms.views import _shift_entries

    counts: dict[str, int] = {}
    for key in typed:
        value = str(typed.get(key, ""))
        if key.endswith("__count") and (value.isascii() and value.isdigit()):
            counts[key.removesuffix("__count")] = min(int(value), MAX_REPEAT)
    if action.startswith("add:"):
        counts[action[4:]] = min(counts.get(action[4:], 0) + 1, MAX_REPEAT)
    elif action.startswith("remove:"):
        group, _sep, index = action[7:].rpartition(":")
        counts[group] = max(counts.get(group, 1) - 1, 0)
        _shift_entries(
            typed, group, int(index) if (index.isascii() and index.isdigit()) else 0, counts[group]
        )
    for key, count in counts.items():
        typed[f"{key}__count"] = str(count)
