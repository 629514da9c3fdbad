"""The domain's schema: importing this module registers the tables of ``contracts`` on ``Base.metadata``.

The approval layer's tables live with the layer (``ms_prcs.approvals.models``), one floor up; anything that
needs the whole schema at once (Alembic, the migration checks) imports :data:`ms_prcs.schema.METADATA`.
"""

from contracts import finops_models as _finops_models  # noqa: F401
from contracts import identity_models as _identity_models  # noqa: F401
from contracts.models import Base

METADATA = Base.metadata
