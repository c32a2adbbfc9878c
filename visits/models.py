"""Visits (拜访) and communication: plans, logs and care messages arrive with their issue."""
