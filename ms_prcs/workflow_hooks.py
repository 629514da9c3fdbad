"""What follows a change to a contract, in one place for the CLI and load files.

``contracts`` cannot import the layers above it, so a contract status, attribute or amount change cannot
itself ready plans, submit approvals or revert them. Callers that change a contract go through these
functions instead, which make the change and then run every rule that reacts to it, in the caller's
transaction (a refusal by any rule undoes the change).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing_plans import plans
from contracts import admin
from contracts.audit import Who
from contracts.keys import ContractKey
from contracts.status import ContractStatus


def change_contract_status(session: Session, key: ContractKey, new: ContractStatus, who: Who) -> list[str]:
    """Set the contract's status, then what activation implies; returns notes for the person who did it."""
    admin.set_contract_status(session, key, new, who)
    notes: list[str] = []
    if new == ContractStatus.ACTIVE:
        notes += [
            f"plan {o.plan} set Ready on contract activation"
            for o in plans.ready_on_activation(session, key, who)
            if o.readied
        ]
    return notes
