-- Activity by Milestone: milestones per milestone id and status and, for the Ready ones, the earliest of
-- their latest moves to Ready (the longest current wait). Past Due is counted apart, by the approval view's
-- rule (ms_prcs.reports.activity.past_due).
SELECT m.milestone_id AS milestone_id,
       MAX(t.descr) AS descr,
       m.status AS status,
       COUNT(*) AS milestones,
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
WHERE @report_scope(c, m)
GROUP BY m.milestone_id, m.status
ORDER BY m.milestone_id, m.status
