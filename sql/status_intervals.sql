-- Time in status: one row per stay of a milestone in a measured status, from its status history. A stay
-- runs from a move into the status to the milestone's next move, in the history's sequence (status_change.id,
-- never the clock: a Ready and the run's Completed can fall in the same second); a stay
-- with no next move is open and runs to the report's clock. Moves into other statuses (Completed,
-- Cancelled) only end the stay before them. The history measured is the one of the given object type,
-- whose rows name the milestone as object_pk; the window, as in every report, looks at the milestone's own
-- status changes.
SELECT s.milestone_pk AS milestone_pk,
       s.milestone_id AS milestone_id,
       s.status AS status,
       s.started_at AS started_at,
       COALESCE(s.next_at, :clock) AS ended_at,
       CASE WHEN s.next_at IS NULL THEN 1 ELSE 0 END AS is_open
FROM (
    SELECT m.id AS milestone_pk,
           m.milestone_id AS milestone_id,
           sc.new_status AS status,
           sc.changed_at AS started_at,
           LEAD(sc.changed_at) OVER (PARTITION BY sc.object_pk ORDER BY sc.id) AS next_at
    FROM status_change sc
    JOIN milestone m ON m.id = sc.object_pk
    JOIN contract c ON c.id = m.contract_pk
    WHERE sc.object_type = :history_type
      AND @report_scope(c, m)
) s
WHERE s.status IN :statuses
ORDER BY s.milestone_id, s.milestone_pk, s.started_at
