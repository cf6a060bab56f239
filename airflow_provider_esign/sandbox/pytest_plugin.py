"""
pytest plugin (entry point ``esign_sandbox``) with sandbox fixtures.

* ``esign_sandbox``: one sandbox per test session on a free port; state is *not* reset between tests.
* ``esign_sandbox_clean``: the same server, with state and configuration reset before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_esign.sandbox.server import Sandbox


@pytest.fixture(scope="session")
def esign_sandbox() -> Iterator[Sandbox]:
    """A running sandbox shared by the whole session."""
    sandbox = Sandbox(port=0).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def esign_sandbox_clean(esign_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox with documents, counters, faults, clock and configuration reset."""
    esign_sandbox.reset(config=True)
    yield esign_sandbox
