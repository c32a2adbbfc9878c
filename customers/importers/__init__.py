"""The archive's spreadsheet importers, found by crm at start-up (see crm/imports)."""

from . import children, customers  # noqa: F401  (registering)
