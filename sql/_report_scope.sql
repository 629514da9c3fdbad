-- The report scope, the one filter every report query applies (ms_prcs.reports.scope.ReportScope): the
-- milestones of contracts in the chosen business units (or all), and with a window only those with a status
-- change of their own in it. A query includes it as @report_scope(contract_alias, milestone_alias); the
-- loader (ms_prcs.reports.queries) puts the aliases in for $contract and $milestone.
(:all_business_units = 1 OR $contract.business_unit IN :business_units)
AND (:windowed = 0 OR EXISTS (
      SELECT 1
      FROM status_change w
      WHERE w.object_type = :object_type
        AND w.object_pk = $milestone.id
        AND w.changed_at >= :window_start
        AND w.changed_at < :window_end))
