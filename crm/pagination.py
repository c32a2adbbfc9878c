"""Pagination for long lists."""

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
