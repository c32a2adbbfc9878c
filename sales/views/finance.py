"""Views of the sales ledger: finance."""
