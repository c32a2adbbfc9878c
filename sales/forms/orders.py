"""Forms of the sales ledger: orders."""
