"""The complete schema: importing this module registers every mapped table on ``Base.metadata``.

The approval layer's tables live in their own module (``workflow_models``); anything that needs the whole
schema at once (Alembic, the migration checks) imports it from here rather than from ``models``.
"""

from contracts import finops_models as _finops_models  # noqa: F401
from contracts import identity_models as _identity_models  # noqa: F401
from contracts import run_models as _run_models  # noqa: F401
from contracts import workflow_models as _workflow_models  # noqa: F401
from contracts.models import Base

METADATA = Base.metadata
