"""The sandbox answers keep-alive requests without Nagle delays.

uvicorn writes a response in two parts (head, body). asyncio turns on TCP_NODELAY only for sockets whose
``proto`` is IPPROTO_TCP, which accepted sockets inherit from the listening socket; without it, every
request on a reused connection waited ~40 ms for a delayed ACK, which punished exactly the clients that
reuse connections (and slowed every benchmark and test against the sandbox).
"""

from __future__ import annotations

import http.client
import socket

from esign_sandbox import Sandbox


def test_accepted_connections_have_tcp_nodelay() -> None:
    with Sandbox(port=0) as sandbox:
        listening = [s for server in sandbox._server.servers for s in server.sockets]
        assert listening and all(s.proto == socket.IPPROTO_TCP for s in listening)

        connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
        try:
            for _ in range(2):  # the second request reuses the connection
                connection.request("GET", "/_sandbox/health")
                response = connection.getresponse()
                assert response.status == 200
                response.read()
            accepted = [
                protocol.transport.get_extra_info("socket")
                for protocol in sandbox._server.server_state.connections
            ]
            assert accepted
            assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in accepted)
        finally:
            connection.close()
