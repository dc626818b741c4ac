"""The port probe `quantdesk llm serve` runs before it starts a server: a port whose last
connections linger in TIME_WAIT (a server just stopped) is free, as it is to uvicorn."""

from __future__ import annotations

import socket

from core.llm.local_server import HOST, _port_free


def test_a_port_left_in_time_wait_is_free_and_a_listening_one_is_not():
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((HOST, 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert not _port_free(port), "a server listens there"
        with socket.create_connection((HOST, port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: its end waits in TIME_WAIT
            client.recv(1)
    assert _port_free(port)
