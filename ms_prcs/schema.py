"""The complete schema: importing this module registers every mapped table on ``Base.metadata``.

The domain's tables come with :mod:`contracts.schema`, the approval layer's with
:mod:`ms_prcs.approvals.models` (``contracts`` may not import it). Alembic and the migration checks read
:data:`METADATA` from here.
"""

from contracts.schema import METADATA
from ms_prcs.approvals import models as _approval_models  # noqa: F401

__all__ = ["METADATA"]
