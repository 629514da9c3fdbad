"""The domain's schema: importing this module registers the tables of ``contracts`` on ``Base.metadata``.

The approval layer's tables live with the layer (``ms_prcs.approvals.models``), one floor up; anything that
needs the whole schema at once (Alembic, the migration checks) imports :data:`ms_prcs.schema.METADATA`.
"""

from typing import cast

import sqlalchemy as sa

from contracts import finops_models as _finops_models  # noqa: F401
from contracts import identity_models as _identity_models  # noqa: F401
from contracts import run_models as _run_models  # noqa: F401
from contracts.models import Base

METADATA = Base.metadata


def table_of(model: type[Base]) -> sa.Table:
    """The Core table of a mapped model, typed as one.

    SQLAlchemy types ``Model.__table__`` as ``FromClause``; the set-based engine and reports need the
    ``Table`` (its ``.c``, ``insert()``, ``update()``), so the one cast lives here instead of at every use.
    """
    return cast(sa.Table, model.__table__)
