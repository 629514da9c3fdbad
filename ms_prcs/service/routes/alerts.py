"""Alerts (issue 16): ``POST /alerts/send`` sends what is due, as ``ms-prcs alerts send`` does (a run right:
it writes to everyone's inbox and mails them). Each person reads their alerts in ``GET /inbox``."""

from __future__ import annotations

from fastapi import APIRouter

from ms_prcs.alerts import send as alert_services
from ms_prcs.service.deps import Runner, Service
from ms_prcs.service.models_fin import AlertSend, AlertsSent

router = APIRouter(tags=["alerts"])


@router.post("/alerts/send", response_model=AlertsSent)
def send(body: AlertSend, caller: Runner, ctx: Service) -> AlertsSent:
    """Send the alerts that are due and not sent yet (``dry_run``: list them); a failed e-mail is listed in
    ``failed`` and retried next time."""
    result = alert_services.send_alerts(
        ctx.engine, ctx.settings.alerts, as_of=body.as_of or ctx.today(), now=caller.who().at,
        business_unit=body.business_unit, dry_run=body.dry_run,
    )  # fmt: skip
    return AlertsSent.model_validate(result.to_json())
