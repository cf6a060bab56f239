"""Shared pieces of the benchmark suite: sizes, results, environment, a sandbox subprocess, memory probes.

Nothing here imports Airflow, so :func:`prepare_environment` can run before Airflow is first imported.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
VENDORS = ("esignbase", "legalesign", "wesignature")
#: The list endpoints' page size (eSignBase's documented maximum; the Legalesign hook's limit).
PAGE_SIZE = {"esignbase": 100, "legalesign": 100, "wesignature": None}
MB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is. ``FULL`` is what the targets are about; ``SMOKE`` only proves it runs."""

    smoke: bool
    #: Documents tracked per vendor for the calls-per-poll figure.
    documents: int
    #: Warm poll cycles measured after the first (cold) one.
    warm_cycles: int
    #: Size of the large PDF.
    pdf_bytes: int
    #: Runs of each download contender (best time kept, worst memory kept).
    download_runs: int
    #: Sends per side (hook / bare loop) per vendor.
    sends: int
    #: The sends run in this many alternating blocks (hook, bare, hook, bare, ...) to share the noise.
    send_blocks: int
    #: Mapped sends in the rate-limited batch, the worker processes sharing the limiter, and the limit.
    rl_sends: int
    rl_workers: int
    rl_calls: int
    rl_window: float
    #: Deferred document waits in one event loop, and their poll interval (seconds).
    triggers: int
    trigger_poll: float
    #: Seconds of heartbeat on the idle loop before the triggers start (the stall baseline).
    trigger_idle: float
    #: ``python -X importtime`` runs (median kept), after one discarded run that compiles bytecode.
    import_runs: int
    import_warmup: bool
    #: Historical documents per vendor in the account-size figures, and the tracked batch sizes.
    accounts: tuple[int, ...] = (1_000, 10_000, 50_000)
    scale_tracked: tuple[int, ...] = (100, 1_000)
    #: Peers: mapped-style sends per contender and vendor, in this many alternating blocks.
    peer_sends: int = 300
    peer_blocks: int = 4
    #: Peers: tracked in-flight documents, account sizes, alternated runs of each status read.
    peer_tracked: int = 300
    peer_accounts: tuple[int, ...] = (300, 2_300)
    peer_runs: int = 3
    #: Peers: the download's size and alternated runs per contender.
    peer_pdf_bytes: int = 20 * MB
    peer_download_runs: int = 7
    #: Send records (documents) the Contracts page lists.
    contracts: int = 10_000


FULL = Sizes(
    smoke=False,
    documents=1000,
    warm_cycles=3,
    pdf_bytes=200 * MB,
    download_runs=3,
    sends=1000,
    send_blocks=4,
    rl_sends=300,
    rl_workers=3,
    rl_calls=100,
    rl_window=6.0,
    triggers=1000,
    trigger_poll=2.0,
    trigger_idle=2.0,
    import_runs=5,
    import_warmup=True,
)
SMOKE = Sizes(
    smoke=True,
    documents=30,
    warm_cycles=1,
    pdf_bytes=2 * MB,
    download_runs=1,
    sends=20,
    send_blocks=2,
    rl_sends=12,
    rl_workers=2,
    rl_calls=20,
    rl_window=1.0,
    triggers=30,
    trigger_poll=0.5,
    trigger_idle=0.3,
    import_runs=1,
    import_warmup=False,
    accounts=(300,),
    scale_tracked=(20, 150),
    peer_sends=6,
    peer_blocks=2,
    peer_tracked=5,
    peer_accounts=(5, 40),
    peer_runs=1,
    peer_pdf_bytes=1 * MB,
    peer_download_runs=1,
    contracts=200,
)


@dataclass
class Result:
    """One figure of the table and of ``results.json``.

    :param figure: What is measured.
    :param value: The provider's figure.
    :param unit: Unit of ``value`` and ``baseline``.
    :param baseline: The same quantity for the baseline, measured in the same run (None: no baseline).
    :param target: The target, in words (empty: reported only).
    :param passed: Whether the target is met (None: no target).
    :param baseline_label: What the baseline is.
    :param note: What each side does, the setup, secondary numbers.
    """

    figure: str
    value: float | int | None
    unit: str
    baseline: float | int | None
    target: str
    passed: bool | None
    baseline_label: str = ""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pass"] = data.pop("passed")
        return data


def ceil_div(a: int, b: int) -> int:
    return math.ceil(a / b)


