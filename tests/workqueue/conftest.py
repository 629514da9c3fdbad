"""The work queue tests use the plan tests' world (US001, K1000 for ACME, K2000 for GLOBEX, templates)."""

from tests.billing_plans.conftest import world  # noqa: F401
