"""Field types for what people write in files (load files, job files) and programs send (request bodies).

Each type accepts what a person would write (``line: "3"`` is line 3; ``active: no`` is not a boolean,
because YAML 1.1's yes/no/on/off have bitten everyone once) and refuses with a message that names the rule
and the value (``expected a date of the form YYYY-MM-DD, got str '2026-02-30'``). The limits are
:mod:`contracts.limits`, read from the models' columns, so a file, the CLI and the database agree.

Models built from these types forbid unknown keys and give every error a location; :func:`error_path`
renders a location as the loader's paths (``contracts[2].lines[0].amount``).

Each rule may also say, as a schema without Python (``quick``), which of the values it accepts are plainly
fine (short text, a number written plainly): a big load file's entries are checked against those first,
in pydantic's core, and only what they do not settle goes through the rules (:mod:`ms_prcs.load.quick`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, NoReturn, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from contracts.errors import InvalidInput
from contracts.keys import CONTRACT_KEY_PATTERN, MILESTONE_KEY_PATTERN, ContractKey, MilestoneKey
from contracts.limits import (
    AMOUNT_DIGITS,
    AMOUNT_PLACES,
    INT32_MAX,
    MAX_TEXT,
    PERCENT_PLACES,
    amount_problem,
    currencies,
    currency_problem,
    excerpt,
    int_problem,
    percentage_problem,
    text_problem,
)

E = TypeVar("E")


def kind(value: Any) -> str:
    """What a value is, as a message says it: ``a list``, ``true/false``, ``str 'soon'``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {excerpt(value)}"


def fail(message: str, key: str | None = None) -> NoReturn:
    """Refuse a value with ``message`` (a ``key`` locates it one level below the value being validated)."""
    context: dict[str, Any] = {"message": message}
    if key is not None:
        context["key"] = key
    raise PydanticCustomError("ms_prcs", "{message}", context)


@dataclass(frozen=True, eq=False)
class Rule:
    """Annotation metadata (``Annotated[str, Text(30)]``): ``validate`` runs before pydantic's own check of
    the type and refuses in our words; ``schema`` is what the JSON Schema says of the field; ``quick``, a
    core schema (no Python), accepts only values that ``validate`` accepts: the common ones, checked
    without calling ``validate`` (:mod:`ms_prcs.load.quick`)."""

    validate: Callable[[Any], Any]
    schema: dict[str, Any]
    quick: core_schema.CoreSchema | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.validate, handler(source))

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(self.schema)


_ALNUM = "[A-Za-z0-9]"
"""A text holding an ASCII letter or digit is not blank once stripped (quick schemas' patterns are pydantic
core's regular expressions: ``$`` is the end of the text, ``[0-9]`` the ASCII digits)."""


def _plain_text(max_length: int | None, nonempty: bool) -> core_schema.CoreSchema:
    """Text no longer than the limit before it is even stripped, not blank if it must not be."""
    limit = MAX_TEXT if max_length is None else max_length
    return core_schema.str_schema(strict=True, max_length=limit, pattern=_ALNUM if nonempty else None)


def _text(max_length: int | None, nonempty: bool) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        if value.__class__ is not str and (
            isinstance(value, bool) or not isinstance(value, str | int | float | Decimal)
        ):
            fail(f"expected text, got {kind(value)}")
        text = value if value.__class__ is str else str(value)
        if problem := text_problem(text.strip(), max_length, required=nonempty):
            fail(f"{problem} ({excerpt(text)})" if "characters" in problem else problem)
        return text

    return validate


def Text(max_length: int | None = None, *, nonempty: bool = False) -> Rule:  # a type
    """Text of at most ``max_length`` characters (a column's length); numbers are read as their text."""
    schema: dict[str, Any] = {"type": ["string", "number"]}
    if max_length is not None:
        schema["maxLength"] = max_length
    if nonempty:
        schema["minLength"] = 1
    return Rule(_text(max_length, nonempty), schema, _plain_text(max_length, nonempty))


def Key(max_length: int | None) -> Rule:  # a type
    """A key (a business unit, a role, a template id): text that is not empty."""
    return Text(max_length, nonempty=True)


def _key_of(parse: Callable[[str], object]) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        text = _text(None, True)(value)
        try:
            parse(text)
        except InvalidInput as exc:
            fail(str(exc))
        return text

    return validate


CONTRACT_KEY = Rule(
    _key_of(ContractKey.parse),
    {"type": "string", "pattern": r"^\s*[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+\s*$"},
    core_schema.str_schema(strict=True, pattern=CONTRACT_KEY_PATTERN),
)
"""``BU/CONTRACT``."""
MILESTONE_KEY = Rule(
    _key_of(MilestoneKey.parse),
    {"type": "string", "pattern": r"^\s*[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+/[0-9]+\s*$"},
    core_schema.str_schema(strict=True, pattern=MILESTONE_KEY_PATTERN),
)
"""``BU/CONTRACT/MS_ID/NUM``."""


