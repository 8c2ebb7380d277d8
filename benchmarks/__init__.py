"""Benchmarks of remote_store against the raw azure SDK and adlfs (see docs/performance.md).

Run ``python -m benchmarks --help``. Not part of the test suite; the deterministic guards
(request counts, bounded memory) live in ``tests/perf``.
"""
