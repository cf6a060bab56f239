"""In-process sandbox server: uvicorn on a background thread with its own event loop."""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import Any

from esign_sandbox.client import SandboxClient
from esign_sandbox.clock import Clock, SandboxClock
from esign_sandbox.config import SandboxConfig


def _not_from_a_sandbox_thread(record: logging.LogRecord) -> bool:
    return not (record.threadName or "").startswith("esign-sandbox-")


# uvicorn decides per connection whether to write its access log from ``hasHandlers()``, so a process whose
# logging setup propagates ``uvicorn.access`` (Airflow's does) would log every sandbox request line (with
# its query string) despite ``access_log=False``. The sandbox's own, redacted access log is
# ``SandboxConfig.log_requests``; drop uvicorn's lines from sandbox threads only.
logging.getLogger("uvicorn.access").addFilter(_not_from_a_sandbox_thread)


class Sandbox(SandboxClient):
    """
    A local emulator of the Legalesign, WeSignature and eSignBase APIs.

    .. code-block:: python

        with Sandbox(config=SandboxConfig(sign_delay=0)) as sandbox:
            os.environ.update(sandbox.airflow_connections())
            ...

    :param host: interface to bind.
    :param port: TCP port; ``0`` picks a free one.
    :param seed: seed for ids and per-document choices (reproducible runs); ``None`` (the default) gives
        ids unique to this run (a fresh random seed at start and at every reset).
    :param config: behaviour configuration; defaults to :class:`SandboxConfig`.
    :param clock: clock to use; defaults to wall time plus an advanceable offset.
    :param allowed_hosts: ``Host`` names to serve besides loopback ones and the bound address (DNS
        rebinding protection, see :mod:`~esign_sandbox.hostguard`), e.g. a Compose
        service name.
    :param log_level: uvicorn's log level. uvicorn's own access log is always off, so nothing a client sends
        (keys, tokens, bodies) is logged by it; ``SandboxConfig(log_requests=True)`` logs a redacted line per
        request to the ``esign_sandbox.access`` logger instead.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        config: SandboxConfig | None = None,
        clock: Clock | None = None,
        log_level: str = "warning",
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        super().__init__("http://unstarted.invalid")
        self.allowed_hosts = tuple(allowed_hosts)
        self.host = host
        self.port = port
        self.seed = seed
        self._config = (config or SandboxConfig()).copy()
        self._clock: Clock = clock or SandboxClock()
        self._log_level = log_level
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._state: Any = None

    @property
    def url(self) -> str:
        """:return: ``http://host:port`` (loopback when bound to every interface)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def state(self) -> Any:
        """:return: the live :class:`~esign_sandbox.state.SandboxState` (read-only use)."""
        return self._state

    @property
    def running(self) -> bool:
        """:return: whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _config_for_connections(self) -> SandboxConfig:
        return self._state.config if self._state is not None else self._config

    def start(self, timeout: float = 20.0) -> Sandbox:
        """
        Start serving and wait until the port answers.

        :param timeout: seconds to wait for the server.
        :return: ``self``.
        :raises RuntimeError: when the server does not come up.
        """
        if self.running:
            return self
        import uvicorn

        from esign_sandbox.app import create_app
        from esign_sandbox.state import SandboxState

        self._state = SandboxState(self._config, self._clock, self.seed)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose ``proto`` says TCP, and
        # accepted sockets inherit it. Without it, keep-alive clients wait ~40 ms (Nagle + delayed ACK)
        # for every response written in two parts (headers, body).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self._state, self.host, self.allowed_hosts),
            log_config=None,
            log_level=self._log_level,
            access_log=False,
            lifespan="on",
            proxy_headers=False,
            server_header=False,
            # Vendor answers carry a Date from the sandbox clock (the middleware adds it).
            date_header=False,
            # The fault injector reaches into asyncio transports; keep the stock loop implementation.
            loop="asyncio",
            timeout_keep_alive=30,
            timeout_graceful_shutdown=3,
            backlog=1024,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"esign-sandbox-{self.port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server, self._thread = None, None
                sock.close()
                raise RuntimeError("the e-signature sandbox did not start")
            time.sleep(0.01)
        while True:
            try:
                self.health()
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the e-signature sandbox does not answer") from None
                time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """
        Shut down cleanly and join the server thread.

        :param timeout: seconds to wait for the thread.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server, self._thread = None, None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
