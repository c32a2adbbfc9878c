# Playwright's sync API keeps an event loop running for the whole session; without
# this every ORM call made after the first browser test raises SynchronousOnlyOperation.
import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
