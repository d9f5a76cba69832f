"""The benchmark harness's public names, gathered from the modules that do each job.

* :mod:`bench.data` — where the instance data lives (``CIMSIM_DATA`` / ``--data``);
* :mod:`bench.instances` — the instances and their best known values;
* :mod:`bench.peers` — the peer-solver registry and adapters;
* :mod:`bench.calls` — one budgeted call (:class:`BenchTask`, the sweep function), warm-up, thread cap,
  machine bounds line, stored spins;
* :mod:`bench.runner` — the checkpointed two-phase sweep over all calls (:func:`run_bench_sweep`) and
  the store's ``results.csv`` / ``summary.json``;
* :mod:`bench.rows` — per-row metrics from the stored calls (TTS99, hits, rates, vs peers);
* :mod:`bench.report` — the CSV and the markdown table with verdicts.

Objectives and energies are always recomputed from the spins a solver returns, with cimsim's model
(``Instance.objective``); nothing a solver reports about its own energy is used.
"""
from __future__ import annotations

from .calls import (CIMSIM_SOLVERS, DENSE_ONLY_PEERS, DENSE_PEER_MAX_N, BenchTask, code_version, limit_threads,
                    machine_line, unpack_spins)
from .report import FIELDS, markdown_table, read_csv, verdicts, write_csv, write_markdown
from .rows import BUDGET_SLACK, OVERRUN_FACTOR, Row, compare, recompare, tts99, within_budget
from .runner import BenchRun, run_bench, run_bench_sweep

__all__ = ["CIMSIM_SOLVERS", "Row", "run_bench", "run_bench_sweep", "BenchRun", "BenchTask", "unpack_spins",
           "machine_line", "write_csv", "read_csv", "write_markdown", "markdown_table", "recompare", "verdicts",
           "compare", "tts99", "within_budget", "limit_threads", "code_version", "BUDGET_SLACK", "OVERRUN_FACTOR",
           "DENSE_PEER_MAX_N", "DENSE_ONLY_PEERS", "FIELDS"]
