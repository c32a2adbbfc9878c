import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from visits.services import care


class Command(BaseCommand):
    help = (
        "Send the birthday and holiday greetings of a date (default: today). Safe to run again: "
        "a greeting already sent for its occasion is not sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD; default today in Asia/Shanghai")

    def handle(self, *args, date=None, **options):
        try:
            day = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, got {date!r}") from None
        for occasion, counts in care.care_messages_send(day=day).items():
            summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
            self.stdout.write(f"{occasion} ({day}): {summary}")
