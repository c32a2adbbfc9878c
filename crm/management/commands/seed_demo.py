"""`python manage.py seed_demo`: load the demo data once, then print the demo logins.

`make run` calls this on every start: the first run loads the data, later runs add
nothing; every run ends with the logins so they are on screen when the server starts.
The sales demo loads after the archive demo, on its own marker, so a database seeded
before the sales ledger existed gets the sales data on its next start.
"""

import time
import unicodedata

from django.core.management.base import BaseCommand

from crm import demo
from sales import demo as sales_demo
from visits import demo as visits_demo
from visits import demo_care


class Command(BaseCommand):
    help = "Load the demo data (once) and print the demo logins."

    def handle(self, *args, **options):
        started = time.monotonic()
        if demo.load_demo():
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data loaded: {demo.CUSTOMER_COUNT} customers in {time.monotonic() - started:.1f} s."
                )
            )
        else:
            self.stdout.write("Demo data already loaded; nothing added.")
        started = time.monotonic()
        if sales_demo.load_sales_demo():
            self.stdout.write(
                self.style.SUCCESS(f"Sales demo loaded: three years of orders in {time.monotonic() - started:.1f} s.")
            )
        started = time.monotonic()
        if visits_demo.load_visits_demo():
            self.stdout.write(
                self.style.SUCCESS(f"Visits demo loaded: plans and visits in {time.monotonic() - started:.1f} s.")
            )
        started = time.monotonic()
        if demo_care.load_care_demo():
            self.stdout.write(
                self.style.SUCCESS(
                    f"Care demo loaded: communications and greetings in {time.monotonic() - started:.1f} s."
                )
            )
        self.stdout.write("")
        self.stdout.write("Demo logins (all share one password):")
        rows = [("username", "password", "role", "team", "name"), *demo.login_table()]
        widths = [max(_width(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)]
            self.stdout.write("  " + "  ".join(cells).rstrip())
        self.stdout.write("")


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
