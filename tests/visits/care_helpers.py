"""Shared pieces of the care tests: templates, and an SMS gateway that refuses some
numbers (a pluggable backend, configured like a real one through SMS_BACKEND)."""

from visits.models import MessageTemplate
from visits.sms import BaseBackend, MemoryBackend, SmsResult

MEMORY_BACKEND = "visits.sms.MemoryBackend"
REFUSING_BACKEND = "tests.visits.care_helpers.RefusingBackend"


class RefusingBackend(BaseBackend):
    """A gateway that refuses numbers ending in 0, raises for numbers ending in 9, and
    delivers the rest into MemoryBackend.outbox."""

    def send(self, to: str, text: str) -> SmsResult:
        if to.endswith("0"):
            return SmsResult(ok=False, error="number on the carrier's block list")
        if to.endswith("9"):
            raise ConnectionError("gateway timed out")
        return MemoryBackend().send(to, text)


def make_template(occasion="birthday", channel="sms", body="{contact}您好，{customer}祝您生日快乐！", **extra):
    defaults = {"name": f"{occasion}-{channel}-{MessageTemplate.objects.count()}", "subject": ""}
    defaults.update(extra)
    return MessageTemplate.objects.create(occasion=occasion, channel=channel, body=body, **defaults)
