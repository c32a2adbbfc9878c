"""Forms of the sales ledger: catalogue."""
