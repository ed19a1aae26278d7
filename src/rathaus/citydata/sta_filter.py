"""``$filter`` of the SensorThings API (its OData subset) as a Django query.

Supported: the comparison operators ``eq ne gt ge lt le``, ``and or not``, parentheses, the
arithmetic operators ``add sub mul div mod``, literals (numbers, 'strings' with '' for a
quote, true/false/null, ISO 8601 date-times with a zone), properties of the entity and of an
entity it points to (``Datastream/id``, ``Thing/name``), and the functions ``substringof``,
``contains``, ``startswith``, ``endswith``, ``length``, ``tolower``, ``toupper``, ``trim``,
``year``, ``month``, ``day``, ``hour``, ``minute``, ``second``, ``round``, ``floor``,
``ceiling``. Not yet: the geospatial functions (``geo.distance``, ``st_within``, ...): 501.
Work per request is bounded: at most MAX_LENGTH characters and MAX_DEPTH nesting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Expression, F, Q, Value
from django.db.models import functions as fn
from django.db.models.lookups import (
    Contains,
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
    StartsWith,
)
from django.utils.translation import gettext_lazy as _

from rathaus.core.errors import message_format

MAX_LENGTH = 2000
MAX_DEPTH = 20
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<string>'(?:[^']|'')*')
    |(?P<punct>[(),])
    |(?P<name>[A-Za-z_][A-Za-z0-9_./]*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": Exact,
    "gt": GreaterThan,
    "ge": GreaterThanOrEqual,
    "lt": LessThan,
    "le": LessThanOrEqual,
}
_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
_TEXT = {"tolower": fn.Lower, "toupper": fn.Upper, "trim": fn.Trim, "length": fn.Length}
_PARTS = {
    "year": fn.ExtractYear,
    "month": fn.ExtractMonth,
    "day": fn.ExtractDay,
    "hour": fn.ExtractHour,
    "minute": fn.ExtractMinute,
    "second": fn.ExtractSecond,
}
_ROUND = {"round": fn.Round, "floor": fn.Floor, "ceiling": fn.Ceil}
_GEO = {
    "geo.distance",
    "geo.length",
    "geo.intersects",
    "st_within",
    "st_intersects",
    "st_contains",
    "st_equals",
    "st_disjoint",
    "st_touches",
    "st_overlaps",
    "st_crosses",
    "st_relate",
}


class FilterError(Exception):
    def __init__(self, code: int, message: Any) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad(position, text[position : position + 10])
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def _bad(position: int, near: str) -> FilterError:
    return FilterError(
        400,
        message_format(
            _("$filter ist fehlerhaft bei Zeichen %(at)s („%(near)s“)."),
            {"at": position + 1, "near": near[:20]},
        ),
    )


class _Parser:
    def __init__(self, text: str, fields: Callable[[str], str | None]) -> None:
        if len(text) > MAX_LENGTH:
            raise FilterError(
                400,
                message_format(_("$filter ist länger als %(max)s Zeichen."), {"max": MAX_LENGTH}),
            )
        self.tokens = _tokens(text)
        self.position = 0
        self.depth = 0
        self.fields = fields

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            at = (
                token.at
                if token
                else (self.tokens[-1].at + len(self.tokens[-1].text) if self.tokens else 0)
            )
            raise _bad(at, token.text if token else "")
        self.position += 1
        return token

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(400, _("$filter ist zu tief verschachtelt."))

    def parse(self) -> Q:
        result = self.boolean()
        if self.peek() is not None:
            token = self.peek()
            assert token is not None  # noqa: S101 - peeked just now
            raise _bad(token.at, token.text)
        return result

    def boolean(self) -> Q:
        left = self.conjunction()
        while self.peek() is not None and self.peek().text == "or":  # type: ignore[union-attr]
            self.take()
            left = left | self.conjunction()
        return left

    def conjunction(self) -> Q:
        left = self.negation()
        while self.peek() is not None and self.peek().text == "and":  # type: ignore[union-attr]
            self.take()
            left = left & self.negation()
        return left

    def negation(self) -> Q:
        token = self.peek()
        if token is not None and token.text == "not":
            self.take()
            self.nested()
            return ~self.negation()
        return self.comparison()

    def comparison(self) -> Q:
        token = self.peek()
        if token is not None and token.text == "(" and self._boolean_group():
            self.take("(")
            self.nested()
            inner = self.boolean()
            self.take(")")
            self.depth -= 1
            return inner
        left = self.sum()
        operator = self.peek()
        if operator is None or operator.text not in (*_COMPARE, "ne"):
            if isinstance(left, Q):
                return left
            at = operator.at if operator else 0
            raise _bad(at, operator.text if operator else "")
        self.take()
        right = self.sum()
        if isinstance(left, Q) or isinstance(right, Q):
            raise _bad(operator.at, operator.text)
        if isinstance(right, Value) and right.value is None:
            return Q(IsNull(left, True)) if operator.text == "eq" else Q(IsNull(left, False))
        if operator.text == "ne":
            return ~Q(Exact(left, right))
        return Q(_COMPARE[operator.text](left, right))

    def _boolean_group(self) -> bool:
        """Whether "(" opens a group of conditions (rather than arithmetic)."""
        depth = 0
        for token in self.tokens[self.position :]:
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if depth == 0:
                    return False
            elif depth == 1 and token.text in (*_COMPARE, "ne", "and", "or", "not"):
                return True
        return False

    def sum(self) -> Any:
        left = self.product()
        while self.peek() is not None and self.peek().text in ("add", "sub"):  # type: ignore[union-attr]
            operator = self.take().text
            right = self.product()
            left = left + right if operator == "add" else left - right
        return left

    def product(self) -> Any:
        left = self.operand()
        while self.peek() is not None and self.peek().text in ("mul", "div", "mod"):  # type: ignore[union-attr]
            operator = self.take().text
            right = self.operand()
            left = (
                left * right
                if operator == "mul"
                else left / right
                if operator == "div"
                else fn.Mod(left, right)
            )
        return left

    def operand(self) -> Any:
        token = self.take()
        if token.kind == "number":
            return Value(
                float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
            )
        if token.kind == "string":
            return Value(token.text[1:-1].replace("''", "'"))
        if token.kind == "datetime":
            try:
                return Value(datetime.fromisoformat(token.text.replace("Z", "+00:00")))
            except ValueError:
                raise _bad(token.at, token.text) from None
        if token.text == "(":
            self.nested()
            inner = self.sum()
            self.take(")")
            self.depth -= 1
            return inner
        if token.kind != "name":
            raise _bad(token.at, token.text)
        if token.text in ("true", "false"):
            return Value(token.text == "true")
        if token.text == "null":
            return Value(None)
        following = self.peek()
        if following is not None and following.text == "(":
            return self.function(token)
        field = self.fields(token.text)
        if field is None:
            raise FilterError(
                400,
                message_format(
                    _("$filter kennt die Eigenschaft „%(name)s“ nicht."), {"name": token.text[:60]}
                ),
            )
        return F(field)

    def function(self, name: Token) -> Any:
        if name.text in _GEO:
            raise FilterError(
                501,
                message_format(
                    _("%(name)s ist in Rathaus noch nicht umgesetzt (siehe docs/citydata.md)."),
                    {"name": name.text},
                ),
            )
        self.take("(")
        self.nested()
        arguments = [self.sum()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take(",")
            arguments.append(self.sum())
        self.take(")")
        self.depth -= 1
        text = name.text
        two = len(arguments) == 2
        if text == "substringof" and two:
            return Q(Contains(arguments[1], arguments[0]))
        if text == "contains" and two:
            return Q(Contains(arguments[0], arguments[1]))
        if text == "startswith" and two:
            return Q(StartsWith(arguments[0], arguments[1]))
        if text == "endswith" and two:
            return Q(EndsWith(arguments[0], arguments[1]))
        if len(arguments) == 1:
            for table in (_TEXT, _PARTS, _ROUND):
                if text in table:
                    function: Expression = table[text](arguments[0])
                    return function
        raise FilterError(
            400,
            message_format(
                _("$filter kennt die Funktion %(name)s mit %(n)s Argumenten nicht."),
                {"name": text[:40], "n": len(arguments)},
            ),
        )


def filter_q(text: str, fields: Callable[[str], str | None]) -> Q:
    """The condition of ``$filter=text``; ``fields`` maps an API property path to an ORM field
    (None: unknown)."""
    if not text.strip():
        raise FilterError(400, _("$filter ist leer."))
    return _Parser(text, fields).parse()
