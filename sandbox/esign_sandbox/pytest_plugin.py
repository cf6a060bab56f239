"""
Opt-in pytest plugin with sandbox fixtures, moto-style.

Load it explicitly: ``pytest -p esign_sandbox.pytest_plugin``, or in the top-level
``conftest.py``: ``pytest_plugins = ["esign_sandbox.pytest_plugin"]``. Installing
``esign-sandbox`` never loads it into other pytest sessions (no ``pytest11`` entry point).

* ``esign_sandbox``: one sandbox per test session on a free loopback port; state is *not* reset between tests.
  Its ids are random and never repeat (not across resets either), unless a seed is set: ``--esign-sandbox-seed
  N`` on the command line or ``esign_sandbox_seed = N`` in the pytest ini options, for tests that need the
  same ids on every run.
* ``esign_sandbox_clean``: the same server, with documents, journal, faults, clock and configuration reset
  before the test.
* ``esign_connections``: ``esign_sandbox_clean`` with the Airflow connections ``legalesign_default``,
  ``wesignature_default`` and ``esignbase_default`` pointing at it for the test (environment variables),
  and a migrated metadata database, so ``dag.test()`` runs.

What a ``dag.test()`` needs besides the vendors, prepared before your test modules import Airflow
(``esign_airflow_home`` ini option / ``--esign-airflow-home``):

* ``temp`` (the default): a throw-away Airflow home (``AIRFLOW_HOME``, SQLite metadata database, no example
  DAGs) for the session; ``esign_connections`` migrates its database once. Your own ``AIRFLOW_HOME``, if
  set, is never touched.
* ``keep``: leave the Airflow configuration to you (set ``AIRFLOW_HOME`` and migrate its database yourself).

``dag.test()`` serializes the DAG from the DAG folder, so ``AIRFLOW__CORE__DAGS_FOLDER`` must be the folder
your DAG files are in: the plugin sets it to ``esign_dags_folder`` (default ``dags`` under pytest's root
directory) unless it is set already, and puts that folder on ``sys.path`` so tests can
``from my_dag import my_dag``.

Airflow is optional here: it is imported only to migrate the throw-away home's database. Without Airflow
installed the plugin prepares no home, the sandbox fixtures work as usual, and ``esign_connections`` only
sets the connection variables.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from esign_sandbox.server import Sandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--esign-sandbox-seed`` / ``esign_sandbox_seed``: repeatable sandbox ids."""
    help_text = "seed of the esign sandbox's ids (default: random, ids never repeat)"
    parser.addoption("--esign-sandbox-seed", type=int, default=None, help=help_text)
    parser.addini("esign_sandbox_seed", help=help_text, default=None)
    home_help = "'temp': a throw-away, migrated Airflow home for the session (default); 'keep': yours"
    parser.addoption("--esign-airflow-home", choices=("temp", "keep"), default=None, help=home_help)
    parser.addini("esign_airflow_home", help=home_help, default="temp")
    parser.addini("esign_dags_folder", help="DAG folder for dag.test(), relative to rootdir (default dags)",
                  default="dags")  # fmt: skip


#: Set by ``pytest_configure`` when this plugin made the session's Airflow home (and may migrate it).
_TEMP_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Point Airflow at a throw-away home and the DAG folder, before any test module imports it."""
    mode = config.getoption("esign_airflow_home", default=None) or config.getini("esign_airflow_home")
    if mode == "keep":
        return
    if mode != "temp":
        raise pytest.UsageError(f"esign_airflow_home must be 'temp' or 'keep', got {mode!r}")
    if importlib.util.find_spec("airflow") is None:
        return  # no Airflow, no dag.test(): nothing to prepare (find_spec does not import it)
    if "airflow.configuration" in sys.modules:
        warnings.warn(
            "esign_sandbox.pytest_plugin: Airflow was imported before the plugin could "
            "give it a throw-away home; load the plugin first (pytest -p ...) or set esign_airflow_home=keep",
            stacklevel=1,
        )
        return
    home = tempfile.mkdtemp(prefix="esign-pytest-airflow-")
    _TEMP_HOME.append(home)
    os.environ["AIRFLOW_HOME"] = home
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    dags = Path(str(config.rootpath)) / config.getini("esign_dags_folder")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(dags))
    folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    if folder not in sys.path:
        sys.path.insert(0, folder)


@pytest.fixture(scope="session")
def esign_airflow_db() -> None:
    """The throw-away Airflow home's metadata database, migrated once per session (nothing with ``keep``)."""
    if _TEMP_HOME:
        from airflow.utils import db

        db.resetdb()


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
def esign_connections(
    esign_sandbox_clean: Sandbox, monkeypatch: pytest.MonkeyPatch, esign_airflow_db: None
) -> Sandbox:
    """The reset sandbox, with ``AIRFLOW_CONN_*_DEFAULT`` set to it for the duration of the test (and the
    throw-away Airflow home's database migrated)."""
    for name, value in esign_sandbox_clean.airflow_connections().items():
        monkeypatch.setenv(name, value)
    return esign_sandbox_clean
