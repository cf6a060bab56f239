"""Test environment: a throw-away Airflow home, set before Airflow is imported anywhere."""

from __future__ import annotations

import json
import os
import pathlib
import tempfile

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

    from airflow_provider_esign.hooks.wesignature.ledger import forget_ledgers

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
