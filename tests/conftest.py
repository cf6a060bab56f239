"""Test environment: a throw-away Airflow home, set before Airflow is imported anywhere."""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import Callable
from typing import Any

_HOME = tempfile.mkdtemp(prefix="esign-airflow-home-")
os.environ.update(
    {
        "AIRFLOW_HOME": _HOME,
        "AIRFLOW__CORE__DAGS_FOLDER": str(pathlib.Path(__file__).parent / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME}/airflow.db",
        "AIRFLOW__ESIGN__RATELIMIT_DIR": tempfile.mkdtemp(prefix="esign-ratelimit-"),
    }
)

import pytest  # noqa: E402

# The sandbox fixtures are an opt-in plugin (no pytest11 entry point), loaded explicitly like any user would.
pytest_plugins = ["esign_sandbox.pytest_plugin"]


@pytest.fixture
def make_connection(monkeypatch):
    """Register an Airflow connection through its ``AIRFLOW_CONN_<ID>`` env var (no database)."""

    def make(conn_id: str, conn_type: str, *, host: str = "", login: str = "", password: str = "", **extra):
        extra.setdefault("rate_limit_per_minute", 0)
        value = {"conn_type": conn_type, "host": host, "login": login, "password": password, "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))
        return conn_id

    return make


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh metadata database in the session's throw-away AIRFLOW_HOME (set above)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def sandbox_delays() -> dict[str, float | None]:
    """Seconds the sandbox takes to send, sign (``None``: only when a test signs) and render a PDF.
    The default suits real DAG runs; a folder or module whose tests need other timing overrides it."""
    return {"sign_delay": 0.3, "send_delay": 0.1, "pdf_delay": 0.1}


@pytest.fixture
def sandbox_setup() -> Callable[[Any, pytest.MonkeyPatch], None] | None:
    """More setup a module needs on the reset sandbox (e.g. extra connections), called with the sandbox
    and ``monkeypatch``; a module overrides this fixture. None by default."""
    return None


@pytest.fixture
def sandbox(esign_sandbox_clean, monkeypatch, airflow_db, sandbox_delays, sandbox_setup):
    """The session sandbox, reset, with ``AIRFLOW_CONN_<VENDOR>_DEFAULT`` for all three vendors (no
    client-side rate limit unless a test asks for one) and ``ESIGN_SANDBOX_URL`` set, the metadata
    database migrated. Timing: the ``sandbox_delays`` fixture; more setup: ``sandbox_setup``."""
    esign_sandbox_clean.configure(**sandbox_delays)
    for name, value in esign_sandbox_clean.airflow_connections(rate_limit_per_minute=0).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ESIGN_SANDBOX_URL", esign_sandbox_clean.url)
    if sandbox_setup is not None:
        sandbox_setup(esign_sandbox_clean, monkeypatch)
    return esign_sandbox_clean


@pytest.fixture(autouse=True)
def _fresh_credentials():
    """Tokens, api keys, eSignBase template roles and WeSignature's send ledger are cached per process
    (the ledger also on disk); every test starts without any."""
    from airflow_provider_esign.hooks.credentials import CREDENTIALS
    from airflow_provider_esign.hooks.esignbase import TEMPLATE_ROLES

    CREDENTIALS.clear()
    TEMPLATE_ROLES.clear()
    _forget_send_ledgers()
    yield
    CREDENTIALS.clear()
    TEMPLATE_ROLES.clear()


def _forget_send_ledgers() -> None:
    """WeSignature's shared send ledger lives beside the rate-limit state: every test starts without one."""
    import glob

    from airflow_provider_esign.hooks.wesignature.ledgers import forget_ledgers

    forget_ledgers()
    for path in glob.glob(os.path.join(os.environ["AIRFLOW__ESIGN__RATELIMIT_DIR"], "wesignature-sends-*")):
        os.unlink(path)


class FakeClock:
    """Monotonic clock and sleep that move only when told: no real waiting in tests."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
