"""
Local emulator of the Legalesign, WeSignature and eSignBase APIs for tests, demos and benchmarks.

Importing this package is cheap: FastAPI and uvicorn are only imported when a server starts, and Airflow
is never imported.

.. code-block:: python

    from airflow_provider_esign.sandbox import Sandbox, SandboxConfig

    with Sandbox(config=SandboxConfig(sign_delay=0)) as sandbox:
        env = sandbox.airflow_connections()
"""

from __future__ import annotations

from airflow_provider_esign.sandbox.client import SandboxClient, SandboxError, connections_env
from airflow_provider_esign.sandbox.clock import ManualClock, SandboxClock
from airflow_provider_esign.sandbox.config import FAULT_KINDS, VENDORS, SandboxConfig
from airflow_provider_esign.sandbox.server import Sandbox

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
