"""
Opt-in pytest plugin with sandbox fixtures, moto-style.

Load it explicitly: ``pytest -p airflow_provider_esign.sandbox.pytest_plugin``, or in the top-level
``conftest.py``: ``pytest_plugins = ["airflow_provider_esign.sandbox.pytest_plugin"]``. Installing the
provider never loads it into other pytest sessions.

* ``esign_sandbox``: one sandbox per test session on a free loopback port; state is *not* reset between tests.
  Its ids are random and never repeat (not across resets either), unless a seed is set: ``--esign-sandbox-seed
  N`` on the command line or ``esign_sandbox_seed = N`` in the pytest ini options, for tests that need the
  same ids on every run.
* ``esign_sandbox_clean``: the same server, with documents, journal, faults, clock and configuration reset
  before the test.
* ``esign_connections``: ``esign_sandbox_clean`` with the Airflow connections ``legalesign_default``,
  ``wesignature_default`` and ``esignbase_default`` pointing at it for the test (environment variables).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_esign.sandbox.server import Sandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--esign-sandbox-seed`` / ``esign_sandbox_seed``: repeatable sandbox ids."""
    help_text = "seed of the esign sandbox's ids (default: random, ids never repeat)"
    parser.addoption("--esign-sandbox-seed", type=int, default=None, help=help_text)
    parser.addini("esign_sandbox_seed", help=help_text, default=None)


def _seed(config: pytest.Config) -> int | None:
    option = config.getoption("esign_sandbox_seed", default=None)
    if option is not None:
        return int(option)
    value = config.getini("esign_sandbox_seed")
    return int(value) if value not in (None, "") else None


@pytest.fixture(scope="session")
def esign_sandbox(pytestconfig: pytest.Config) -> Iterator[Sandbox]:
    """A running sandbox shared by the whole session."""
    sandbox = Sandbox(port=0, seed=_seed(pytestconfig)).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def esign_sandbox_clean(esign_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox with documents, journal, counters, faults, clock and configuration reset."""
    esign_sandbox.reset(config=True)
    yield esign_sandbox


@pytest.fixture
def esign_connections(esign_sandbox_clean: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The reset sandbox, with ``AIRFLOW_CONN_*_DEFAULT`` set to it for the duration of the test."""
    for name, value in esign_sandbox_clean.airflow_connections().items():
        monkeypatch.setenv(name, value)
    return esign_sandbox_clean
