"""Alerts (issue 16): milestones approaching or past their estimated completion date, Past Due milestones and
approvals waiting too long, sent once each to the people concerned, in the inbox and by e-mail."""
