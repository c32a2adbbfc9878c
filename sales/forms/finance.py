"""Forms of the sales ledger: finance."""
