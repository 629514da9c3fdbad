-- Activity by Milestone: milestones per milestone id and status, how many of them are Past Due (not
-- Completed or Cancelled, estimated completion date before the as-of date) and, for the Ready ones, the
-- earliest of their latest moves to Ready (the longest current wait).
SELECT m.milestone_id AS milestone_id,
       MAX(t.descr) AS descr,
       m.status AS status,
       COUNT(*) AS milestones,
       SUM(CASE WHEN m.est_completion_date < :as_of AND m.status IN :open_statuses THEN 1 ELSE 0 END) AS past_due,
       MIN(r.ready_since) AS oldest_ready_since
FROM milestone m
JOIN contract c ON c.id = m.contract_pk
LEFT JOIN milestone_template t ON t.milestone_id = m.milestone_id
LEFT JOIN (
    SELECT sc.object_pk AS milestone_pk, MAX(sc.changed_at) AS ready_since
    FROM status_change sc
    WHERE sc.object_type = :object_type AND sc.new_status = :ready
    GROUP BY sc.object_pk
) r ON r.milestone_pk = m.id AND m.status = :ready
WHERE (:all_business_units = 1 OR c.business_unit IN :business_units)
  AND (:windowed = 0 OR EXISTS (
        SELECT 1
        FROM status_change w
        WHERE w.object_type = :object_type
          AND w.object_pk = m.id
          AND w.changed_at >= :window_start
          AND w.changed_at < :window_end))
GROUP BY m.milestone_id, m.status
ORDER BY m.milestone_id, m.status
