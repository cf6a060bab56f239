"""Import cost of a DAG file that uses every operator and sensor (``benchmarks/dags/every_operator.py``).

``python -X importtime`` runs the DAG file in a fresh process (a throw-away ``AIRFLOW_HOME``, bytecode
compiled by one discarded warm-up run, as a DAG processor has it). The self times of every
``airflow_provider_esign*`` module are summed: the provider's own share. Airflow's share (``airflow*``
modules) is the baseline, and everything else (pydantic, sqlalchemy, ...) is reported in the note. The
median of ``import_runs`` runs is kept. The DAG's construction itself is not import time and not counted,
but any import it triggers (lazy imports inside the operators) is.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable

from benchmarks.common import REPO, Result, SandboxProcess, Sizes, child_env

DAG_FILE = REPO / "benchmarks" / "dags" / "every_operator.py"
HEAVY = ("requests", "httpx", "tenacity", "fastapi", "uvicorn", "starlette")


def parse_importtime(stderr: str) -> dict[str, dict[str, float | str | None]]:
    """Module -> self and cumulative microseconds and the module whose import imported it first."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        raw_name = fields[2].rstrip()
        depth = (len(raw_name) - len(raw_name.lstrip())) // 2
        rows.append((raw_name.strip(), float(fields[0]), float(fields[1]), depth))
    modules: dict[str, dict[str, float | str | None]] = {}
    # Lines come in post-order (children first, indented one level deeper than their importer).
    for index, (name, self_us, cumulative_us, depth) in enumerate(rows):
        parent = next((r[0] for r in rows[index + 1 :] if r[3] < depth), None)
        modules[name] = {"self_us": self_us, "cumulative_us": cumulative_us, "parent": parent}
    return modules


def importers(modules: dict[str, dict[str, float | str | None]], name: str) -> list[str]:
    """The chain of modules whose imports led to ``name`` (innermost first)."""
    chain, current = [], modules.get(name, {}).get("parent")
    while isinstance(current, str) and current not in chain:
        chain.append(current)
        current = modules.get(current, {}).get("parent")
    return chain


def _shares(modules: dict[str, dict[str, float | str | None]]) -> dict[str, float]:
    def self_us(match: Callable[[str], bool]) -> float:
        return sum(float(m["self_us"] or 0) for n, m in modules.items() if match(n))

    provider = self_us(lambda n: n.startswith("airflow_provider_esign"))
    airflow = self_us(lambda n: n == "airflow" or n.startswith("airflow."))
    total = self_us(lambda _: True)
    return {"provider_ms": provider / 1000, "airflow_ms": airflow / 1000, "total_ms": total / 1000}


def measure_once() -> dict[str, dict[str, float | str | None]]:
    env = child_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(DAG_FILE)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the DAG file failed to run: {done.stderr[-3000:]}")
    return parse_importtime(done.stderr)


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    if sizes.import_warmup:
        measure_once()  # compiles and caches the bytecode, as a DAG processor has it
    runs = [measure_once() for _ in range(sizes.import_runs)]
    shares = [_shares(r) for r in runs]
    provider = statistics.median(s["provider_ms"] for s in shares)
    airflow = statistics.median(s["airflow_ms"] for s in shares)
    total = statistics.median(s["total_ms"] for s in shares)
    last = runs[-1]
    ours = sorted(
        (
            (n, float(m["self_us"] or 0) / 1000)
            for n, m in last.items()
            if n.startswith("airflow_provider_esign")
        ),
        key=lambda item: -item[1],
    )
    heavy = sorted(n for n in last if n in HEAVY)
    by_provider = [
        n for n in heavy if any(i.startswith("airflow_provider_esign") for i in importers(last, n))
    ]
    return [
        Result(
            figure="Import cost of a DAG using every operator and sensor: provider's own share",
            value=round(provider, 1),
            unit="ms",
            baseline=round(airflow, 1),
            baseline_label="Airflow's share, same runs",
            target="< 50 ms",
            passed=provider < 50 and not by_provider,
            note=(
                f"sum of -X importtime self times, median of {sizes.import_runs}; {len(ours)} provider modules "
                f"imported (largest: {', '.join(f'{n} {t:.1f} ms' for n, t in ours[:3])}); everything else "
                f"{total - provider - airflow:.0f} ms; HTTP/server libraries imported: {', '.join(heavy) or 'none'}, "
                f"of which by the provider: {', '.join(by_provider) or 'none'}"
            ),
            details={"runs": shares, "provider_modules_ms": dict(ours)},
        )
    ]
