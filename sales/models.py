"""Sales ledger: products, contracts, orders and payments arrive with their issue."""
