"""Reference data and contracts: business units, users and roles, classifications, contracts and lines."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.audit import ObjectType, Who, record_change
from contracts.errors import AlreadyExists, InvalidTransition, NotAuthorized, NotFound
from contracts.keys import ContractKey, get_contract
from contracts.limits import check_amount, check_currency, check_int, check_text, column_length
from contracts.models import (
    AppUser,
    BusinessUnit,
    Classification,
    ClassificationRole,
    Contract,
    ContractAttribute,
    ContractLine,
    Role,
    UserRole,
)
from contracts.status import CONTRACT_TRANSITIONS, Actor, ContractStatus, move_error


def add_business_unit(
    session: Session, business_unit: str, descr: str = "", currency: str = "USD"
) -> BusinessUnit:
    bu = check_text(business_unit, "business unit", column_length(BusinessUnit.business_unit)).upper()
    currency = check_currency(currency)
    if session.get(BusinessUnit, bu) is not None:
        raise AlreadyExists("business unit", bu)
    row = BusinessUnit(business_unit=bu, descr=descr, currency=currency)
    session.add(row)
    session.flush()
    return row


def add_role(session: Session, role_name: str, descr: str = "") -> Role:
    if session.get(Role, role_name) is not None:
        raise AlreadyExists("role", role_name)
    row = Role(role_name=role_name, descr=descr)
    session.add(row)
    session.flush()
    return row


def add_user(session: Session, user_id: str, name: str = "", roles: Iterable[str] = ()) -> AppUser:
    if session.get(AppUser, user_id) is not None:
        raise AlreadyExists("user", user_id)
    user = AppUser(user_id=user_id, name=name)
    session.add(user)
    user.roles.extend(UserRole(user_id=user_id, role_name=role) for role in _known_roles(session, roles))
    session.flush()
    return user


def add_classification(
    session: Session, classification: str, roles: Iterable[str], descr: str = ""
) -> Classification:
    if session.get(Classification, classification) is not None:
        raise AlreadyExists("classification", classification)
    row = Classification(classification=classification, descr=descr)
    session.add(row)
    row.roles.extend(
        ClassificationRole(classification=classification, role_name=role)
        for role in _known_roles(session, roles)
    )
    session.flush()
    return row


def _known_roles(session: Session, roles: Iterable[str]) -> list[str]:
    """The roles a user or classification is given, each checked to exist (the first unknown one is named)."""
    names = list(roles)
    for role in names:
        if session.get(Role, role) is None:
            raise NotFound("role", role)
    return names


def user_roles(session: Session, user_id: str) -> frozenset[str]:
    return frozenset(session.scalars(select(UserRole.role_name).where(UserRole.user_id == user_id)))


def check_classification(session: Session, classification: str | None, user: str, obj: str) -> None:
    """Only holders of one of the classification's roles may change a classified milestone (DESIGN 2)."""
    if classification is None:
        return
    allowed = frozenset(
        session.scalars(
            select(ClassificationRole.role_name).where(ClassificationRole.classification == classification)
        )
    )
    if not allowed & user_roles(session, user):
        roles = ", ".join(sorted(allowed)) or "(none)"
        raise NotAuthorized(user, obj, f"classification {classification} needs one of the roles {roles}")


def add_contract(
    session: Session,
    key: ContractKey,
    *,
    descr: str = "",
    customer: str = "",
    currency: str | None = None,
    attributes: dict[str, str] | None = None,
) -> Contract:
    bu = session.get(BusinessUnit, key.business_unit)
    if bu is None:
        raise NotFound("business unit", key.business_unit)
    if session.scalar(
        select(Contract.id).where(
            Contract.business_unit == key.business_unit, Contract.contract_num == key.contract_num
        )
    ):
        raise AlreadyExists("contract", str(key))
    contract = Contract(
        business_unit=key.business_unit,
        contract_num=key.contract_num,
        descr=descr,
        customer=customer,
        currency=check_currency(currency) if currency else bu.currency,
        status=ContractStatus.PENDING,
    )
    session.add(contract)
    session.flush()
    for name, value in (attributes or {}).items():
        contract.attributes.append(ContractAttribute(contract_pk=contract.id, name=name, value=str(value)))
    session.flush()
    return contract


def add_line(
    session: Session, key: ContractKey, line_num: int, *, product: str = "", amount: Decimal
) -> ContractLine:
    check_int(line_num, "line number", 1)
    check_amount(amount, f"contract {key} line {line_num} amount", credits=True)
    contract = get_contract(session, key)
    if any(line.line_num == line_num for line in contract.lines):
        raise AlreadyExists("contract line", f"{key} line {line_num}")
    line = ContractLine(contract_pk=contract.id, line_num=line_num, product=product, amount=amount)
    contract.lines.append(line)
    session.flush()
    return line


def set_attribute(session: Session, key: ContractKey, name: str, value: str) -> None:
    contract = get_contract(session, key)
    for attribute in contract.attributes:
        if attribute.name == name:
            attribute.value = value
            break
    else:
        contract.attributes.append(ContractAttribute(contract_pk=contract.id, name=name, value=value))
    session.flush()


def set_contract_status(session: Session, key: ContractKey, new: ContractStatus, who: Who) -> Contract:
    contract = get_contract(session, key)
    problem = move_error(CONTRACT_TRANSITIONS, contract.status, new, Actor.USER)
    if problem:
        raise InvalidTransition(f"contract {key}", contract.status, new, problem)
    old = contract.status
    contract.status = new
    if new == ContractStatus.ACTIVE and contract.activated_on is None:
        contract.activated_on = who.at.date()
    record_change(session, ObjectType.CONTRACT, contract.id, old, new, who, "set by user")
    session.flush()
    return contract
