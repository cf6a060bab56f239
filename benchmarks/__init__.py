"""Benchmark suite of the e-signature provider (issue 6): ``python -m benchmarks`` / ``make bench``.

Every figure is measured against the local sandbox (loopback only), side by side with a baseline measured in
the same run, and written to ``benchmarks/results.json``. ``--smoke`` runs every figure at tiny sizes (the
test suite does, so the benchmark cannot rot); only the full run checks the targets.

Importing this package is cheap and imports no Airflow: the environment (a throw-away ``AIRFLOW_HOME``,
the rate-limit state directory) must be set up before Airflow is imported, see :mod:`benchmarks.common`.
"""

from __future__ import annotations
