"""The quick check of a big load file's entries: the entry models as one schema of pydantic's core.

Validating an entry through :class:`ms_prcs.inputs.Entry` models calls a Python validator for the entry and
for each of its values (the rules of :mod:`ms_prcs.inputs`), about 40 µs for a contract with two lines and
two milestones. Refusing a file whose last entry is wrong needs no models of the others, only whether each
is valid, so :func:`quick_check` builds, from the same models, a schema that pydantic's core checks
without Python for the common values:

- an entry is a dict of known keys, the required ones given and not null (``key: null`` is absent), as
  ``Entry._shape`` has it; lists are lists;
- a value is checked by its rule's ``quick`` schema (plain text within its length, a date of the form
  YYYY-MM-DD, a whole number in range...) and, when that does not accept it, by the rule itself.

It accepts only entries the models accept (a test checks it against them); an entry it does not accept is
validated by the models, which say what is wrong. An entry model with validators of its own (a plan)
has no quick check: its entries always go through the model.
"""

from __future__ import annotations

import functools
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic_core import SchemaValidator, core_schema

from ms_prcs.inputs import Entry, Rule

_SHAPE = Entry._shape.__func__


@functools.cache
def quick_check(annotation: Any) -> SchemaValidator | None:
    """The quick check of values of ``annotation`` (an entry model, or a rule's ``Annotated`` type), or
    ``None`` when it has none; ``.isinstance_python(value)`` is True only for a value it accepts."""
    schema = _schema(annotation, [])
    return None if schema is None else SchemaValidator(schema)


def _rule(rule: Rule) -> core_schema.CoreSchema:
    """The rule's quick schema, then the rule itself for what that leaves."""
    validate = core_schema.no_info_plain_validator_function(rule.validate)
    if rule.quick is None:
        return validate
    return core_schema.union_schema([rule.quick, validate], mode="left_to_right")


def _schema(annotation: Any, metadata: list[Any]) -> core_schema.CoreSchema | None:
    if metadata:
        return _rule(metadata[0]) if len(metadata) == 1 and isinstance(metadata[0], Rule) else None
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return _schema(args[0], list(args[1:]))
    if origin is Union or origin is types.UnionType:
        values = [arg for arg in args if arg is not type(None)]
        inner = _schema(values[0], []) if len(values) == 1 else None
        return None if inner is None else core_schema.nullable_schema(inner)
    if origin is list:
        inner = _schema(args[0], [])
        return None if inner is None else core_schema.list_schema(inner, strict=True)
    if isinstance(annotation, type) and issubclass(annotation, Entry):
        return _entry(annotation)
    return None


def _entry(model: type[Entry]) -> core_schema.CoreSchema | None:
    decorators = model.__pydantic_decorators__
    validators = decorators.model_validators
    shape = getattr(validators["_shape"].func, "__func__", None) if set(validators) == {"_shape"} else None
    if shape is not _SHAPE or decorators.field_validators:
        return None
    fields: dict[str, core_schema.TypedDictField] = {}
    for name, info in model.model_fields.items():
        if info.alias is not None or info.validation_alias is not None:
            return None
        schema = _schema(info.annotation, list(info.metadata))
        if schema is None:
            return None
        required = info.is_required()
        # A null is a key left out (Entry._shape), which only a required key may not be.
        fields[name] = core_schema.typed_dict_field(
            schema if required else core_schema.nullable_schema(schema), required=required
        )
    return core_schema.typed_dict_schema(fields, extra_behavior="forbid", strict=True)
