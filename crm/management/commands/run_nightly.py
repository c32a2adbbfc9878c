import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm import nightly


class Command(BaseCommand):
    help = "Run the nightly jobs (contract expiry, sales figures, ...) for a date (default: today)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD; default today in Asia/Shanghai")

    def handle(self, *args, date=None, **options):
        try:
            today = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, got {date!r}") from None
        results = nightly.run(today=today)
        if results is None:
            raise CommandError("Another nightly run is in progress; nothing done.")
        for name, result in results.items():
            self.stdout.write(f"{name}: {result}")
