-- Impact by Milestone, the own-milestone view (report impact --by own-milestone): per milestone that is not
-- Completed, the billing and revenue plan events that wait on it and their amounts. The default flow view
-- (ms_prcs/reports/impact_flow.py) returns the same columns, built from the step and approval rules.
-- A billing event waits until it is Billed, a revenue event until it is Recognized or Reversed. An event's
-- amount is its own amount or else its percentage of its contract line's amount; the currency is that of the
-- event's contract.
SELECT mc.business_unit AS business_unit,
       mc.contract_num AS contract_num,
       m.id AS milestone_pk,
       m.milestone_id AS milestone_id,
       m.milestone_num AS milestone_num,
       m.status AS status,
       m.est_completion_date AS est_completion_date,
       lc.currency AS currency,
       SUM(CASE WHEN p.plan_type = :billing THEN 1 ELSE 0 END) AS billing_events,
       COALESCE(SUM(CASE WHEN p.plan_type = :billing
                         THEN COALESCE(e.amount, ROUND(l.amount * e.percentage / 100, 2)) END), 0) AS billing_amount,
       SUM(CASE WHEN p.plan_type = :revenue THEN 1 ELSE 0 END) AS revenue_events,
       COALESCE(SUM(CASE WHEN p.plan_type = :revenue
                         THEN COALESCE(e.amount, ROUND(l.amount * e.percentage / 100, 2)) END), 0) AS revenue_amount
FROM plan_event e
JOIN plan p ON p.id = e.plan_pk
JOIN contract_line l ON l.id = p.contract_line_pk
JOIN contract lc ON lc.id = l.contract_pk
JOIN milestone m ON m.id = e.milestone_pk
JOIN contract mc ON mc.id = m.contract_pk
WHERE m.status <> :completed
  AND ((p.plan_type = :billing AND e.status NOT IN :billing_done)
       OR (p.plan_type = :revenue AND e.status NOT IN :revenue_done))
  AND @report_scope(mc, m)
GROUP BY mc.business_unit, mc.contract_num, m.id, m.milestone_id, m.milestone_num, m.status,
         m.est_completion_date, lc.currency
ORDER BY mc.business_unit, mc.contract_num, m.milestone_id, m.milestone_num, lc.currency
