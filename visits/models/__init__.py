"""Visits (拜访), communication (沟通) and customer care (关怀).

visits.py: visit plans, visit logs with check-in location and photos, frequency
standards and each customer's stored visit status. care.py: communication records,
message templates, the holiday calendar, bulk campaigns and every message sent.

Everything reached through a customer follows the customer's one visibility rule
(`customers.models.customer_scope_q`); a visit's location is narrower still: only the
rep who logged it, their manager and admins see it (PIPL: whereabouts are sensitive).
"""

from .care import Campaign, CareMessage, Communication, Holiday, MessageTemplate
from .visits import CustomerVisits, Visit, VisitFrequency, VisitLevel, VisitPhoto, VisitPlan

__all__ = [
    "Campaign",
    "CareMessage",
    "Communication",
    "CustomerVisits",
    "Holiday",
    "MessageTemplate",
    "Visit",
    "VisitFrequency",
    "VisitLevel",
    "VisitPhoto",
    "VisitPlan",
]
