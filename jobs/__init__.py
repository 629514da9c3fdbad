"""Jobs: nightly (or any cron-like time) engine runs with the ``schedule`` package, in a configured time zone."""