def _whole(minimum: int, maximum: int) -> Callable[[Any], int]:
    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            fail(f"expected a whole number, got {kind(value)}")
        try:
            number = int(value)
        except ValueError:
            fail(f"expected a whole number, got {kind(value)}")
        if number < minimum:
            fail(f"must be {minimum} or more, got {number}")
        if problem := int_problem(number, minimum, maximum):
            fail(problem)
        return number

    return validate


def Whole(minimum: int = 0, maximum: int = INT32_MAX) -> Rule:  # a type
    """A whole number from ``minimum`` to ``maximum`` (an ``Integer`` column is 32 bits on PostgreSQL)."""
    schema = {"type": ["integer", "string"], "minimum": minimum, "maximum": maximum}
    return Rule(_whole(minimum, maximum), schema, core_schema.int_schema(strict=True, ge=minimum, le=maximum))


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        fail(f"expected a number, got {kind(value)}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        fail(f"expected a number, got {kind(value)}")
    if not number.is_finite():
        fail(f"expected a number, got {kind(value)}")
    return number


def _amount(credits: bool) -> Callable[[Any], Decimal]:
    def validate(value: Any) -> Decimal:
        number = _number(value)
        if problem := amount_problem(number, credits=credits):
            fail(problem)
        return number

    return validate


def _plain_amount(credits: bool) -> core_schema.CoreSchema:
    """A whole number in range, or a text of digits with at most the amount's places (1 or more, or any
    sign for credits): a Decimal or a float (``amount: 12.5`` in YAML) is left to the rule."""
    digits = AMOUNT_DIGITS - AMOUNT_PLACES
    places = f"(?:\\.[0-9]{{1,{AMOUNT_PLACES}}})?"
    text = f"^-?[0-9]{{1,{digits}}}{places}$" if credits else f"^[1-9][0-9]{{0,{digits - 1}}}{places}$"
    return core_schema.union_schema(
        [
            core_schema.str_schema(strict=True, pattern=text),
            core_schema.int_schema(strict=True, ge=-(10**digits - 1) if credits else 1, le=10**digits - 1),
        ],
        mode="left_to_right",
    )


def Amount(*, credits: bool = False) -> Rule:  # a type
    """Money (:func:`contracts.limits.amount_problem`): more than 0, or any sign where credits are meant."""
    schema = {"type": ["number", "string"], "maximum": 1e13}
    return Rule(_amount(credits), schema, _plain_amount(credits))


def _percentage(value: Any) -> Decimal:
    number = _number(value)
    if problem := percentage_problem(number):
        fail(problem)
    return number


PERCENTAGE = Rule(
    _percentage,
    {"type": ["number", "string"], "exclusiveMinimum": 0, "maximum": 100},
    core_schema.union_schema(
        [
            core_schema.str_schema(
                strict=True,
                pattern=f"^(?:100(?:\\.0{{1,{PERCENT_PLACES}}})?|[1-9][0-9]?(?:\\.[0-9]{{1,{PERCENT_PLACES}}})?)$",
            ),
            core_schema.int_schema(strict=True, ge=1, le=100),
        ],
        mode="left_to_right",
    ),
)


def _date(value: Any) -> dt.date:
    """YAML dates are read as text by the loader (so ``2026-02-30`` is this error, not a crash)."""
    if isinstance(value, dt.datetime):
        fail(f"expected a date (YYYY-MM-DD), got a date and time {value}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    fail(f"expected a date of the form YYYY-MM-DD, got {kind(value)}")


_PLAIN_DATE = (
    "^[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)$"
)
"""YYYY-MM-DD of a day every year has (the 29th of February is left to the rule)."""
DATE = Rule(
    _date, {"type": "string", "format": "date"}, core_schema.str_schema(strict=True, pattern=_PLAIN_DATE)
)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        fail(f"expected true or false, got {kind(value)}")
    return value


FLAG = Rule(_flag, {"type": "boolean"}, core_schema.bool_schema(strict=True))


def _currency(value: Any) -> str:
    text = _text(3, True)(value) if not isinstance(value, str) else value
    if problem := currency_problem(text):
        fail(problem)
    return text.strip().upper()


CURRENCY = Rule(
    _currency,
    {"type": "string", "pattern": "^[A-Za-z]{3}$"},
    core_schema.str_schema(strict=True, pattern=f"^(?:{'|'.join(currencies())})$"),
)
"""An ISO 4217 code, read upper-cased."""


def Choice(choices: Mapping[str, E]) -> Rule:  # a type
    """One of ``choices`` (keys lower-case), matched case-insensitively, read as its value."""

    def validate(value: Any) -> E:
        if isinstance(value, str) and value.strip().lower() in choices:
            return choices[value.strip().lower()]
        fail(f"expected one of {', '.join(choices)}, got {kind(value)}")

    words = sorted({*choices, *(str(v.value if isinstance(v, Enum) else v) for v in choices.values())})
    schema = {"type": "string", "enum": [*words, *(w.upper() for w in words if w.upper() not in words)]}
    return Rule(validate, schema, _plain_choice(choices))


def _plain_choice(choices: Mapping[str, Any]) -> core_schema.CoreSchema | None:
    """One of the (lower-case, ASCII) choices, its letters in either case, unstripped."""
    if not all(choice.isascii() and choice == choice.lower() for choice in choices):
        return None
    spelled = (
        "".join(
            f"[{c}{c.upper()}]" if c.isalpha() else c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in choice
        )
        for choice in choices
    )
    return core_schema.str_schema(strict=True, pattern=f"^(?:{'|'.join(spelled)})$")


def _name(max_length: int | None) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            fail(f"expected a name, got {kind(value)}")
        if problem := text_problem(value.strip(), max_length):
            fail(problem)
        return value.strip()

    return validate


def Name(max_length: int | None = None) -> Rule:  # a type
    """A name in a list (a role, a user, a status): plain text, not empty."""
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if max_length is not None:
        schema["maxLength"] = max_length
    return Rule(_name(max_length), schema, _plain_text(max_length, nonempty=True))


VALUE_NAME_LENGTH, VALUE_LENGTH = 50, 255
"""A named value's name and value (contract attributes, thresholds) are at most this long."""


def _value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal | dt.date):
        fail(f"expected a value, got {kind(value)}")
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if problem := text_problem(text, VALUE_LENGTH, required=False):
        fail(problem)
    return text


def _values(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        fail(f"expected a mapping of names to values, got {kind(value)}")
    result: dict[str, str] = {}
    for name, item in value.items():
        if problem := text_problem(str(name).strip(), VALUE_NAME_LENGTH):
            fail(problem, str(name))
        try:
            result[str(name)] = _value(item)
        except PydanticCustomError as exc:
            fail(str(exc.context["message"]) if exc.context else exc.message(), str(name))
    return result


VALUES = Rule(
    _values,
    {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
    core_schema.dict_schema(
        _plain_text(VALUE_NAME_LENGTH, nonempty=True), _plain_text(VALUE_LENGTH, nonempty=False), strict=True
    ),
)
"""A mapping of names to values (contract attributes, thresholds by business unit)."""


def empty(kind: type[list[Any]] | type[dict[Any, Any]]) -> Any:
    """An empty list or mapping as a field's default, made anew for each entry that leaves the field out
    (pydantic deep-copies a ``= []`` default each time) and shown as the default in the JSON Schema."""
    return Field(default_factory=kind, json_schema_extra={"default": kind()})


class Entry(BaseModel):
    """One mapping of a file: unknown keys refused (a typo silently ignored is a field silently lost),
    required keys given, and ``key: null`` read as absent, as people write it."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        if data.__class__ is not dict and not isinstance(data, Mapping):
            fail(f"expected a mapping, got {kind(data)}")
        known, listed, required = _SHAPES.get(cls) or _shape_of(cls)
        if not known.issuperset(data):
            for name in data:
                if name not in known:
                    fail(f"unknown key (known: {listed})", str(name))
        for name in required:
            if data.get(name) is None:
                fail("is required", name)
        if data.__class__ is dict and None not in data.values():
            return data  # this runs for every entry of a file: no copy when there is nothing to drop
        return {name: value for name, value in data.items() if value is not None}

    def has(self, name: str) -> bool:
        return name in self.model_fields_set


_SHAPES: dict[type[BaseModel], tuple[frozenset[str], str, tuple[str, ...]]] = {}


def _shape_of(model: type[BaseModel]) -> tuple[frozenset[str], str, tuple[str, ...]]:
    """A model's keys, as the message lists them, and its required keys (worked out once per model: this
    runs for every entry of a file)."""
    if model not in _SHAPES:
        fields = model.model_fields
        names = tuple(fields)
        required = tuple(n for n, info in fields.items() if info.is_required())
        _SHAPES[model] = (frozenset(names), ", ".join(names), required)
    return _SHAPES[model]


def error_path(loc: tuple[int | str, ...], context: Mapping[str, Any] | None = None) -> str:
    """``('contracts', 2, 'lines', 0, 'amount')`` as ``contracts[2].lines[0].amount``."""
    parts = [*loc, *([context["key"]] if context and "key" in context else [])]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top)"


def first_problem(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> tuple[str, str]:
    """The first error of a validation as (path, problem), in the loader's words; ``prefix`` is where the
    validated value sits (a streamed entry validated alone is ``("contracts", 7)``)."""
    error = exc.errors(include_url=False)[0]
    loc = prefix + tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    context = error.get("ctx")
    if error["type"] == "ms_prcs" and context:
        return error_path(loc, context), str(context["message"])
    value = error.get("input")
    if error["type"] == "list_type":
        what = "a list of entries" if len(loc) == 1 else "a list"
        return error_path(loc), f"expected {what}, got {kind(value)}"
    if error["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return error_path(loc), f"expected a mapping, got {kind(value)}"
    if error["type"] == "missing":
        return error_path(loc), "is required"
    if error["type"] == "extra_forbidden":
        return error_path(loc), "unknown key"
    return error_path(loc), f"{error['msg']}, got {kind(value)}"
