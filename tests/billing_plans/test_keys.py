"""Plan and event keys parse through the contracts' one key parser, so every key reports a bad shape alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from billing_plans.keys import EventKey, PlanKey
from contracts.errors import InvalidInput
from contracts.keys import ContractKey


def test_plan_and_event_keys_round_trip() -> None:
    plan = PlanKey.parse(" us001/K1000/1/bp-std ")
    assert plan == PlanKey(ContractKey("US001", "K1000"), 1, "BP-STD")
    assert str(EventKey.parse("US001/K1000/1/BP-STD/2")) == "US001/K1000/1/BP-STD/2"
    assert EventKey.parse("US001/K1000/1/BP-STD/2").plan == plan


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (
            PlanKey.parse,
            "US001/K1000/X/BP",
            "plan key 'US001/K1000/X/BP' is not of the form BU/CONTRACT/LINE/PLAN_ID",
        ),
        (
            PlanKey.parse,
            "US001/K1000/1",
            "plan key 'US001/K1000/1' is not of the form BU/CONTRACT/LINE/PLAN_ID",
        ),
        (
            EventKey.parse,
            "US001/K1000/1/BP STD/2",
            "event key 'US001/K1000/1/BP STD/2' is not of the form BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM",
        ),
        (EventKey.parse, "US001/K1000/1/BP/x", "event key 'US001/K1000/1/BP/x' is not of the form"),
        (
            PlanKey.parse,
            "US001/" + "K" * 80 + "/X/BP",
            "plan key 'US001/KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK'... (91 characters)",
        ),
    ],
)
def test_bad_keys_say_which_key_and_form(parse: object, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse(text)  # type: ignore[operator]
    assert str(excinfo.value).startswith(message)


@pytest.mark.parametrize(
    "parse, text", [(PlanKey.parse, "US0001/K1000/1/BP"), (EventKey.parse, "US0001/K1000/1/BP/2")]
)
def test_the_contract_part_is_checked_as_a_contract_key_is(parse: Callable[[str], object], text: str) -> None:
    """A plan or event key's ``BU/CONTRACT`` goes through :meth:`ContractKey.parse`: too long is bad input."""
    with pytest.raises(InvalidInput, match="the business unit is at most 5 characters, got 6"):
        parse(text)
