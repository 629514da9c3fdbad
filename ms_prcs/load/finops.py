"""Finance-operations sections (issue 16): ``holds``, ``alert_contacts`` and ``webhooks``. Each entry goes
through the same service as its CLI command (``hold add``, ``alerts contact``, ``webhook add``); they come
after plans and users, which they name."""

from __future__ import annotations

from billing_plans import holds
from ms_prcs import webhooks
from ms_prcs.alerts.send import set_contact
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.schema import AlertContactEntry, HoldEntry, WebhookEntry


def load_holds(ctx: LoadContext, section: list[HoldEntry], path: str) -> None:
    """``kind`` (contract, plan, event), ``key``, ``reason``, optional ``one_cycle``: put on hold."""
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            target = holds.HoldTarget.parse(entry.kind, entry.key)
            holds.put_on_hold(ctx.session, target, ctx.who, entry.reason, one_cycle=entry.one_cycle)
        ctx.counts["holds"] += 1


def load_alert_contacts(ctx: LoadContext, section: list[AlertContactEntry], path: str) -> None:
    """``user`` and ``email``: where the user's alerts are e-mailed."""
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            set_contact(ctx.session, entry.user, entry.email)
        ctx.counts["alert contacts"] += 1


def load_webhooks(ctx: LoadContext, section: list[WebhookEntry], path: str) -> None:
    """``consumer``, ``url``, ``secret``, optional ``kinds`` and ``max_attempts``: a push subscription."""
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            webhooks.subscribe(
                ctx.session,
                entry.consumer,
                entry.url,
                entry.secret,
                ctx.who,
                kinds=entry.kinds,
                max_attempts=entry.max_attempts,
            )
        ctx.counts["webhooks"] += 1
