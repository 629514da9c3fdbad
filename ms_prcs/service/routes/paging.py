"""The paging parameters every list takes: ``offset`` and ``limit`` (1 to 1000, default 100)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page.")]
