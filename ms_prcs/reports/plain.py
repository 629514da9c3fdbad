"""Plain values and aligned text tables: the one converter and the one table layout for reports and the CLI.

The CLI sits above the reports (DESIGN 9), so it prints its lists with these too. This module imports no
pandas: the CLI loads it at start-up, and pandas values are recognised by their behaviour (a missing value
is unequal to itself; numpy scalars have ``item``), not by importing their types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any


def jsonable(value: Any, *, datetime_sep: str = "T") -> Any:
    """Plain Python for JSON: Decimals as strings (exact money), dates in ISO form, enums by value, missing
    values (None, NaN, NaT) as None, containers converted item by item.

    ``datetime_sep`` is the separator between a datetime's date and time: the CLI and the service print
    ``T`` (ISO 8601), the reports a space, as their users read them.
    """
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        if value != value:  # pandas' NaT, the missing datetime
            return None
        if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
            value = value.to_pydatetime()
        return value.isoformat(sep=datetime_sep)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, datetime_sep=datetime_sep) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, datetime_sep=datetime_sep) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN, pandas' missing number
        return None
    return value


def text_table(columns: Sequence[str], cells: Sequence[Sequence[str]], right: Sequence[bool] = ()) -> str:
    """Columns padded to their widest cell under a rule of dashes; the columns flagged in ``right`` are
    aligned to the right (numbers), the rest to the left. No rows print as ``(none)``."""
    if not cells:
        return "(none)"
    flags = list(right) or [False] * len(columns)
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        padded = (v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, flags, strict=True))
        return "  ".join(padded).rstrip()

    return "\n".join([line(columns), "  ".join("-" * w for w in widths), *(line(row) for row in cells)])
