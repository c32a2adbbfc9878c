"""`python -m bench [name ...]`: seed each benchmark's data (once), then time its cases.

Runs against the database named by DATABASE_URL, with DEBUG off (bench.settings).
Exits with status 1 when a case misses its target, so CI can gate on it.
"""

import argparse
import importlib
import os
import sys


def main() -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()

    from django.core.management import call_command

    from bench import BENCHES
    from bench.runner import explain, measure, table

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHES)} (default: all)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per case (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument(
        "--target", type=float, default=None, help="p95 target in ms (default: the benchmark's TARGET_MS, else 100)"
    )
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each slow case's queries")
    parser.add_argument("--seed-only", action="store_true", help="load the data and stop")
    options = parser.parse_args()
    unknown = set(options.names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(BENCHES)}")

    out = sys.stdout
    call_command("migrate", interactive=False, verbosity=0, skip_checks=True)
    failed = False
    for name in options.names or list(BENCHES):
        module = importlib.import_module(BENCHES[name])
        module.seed(out)
        if options.seed_only:
            continue
        out.write(f"\n== {name}: {module.mode()}\n")
        if hasattr(module, "run"):
            # A benchmark of jobs rather than requests times itself; True: a target missed.
            failed = module.run(out) or failed
            continue
        out.write(f"   {options.requests} timed requests per case after {options.warmup} warm-up\n\n")
        target = options.target or getattr(module, "TARGET_MS", 100.0)
        results = [measure(case, requests=options.requests, warmup=options.warmup) for case in module.cases()]
        out.write(table(results, target_ms=target) + "\n")
        slow = [r for r in results if r.p95 >= target]
        failed = failed or bool(slow)
        if options.explain:
            for result in slow or results:
                out.write(f"\n-- {result.case.name} as {result.case.role}: {len(result.queries)} queries\n")
                for sql in result.queries:
                    plan = explain(sql)
                    out.write(f"\n{sql}\n{plan}\n" if plan else f"\n{sql}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
