"""The landing page: what needs attention among the customers the user sees."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import render

from customers.filters import COMPLETENESS_BANDS
from customers.models import Customer, QualificationDocument


@login_required
def home(request):
    documents = QualificationDocument.objects.filter(customer=OuterRef("pk"))
    low_max = COMPLETENESS_BANDS["low"][1]
    # One query for all three counts, over the visible customers only.
    counts = Customer.objects.visible_to(request.user).aggregate(
        customers=Count("pk"),
        expired=Count("pk", filter=Q(Exists(documents.expired()))),
        expiring=Count("pk", filter=Q(Exists(documents.expiring()))),
        low_completeness=Count("pk", filter=Q(completeness__lte=low_max)),
    )
    return render(request, "crm/home.html", {"counts": counts})
