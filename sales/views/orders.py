"""Views of the sales ledger: orders."""
