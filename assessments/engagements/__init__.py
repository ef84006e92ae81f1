"""Consultant engagements: the consultant home, engagement templates (a saved set-up to start a
new client from) and re-assessment (the same set-up a quarter later, new answers)."""
