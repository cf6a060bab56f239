"""Real Redis and PostgreSQL servers for tests: installed from the OS packages when missing, started on
127.0.0.1 with a free port and a temporary data dir, always stopped by process id."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

_APT_UPDATED = False
# Loopback only; durability is worthless for a throw-away test cluster, speed is not.
_POSTGRES_SETTINGS = [
    *("-c", "listen_addresses=127.0.0.1"),
    *("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
    *("-c", "max_connections=200"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _find(binary: str, extra_globs: tuple[str, ...] = ()) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for pattern in extra_globs:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    return None


def ensure_binary(binary: str, apt_package: str, extra_globs: tuple[str, ...] = ()) -> str:
    """Path of ``binary``; installs ``apt_package`` with apt-get when it is missing, else skips the test
    saying why (not root, no apt-get, or the install failed)."""
    global _APT_UPDATED
    found = _find(binary, extra_globs)
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{binary} missing and cannot be installed here (needs root and apt-get: {apt_package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _APT_UPDATED:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300, check=False)
        _APT_UPDATED = True
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", apt_package], env=env, capture_output=True, text=True, timeout=600
    )
    found = _find(binary, extra_globs)
    if found is None:
        pytest.skip(f"apt-get install {apt_package} failed: {result.stderr.strip()[-300:]}")
    return found


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process by pid, SIGKILL if it has not exited within ``timeout``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen


@contextlib.contextmanager
def redis_server() -> Iterator[Server]:
    """A throw-away redis-server on 127.0.0.1 (no persistence)."""
    binary = ensure_binary("redis-server", "redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="esign-redis-") as data:
        process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                data,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port, process, "redis-server")
            yield Server(f"redis://127.0.0.1:{port}/0", port, process)
        finally:
            stop(process)


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (trust auth, fsync off), database ``airflow``.

    PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` system user
    the Debian package creates.
    """
    bin_globs = ("/usr/lib/postgresql/*/bin/{}",)
    initdb = ensure_binary("initdb", "postgresql", tuple(g.format("initdb") for g in bin_globs))
    postgres = os.path.join(os.path.dirname(initdb), "postgres")
    if not os.path.exists(postgres):
        postgres = ensure_binary("postgres", "postgresql", tuple(g.format("postgres") for g in bin_globs))
    user = None
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
            user = "postgres"
        except KeyError:
            pytest.skip("running as root without a 'postgres' system user; PostgreSQL refuses root")
    port = free_port()
    data = tempfile.mkdtemp(prefix="esign-pg-")
    try:
        if user:
            shutil.chown(data, user)
        subprocess.run(
            [initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            user=user,
            capture_output=True,
            check=True,
            timeout=120,
        )
        process = subprocess.Popen(
            [postgres, "-D", data, "-p", str(port), "-k", data, *_POSTGRES_SETTINGS],
            user=user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port, process, "postgres")
            _create_database(port)
            yield Server(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/airflow", port, process)
        finally:
            stop(process, timeout=30)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _create_database(port: int) -> None:
    import psycopg2

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
            break
        except psycopg2.OperationalError:  # still starting up
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE airflow")
    conn.close()


#: How the browser tests start Chromium from the OS packages, headless, as root, on a closed network:
#: no sandbox (root), no GPU, and none of the background connections a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """Path of the OS package's Chromium (installed with apt-get when missing)."""
    return ensure_binary("chromium", "chromium")
