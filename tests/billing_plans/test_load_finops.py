"""The load format's holds, alert_contacts and webhooks sections: the same services as the CLI, refused
whole with the entry's path."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_plans import holds
from contracts import admin
from contracts.finops_models import UserContact
from ms_prcs import webhooks
from tests.billing_plans.conftest import activate, create, template
from tests.conftest import CliInvoke

DOCUMENT = """
holds:
  - {kind: plan, key: US001/K1000/1/BP, reason: customer dispute}
  - {kind: contract, key: US001/K2000, reason: credit check, one_cycle: true}
alert_contacts:
  - {user: ana, email: ana@example.com}
webhooks:
  - consumer: erp
    url: http://127.0.0.1:9/hook
    secret: s3cret-for-the-erp-0123
    kinds: [billing_event_eligible]
    max_attempts: 3
"""


def test_load_finops_sections(world: Session, cli: CliInvoke, tmp_path: Path) -> None:
    activate(world)
    template(world, "BP", ["MS-USER=100%"], ready_on_activation=True)
    create(world, "BP")
    admin.add_user(world, "ana")
    world.commit()
    path = tmp_path / "finops.yaml"
    path.write_text(DOCUMENT)
    out = cli("load", str(path))
    assert out.exit_code == 0, out.output
    world.expire_all()
    assert [(h.kind, h.key, h.one_cycle) for h in holds.list_holds(world)] == [
        ("plan", "US001/K1000/1/BP", False),
        ("contract", "US001/K2000", True),
    ]
    assert world.scalars(select(UserContact.email)).all() == ["ana@example.com"]
    assert [(w.consumer, w.kinds, w.max_attempts) for w in webhooks.subscriptions(world)] == [
        ("erp", ("billing_event_eligible",), 3)
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("holds:\n  - {kind: plan, key: US001/K1000/1/NOPE, reason: x}\n")
    refused = cli("load", str(bad))
    assert refused.exit_code == 2  # a refused load file is bad input (LoadError)
    assert refused.stderr == f"Error: {bad}: holds[0]: plan US001/K1000/1/NOPE does not exist\n"
