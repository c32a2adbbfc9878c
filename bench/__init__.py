"""Benchmarks: `make bench` (python -m bench) seeds a large data set once and measures
the pages and jobs that must stay fast at that size.

Each benchmark is a module in BENCHES with two functions: `seed(out)` loads its data
(skipping when it is already there) and `cases()` returns the `bench.runner.Case`s to
time; a module may set TARGET_MS, its p95 target (default 100 ms). A benchmark of jobs
rather than requests (imports) has `run(out)` instead, which times them itself and
returns True when a target is missed.
"""

BENCHES = {
    "customer_list": "bench.customer_list",
    "sales": "bench.sales",
    "imports": "bench.imports",
}
