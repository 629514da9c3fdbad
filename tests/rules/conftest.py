"""The approval tests' world (roles, users, contract US001/K1000) for the rules tests too."""

from tests.approvals.conftest import world

__all__ = ["world"]
