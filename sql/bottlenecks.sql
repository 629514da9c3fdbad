-- Bottlenecks: the milestones that are Ready now, longest waiting first. A milestone waits since its latest
-- move to Ready (an earlier stay in Ready ended when it went back to Pending). A Ready milestone with no
-- Ready row in the history (inserted outside the services) sorts last, with no date.
SELECT c.business_unit AS business_unit,
       c.contract_num AS contract_num,
       m.id AS milestone_pk,
       m.milestone_id AS milestone_id,
       m.milestone_num AS milestone_num,
       m.descr AS descr,
       m.est_completion_date AS est_completion_date,
       r.ready_since AS ready_since
FROM milestone m
JOIN contract c ON c.id = m.contract_pk
LEFT JOIN (
    SELECT sc.object_pk AS milestone_pk, MAX(sc.changed_at) AS ready_since
    FROM status_change sc
    WHERE sc.object_type = :object_type AND sc.new_status = :ready
    GROUP BY sc.object_pk
) r ON r.milestone_pk = m.id
WHERE m.status = :ready
  AND @report_scope(c, m)
ORDER BY CASE WHEN r.ready_since IS NULL THEN 1 ELSE 0 END,
         r.ready_since,
         c.business_unit,
         c.contract_num,
         m.milestone_id,
         m.milestone_num
LIMIT :top
