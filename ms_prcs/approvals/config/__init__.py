"""Structure of the approval layer (DESIGN 11): steps, stage gates, optional milestones, unset actions,
blocking and the reopen rule.

Everything here needs only ``contracts``: the milestone and condition statuses stay the single source of
truth, and these services read and write the side tables of :mod:`ms_prcs.approvals.models` beside them.
What reacts to a contract change (a status, an attribute, an amount) is called from the layer above
(``ms_prcs.approvals.hooks``), because ``contracts`` cannot import the engine or the CLI.
"""
