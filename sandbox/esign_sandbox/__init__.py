"""
Local emulator of the Legalesign, WeSignature and eSignBase APIs for tests, demos and benchmarks.

Importing this package is cheap: FastAPI and uvicorn are only imported when a server starts, and Airflow
is never imported.

.. code-block:: python

    from esign_sandbox import Sandbox, SandboxConfig

    with Sandbox(config=SandboxConfig(sign_delay=0)) as sandbox:
        env = sandbox.airflow_connections()
"""

from __future__ import annotations

from esign_sandbox.client import SandboxClient, SandboxError, connections_env
from esign_sandbox.clock import ManualClock, SandboxClock
from esign_sandbox.config import FAULT_KINDS, VENDORS, SandboxConfig
from esign_sandbox.server import Sandbox

__all__ = [
    "FAULT_KINDS",
    "VENDORS",
    "ManualClock",
    "Sandbox",
    "SandboxClient",
    "SandboxClock",
    "SandboxConfig",
    "SandboxError",
    "connections_env",
]
