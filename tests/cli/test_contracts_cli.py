"""``bu``, ``role``, ``user``, ``classification`` and ``contract`` commands: exit codes and exact messages."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.models import AppUser, Contract
from tests.conftest import CliInvoke


def setup(cli: CliInvoke) -> None:
    for args in (
        ["bu", "add", "us001", "--descr", "US Operations"],
        [
            "contract",
            "add",
            "US001/K1000",
            "--customer",
            "ACME",
            "--attr",
            "region=EMEA",
            "--attr",
            "rep=a=b",
        ],
        ["contract", "line", "add", "US001/K1000", "1", "--amount", "1200.50", "--product", "CONSULT"],
        ["contract", "line", "add", "US001/K1000", "2", "--amount", "300"],
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output


def test_reference_data(cli: CliInvoke, session: Session) -> None:
    assert cli("role", "add", "PM").stdout == "role PM added\n"
    assert (
        cli("user", "add", "alice", "--name", "Alice", "--role", "PM").stdout
        == "user alice added with roles PM\n"
    )
    result = cli("classification", "add", "ACCEPT", "--role", "PM")
    assert (result.exit_code, result.stdout) == (0, "classification ACCEPT added for roles PM\n")
    user = session.scalar(select(AppUser))
    assert user is not None
    assert (user.user_id, user.name, [r.role_name for r in user.roles]) == ("alice", "Alice", ["PM"])


def test_refusals_name_the_object(cli: CliInvoke) -> None:
    cli("bu", "add", "US001")
    result = cli("bu", "add", "US001")
    assert (result.exit_code, result.stderr) == (1, "Error: business unit US001 already exists\n")
    result = cli("user", "add", "bob", "--role", "CFO")
    assert (result.exit_code, result.stderr) == (1, "Error: role CFO does not exist\n")
    result = cli("classification", "add", "X")
    assert result.exit_code == 2
    assert "Missing option '--role'" in result.stderr
    result = cli("contract", "add", "XX001/K1")
    assert (result.exit_code, result.stderr) == (1, "Error: business unit XX001 does not exist\n")


def test_contract_add_show_list(cli: CliInvoke, session: Session) -> None:
    setup(cli)
    contract = session.scalar(select(Contract))
    assert contract is not None
    assert {a.name: a.value for a in contract.attributes} == {"region": "EMEA", "rep": "a=b"}
    shown = cli("contract", "show", "US001/K1000")
    assert shown.exit_code == 0
    assert [line.rstrip() for line in shown.stdout.splitlines()[:8]] == [
        "contract       US001/K1000",
        "business_unit  US001",
        "contract_num   K1000",
        "descr",
        "customer       ACME",
        "currency       USD",
        "status         Pending",
        "activated_on",
    ]
    assert (
        "Lines:\nline  product  amount\n----  -------  -------\n1     CONSULT  1200.50\n2              300.00\n"
        in shown.stdout
    )
    listed = cli("contract", "list", "--bu", "US001")
    assert listed.stdout.splitlines()[2].split() == [
        "US001/K1000",
        "ACME",
        "USD",
        "Pending",
        "2",
        "1500.50",
        "0",
    ]
    data = json.loads(cli("contract", "list", "--json").stdout)
    assert data == [
        {
            "contract": "US001/K1000",
            "descr": "",
            "customer": "ACME",
            "currency": "USD",
            "status": "Pending",
            "lines": 2,
            "amount": "1500.50",
            "milestones": 0,
        }
    ]
    assert json.loads(cli("--json", "contract", "show", "US001/K1000").stdout)["attributes"] == {
        "region": "EMEA",
        "rep": "a=b",
    }


def test_contract_status_moves(cli: CliInvoke) -> None:
    setup(cli)
    result = cli("contract", "status", "US001/K1000", "closed")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: contract US001/K1000: cannot change status Pending -> Closed: from Pending only Active may follow\n",
    )
    assert cli("contract", "status", "US001/K1000", "ACTIVE").stdout == "contract US001/K1000 is Active\n"
    assert cli("contract", "status", "US001/K1000", "closed").stdout == "contract US001/K1000 is Closed\n"
    result = cli("contract", "status", "US001/K1000", "open")
    assert result.exit_code == 2
    assert "'open' is not one of 'pending', 'active', 'closed'" in result.stderr


def test_lines_and_attributes(cli: CliInvoke) -> None:
    setup(cli)
    result = cli("contract", "line", "add", "US001/K1000", "1", "--amount", "5")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: contract line US001/K1000 line 1 already exists\n",
    )
    result = cli("contract", "line", "add", "US001/K1000", "3", "--amount", "lots")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --amount 'lots' is not a number (e.g. 12000.00)\n",
    )
    assert cli("contract", "attr", "set", "US001/K1000", "region", "APAC").stdout == (
        "contract US001/K1000 attribute region = APAC\n"
    )
    assert (
        json.loads(cli("contract", "show", "US001/K1000", "--json").stdout)["attributes"]["region"] == "APAC"
    )
    result = cli("contract", "add", "US001/K2000", "--attr", "region")
    assert (result.exit_code, result.stderr) == (2, "Error: --attr 'region' is not of the form NAME=VALUE\n")


def test_bad_keys_are_usage_errors(cli: CliInvoke) -> None:
    result = cli("contract", "show", "K1000")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: contract key 'K1000' is not of the form BU/CONTRACT (e.g. US001/K1000)\n",
    )
    result = cli("contract", "show", "US001/K404")
    assert (result.exit_code, result.stderr) == (1, "Error: contract US001/K404 does not exist\n")
