"""Changing a contract line's amount: the change an "amount" unset action and an amount trigger react to."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from contracts.errors import NotFound
from contracts.keys import ContractKey, get_contract
from contracts.limits import check_amount
from contracts.models import ContractLine


def set_line_amount(session: Session, key: ContractKey, line_num: int, amount: Decimal) -> ContractLine:
    """Set the amount of line ``line_num``; returns the line (its old amount is gone: the caller reacts)."""
    check_amount(amount, f"contract {key} line {line_num} amount", credits=True)
    contract = get_contract(session, key)
    for line in contract.lines:
        if line.line_num == line_num:
            line.amount = amount
            session.flush()
            return line
    raise NotFound("contract line", f"{key} line {line_num}")
