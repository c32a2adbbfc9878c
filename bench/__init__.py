"""Benchmarks: `make bench` (python -m bench) seeds a large data set once and measures
the pages and jobs that must stay fast at that size.

Each benchmark is a module in BENCHES with two functions: `seed(out)` loads its data
(skipping when it is already there) and `cases()` returns the `bench.runner.Case`s to
time. Later benchmarks (receivables, import) add a line here.
"""

BENCHES = {
    "customer_list": "bench.customer_list",
}
