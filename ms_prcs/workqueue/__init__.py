"""The work queue and mass updates (issue 16): PeopleSoft's "Update Milestone Condition Status" search over
a business unit's Ready milestones (:mod:`.search`), and mass updates over a filter or a file of keys with
the same checks as one at a time (:mod:`.mass`)."""
