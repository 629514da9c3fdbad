"""The approval layer (DESIGN 11): approvals, steps, stage gates, optional milestones, unset actions,
blocking, follow-ups, deadlines and completion at once, in one package.

One source of truth stays the PeopleSoft statuses of ``contracts``: an approval *is* a User Initiated
condition and approving it *is* Mark Complete. This package adds data beside them (:mod:`.models`, the same
tables as before) and derives its own view:

- the entry point: :mod:`.hooks`, through which every change to a contract or milestone goes (status,
  attributes, amounts, lines, milestones added from templates, Mark Complete, decisions and follow-ups);
  :mod:`.at_once` decides an approval and has the engine complete its milestone at once;
- configuration, in :mod:`.config`: an approval's rule (:mod:`.config.approval`) and a milestone's structure
  (:mod:`.config.structure`);
- approvals: who may approve (:mod:`.rules`), submitting (:mod:`.submit`), the decisions (:mod:`.decide`),
  the derived view with its Past Due flag (:mod:`.states`, :mod:`.view`, :mod:`.sql`), notifications
  (:mod:`.inbox`), and what a contract change does to them (:mod:`.events`);
- structure: step order (:mod:`.steps`), stage gates (:mod:`.gates`), optional milestones (:mod:`.optional`),
  unset actions (:mod:`.unset`), blocking and the reopen rule (:mod:`.blocking`), line amounts (:mod:`.lines`);
- the run's step (:mod:`.deadlines`): submissions a run made due, then Past Due warnings.

It sits on the ``ms_prcs`` floor (DESIGN 9): it needs ``contracts``, ``conditions``, ``billing_plans``
(follow-ups set events Ready) and the engine (completion at once), and the engine calls into it for
step order and deadlines. Nothing below ``ms_prcs`` imports it; this ``__init__`` imports nothing, so the
engine and the layer can import each other's modules.
"""