def fmt(value: float | int | None) -> str:
    """A compact number for the table."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(results: list[Result]) -> str:
    """The results as a Markdown table (figure, value, unit, baseline, target, pass)."""
    header = ["Figure", "Value", "Unit", "Baseline (same run)", "Target", "Pass"]
    rows = []
    for r in results:
        baseline = fmt(r.baseline) + (f" ({r.baseline_label})" if r.baseline_label else "")
        verdict = "-" if r.passed is None else ("yes" if r.passed else "**NO**")
        rows.append([r.figure, fmt(r.value), r.unit, baseline, r.target or "reported", verdict])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------------
def prepare_environment(workdir: str, *, verbose: bool = False) -> None:
    """Make this process (and its children) self-contained; call before Airflow is imported.

    A throw-away ``AIRFLOW_HOME`` and rate-limiter state directory, no example DAGs, quiet logs, and no
    proxy for loopback (all traffic goes to the local sandbox).
    """
    home = os.path.join(workdir, "airflow-home")
    os.makedirs(home, exist_ok=True)
    limiter = os.path.join(workdir, "ratelimit")
    os.makedirs(limiter, mode=0o700, exist_ok=True)  # the limiter refuses a group-writable folder
    os.environ.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(workdir, "dags"),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO" if verbose else "ERROR",
            "AIRFLOW__ESIGN__RATELIMIT_DIR": limiter,
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        }
    )
    no_proxy = ",".join(p for p in (os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost,::1") if p)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = no_proxy
    if not verbose:
        quiet_logging()


def quiet_logging() -> None:
    """Only errors on the console: 1,000 sensors logging each poke would bury the table."""
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    for name in ("airflow", "airflow.task", "airflow_provider_esign", "httpx", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


def set_connections(url: str, *, rate_limit_per_minute: int = 0, **kwargs: Any) -> dict[str, str]:
    """Point ``{vendor}_default`` connections at the sandbox (env vars of this process and its children)."""
    from esign_sandbox.client import connections_env

    env = connections_env(url, rate_limit_per_minute=rate_limit_per_minute, **kwargs)
    os.environ.update(env)
    return env


def child_env() -> dict[str, str]:
    return dict(os.environ)


# --------------------------------------------------------------------------------------------------
# The sandbox, in its own process (so that it never competes with the measured code for the GIL)
# --------------------------------------------------------------------------------------------------
class SandboxProcess:
    """``python -m esign_sandbox --port 0`` as a child process, with a control client.

    :param workdir: Where its log goes.
    :param config: ``SandboxConfig`` fields.
    """

    def __init__(self, workdir: str, config: dict[str, Any] | None = None, seed: int = 6) -> None:
        self.workdir = workdir
        self.config = config or {}
        self.seed = seed
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self._log: IO[str] | None = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> SandboxProcess:
        self._log = open(os.path.join(self.workdir, "sandbox.log"), "a")  # noqa: SIM115
        command = [sys.executable, "-m", "esign_sandbox", "--port", "0"]
        command += ["--seed", str(self.seed), "--config", json.dumps(self.config)]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        assert self.process.stdout is not None
        first = _readline(self.process.stdout, timeout)
        if not first.startswith("e-signature sandbox listening on "):
            self.stop()
            raise RuntimeError(f"the sandbox did not start (see {self._log.name}): {first!r}")
        self.url = first.rsplit(" ", 1)[-1].strip()
        # The rest of its output (connection exports with sandbox credentials) is read and dropped.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.client.health()
        return self

    @property
    def client(self):
        from esign_sandbox.client import SandboxClient

        return SandboxClient(self.url)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def fresh(self, **config: Any) -> Any:
        """Reset documents, counters and configuration, then apply ``config``; returns the client."""
        client = self.client
        client.reset(config=True)
        if config:
            client.configure(**config)
        return client


def _readline(stream: IO[str], timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else ""


class StatsDelta:
    """Sandbox counters (requests per vendor, 429s, distinct connections) across a block of code."""

    def __init__(self, client: Any, vendor: str) -> None:
        self.client = client
        self.vendor = vendor
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def __enter__(self) -> StatsDelta:
        self.before = self.client.stats()
        return self

    def __exit__(self, *exc: object) -> None:
        self.after = self.client.stats()

    @property
    def requests(self) -> int:
        return int(self.after["requests"].get(self.vendor, 0) - self.before["requests"].get(self.vendor, 0))

    @property
    def throttled(self) -> int:
        return int(self.after["throttled"] - self.before["throttled"])

    @property
    def connections(self) -> int:
        return int(self.after["distinct_connections"] - self.before["distinct_connections"])

    def routes(self) -> dict[str, int]:
        before, after = self.before["routes"], self.after["routes"]
        return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


# --------------------------------------------------------------------------------------------------
# Memory probes (Linux /proc; ``resource`` as the fallback)
# --------------------------------------------------------------------------------------------------
def _status_kb(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    """Current resident set size."""
    kb = _status_kb("VmRSS")
    if kb is None:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return kb / 1024


def peak_rss_mb() -> float:
    """Peak resident set size since the process started (or since :func:`reset_peak_rss`)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return kb / 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak RSS to the current RSS (Linux >= 4.0); False when unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def make_workdir() -> str:
    return tempfile.mkdtemp(prefix="esign-bench-")
