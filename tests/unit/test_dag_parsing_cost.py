"""Cheap DAG parsing: importing the provider's operators, sensors and hooks does no network, no database
access and no heavy imports at module level (issue 6, item 3). The import *time* is a benchmark figure
(``python -m benchmarks``), not a test."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "airflow_provider_esign"
#: Never imported at module level by what a DAG file imports (lazily, inside functions, is fine).
HEAVY = ("requests", "urllib3", "httpx", "httpcore", "tenacity", "fastapi", "uvicorn", "starlette")
DAG_MODULES = [
    "airflow_provider_esign.operators.send",
    "airflow_provider_esign.operators.download",
    "airflow_provider_esign.operators.manage",
    "airflow_provider_esign.sensors.status",
    "airflow_provider_esign.sensors.batch",
]
HOOK_MODULES = [
    "airflow_provider_esign.hooks",
    "airflow_provider_esign.hooks.base",
    "airflow_provider_esign.hooks.esignbase",
    "airflow_provider_esign.hooks.legalesign",
    "airflow_provider_esign.hooks.wesignature",
    # The modules the hooks are made of (every one of them stays cheap to import).
    *sorted(
        "airflow_provider_esign." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for path in (PACKAGE / "hooks").rglob("*.py")
        if path.name != "__init__.py"
    ),
]
#: Everything the operator, sensor and hook modules import from the provider itself at module level.
SHARED_MODULES = [
    "airflow_provider_esign",
    "airflow_provider_esign.links",
    "airflow_provider_esign.assets",
    "airflow_provider_esign.models",
    "airflow_provider_esign.conditions",
    "airflow_provider_esign.exceptions",
    "airflow_provider_esign.validation",
    "airflow_provider_esign.ratelimit",
    "airflow_provider_esign.operators.base",
]

# Airflow's own imports are not the provider's cost; the guards go up only after them.
GUARDED_IMPORT = """
import socket, sqlite3, sys
import airflow.sdk
from airflow.providers.common.compat.sdk import conf
before = set(sys.modules)

def refuse(*args, **kwargs):
    raise AssertionError("network or database access while importing")

socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
sqlite3.connect = refuse
try:
    import sqlalchemy.engine.base
    sqlalchemy.engine.base.Engine.connect = refuse
except ImportError:
    pass
for name in sys.argv[1:]:
    __import__(name)
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def _newly_imported(*modules: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", GUARDED_IMPORT, *modules],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(done.stdout.split())


def _module_path(module: str) -> Path:
    relative = Path(*module.split(".")[1:])
    package = PACKAGE / relative / "__init__.py"
    return package if package.exists() else (PACKAGE / relative).with_suffix(".py")


def _module_level_imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) of every import that runs at import time (not under TYPE_CHECKING)."""
    found: list[tuple[str, int]] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.extend((alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((node.module, node.lineno))
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(ast.parse(path.read_text()).body)
    return found


@pytest.mark.parametrize("module", DAG_MODULES + HOOK_MODULES + SHARED_MODULES)
def test_no_heavy_module_level_imports(module: str) -> None:
    heavy = [
        f"{name} (line {line})"
        for name, line in _module_level_imports(_module_path(module))
        if name.split(".")[0] in HEAVY or name.startswith("esign_sandbox")
    ]
    assert not heavy, f"{module} imports at module level: {heavy}; import them where they are used"


@pytest.mark.parametrize("module", DAG_MODULES)
def test_operators_and_sensors_do_not_import_hooks_at_module_level(module: str) -> None:
    hooks = [
        f"{name} (line {line})"
        for name, line in _module_level_imports(_module_path(module))
        if name.startswith("airflow_provider_esign.hooks")
        or name.startswith("airflow_provider_esign.triggers")
    ]
    assert not hooks, f"{module} imports at module level: {hooks}"


def test_importing_operators_and_sensors_loads_no_hook_http_or_server_code() -> None:
    new = _newly_imported(*DAG_MODULES)
    assert "airflow_provider_esign.sensors.batch" in new  # the guard really imported them
    unexpected = sorted(
        m
        for m in new
        if m.split(".")[0] in HEAVY
        or m.startswith(("airflow_provider_esign.hooks", "airflow_provider_esign.triggers"))
        or m.startswith("esign_sandbox")
    )
    assert not unexpected, unexpected


def test_importing_the_hooks_does_no_network_database_or_http_client_import() -> None:
    new = _newly_imported(*HOOK_MODULES)
    assert "airflow_provider_esign.hooks.wesignature.hook" in new  # the guard really imported the hooks
    unexpected = sorted(m for m in new if m.split(".")[0] in HEAVY or m.startswith("esign_sandbox"))
    assert not unexpected, unexpected
