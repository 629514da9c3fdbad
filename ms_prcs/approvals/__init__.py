"""Approvals (DESIGN 11): the rules of User Initiated conditions that need an approver.

An approval *is* a User Initiated condition and approving it *is* Mark Complete, so the PeopleSoft statuses stay
the single source of truth; this package adds who may approve (``rules``), how an approval is submitted
(``submit``), the decisions (``decide``), the derived approval view with its Past Due flag (``view``), and the
notifications (``inbox``). ``events`` is what the layers above call when a contract changes. Like every domain
package it imports ``contracts`` only, never ``ms_prcs``: follow-ups that touch billing plans are dispatched
one layer up (``ms_prcs.approvals.hooks``).
"""
