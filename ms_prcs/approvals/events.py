"""What a contract change does to its approvals: called by the entry point after the change is made.

``contracts`` cannot import this package, so ``contracts.admin.set_contract_status`` and ``set_attribute``
know nothing of approvals; ``ms_prcs.approvals.hooks`` (the CLI's and load files' way to change a contract)
calls these functions after the change, in the same transaction. Each returns notes for the person who made
the change, one per approval submitted or withdrawn.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from contracts.audit import Who
from contracts.keys import ContractKey, get_contract
from ms_prcs.approvals.submit import auto_submit, withdraw_for_attribute


def on_contract_status(session: Session, contract: ContractKey, who: Who) -> list[str]:
    """The contract's status changed: submit the approvals whose submit mode waits for that status."""
    return _sync(session, contract, who, [])


def on_milestone_ready(session: Session, contract: ContractKey, who: Who) -> list[str]:
    """A milestone of the contract was set Ready: approvals only a Ready milestone may be submitted for,
    whose submit mode already holds (the contract already has its status or attribute), are submitted now
    rather than at the next run."""
    return _sync(session, contract, who, [])


def on_attribute_change(session: Session, contract: ContractKey, name: str, who: Who) -> list[str]:
    """Attribute ``name`` changed: withdraw the approvals it submitted that nobody has acted on and whose
    value no longer matches, then submit those whose value now does (or that another mode submits)."""
    session.flush()
    pk = get_contract(session, contract).id
    notes = withdraw_for_attribute(session.connection(), pk, name, who)
    return _sync(session, contract, who, notes)


def _sync(session: Session, contract: ContractKey, who: Who, notes: list[str]) -> list[str]:
    session.flush()
    pk = get_contract(session, contract).id
    submitted = auto_submit(session.connection(), lambda m: m.c.contract_pk == pk, who, who.at.date())
    session.expire_all()
    return notes + [s.note() for s in submitted]
