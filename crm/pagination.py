"""Pagination for long lists, and the context every filtered list page renders."""

from collections.abc import Iterable

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most `cap` rows.

    An exact count of a broad search over every customer (兽药 matches a quarter of
    them) costs PostgreSQL a full scan, while the first page costs milliseconds; nobody
    pages past the first screens, they narrow the search. Beyond the cap the list says
    "2000+" and offers the pages up to it.
    """

    cap = 2000
    capped = False

    @cached_property
    def count(self):
        # Without the ordering: PostgreSQL need not sort rows it only counts.
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)


def list_context(
    request, filterset, per_page: int, *, hidden: Iterable[str] = ("q",), not_filters: Iterable[str] = ("page",)
) -> dict:
    """What every filtered list page renders: the FilterSet, the fields its filter panel
    shows (all but `hidden`: the search box has its own place), the requested page of
    its rows, and whether any filter is set (query parameters other than `not_filters`)."""
    hidden, not_filters = set(hidden), set(not_filters)
    return {
        "filterset": filterset,
        "filter_fields": [field for field in filterset.form if field.name not in hidden],
        "page": CappedPaginator(filterset.qs, per_page).get_page(request.GET.get("page")),
        "filtered": any(value for key, value in request.GET.items() if key not in not_filters),
    }
