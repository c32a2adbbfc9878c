"""Views of the sales ledger: catalogue."""
