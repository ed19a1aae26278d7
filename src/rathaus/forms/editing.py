"""Pure functions for the staff editor: the editable rows of a definition, applying edits,
and the differences between two versions (shown before publishing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rathaus.forms.definition import FieldSpec, FormDefinition, Group, Item, StaticText, Text


@dataclass
class Row:
    """One editable item, with its place in the tree."""

    id: str
    kind: str
    depth: int
    step: int
    position: int
    label_de: str
    label_en: str
    help_de: str
    help_en: str
    required: bool | None  # None for static texts
    type: str


def rows(definition: FormDefinition) -> list[Row]:
    found: list[Row] = []

    def walk(items: list[Item], step: int, depth: int) -> None:
        for position, item in enumerate(items, start=1):
            label = item.text if isinstance(item, StaticText) else item.label
            help_text = None if isinstance(item, StaticText) else item.help
            found.append(
                Row(
                    id=item.id,
                    kind=item.kind,
                    depth=depth,
                    step=step,
                    position=position,
                    label_de=label.de,
                    label_en=label.en,
                    help_de=help_text.de if help_text else "",
                    help_en=help_text.en if help_text else "",
                    required=None if isinstance(item, StaticText) else item.required,
                    type=item.type if isinstance(item, FieldSpec) else item.kind,
                )
            )
            if isinstance(item, Group):
                walk(item.items, step, depth + 1)

    for number, step in enumerate(definition.steps, start=1):
        walk(step.items, number, 0)
    return found


def apply_edits(definition: FormDefinition, edits: dict[str, dict[str, Any]]) -> FormDefinition:
    """A new definition with label, help text, required flag and position changed per item id.
    Items are re-ordered within their parent by the given positions (stable for ties)."""

    def edit(item: Item) -> Item:
        change = edits.get(item.id, {})
        update: dict[str, Any] = {}
        if isinstance(item, StaticText):
            if change.get("label_de"):
                update["text"] = Text(de=change["label_de"], en=change.get("label_en", ""))
        else:
            if change.get("label_de"):
                update["label"] = Text(de=change["label_de"], en=change.get("label_en", ""))
            if "help_de" in change:
                update["help"] = (
                    Text(de=change["help_de"], en=change.get("help_en", ""))
                    if change["help_de"]
                    else None
                )
            if "required" in change:
                update["required"] = bool(change["required"])
        if isinstance(item, Group):
            update["items"] = reorder([edit(child) for child in item.items])
        return item.model_copy(update=update)

    def reorder(items: list[Item]) -> list[Item]:
        keyed = [
            (int(edits.get(item.id, {}).get("position") or index), index, item)
            for index, item in enumerate(items, start=1)
        ]
        return [item for _, _, item in sorted(keyed, key=lambda entry: (entry[0], entry[1]))]

    steps = [
        step.model_copy(update={"items": reorder([edit(i) for i in step.items])})
        for step in definition.steps
    ]
    # Validate again: whatever was edited, the result must be a valid definition.
    return FormDefinition.model_validate(
        definition.model_copy(update={"steps": steps}).model_dump()
    )


@dataclass
class Change:
    id: str
    what: str  # "added", "removed", "changed"
    detail: str


def differences(old: FormDefinition | None, new: FormDefinition) -> list[Change]:
    """What publishing ``new`` changes compared with the published ``old``."""
    new_rows = {row.id: row for row in rows(new)}
    if old is None:
        return [Change(id=r.id, what="added", detail=r.label_de) for r in new_rows.values()]
    old_rows = {row.id: row for row in rows(old)}
    changes = [
        Change(id=i, what="added", detail=r.label_de)
        for i, r in new_rows.items()
        if i not in old_rows
    ]
    changes += [
        Change(id=i, what="removed", detail=r.label_de)
        for i, r in old_rows.items()
        if i not in new_rows
    ]
    for item_id, row in new_rows.items():
        before = old_rows.get(item_id)
        if before is None:
            continue
        for attribute in (
            "label_de",
            "label_en",
            "help_de",
            "help_en",
            "required",
            "type",
            "step",
            "position",
        ):
            a, b = getattr(before, attribute), getattr(row, attribute)
            if a != b:
                changes.append(
                    Change(id=item_id, what="changed", detail=f"{attribute}: {a!r} → {b!r}")
                )
    return changes
