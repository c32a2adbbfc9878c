"""Sending SMS: a small pluggable backend interface, like Django's e-mail backends.

`settings.SMS_BACKEND` names the class (dotted path); `get_backend()` makes one. A
backend has one method, `send(to, text) -> SmsResult`, and reports a failure in the
result rather than by raising (a gateway that raises is treated as a failure too). The
default, `LogBackend`, writes each message to the "visits.sms" logger: a real gateway
(Aliyun, Tencent Cloud, a carrier's platform) is a class of a few lines named in the
setting, with its credentials in the environment.
"""

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("visits.sms")


@dataclass(frozen=True)
class SmsResult:
    ok: bool
    # The gateway's id of the message, for tracing a complaint back to it.
    reference: str = ""
    error: str = ""


class BaseBackend:
    def send(self, to: str, text: str) -> SmsResult:
        raise NotImplementedError


class LogBackend(BaseBackend):
    """Writes the message to the "visits.sms" logger and reports it sent."""

    def send(self, to: str, text: str) -> SmsResult:
        reference = f"log-{uuid.uuid4().hex[:12]}"
        logger.info("SMS %s to %s: %s", reference, to, text)
        return SmsResult(ok=True, reference=reference)


class MemoryBackend(BaseBackend):
    """Keeps the messages in `MemoryBackend.outbox` (a list of (to, text)), as Django's
    locmem e-mail backend does: for tests and for trying the product without a gateway."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> SmsResult:
        self.outbox.append((to, text))
        return SmsResult(ok=True, reference=f"mem-{len(self.outbox)}")


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()
