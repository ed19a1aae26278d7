"""Our form definition format ("rathaus-form/1"), documented in docs/forms.md.

A definition is JSON: steps, each with items (fields, groups, static texts); groups may repeat;
fields keep the FIM id they came from; choices refer to code lists kept in the definition.
These pydantic models validate a definition (whatever its source: FIM import, the staff UI, a
file written by hand) before it is stored.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT: Literal["rathaus-form/1"] = "rathaus-form/1"
FieldType = Literal[
    "text",
    "textarea",
    "number",
    "decimal",
    "money",
    "date",
    "daterange",
    "email",
    "phone",
    "iban",
    "postcode",
    "street",
    "choice",
    "yesno",
    "file",
    "consent",
]
ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$"
MediaType = Literal["application/pdf", "image/png", "image/jpeg"]
MEDIA_TYPES: tuple[str, ...] = get_args(MediaType)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the most any file field accepts


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in German (required) and English (optional; German is shown instead)."""

    de: str = Field(min_length=1, max_length=5000)
    en: str = Field("", max_length=5000)


class Condition(Strict):
    """Show an item only when another field has one of the given values."""

    field: str = Field(pattern=ID_PATTERN)
    equals: list[str] = Field(min_length=1)


class Code(Strict):
    code: str = Field(min_length=1, max_length=100)
    label: Text


class CodeList(Strict):
    title: Text
    source: str = ""  # e.g. the genericode canonical URI
    items: list[Code]


class FieldSpec(Strict):
    kind: Literal["field"] = "field"
    id: str = Field(pattern=ID_PATTERN)
    fim_id: str = ""
    type: FieldType
    label: Text
    help: Text | None = None
    required: bool = False
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=1)
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    codelist: str | None = None
    widget: Literal["radio", "select", "checkboxes"] | None = None
    autocomplete: str | None = None
    condition: Condition | None = None
    # file only: the largest file and the types accepted (all three when empty); how many
    # files: a repeatable group around the field (its repeat.max)
    max_bytes: int | None = Field(None, ge=1, le=MAX_UPLOAD_BYTES)
    media_types: list[MediaType] = Field(default_factory=list)
    # postcode only: the field beside it (same group) that gets the place filled in
    place_field: str | None = Field(None, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def _choices_need_a_code_list(self) -> FieldSpec:
        if self.type == "choice" and not self.codelist:
            raise ValueError(f"field {self.id}: a choice needs a code list")
        if self.place_field and self.type != "postcode":
            raise ValueError(f"field {self.id}: only a postcode field fills in a place")
        if (self.max_bytes or self.media_types) and self.type != "file":
            raise ValueError(f"field {self.id}: size and media types are for file fields")
        if (
            self.min_length is not None
            and self.max_length is not None
            and self.min_length > self.max_length
        ):
            raise ValueError(f"field {self.id}: min_length is larger than max_length")
        return self


class StaticText(Strict):
    kind: Literal["text"] = "text"
    id: str = Field(pattern=ID_PATTERN)
    fim_id: str = ""
    text: Text
    condition: Condition | None = None


class Repeat(Strict):
    min: int = Field(0, ge=0)
    max: int | None = Field(None, ge=1)


class Group(Strict):
    kind: Literal["group"] = "group"
    id: str = Field(pattern=ID_PATTERN)
    fim_id: str = ""
    label: Text
    help: Text | None = None
    required: bool = True
    repeat: Repeat | None = None  # a repeatable group (several children, several directors)
    items: list[Item]
    condition: Condition | None = None


Item = Annotated[FieldSpec | Group | StaticText, Field(discriminator="kind")]


class Step(Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: Text
    items: list[Item] = Field(min_length=1)


class FormDefinition(Strict):
    format: Literal["rathaus-form/1"] = FORMAT
    title: Text
    source: str = ""  # e.g. "FIM S05000058 V1.0"
    steps: list[Step] = Field(min_length=1)
    codelists: dict[str, CodeList] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ids_unique_and_references_known(self) -> FormDefinition:
        seen: set[str] = set()
        for item in iter_items(self):
            if item.id in seen:
                raise ValueError(f"the id {item.id} is used twice")
            seen.add(item.id)
            if (
                isinstance(item, FieldSpec)
                and item.codelist
                and item.codelist not in self.codelists
            ):
                raise ValueError(f"field {item.id}: unknown code list {item.codelist}")
        for items in [step.items for step in self.steps] + [
            item.items for item in iter_items(self) if isinstance(item, Group)
        ]:
            _check_place_fields(items)
        for item in iter_items(self):
            if item.condition and item.condition.field not in seen:
                raise ValueError(
                    f"{item.id}: its condition refers to unknown field {item.condition.field}"
                )
        return self


def _check_place_fields(items: list[FieldSpec | Group | StaticText]) -> None:
    """A postcode fills in a text field beside it, in the same group (so that each entry of a
    repeatable group has its own pair)."""
    siblings = {item.id: item for item in items if isinstance(item, FieldSpec)}
    for item in siblings.values():
        if item.place_field is None:
            continue
        target = siblings.get(item.place_field)
        if target is None or target.type != "text":
            raise ValueError(
                f"field {item.id}: its place field {item.place_field} must be a text field "
                "in the same group"
            )


def iter_items(definition: FormDefinition) -> list[FieldSpec | Group | StaticText]:
    """Every item of every step, groups before their contents."""
    found: list[FieldSpec | Group | StaticText] = []

    def walk(items: list[FieldSpec | Group | StaticText]) -> None:
        for item in items:
            found.append(item)
            if isinstance(item, Group):
                walk(item.items)

    for step in definition.steps:
        walk(step.items)
    return found


def fields_of(definition: FormDefinition) -> list[FieldSpec]:
    return [item for item in iter_items(definition) if isinstance(item, FieldSpec)]
