"""The Python API says a busy port in one line, as the CLI does (werkzeug would exit instead)."""

from __future__ import annotations

import socket

import pytest

from labkit.aws import server
from labkit.errors import ConfigurationError


def test_busy_port_is_a_configuration_error_not_an_exit() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = rf"port {port} on 127.0.0.1 is already in use"
        with pytest.raises(ConfigurationError, match=busy):
            server.listen(lambda environ, start: [], "127.0.0.1", port)
