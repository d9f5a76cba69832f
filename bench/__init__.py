"""Benchmark harness: cimsim's solvers against peer packages and this machine's hardware bounds.

Run it with ``python bench/run.py --suite quick`` (see bench/README.md). Nothing here is part of the
installed ``cimsim`` package; the peers are optional and listed in ``bench/requirements-peers.txt``.
"""
