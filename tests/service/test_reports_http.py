"""The report routes take the parameters of ``ms-prcs report``: the shared scope and format, and each
report's own (``top`` of activity, ``by`` of impact), and answer what the CLI prints."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from contracts import admin
from contracts.audit import Who
from ms_prcs.reports import ReportScope, impact_report
from ms_prcs.reports.render import render
from ms_prcs.service import credentials, rights
from ms_prcs.service.app import create_app
from tests.reports import fixture
from tests.service.conftest import AT, bearer, service_settings


def _reader(session: Session, db_url: str) -> TestClient:
    """A client of a report reader over the reports' hand-computed database, with the flow contract K4
    (MS001 at steps 1, 2 and 3, its billing event on the last one)."""
    fixture.build(session)
    fixture.flow_contract(session, [(1, 0), (2, 0), (3, 0)])
    rights.ensure_roles(session)
    admin.add_user(session, "analyst", "Ann Analyst", [rights.ROLE_REPORTS])
    token = credentials.create_token(session, "analyst", ["read"], Who("setup", AT))[1]
    session.commit()
    return bearer(create_app(service_settings(db_url)), token)


def test_impact_takes_the_clis_by_option(session: Session, db_url: str) -> None:
    client = _reader(session, db_url)
    as_of = fixture.AS_OF.isoformat()

    def k4(**params: str) -> dict[str, str]:
        answer = client.get("/api/v1/reports/impact", params={"as_of": as_of, **params})
        assert answer.status_code == 200, answer.text
        rows = answer.json()["tables"]["by_milestone"]
        return {r["milestone"]: r["billing_amount"] for r in rows if r["milestone"].startswith("US001/K4/")}

    assert k4() == k4(by="flow") == {"US001/K4/MS001/1": "300.00"}
    assert k4(by="own-milestone") == {"US001/K4/MS001/3": "300.00"}
    for by in ("flow", "own-milestone"):
        answer = client.get("/api/v1/reports/impact", params={"as_of": as_of, "by": by, "format": "csv"})
        expected = render(impact_report(session, ReportScope(as_of=fixture.AS_OF), by), "csv")
        assert answer.text == expected, by

    wrong = client.get("/api/v1/reports/impact", params={"by": "own"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"].startswith("query.by: ")


def test_every_report_shares_the_scope_parameters(session: Session, db_url: str) -> None:
    client = _reader(session, db_url)
    scoped = {"as_of": fixture.AS_OF.isoformat(), "bu": ["ca001"], "from": "2025-03-01", "to": "2025-03-31"}
    for name in ("activity", "impact", "cycle-time"):
        answer = client.get(f"/api/v1/reports/{name}", params=scoped)
        assert answer.status_code == 200, answer.text
        assert answer.json()["scope"] == {
            "as_of": fixture.AS_OF.isoformat(),
            "business_units": ["CA001"],
            "from": "2025-03-01",
            "to": "2025-03-31",
        }, name
        empty = client.get(f"/api/v1/reports/{name}", params={"from": "2025-03-02", "to": "2025-03-01"})
        assert empty.status_code == 422, name
    assert client.get("/api/v1/reports/activity", params={"top": 0}).status_code == 422
