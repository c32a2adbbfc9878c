"""The sales ledger's spreadsheet importers, found by crm at start-up (see crm/imports)."""

from . import orders, payments, products  # noqa: F401  (registering)
