"""Business actions on visits and care: plans and visit logs (plans.py, visits.py), visit cadence (cadence.py), communications and care messages (care.py)."""
